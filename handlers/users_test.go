package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

func TestUsersAndTokensPages(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		modeltest.Must(store.CreateFirstAdmin(t.Context(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
		c := app.signedIn("admin@example.com")

		bad := url.Values{"email": {"not-an-email"}, "name": {"Carol"}, "role": {"approver"}, "password": {"short"}}
		rec := c.post("/users", bad)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		doc := parseHTML(t, rec)
		for _, f := range []string{"email", "password"} {
			if doc.Find(`[data-testid="error-`+f+`"]`).Length() != 1 {
				t.Errorf("no error for %s", f)
			}
		}
		if v, _ := doc.Find(`select[name=role] option[selected]`).Attr("value"); v != "approver" {
			t.Errorf("role not kept: %q", v)
		}
		good := url.Values{"email": {"carol@example.com"}, "name": {"Carol"}, "role": {"approver"}, "password": {testPassword}}
		wantRedirect(t, c.post("/users", good), "/users")
		doc = parseHTML(t, c.get("/users"))
		if doc.Find(`[data-testid="user-row"]`).Length() != 2 || !strings.Contains(doc.Text(), "carol@example.com") {
			t.Errorf("users list: %q", doc.Find("table").Text())
		}
		admin := modeltest.Must(store.UserByEmail(t.Context(), "admin@example.com"))
		wantRedirect(t, c.post("/users/"+itoa(admin.ID)+"/disable", nil), "/users")
		if doc := parseHTML(t, c.get("/users")); doc.Find(`[data-testid="flash-error"]`).Length() != 1 {
			t.Error("disabling yourself gives no error flash")
		}

		doc = parseHTML(t, c.get("/tokens"))
		if doc.Find(`[data-testid="empty-state"]`).Length() != 1 {
			t.Error("no empty state on /tokens")
		}
		carol := modeltest.Must(store.UserByEmail(t.Context(), "carol@example.com"))
		if parseHTML(t, c.get("/tokens/new")).Find(`[name=user_id]`).Length() != 0 {
			t.Error("the token form still offers a choice of user")
		}
		wantStatus(t, c.post("/tokens", url.Values{"name": {""}}), http.StatusUnprocessableEntity)
		// A user_id smuggled into the form is ignored: the token is the admin's own.
		rec = c.post("/tokens", url.Values{"user_id": {itoa(carol.ID)}, "name": {"ci pipeline"}})
		wantStatus(t, rec, http.StatusCreated)
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Error("token page may be cached")
		}
		plain := strings.TrimSpace(parseHTML(t, rec).Find(`[data-testid="token-plaintext"]`).Text())
		if !strings.HasPrefix(plain, "prv_") {
			t.Fatalf("plaintext %q", plain)
		}
		wantStatus(t, app.apiDo(http.MethodGet, "/api/v1/accounts", plain, ""), http.StatusOK)
		if tok := modeltest.Must(store.AuthenticateToken(t.Context(), plain)); tok.User.Email != "admin@example.com" {
			t.Fatalf("the token acts as %s, want the admin who made it", tok.User.Email)
		}
		rec = c.get("/tokens")
		if strings.Contains(rec.Body.String(), plain) {
			t.Error("token list shows the plaintext")
		}
		row := parseHTML(t, rec).Find(`[data-testid="token-row"]`)
		if !strings.Contains(row.Text(), "admin@example.com") || !strings.Contains(row.Text(), plain[:10]) {
			t.Errorf("token row %q", row.Text())
		}
		doc = parseHTML(t, c.get("/audit"))
		if doc.Find(`[data-testid="audit-row"] [data-testid=audit-action]`).First().AttrOr("title", "") != "token.created" {
			t.Errorf("newest audit row: %q", doc.Find(`[data-testid="audit-row"]`).First().Text())
		}
	})
}

// Every user makes and manages their own API tokens: a requester creates one
// (it acts as them), sees only theirs and cannot revoke anyone else's; the
// admin sees and may revoke every token.
func TestUsersManageTheirOwnTokens(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		admin := modeltest.Must(store.CreateFirstAdmin(t.Context(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
		app.addUser("rita@example.com", models.RoleRequester)
		adminToken, adminMeta := app.addToken(admin.ID)
		rita := app.signedIn("rita@example.com")
		if parseHTML(t, rita.get("/requests")).Find(`[data-testid="nav-tokens"]`).Length() != 1 {
			t.Error("no API tokens link in a requester's navigation")
		}
		rec := rita.post("/tokens", url.Values{"name": {"my laptop"}})
		wantStatus(t, rec, http.StatusCreated)
		plain := strings.TrimSpace(parseHTML(t, rec).Find(`[data-testid="token-plaintext"]`).Text())
		tok := modeltest.Must(store.AuthenticateToken(t.Context(), plain))
		if tok.User.Email != "rita@example.com" {
			t.Fatalf("token acts as %s", tok.User.Email)
		}
		rows := parseHTML(t, rita.get("/tokens")).Find(`[data-testid="token-row"]`)
		if rows.Length() != 1 || strings.Contains(rows.Text(), "admin@example.com") {
			t.Errorf("rita's token list: %q", rows.Text())
		}
		wantStatus(t, rita.post("/tokens/"+itoa(adminMeta.ID)+"/revoke", nil), http.StatusNotFound)
		wantStatus(t, app.apiDo(http.MethodGet, "/api/v1/accounts", adminToken, ""), http.StatusOK)

		c := app.signedIn("admin@example.com")
		if n := parseHTML(t, c.get("/tokens")).Find(`[data-testid="token-row"]`).Length(); n != 2 {
			t.Errorf("admin sees %d tokens, want 2", n)
		}
		wantRedirect(t, c.post("/tokens/"+itoa(tok.ID)+"/revoke", nil), "/tokens")
		wantAPIError(t, app.apiDo(http.MethodGet, "/api/v1/accounts", plain, ""), http.StatusUnauthorized, "unauthorized")
	})
}

// The Requests and Integrations screens own their tests; here only the
// start page and that both screens answer.
func TestHomeAndNavTargets(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	c := app.signedIn("admin@example.com")
	wantRedirect(t, c.get("/"), "/requests")
	wantStatus(t, c.get("/requests"), http.StatusOK)
	wantStatus(t, c.get("/integrations"), http.StatusOK)
}
