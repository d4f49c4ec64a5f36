package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/views"
)

// problem is what a user may see of an error: the status, the code from
// the table (error_codes.go), a user-safe message and per-field messages.
// Any handler may return one; handleError renders it as JSON or as a page.
type problem struct {
	Status  int
	Code    errorCode
	Message string
	Fields  map[string]string
}

func (p *problem) Error() string { return string(p.Code) + ": " + p.Message }

// newProblem is a problem with the code's status and a precise message.
func newProblem(code errorCode, msg string) *problem {
	return &problem{Status: code.spec().Status, Code: code, Message: msg}
}

// problemFor is a problem with the code's status and default message.
func problemFor(code errorCode) *problem {
	s := code.spec()
	return &problem{Status: s.Status, Code: code, Message: s.Message}
}

// withFields adds per-field messages.
func (p *problem) withFields(fields map[string]string) *problem {
	p.Fields = fields
	return p
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    errorCode         `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// classify turns any error into what the user may see. The returned
// message never contains err.Error() of an unexpected error.
func classify(err error) *problem {
	var p *problem
	var ve *models.ValidationError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &ve):
		return problemFor(codeValidation).withFields(ve.Fields)
	case errors.Is(err, models.ErrNotFound):
		return problemFor(codeNotFound)
	case errors.Is(err, models.ErrConflict), errors.Is(err, models.ErrDuplicate), errors.Is(err, models.ErrSetupDone):
		return newProblem(codeConflict, conflictMessage(err))
	case errors.Is(err, models.ErrInvalidToken):
		return newProblem(codeUnauthorized, "The bearer token is missing, invalid or revoked.")
	case errors.As(err, &he):
		return fromHTTPError(he)
	}
	if p := requestProblem(err); p != nil {
		return p
	}
	if p := jiraFailure(err); p != nil {
		return p
	}
	return problemFor(codeInternal)
}

func conflictMessage(err error) string {
	switch {
	case errors.Is(err, models.ErrSetupDone):
		return "Setup has already been completed."
	case errors.Is(err, models.ErrDuplicate):
		return "This already exists."
	}
	return problemFor(codeConflict).Message
}

// requestProblem is the answer to a request lifecycle sentinel from the
// store, nil for other errors.
func requestProblem(err error) *problem {
	switch {
	case errors.Is(err, models.ErrSelfApproval):
		return problemFor(codeSelfApproval)
	case errors.Is(err, models.ErrNotApprover):
		return newProblem(codeForbidden, "Only approvers and admins can do this.")
	case errors.Is(err, models.ErrNotRequester):
		return newProblem(codeForbidden, "Only the person who asked for this access can cancel the request.")
	case errors.Is(err, models.ErrAlreadyDecided), errors.Is(err, models.ErrNotCancellable), errors.Is(err, models.ErrNotRevocable):
		return problemFor(codeAlreadyDecided)
	}
	return nil
}

// jiraFailure is a Jira failure in words the admin can act on, nil for
// failures that are ours (they become a 500).
func jiraFailure(err error) *problem {
	var (
		api  *jira.APIError
		rate *jira.RateLimitError
		srv  *jira.ServerError
		tr   *jira.TransportError
	)
	switch {
	case errors.Is(err, jira.ErrReconnectRequired), errors.Is(err, models.ErrReconnectRequired), errors.Is(err, jira.ErrUnauthorized):
		return newProblem(codeJiraFailed, "Jira no longer accepts this integration's authorization (it was revoked or expired). Use Reconnect on the Integrations page.")
	case errors.Is(err, errJiraUnavailable):
		return newProblem(codeJiraFailed, "Jira is not available in this installation.")
	case errors.Is(err, jira.ErrForbiddenAddress):
		return newProblem(codeJiraFailed, "Privilege will not connect to this Jira's address.")
	case errors.Is(err, jira.ErrNotFound):
		return newProblem(codeJiraFailed, "Jira says this does not exist, or the connected Jira user cannot see it.")
	case errors.As(err, &rate):
		return newProblem(codeJiraFailed, "Jira is busy or rate limiting requests; try again in a minute.")
	case errors.As(err, &srv), errors.As(err, &tr):
		return problemFor(codeJiraFailed)
	case errors.As(err, &api):
		return newProblem(codeJiraFailed, api.Error())
	}
	return nil
}

func fromHTTPError(he *echo.HTTPError) *problem {
	switch he.Code {
	case http.StatusNotFound:
		return problemFor(codeNotFound)
	case http.StatusMethodNotAllowed:
		return problemFor(codeMethodNotAllowed)
	case http.StatusRequestEntityTooLarge:
		return problemFor(codeTooLarge)
	case http.StatusForbidden:
		return problemFor(codeForbidden)
	case http.StatusUnauthorized:
		return problemFor(codeUnauthorized)
	case http.StatusTooManyRequests:
		return problemFor(codeRateLimited)
	case http.StatusUnsupportedMediaType:
		return problemFor(codeUnsupportedMedia)
	}
	if he.Code >= 400 && he.Code < 500 {
		p := problemFor(codeBadRequest)
		p.Status = he.Code // the client error echo named, with the generic code
		return p
	}
	return problemFor(codeInternal)
}

// jiraNotice is the notice a page shows in place of what Jira could not
// tell: Jira's failure in words the admin can act on (logged as a
// warning), or, for a failure that is ours, the error itself.
func (h *handler) jiraNotice(c echo.Context, err error) (string, error) {
	p := classify(err)
	if p.Code != codeJiraFailed {
		return "", err
	}
	h.log.WarnContext(c.Request().Context(), "jira call failed", "request_id", requestID(c), "error", err)
	return p.Message, nil
}

// userError is a message the admin can act on; the Jira connection flow
// ends with it on a page of the app (endFlow), nothing stored.
type userError string

func (e userError) Error() string { return string(e) }

// endFlow ends a Jira connection or link flow: a userError becomes an
// error flash on page; anything else goes on to handleError.
func endFlow(c echo.Context, err error, page string) error {
	var ue userError
	if errors.As(err, &ue) {
		return redirectWithFlash(c, views.FlashError, string(ue), page)
	}
	return err
}

// statusOf is the status an error will be answered with.
func statusOf(err error) int { return classify(err).Status }

func isAPIPath(path string) bool {
	return path == paths.API || strings.HasPrefix(path, paths.APIPrefix)
}

// handleError is the only place that renders errors to users.
func (h *handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return // already answered (the request logger handles errors first)
	}
	ae := classify(err)
	h.logProblem(c, ae, err)
	if ae.Status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="privilege"`)
	}
	var rerr error
	switch {
	case c.Request().Method == http.MethodHead:
		rerr = c.NoContent(ae.Status)
	case isAPIPath(c.Request().URL.Path) || isWebhookPath(c.Request().URL.Path) || !acceptsHTML(c):
		rerr = c.JSON(ae.Status, errorBody{Error: errorDetail{Code: ae.Code, Message: ae.Message, Fields: ae.Fields}})
	default:
		rerr = render(c, ae.Status, views.Error(views.ErrorPage{
			Meta: h.pageMeta(c, errorTitle(ae.Status), views.NavNone), Status: ae.Status,
			Title: errorTitle(ae.Status), Message: pageMessage(ae),
		}))
	}
	if rerr != nil {
		h.log.ErrorContext(c.Request().Context(), "render error", "request_id", requestID(c), "error", rerr)
	}
}

