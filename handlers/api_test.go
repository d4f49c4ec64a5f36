package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

func TestAPIAccounts(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		admin := modeltest.Must(store.CreateFirstAdmin(t.Context(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
		req := app.addUser("req@example.com", models.RoleRequester)
		adminTok, _ := app.addToken(admin.ID)
		reqTok, _ := app.addToken(req.ID)
		const body = `{"provider":"aws","external_id":"123456789012","name":"Prod","max_duration_minutes":120,
			"resources":[{"name":"ReadOnly","kind":"role"},{"name":"Admin","kind":"permission-set"}]}`

		rec := app.apiDo(http.MethodPost, "/api/v1/accounts", "", body)
		wantAPIError(t, rec, http.StatusUnauthorized, "unauthorized")
		if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
		}
		wantAPIError(t, app.apiDo(http.MethodPost, "/api/v1/accounts", "prv_notatoken", body), http.StatusUnauthorized, "unauthorized")
		wantAPIError(t, app.apiDo(http.MethodPost, "/api/v1/accounts", reqTok, body), http.StatusForbidden, "forbidden")

		rec = app.apiDo(http.MethodPost, "/api/v1/accounts", adminTok, body)
		wantStatus(t, rec, http.StatusCreated)
		var acc apiAccount
		if err := json.Unmarshal(rec.Body.Bytes(), &acc); err != nil {
			t.Fatal(err)
		}
		if acc.ID == 0 || len(acc.Resources) != 2 || acc.Resources[0].ID == 0 || acc.MaxDurationMinutes != 120 {
			t.Errorf("created %+v", acc)
		}

		// Conflicts and validation: 422 with fields, nothing stored.
		fields := wantAPIError(t, app.apiDo(http.MethodPost, "/api/v1/accounts", adminTok, body), http.StatusUnprocessableEntity, "validation_failed")
		if fields["external_id"] == "" {
			t.Errorf("duplicate: fields %v", fields)
		}
		fields = wantAPIError(t, app.apiDo(http.MethodPost, "/api/v1/accounts", adminTok,
			`{"provider":"gcp","external_id":"X","name":"","resources":[]}`), http.StatusUnprocessableEntity, "validation_failed")
		for _, f := range []string{"external_id", "name", "resources"} {
			if fields[f] == "" {
				t.Errorf("no error for %s in %v", f, fields)
			}
		}
		// Malformed bodies: 400 naming the problem.
		fields = wantAPIError(t, app.apiDo(http.MethodPost, "/api/v1/accounts", adminTok, `{"provider":"aws","owner":"me"}`), http.StatusBadRequest, "bad_request")
		if fields["owner"] == "" {
			t.Errorf("unknown field not named: %v", fields)
		}
		wantAPIError(t, app.apiDo(http.MethodPost, "/api/v1/accounts", adminTok, `{"provider":`), http.StatusBadRequest, "bad_request")
		wantAPIError(t, app.apiDo(http.MethodPost, "/api/v1/accounts", adminTok, `{"name":42}`), http.StatusBadRequest, "bad_request")
		wantAPIError(t, app.apiDo(http.MethodPost, "/api/v1/accounts", adminTok, `{} {}`), http.StatusBadRequest, "bad_request")
		big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
		wantAPIError(t, app.apiDo(http.MethodPost, "/api/v1/accounts", adminTok, big), http.StatusRequestEntityTooLarge, "body_too_large")
		if n := app.accountCount(); n != 1 {
			t.Fatalf("%d accounts stored, want 1", n)
		}

		// Listing: any role, paginated.
		app.addAccount("Second", "210987654321")
		rec = app.apiDo(http.MethodGet, "/api/v1/accounts?page=2&per_page=1", reqTok, "")
		wantStatus(t, rec, http.StatusOK)
		var list struct {
			Items []apiAccount `json:"items"`
			Total int64        `json:"total"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
			t.Fatal(err)
		}
		if list.Total != 2 || len(list.Items) != 1 || list.Items[0].Name != "Second" {
			t.Errorf("list %+v", list)
		}

		wantAPIError(t, app.apiDo(http.MethodPut, "/api/v1/accounts", adminTok, "{}"), http.StatusMethodNotAllowed, "method_not_allowed")
		wantAPIError(t, app.apiDo(http.MethodGet, "/api/v1/nothing", adminTok, ""), http.StatusNotFound, "not_found")
	})
}

func TestAPIRevokedTokenRejected(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	admin := modeltest.Must(app.store.UserByEmail(t.Context(), "admin@example.com"))
	tok, meta := app.addToken(admin.ID)
	wantStatus(t, app.apiDo(http.MethodGet, "/api/v1/accounts", tok, ""), http.StatusOK)
	c := app.signedIn("admin@example.com")
	wantRedirect(t, c.post("/tokens/"+itoa(meta.ID)+"/revoke", nil), "/tokens")
	wantAPIError(t, app.apiDo(http.MethodGet, "/api/v1/accounts", tok, ""), http.StatusUnauthorized, "unauthorized")
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	rec := app.apiDo(http.MethodGet, "/api/v1/openapi.json", "", "")
	wantStatus(t, rec, http.StatusOK)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	seen := map[string]bool{}
	for _, r := range app.e.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		p := openAPIPath(r.Path)
		seen[strings.ToLower(r.Method)+" "+p] = true
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("%s %s is not described in openapi.json (as %s)", r.Method, r.Path, p)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" && !seen[m+" "+p] {
				t.Errorf("openapi.json describes %s %s, which is not routed", m, p)
			}
		}
	}
}

// openAPIPath turns /a/:id/b into /a/{id}/b.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}
