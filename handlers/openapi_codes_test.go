package handlers

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"privilege/models"
)

// A body that is not JSON gets 415 with its own code, on every API route
// that takes a body.
func TestAPIUnsupportedMediaType(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	admin, _ := app.store.UserByEmail(t.Context(), "admin@example.com")
	token, _ := app.addToken(admin.ID)
	for _, path := range []string{"/api/v1/accounts", "/api/v1/requests", "/api/v1/requests/1/approve", "/api/v1/requests/1/deny"} {
		req := newAPIRequest(app, http.MethodPost, path, token, "a=b")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := app.serve(req)
		t.Run(path, func(t *testing.T) { wantAPIError(t, rec, http.StatusUnsupportedMediaType, "unsupported_media_type") })
	}
}

// openAPIErrorDoc is the part of openapi.json the checks below read.
type openAPIErrorDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas struct {
			Error struct {
				Properties struct {
					Error struct {
						Properties struct {
							Code struct {
								Enum []string `json:"enum"`
							} `json:"code"`
						} `json:"properties"`
					} `json:"error"`
				} `json:"properties"`
			} `json:"Error"`
		} `json:"schemas"`
	} `json:"components"`
}

// Every error code the handlers declare is in the document's enum, and
// every operation that takes a body documents 415.
func TestOpenAPIListsEveryErrorCode(t *testing.T) {
	var doc openAPIErrorDoc
	if err := json.Unmarshal(fetchOpenAPI(t), &doc); err != nil {
		t.Fatal(err)
	}
	enum := doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum
	codes := declaredErrorCodes(t)
	if len(codes) < 10 {
		t.Fatalf("found only %d error codes in the source: %v", len(codes), codes)
	}
	for _, c := range codes {
		if !slices.Contains(enum, c) {
			t.Errorf("error code %q is not in openapi.json's Error.code enum", c)
		}
	}
	for p, ops := range doc.Paths {
		for m, raw := range ops {
			var op struct {
				RequestBody json.RawMessage            `json:"requestBody"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if m == "parameters" || json.Unmarshal(raw, &op) != nil || op.RequestBody == nil {
				continue
			}
			if _, ok := op.Responses["415"]; !ok {
				t.Errorf("%s %s takes a body but does not document 415", m, p)
			}
		}
	}
}

func fetchOpenAPI(t *testing.T) []byte {
	t.Helper()
	app := newSetUpApp(t, models.DialectSQLite)
	rec := app.apiDo(http.MethodGet, "/api/v1/openapi.json", "", "")
	wantStatus(t, rec, http.StatusOK)
	return rec.Body.Bytes()
}

// declaredErrorCodes parses the package's source for constants of type errorCode.
func declaredErrorCodes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "errorCode" {
				return true
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(fmt.Errorf("%s: %w", f, err))
					}
					codes = append(codes, s)
				}
			}
			return true
		})
	}
	return codes
}
