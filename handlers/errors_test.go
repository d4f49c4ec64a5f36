package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/models/modeltest"
)

// classifyCase is one kind of error and what users see of it.
type classifyCase struct {
	name    string
	err     error
	status  int
	code    errorCode
	message string            // in JSON
	page    string            // on the HTML error page
	fields  map[string]string // in JSON
}

const (
	msgMissingPage = "The page or item you asked for does not exist or was deleted."
	msgLogged      = "The error has been logged. If it keeps happening, give this request ID to your administrator."
	msgJiraAuth    = "Jira no longer accepts this integration's authorization (it was revoked or expired). Use Reconnect on the Integrations page."
)

func classifyCases() []classifyCase {
	wrap := func(err error) error { return fmt.Errorf("load request 7: %w", err) }
	return []classifyCase{
		{name: "problem", err: wrap(newProblem(codeForbidden, "Only admins.")), status: 403, code: codeForbidden, message: "Only admins."},
		{name: "problem default", err: problemFor(codeUnsupportedMedia), status: 415, code: codeUnsupportedMedia, message: "Send the body as application/json."},
		{name: "problem fields", err: newProblem(codeBadRequest, "per_page must be a number.").withFields(map[string]string{"per_page": "must be a number"}),
			status: 400, code: codeBadRequest, message: "per_page must be a number.", fields: map[string]string{"per_page": "must be a number"}},
		{name: "validation", err: wrap(&models.ValidationError{Fields: map[string]string{"name": "Enter a name."}}),
			status: 422, code: codeValidation, message: "Some fields are not valid.", fields: map[string]string{"name": "Enter a name."}},
		{name: "not found", err: wrap(models.ErrNotFound), status: 404, code: codeNotFound, message: "This page or item does not exist.", page: msgMissingPage},
		{name: "conflict", err: wrap(models.ErrConflict), status: 409, code: codeConflict, message: "This was changed or is still in use; reload and try again."},
		{name: "duplicate", err: wrap(models.ErrDuplicate), status: 409, code: codeConflict, message: "This already exists."},
		{name: "setup done", err: models.ErrSetupDone, status: 409, code: codeConflict, message: "Setup has already been completed."},
		{name: "invalid token", err: models.ErrInvalidToken, status: 401, code: codeUnauthorized, message: "The bearer token is missing, invalid or revoked."},
		{name: "self approval", err: wrap(models.ErrSelfApproval), status: 403, code: codeSelfApproval,
			message: "You cannot approve or deny your own request: someone else must decide it (separation of duties)."},
		{name: "not approver", err: models.ErrNotApprover, status: 403, code: codeForbidden, message: "Only approvers and admins can do this."},
		{name: "not requester", err: models.ErrNotRequester, status: 403, code: codeForbidden, message: "Only the person who asked for this access can cancel the request."},
		{name: "already decided", err: wrap(models.ErrAlreadyDecided), status: 409, code: codeAlreadyDecided, message: "This request is no longer pending; reload it to see what happened."},
		{name: "not cancellable", err: models.ErrNotCancellable, status: 409, code: codeAlreadyDecided, message: "This request is no longer pending; reload it to see what happened."},
		{name: "not revocable", err: models.ErrNotRevocable, status: 409, code: codeAlreadyDecided, message: "This request is no longer pending; reload it to see what happened."},
		{name: "echo not found", err: echo.ErrNotFound, status: 404, code: codeNotFound, message: "This page or item does not exist.", page: msgMissingPage},
		{name: "echo method", err: echo.ErrMethodNotAllowed, status: 405, code: codeMethodNotAllowed, message: "This method is not allowed here."},
		{name: "echo too large", err: echo.ErrStatusRequestEntityTooLarge, status: 413, code: codeTooLarge, message: "The request body is too large."},
		{name: "echo forbidden", err: echo.ErrForbidden, status: 403, code: codeForbidden, message: "You are not allowed to do this."},
		{name: "echo unauthorized", err: echo.ErrUnauthorized, status: 401, code: codeUnauthorized, message: "Authentication is required."},
		{name: "echo rate limited", err: echo.ErrTooManyRequests, status: 429, code: codeRateLimited, message: "Too many requests; wait a moment and try again."},
		{name: "echo media type", err: echo.ErrUnsupportedMediaType, status: 415, code: codeUnsupportedMedia, message: "Send the body as application/json."},
		{name: "echo other client error", err: echo.NewHTTPError(http.StatusTeapot), status: 418, code: codeBadRequest, message: "The request could not be understood."},
		{name: "echo server error", err: echo.ErrBadGateway, status: 500, code: codeInternal, message: "Something went wrong on our side.", page: msgLogged},
		{name: "jira reconnect", err: wrap(jira.ErrReconnectRequired), status: 502, code: codeJiraFailed, message: msgJiraAuth},
		{name: "integration reconnect", err: models.ErrReconnectRequired, status: 502, code: codeJiraFailed, message: msgJiraAuth},
		{name: "jira unauthorized", err: jira.ErrUnauthorized, status: 502, code: codeJiraFailed, message: msgJiraAuth},
		{name: "jira unavailable", err: wrap(errJiraUnavailable), status: 502, code: codeJiraFailed, message: "Jira is not available in this installation."},
		{name: "jira address", err: &jira.ForbiddenAddressError{}, status: 502, code: codeJiraFailed, message: "Privilege will not connect to this Jira's address."},
		{name: "jira not found", err: fmt.Errorf("project OPS: %w", jira.ErrNotFound), status: 502, code: codeJiraFailed,
			message: "Jira says this does not exist, or the connected Jira user cannot see it."},
		{name: "jira rate limit", err: &jira.RateLimitError{Status: http.StatusTooManyRequests}, status: 502, code: codeJiraFailed,
			message: "Jira is busy or rate limiting requests; try again in a minute."},
		{name: "jira server", err: &jira.ServerError{Status: http.StatusInternalServerError}, status: 502, code: codeJiraFailed,
			message: "Jira could not be reached or had an error; try again later."},
		{name: "jira transport", err: &jira.TransportError{Op: "list projects", Err: io.ErrUnexpectedEOF}, status: 502, code: codeJiraFailed,
			message: "Jira could not be reached or had an error; try again later."},
		{name: "jira rejected", err: &jira.APIError{Status: http.StatusBadRequest, Messages: []string{"Summary is required."}}, status: 502, code: codeJiraFailed,
			message: (&jira.APIError{Status: http.StatusBadRequest, Messages: []string{"Summary is required."}}).Error()},
		{name: "ours", err: errors.New("decrypt token: cipher: message authentication failed"), status: 500, code: codeInternal,
			message: "Something went wrong on our side.", page: msgLogged},
	}
}