// logProblem logs what the user cannot act on: Jira's failures as
// warnings, our own as errors.
func (h *handler) logProblem(c echo.Context, p *problem, err error) {
	switch {
	case p.Code == codeJiraFailed:
		h.log.WarnContext(c.Request().Context(), "jira call failed",
			"request_id", requestID(c), "method", c.Request().Method, "route", c.Path(), "error", err)
	case p.Status >= 500:
		h.log.ErrorContext(c.Request().Context(), "request failed",
			"request_id", requestID(c), "method", c.Request().Method, "route", c.Path(), "error", err)
	}
}

// acceptsHTML is false for clients that clearly want JSON only.
func acceptsHTML(c echo.Context) bool {
	a := c.Request().Header.Get(echo.HeaderAccept)
	return a == "" || strings.Contains(a, "text/html") || strings.Contains(a, "*/*")
}

func errorTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusTooManyRequests:
		return "Too many attempts"
	case http.StatusMethodNotAllowed:
		return "Method not allowed"
	case http.StatusRequestEntityTooLarge:
		return "Too large"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusBadGateway:
		return "Jira could not help"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return "Bad request"
}

func pageMessage(ae *problem) string {
	switch {
	case ae.Status == http.StatusNotFound:
		return "The page or item you asked for does not exist or was deleted."
	case ae.Code == codeJiraFailed:
		return ae.Message // Jira's failure, in words the admin can act on
	case ae.Status >= 500:
		return "The error has been logged. If it keeps happening, give this request ID to your administrator."
	}
	return ae.Message
}
