package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

func TestFirstRunSetup(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		c := app.client()
		wantRedirect(t, c.get("/accounts"), "/setup")
		wantRedirect(t, c.get("/login"), "/setup")
		wantAPIError(t, app.apiDo(http.MethodGet, "/api/v1/accounts", "", ""), http.StatusServiceUnavailable, "setup_required")
		wantStatus(t, c.get("/healthz"), http.StatusOK)

		doc := parseHTML(t, c.get("/setup"))
		for _, label := range []string{"Email", "Name", "Password", "Confirm password"} {
			if doc.Find("label:contains('"+label+"')").Length() == 0 {
				t.Errorf("setup form has no %q field", label)
			}
		}
		rec := c.post("/setup", url.Values{"email": {"root@example.com"}, "name": {"Root"},
			"password": {testPassword}, "confirm_password": {"something else!!"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		doc = parseHTML(t, rec)
		if doc.Find(`[data-testid="error-confirm_password"]`).Length() != 1 {
			t.Error("no error next to Confirm password")
		}
		if v, _ := doc.Find(`input[name=email]`).Attr("value"); v != "root@example.com" {
			t.Errorf("email not kept: %q", v)
		}
		if has, _ := store.HasUsers(t.Context()); has {
			t.Fatal("a user was stored from an invalid form")
		}

		rec = c.post("/setup", url.Values{"email": {"root@example.com"}, "name": {"Root"},
			"password": {testPassword}, "confirm_password": {testPassword}})
		wantRedirect(t, rec, "/login")
		wantRedirect(t, c.get("/setup"), "/login")
		wantRedirect(t, c.post("/setup", url.Values{"email": {"evil@example.com"}, "password": {testPassword}, "confirm_password": {testPassword}}), "/login")
		c.login("root@example.com", testPassword)
		u := modeltest.Must(store.UserByEmail(t.Context(), "root@example.com"))
		if u.Role != models.RoleAdmin {
			t.Errorf("first user role %q", u.Role)
		}
		wantStatus(t, c.get("/accounts"), http.StatusOK)
	})
}

func TestLoginPageLabels(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	doc := parseHTML(t, app.client().get("/login"))
	for _, sel := range []string{`label:contains('Email') input[name=email]`, `label:contains('Password') input[type=password]`, `button:contains('Sign in')`} {
		if doc.Find(sel).Length() != 1 {
			t.Errorf("login page lacks %s", sel)
		}
	}
}

func TestCSRF(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	c := app.signedIn("admin@example.com")
	form := func() url.Values {
		return url.Values{"provider": {"aws"}, "external_id": {"123456789012"}, "name": {"Prod"},
			"resource_name": {"Admin"}, "resource_kind": {"role"}}
	}
	rec := c.postRaw("/accounts", form(), nil)
	wantStatus(t, rec, http.StatusForbidden)
	if app.accountCount() != 0 {
		t.Fatal("account stored without a CSRF token")
	}
	f := form()
	f.Set("_csrf", "wrong-token")
	wantStatus(t, c.postRaw("/accounts", f, nil), http.StatusForbidden)

	// Cross-site fetch metadata is refused even with a valid token.
	f = form()
	f.Set("_csrf", c.csrf())
	cross := c.postRaw("/accounts", f, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	wantStatus(t, cross, http.StatusForbidden)
	if !strings.Contains(cross.Body.String(), "came from another site") {
		t.Errorf("cross-site post answered %q", cross.Body.String())
	}
	if app.accountCount() != 0 {
		t.Fatal("account stored from a cross-site POST")
	}
	// The header form (htmx) works, and so does the form field.
	wantRedirect(t, c.postRaw("/accounts", form(), http.Header{"X-Csrf-Token": {c.csrf()}}), "/accounts")
	f = form()
	f.Set("external_id", "123456789013")
	wantRedirect(t, c.post("/accounts", f), "/accounts")
	// A same-origin browser needs no token (fetch metadata decides).
	f = form()
	f.Set("external_id", "123456789014")
	wantRedirect(t, c.postRaw("/accounts", f, http.Header{"Sec-Fetch-Site": {"same-origin"}}), "/accounts")
	if n := app.accountCount(); n != 3 {
		t.Fatalf("%d accounts, want 3", n)
	}
}

func TestLoginRotatesSession(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	c := app.client()
	c.login("admin@example.com", testPassword)
	first := c.sessionCookie()
	wantRedirect(t, c.post("/logout", nil), "/login")
	preLogin := c.sessionCookie() // holds only the "signed out" flash
	if preLogin == "" || preLogin == first {
		t.Fatalf("sign-out did not replace the session cookie")
	}
	c.login("admin@example.com", testPassword)
	second := c.sessionCookie()
	if second == preLogin || second == first {
		t.Fatal("sign-in did not rotate the session cookie")
	}
	// The pre-login cookie does not authenticate anyone.
	stale := app.client()
	u, _ := url.Parse(testOrigin)
	stale.jar.SetCookies(u, []*http.Cookie{{Name: sessionCookieName, Value: preLogin}})
	wantRedirect(t, stale.get("/accounts"), "/login")
	// The pre-login flash was dropped at sign-in.
	if doc := parseHTML(t, c.get("/requests")); doc.Find(`[data-testid="flash-info"]`).Length() != 0 {
		t.Error("pre-login flash survived sign-in")
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		base   string
		secure bool
		name   string
	}{{"http://privilege.test", false, "privilege_session"}, {"https://privilege.test", true, "__Host-privilege_session"}} {
		app := newSetUpApp(t, models.DialectSQLite, withBaseURL(tc.base))
		rec := app.client().login("admin@example.com", testPassword)
		var found bool
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == strings.Replace(tc.name, "session", "device", 1) { // the known-device cookie
				if !ck.HttpOnly || ck.Secure != tc.secure || ck.Path != "/" || ck.Domain != "" || ck.MaxAge < 24*3600 {
					t.Errorf("%s: device cookie %+v", tc.base, ck)
				}
				continue
			}
			if ck.Name != tc.name {
				t.Errorf("%s: unexpected cookie %q", tc.base, ck.Name)
				continue
			}
			found = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != tc.secure || ck.Path != "/" || ck.Domain != "" {
				t.Errorf("%s: cookie %+v", tc.base, ck)
			}
			if ck.MaxAge <= 0 || ck.MaxAge > 12*3600 {
				t.Errorf("%s: MaxAge %d", tc.base, ck.MaxAge)
			}
		}
		if !found {
			t.Errorf("%s: no %s cookie set at sign-in", tc.base, tc.name)
		}
		hsts := rec.Header().Get("Strict-Transport-Security")
		if (hsts != "") != tc.secure {
			t.Errorf("%s: HSTS %q", tc.base, hsts)
		}
	}
}

func TestDisabledUserLosesAccessAtOnce(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		modeltest.Must(store.CreateFirstAdmin(t.Context(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
		bob := app.addUser("bob@example.com", models.RoleRequester)
		token, _ := app.addToken(bob.ID)
		bobc := app.signedIn("bob@example.com")
		wantStatus(t, bobc.get("/requests"), http.StatusOK)
		copied := app.client() // a copy of bob's cookie, used only after re-enabling
		origin, _ := url.Parse(app.origin)
		copied.jar.SetCookies(origin, bobc.jar.Cookies(origin))

		admin := app.signedIn("admin@example.com")
		wantRedirect(t, admin.post("/users/"+itoa(bob.ID)+"/disable", nil), "/users")
		wantRedirect(t, bobc.get("/requests"), "/login")
		wantAPIError(t, app.apiDo(http.MethodGet, "/api/v1/accounts", token, ""), http.StatusUnauthorized, "unauthorized")
		rec := app.client().post("/login", url.Values{"email": {"bob@example.com"}, "password": {testPassword}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)

		wantRedirect(t, admin.post("/users/"+itoa(bob.ID)+"/enable", nil), "/users")
		// Enabling again brings back neither the old session nor the token.
		wantRedirect(t, copied.get("/requests"), "/login")
		wantAPIError(t, app.apiDo(http.MethodGet, "/api/v1/accounts", token, ""), http.StatusUnauthorized, "unauthorized")
		fresh := app.signedIn("bob@example.com")
		wantStatus(t, fresh.get("/requests"), http.StatusOK)
	})
}

func TestLoginNextIsLocalOnly(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	for next, want := range map[string]string{"/accounts?q=x": "/accounts?q=x", "//evil.example": "/", "https://evil.example": "/", "/\\evil": "/",
		"/\t/evil.example": "/", "/\n/evil.example": "/", "/a\\b": "/"} {
		rec := app.client().post("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {next}})
		if got := rec.Header().Get("Location"); got != want {
			t.Errorf("next=%q → %q, want %q", next, got, want)
		}
	}
	wantRedirect(t, app.client().get("/accounts?q=a"), "/login?next=%2Faccounts%3Fq%3Da")
}

func TestSecurityHeaders(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	rec := app.client().get("/login")
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if rec.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS on plain http")
	}
	body := rec.Body.String()
	if strings.Contains(body, "<style") || strings.Contains(body, " style=") || strings.Contains(body, "<script>") {
		t.Error("inline style or script in a page (CSP forbids them)")
	}
}

// Sessions live in signed cookies; signing out must still make a copy of the
// cookie useless, while a fresh sign-in works at once.
func TestSignOutRevokesCopiedSessionCookie(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		modeltest.Must(store.CreateFirstAdmin(t.Context(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
		c := app.signedIn("admin@example.com")
		copied := app.client()
		u, _ := url.Parse(app.origin)
		copied.jar.SetCookies(u, c.jar.Cookies(u))
		wantStatus(t, copied.get("/accounts"), http.StatusOK)

		wantRedirect(t, c.post("/logout", nil), "/login")
		wantRedirect(t, copied.get("/accounts"), "/login")
		again := app.signedIn("admin@example.com")
		wantStatus(t, again.get("/accounts"), http.StatusOK)
	})
}

// The CSRF token is bound to the session: a token cookie planted for the
// host (the double-submit scheme's weakness) or another session's valid
// token does not let a same-site attacker forge a form post.
func TestCSRFTokenBoundToSession(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	victim := app.signedIn("admin@example.com")
	attacker := app.client()
	attackerToken := attacker.csrf() // a valid token of the attacker's own session
	if attackerToken == "" || attackerToken == victim.csrf() {
		t.Fatalf("tokens: attacker %q, victim %q; want two different tokens", attackerToken, victim.csrf())
	}
	u, _ := url.Parse(app.origin)
	victim.jar.SetCookies(u, []*http.Cookie{{Name: "privilege_csrf", Value: "planted", Path: "/"}, {Name: "_csrf", Value: "planted", Path: "/"}})
	sameSite := http.Header{"Sec-Fetch-Site": {"same-site"}}
	form := func(token string) url.Values {
		return url.Values{"provider": {"aws"}, "external_id": {"123456789012"}, "name": {"Prod"},
			"resource_name": {"Admin"}, "resource_kind": {"role"}, "_csrf": {token}}
	}
	for _, token := range []string{"planted", attackerToken} {
		wantStatus(t, victim.postRaw("/accounts", form(token), sameSite), http.StatusForbidden)
		h := sameSite.Clone()
		h.Set("X-CSRF-Token", token)
		wantStatus(t, victim.postRaw("/accounts", form(""), h), http.StatusForbidden)
	}
	if app.accountCount() != 0 {
		t.Fatal("an account was stored with a forged token")
	}
	wantRedirect(t, victim.postRaw("/accounts", form(victim.csrf()), sameSite), "/accounts")
	// Signing in replaces the token: one learnt before sign-in is useless after.
	before := attacker.csrf()
	attacker.login("admin@example.com", testPassword)
	if after := attacker.csrf(); after == before || after == "" {
		t.Errorf("sign-in kept the CSRF token %q", before)
	}
}

// A session ends after SessionIdleTimeout without a request, and in any case
// SessionMaxAge after sign-in, however active it is.
func TestSessionIdleAndAbsoluteTimeout(t *testing.T) {
	clock := &testClock{}
	app := newSetUpApp(t, models.DialectSQLite, withClock(clock.now), func(c *Config, _ *Deps) {
		c.SessionIdleTimeout, c.SessionMaxAge = 30*time.Minute, 2*time.Hour
	})
	c := app.signedIn("admin@example.com")
	// Active: a request every 20 minutes keeps the session alive past 30 minutes.
	for range 5 {
		clock.advance(20 * time.Minute)
		wantStatus(t, c.get("/requests"), http.StatusOK)
	}
	// Absolute: 2 hours after sign-in it ends, even though it is active.
	clock.advance(25 * time.Minute)
	wantRedirect(t, c.get("/requests"), "/login")

	// Idle: 31 minutes without a request ends it.
	c = app.signedIn("admin@example.com")
	clock.advance(29 * time.Minute)
	wantStatus(t, c.get("/requests"), http.StatusOK)
	clock.advance(31 * time.Minute)
	wantRedirect(t, c.get("/requests"), "/login")
}

// Signed-in pages and every API answer are never stored by a browser or a
// proxy; static assets stay cacheable.
func TestSignedInAnswersAreNoStore(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	c := app.signedIn("admin@example.com")
	admin := modeltest.Must(app.store.UserByEmail(t.Context(), "admin@example.com"))
	token, _ := app.addToken(admin.ID)
	for name, rec := range map[string]interface {
		Result() *http.Response
	}{
		"requests page":   c.get("/requests"),
		"users page":      c.get("/users"),
		"audit page":      c.get("/audit"),
		"a 404 page":      c.get("/requests/999999"),
		"API answer":      app.apiDo(http.MethodGet, "/api/v1/accounts", token, ""),
		"API error":       app.apiDo(http.MethodGet, "/api/v1/requests/999999", token, ""),
		"API 401":         app.apiDo(http.MethodGet, "/api/v1/accounts", "", ""),
		"sign-in page":    app.client().get("/login"),
		"sign-in success": app.client().login("admin@example.com", testPassword),
	} {
		if got := rec.Result().Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, got)
		}
	}
	if got := c.get("/static/css/app.css").Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
		t.Errorf("static asset: Cache-Control %q", got)
	}
}