// Each kind of error gets its status, code and message, as JSON for API
// clients and as an error page for browsers; HEAD gets the status alone.
func TestClassifyRendersEveryErrorKind(t *testing.T) {
	app := newTestApp(t, modeltest.NewStore(t, models.DialectSQLite))
	for _, tc := range classifyCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := classify(tc.err)
			if p.Status != tc.status || p.Code != tc.code || p.Message != tc.message {
				t.Fatalf("classify = %d %q %q, want %d %q %q", p.Status, p.Code, p.Message, tc.status, tc.code, tc.message)
			}
			if got := statusOf(tc.err); got != tc.status {
				t.Errorf("statusOf = %d, want %d", got, tc.status)
			}
			t.Run("json", func(t *testing.T) { wantJSONProblem(t, app, tc) })
			t.Run("html", func(t *testing.T) { wantHTMLProblem(t, app, tc) })
			t.Run("head", func(t *testing.T) {
				rec := handleErrorFor(app, tc.err, httptest.NewRequest(http.MethodHead, "/requests/7", nil))
				if rec.Code != tc.status || rec.Body.Len() != 0 {
					t.Errorf("HEAD: %d with %d bytes, want %d and no body", rec.Code, rec.Body.Len(), tc.status)
				}
			})
		})
	}
}

// handleErrorFor is what handleError answers to req failing with err.
func handleErrorFor(app *testApp, err error, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	app.h.handleError(err, app.e.NewContext(req, rec))
	return rec
}

func wantJSONProblem(t *testing.T, app *testApp, tc classifyCase) {
	t.Helper()
	rec := handleErrorFor(app, tc.err, httptest.NewRequest(http.MethodGet, "/api/v1/requests/7", nil))
	fields := wantAPIError(t, rec, tc.status, string(tc.code))
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Error.Message != tc.message {
		t.Errorf("message %q, want %q", body.Error.Message, tc.message)
	}
	if fmt.Sprint(fields) != fmt.Sprint(tc.fields) {
		t.Errorf("fields %v, want %v", fields, tc.fields)
	}
	if got := rec.Header().Get("WWW-Authenticate"); (tc.status == http.StatusUnauthorized) != (got != "") {
		t.Errorf("WWW-Authenticate %q on %d", got, tc.status)
	}
}

