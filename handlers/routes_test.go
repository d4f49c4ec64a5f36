package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

// TestEveryRouteHasARule fails when a route is registered outside the
// route table or with no rule.
func TestEveryRouteHasARule(t *testing.T) {
	app := newTestApp(t, modeltest.NewStore(t, models.DialectSQLite))
	rules := tableRules(t, app)
	for _, r := range app.e.Routes() {
		rl, ok := rules[r.Method+" "+r.Path]
		if !ok {
			t.Errorf("%s %s is not in routeTable(): add it there with a rule", r.Method, r.Path)
		} else if rl == ruleUnset {
			t.Errorf("%s %s has no rule", r.Method, r.Path)
		}
	}
}

func tableRules(t testing.TB, app *testApp) map[string]rule {
	t.Helper()
	h, err := newHandler(Config{SessionKeys: testSessionKeys()}, Deps{Store: app.store})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]rule{}
	for _, r := range h.routeTable() {
		m[r.Method+" "+r.Path] = r.Rule
	}
	return m
}

// TestRoleMatrix calls every route as anonymous, requester, approver and
// admin (by session, and by bearer token on /api) and checks the rule holds.
func TestRoleMatrix(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		admin := modeltest.Must(store.CreateFirstAdmin(t.Context(), "127.0.0.1",
			models.NewUser{Email: "admin@example.com", Password: testPassword}))
		app.addUser("approver@example.com", models.RoleApprover)
		app.addUser("requester@example.com", models.RoleRequester)
		victim := app.addUser("victim@example.com", models.RoleRequester)
		_, victimToken := app.addToken(victim.ID)
		acc := app.addAccount("Matrix", "111122223333")
		tokens := map[models.Role]string{}
		for _, role := range models.Roles {
			u, err := store.UserByEmail(t.Context(), string(role)+"@example.com")
			if err != nil {
				t.Fatal(err)
			}
			tokens[role], _ = app.addToken(u.ID)
		}
		_ = admin
		rules := tableRules(t, app)
		for _, r := range app.e.Routes() {
			rl, ok := rules[r.Method+" "+r.Path]
			if !ok || rl == ruleUnset {
				t.Errorf("%s %s: no rule", r.Method, r.Path)
				continue
			}
			path := concretePath(r.Path, acc.ID, victim.ID, victimToken.ID)
			t.Run(r.Method+" "+r.Path, func(t *testing.T) {
				checkAnonymous(t, app, r.Method, path, rl)
				for _, role := range models.Roles {
					checkRole(t, app, r.Method, path, rl, role, tokens[role])
				}
			})
		}
	})
}

func concretePath(p string, accountID, userID, tokenID int64) string {
	id := accountID
	switch {
	case strings.HasPrefix(p, "/users/"):
		id = userID
	case strings.HasPrefix(p, "/tokens/"):
		id = tokenID
	}
	p = strings.ReplaceAll(p, ":id", strconv.FormatInt(id, 10))
	return strings.ReplaceAll(p, "*", "css/app.css")
}

func call(c *client, method, path string) (int, string, string) {
	var rec interface {
		Result() *http.Response
	}
	if method == http.MethodGet {
		rec = c.get(path)
	} else {
		rec = c.post(path, url.Values{})
	}
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

func checkAnonymous(t *testing.T, app *testApp, method, path string, rl rule) {
	t.Helper()
	if rl.isAPI() {
		rec := app.apiDo(method, path, "", "")
		wantAPIError(t, rec, http.StatusUnauthorized, "unauthorized")
		if rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("anonymous %s %s: no WWW-Authenticate", method, path)
		}
		// A browser session is no API credential.
		cl := app.signedIn("admin@example.com")
		status, _, _ := call(cl, method, path)
		if status != http.StatusUnauthorized {
			t.Errorf("admin session cookie on %s %s: status %d, want 401", method, path, status)
		}
		return
	}
	status, loc, body := call(app.client(), method, path)
	switch rl {
	case ruleJiraSigned:
		if status != http.StatusUnauthorized || !strings.Contains(body, `"unauthorized"`) {
			t.Errorf("anonymous %s %s: %d, want the JSON 401 of an unverified delivery\n%s", method, path, status, trim(body))
		}
	case rulePublic:
		if status == http.StatusUnauthorized || status == http.StatusForbidden || strings.HasPrefix(loc, "/login") {
			t.Errorf("anonymous %s %s: %d → %q, want access", method, path, status, loc)
		}
	case ruleSetupOnly:
		if status != http.StatusSeeOther || loc != "/login" {
			t.Errorf("anonymous %s %s after setup: %d → %q, want 303 → /login", method, path, status, loc)
		}
	default:
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
			t.Errorf("anonymous %s %s: %d → %q, want 303 → /login\n%s", method, path, status, loc, trim(body))
		}
	}
}

func checkRole(t *testing.T, app *testApp, method, path string, rl rule, role models.Role, token string) {
	t.Helper()
	if rl.isAPI() {
		rec := app.apiDo(method, path, token, "")
		switch {
		case rl.allows(role):
			if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden {
				t.Errorf("%s token %s %s: %d, want access\n%s", role, method, path, rec.Code, rec.Body.String())
			}
		default:
			wantAPIError(t, rec, http.StatusForbidden, "forbidden")
		}
		return
	}
	c := app.signedIn(string(role) + "@example.com")
	status, loc, body := call(c, method, path)
	switch {
	case rl == ruleJiraSigned: // a session is no signature
		if status != http.StatusUnauthorized {
			t.Errorf("%s %s %s: %d, want 401", role, method, path, status)
		}
	case rl == ruleSetupOnly:
		if status != http.StatusSeeOther {
			t.Errorf("%s %s %s after setup: %d, want 303", role, method, path, status)
		}
	case rl.allows(role):
		signedOut := strings.HasPrefix(loc, "/login") && path != "/logout" // signing out ends at /login
		if status == http.StatusUnauthorized || status == http.StatusForbidden || signedOut {
			t.Errorf("%s %s %s: %d → %q, want access\n%s", role, method, path, status, loc, trim(body))
		}
	default:
		if status != http.StatusForbidden || !strings.Contains(body, `data-testid="error-page"`) {
			t.Errorf("%s %s %s: %d, want the 403 page\n%s", role, method, path, status, trim(body))
		}
	}
}

func wantAPIError(t testing.TB, rec interface{ Result() *http.Response }, status int, code string) map[string]string {
	t.Helper()
	res := rec.Result()
	var body errorBody
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("status %d: body is not a JSON error: %v", res.StatusCode, err)
	}
	if res.StatusCode != status || string(body.Error.Code) != code {
		t.Fatalf("got %d %q (%s), want %d %q", res.StatusCode, body.Error.Code, body.Error.Message, status, code)
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("content type %q", res.Header.Get("Content-Type"))
	}
	return body.Error.Fields
}