func wantHTMLProblem(t *testing.T, app *testApp, tc classifyCase) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/requests/7", nil)
	req.Header.Set(echo.HeaderAccept, "text/html")
	rec := handleErrorFor(app, tc.err, req)
	wantStatus(t, rec, tc.status)
	if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("content type %q", ct)
	}
	page := tc.page
	if page == "" {
		page = tc.message
	}
	section := parseHTML(t, rec).Find(`[data-testid="error-page"]`)
	if got := section.Find("p.code").Text(); got != strconv.Itoa(tc.status) {
		t.Errorf("status shown %q, want %d", got, tc.status)
	}
	if got := section.Find("h1").Text(); got != errorTitle(tc.status) {
		t.Errorf("title %q, want %q", got, errorTitle(tc.status))
	}
	if !strings.Contains(section.Text(), page) {
		t.Errorf("page does not say %q:\n%s", page, trim(section.Text()))
	}
	if tc.code == codeInternal && strings.Contains(rec.Body.String(), "cipher") {
		t.Error("the page shows the internal error")
	}
}

// Every error code has one row in the table: a 4xx or 5xx status and a
// default message; every row is a declared code.
func TestErrorCodeTable(t *testing.T) {
	table := errorCodes()
	declared := declaredErrorCodes(t)
	if len(declared) != len(table) {
		t.Errorf("%d codes declared, %d in the table", len(declared), len(table))
	}
	for _, c := range declared {
		s, ok := table[errorCode(c)]
		if !ok {
			t.Errorf("code %q has no row in errorCodes", c)
			continue
		}
		if s.Status < 400 || s.Status > 599 || s.Message == "" {
			t.Errorf("code %q: status %d, message %q", c, s.Status, s.Message)
		}
		if p := problemFor(errorCode(c)); p.Status != s.Status || p.Message != s.Message {
			t.Errorf("problemFor(%q) = %d %q", c, p.Status, p.Message)
		}
	}
	if s := errorCode("no_such_code").spec(); s != table[codeInternal] {
		t.Errorf("an unknown code answers %v, want internal", s)
	}
}

// Error codes live in error_codes.go only: no other file of the package
// spells one as a string, declares one, converts a string to one or puts
// a literal in a problem's Code.
func TestErrorCodesInOnePlace(t *testing.T) {
	codes := map[string]bool{}
	for c := range errorCodes() {
		codes[string(c)] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "error_codes.go" {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if what := errorCodeOutsideTable(n, codes); what != "" {
				t.Errorf("%s: %s; error codes belong in error_codes.go", fset.Position(n.Pos()), what)
			}
			return true
		})
	}
}

// errorCodeOutsideTable says how n spells an error code, "" if it does not.
func errorCodeOutsideTable(n ast.Node, codes map[string]bool) string {
	switch n := n.(type) {
	case *ast.BasicLit:
		if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && codes[s] {
			return fmt.Sprintf("string %q is an error code", s)
		}
	case *ast.ValueSpec:
		if id, ok := n.Type.(*ast.Ident); ok && id.Name == "errorCode" {
			return "declares an errorCode"
		}
	case *ast.CallExpr:
		if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "errorCode" {
			return "converts to errorCode"
		}
	case *ast.KeyValueExpr:
		if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Code" {
			if _, lit := n.Value.(*ast.BasicLit); lit {
				return "sets Code to a literal"
			}
		}
	}
	return ""
}

// A page shows Jira's failures as a notice and fails on ours.
func TestJiraNotice(t *testing.T) {
	app := newTestApp(t, modeltest.NewStore(t, models.DialectSQLite))
	c := app.e.NewContext(httptest.NewRequest(http.MethodGet, "/integrations/1", nil), httptest.NewRecorder())
	msg, err := app.h.jiraNotice(c, fmt.Errorf("list projects: %w", &jira.RateLimitError{Status: http.StatusTooManyRequests}))
	if err != nil || msg != "Jira is busy or rate limiting requests; try again in a minute." {
		t.Errorf("Jira failure: %q, %v", msg, err)
	}
	ours := fmt.Errorf("read secret: %w", models.ErrDecryptionFailed)
	if msg, err := app.h.jiraNotice(c, ours); msg != "" || !errors.Is(err, ours) {
		t.Errorf("our failure: %q, %v", msg, err)
	}
}

// A Jira flow ends on the given page on a userError and leaves every
// other error to handleError.
func TestEndFlow(t *testing.T) {
	app := newTestApp(t, modeltest.NewStore(t, models.DialectSQLite))
	rec := httptest.NewRecorder()
	c := app.e.NewContext(httptest.NewRequest(http.MethodGet, "/integrations/jira/callback", nil), rec)
	if err := endFlow(c, fmt.Errorf("exchange: %w", userError("Jira access was declined; nothing was saved.")), paths.Profile); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, rec, paths.Profile)
	ours := errors.New("store down")
	if err := endFlow(c, ours, paths.Profile); !errors.Is(err, ours) {
		t.Errorf("endFlow = %v, want the error itself", err)
	}
	if err := endFlow(c, nil, paths.Profile); err != nil {
		t.Errorf("endFlow(nil) = %v", err)
	}
}
