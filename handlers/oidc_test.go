package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/models"
	"privilege/models/modeltest"
	"privilege/sso"
	"privilege/sso/oidcsim"
)

// ssoEnv is a console wired to a built-in OpenID Connect provider over
// HTTPS, reached through the same guarded client as in production.
type ssoEnv struct {
	*testApp
	idp *oidcsim.Provider
}

type ssoOption func(*sso.Config)

func withDefaultRole(r models.Role) ssoOption { return func(c *sso.Config) { c.DefaultRole = r } }

func newSSOEnv(t *testing.T, store *models.Store, local LocalLogin, opts ...ssoOption) *ssoEnv {
	t.Helper()
	idp := oidcsim.New(oidcsim.Options{
		TLS: true, RedirectURIs: []string{testOrigin + "/auth/oidc/callback"}, PostLogoutRedirectURIs: []string{testOrigin + "/login"},
	})
	t.Cleanup(idp.Close)
	id, secret := idp.Client()
	cfg := sso.Config{
		Issuer: idp.Issuer(), ClientID: id, ClientSecret: secret, Name: "Demo SSO",
		RedirectURL: testOrigin + "/auth/oidc/callback", AdminGroups: []string{"privilege-admins"},
		ApproverGroups: []string{"privilege-approvers"},
		HTTPClient:     jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: testenv.Loopback(), RootCAs: idp.CertPool()}),
	}
	for _, o := range opts {
		o(&cfg)
	}
	app := newTestApp(t, store, func(c *Config, d *Deps) {
		c.LocalLogin = local
		d.SSO = sso.New(cfg)
	})
	modeltest.Must(store.CreateFirstAdmin(context.Background(), "127.0.0.1",
		models.NewUser{Email: "admin@example.com", Name: "Ada Admin", Password: testPassword}))
	return &ssoEnv{testApp: app, idp: idp}
}

// startSSO presses "Sign in with Demo SSO" and returns the authorization URL.
func (c *client) startSSO(next string) string {
	c.app.t.Helper()
	rec := c.get("/auth/oidc/start?next=" + url.QueryEscape(next))
	if rec.Code != http.StatusSeeOther {
		c.app.t.Fatalf("start: %d\n%s", rec.Code, trim(rec.Body.String()))
	}
	return rec.Header().Get("Location")
}

func (e *ssoEnv) authorize(authURL, subject string) *url.URL {
	e.t.Helper()
	cb, err := e.idp.Authorize(authURL, subject)
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(cb.String(), testOrigin+"/auth/oidc/callback?") {
		e.t.Fatalf("callback %s", cb)
	}
	return cb
}

func wantRefused(t *testing.T, c *client, cb *url.URL, status int, msg string) {
	t.Helper()
	rec := c.get(cb.RequestURI())
	wantStatus(t, rec, status)
	got := parseHTML(t, rec).Find(`[data-testid="login-error"]`).Text()
	if !strings.Contains(got, msg) {
		t.Fatalf("message %q, want it to contain %q", got, msg)
	}
	if c.get("/requests").Code != http.StatusSeeOther {
		t.Fatal("a refused sign-in left a session")
	}
}

func TestSSOSignInCreatesUserAndRoleFollowsGroups(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newSSOEnv(t, store, LocalLoginAdmins)
		c := e.client()
		login := c.get("/login?next=/requests/history")
		doc := parseHTML(t, login)
		if got := doc.Find(`[data-testid="sign-in-sso"]`).Text(); got != "Sign in with Demo SSO" {
			t.Fatalf("SSO button %q", got)
		}
		authURL := c.startSSO("/requests/history")
		q := mustURL(t, authURL).Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" ||
			q.Get("response_type") != "code" || !strings.Contains(q.Get("scope"), "openid") {
			t.Fatalf("authorization request lacks PKCE, state, nonce or scope: %s", authURL)
		}
		rec := c.get(e.authorize(authURL, "u-1002").RequestURI()) // Bob, privilege-approvers
		wantRedirect(t, rec, "/requests/history")
		wantStatus(t, c.get("/requests/history"), http.StatusOK)
		bob := modeltest.Must(store.UserByEmail(t.Context(), "bob@demo.test"))
		if bob.Role != models.RoleApprover || !bob.IsSSO() || bob.HasPassword() || bob.LastSignInAt == nil || *bob.OIDCIssuer != e.idp.Issuer() || *bob.OIDCSubject != "u-1002" {
			t.Fatalf("user %+v", bob)
		}

		// The admin sees the source and the last sign-in.
		admin := e.signedIn("admin@example.com")
		doc = parseHTML(t, admin.get("/users"))
		rows := doc.Find(`[data-testid="user-row"]`)
		var bobSource, bobLast, adminSource string
		rows.Each(func(_ int, r *goquery.Selection) {
			switch {
			case strings.Contains(r.Text(), "bob@demo.test"):
				bobSource, bobLast = r.Find(`[data-testid="user-source"]`).Text(), r.Find(`[data-testid="user-last-sign-in"]`).Text()
			case strings.Contains(r.Text(), "admin@example.com"):
				adminSource = r.Find(`[data-testid="user-source"]`).Text()
			}
		})
		if bobSource != "SSO" || !strings.Contains(bobLast, "UTC") || adminSource != "local" {
			t.Fatalf("users page: bob %q %q, admin %q", bobSource, bobLast, adminSource)
		}

		// Promoted at the provider: admin at the next sign-in.
		if err := e.idp.SetGroups("u-1002", "privilege-admins"); err != nil {
			t.Fatal(err)
		}
		c2 := e.client()
		wantRedirect(t, c2.get(e.authorize(c2.startSSO("/"), "u-1002").RequestURI()), "/")
		wantStatus(t, c2.get("/users"), http.StatusOK)

		// Removed from every group, no default role: refused, role unchanged until then.
		if err := e.idp.SetGroups("u-1002", "staff"); err != nil {
			t.Fatal(err)
		}
		c3 := e.client()
		wantRefused(t, c3, e.authorize(c3.startSSO("/"), "u-1002"), http.StatusForbidden, "in none of the groups that may use Privilege")

		// Back in the approver group: approver again, no longer admin.
		if err := e.idp.SetGroups("u-1002", "privilege-approvers"); err != nil {
			t.Fatal(err)
		}
		c4 := e.client()
		wantRedirect(t, c4.get(e.authorize(c4.startSSO("/"), "u-1002").RequestURI()), "/")
		wantStatus(t, c4.get("/users"), http.StatusForbidden)
		if u := modeltest.Must(store.UserByEmail(t.Context(), "bob@demo.test")); u.Role != models.RoleApprover {
			t.Fatalf("role %s after leaving the admin group", u.Role)
		}
		if n := countAudit(t, store, models.AuditRoleChanged); n != 2 {
			t.Fatalf("%d role changes audited, want 2", n)
		}
	})
}

func TestSSODefaultRoleAndDisabledUser(t *testing.T) {
	e := newSSOEnv(t, modeltest.NewStore(t, models.DialectSQLite), LocalLoginAdmins, withDefaultRole(models.RoleRequester))
	c := e.client()
	wantRedirect(t, c.get(e.authorize(c.startSSO("/"), "u-1003").RequestURI()), "/") // Carol, staff only
	carol := modeltest.Must(e.store.UserByEmail(t.Context(), "carol@demo.test"))
	if carol.Role != models.RoleRequester {
		t.Fatalf("role %s, want the default requester", carol.Role)
	}
	if err := e.store.SetUserDisabled(t.Context(), models.SystemActor, carol.ID, true); err != nil {
		t.Fatal(err)
	}
	c2 := e.client()
	wantRefused(t, c2, e.authorize(c2.startSSO("/"), "u-1003"), http.StatusForbidden, "is disabled")
}

func TestSSORefusesForgedAndReplayedState(t *testing.T) {
	e := newSSOEnv(t, modeltest.NewStore(t, models.DialectSQLite), LocalLoginAdmins)
	c := e.client()
	cb := e.authorize(c.startSSO("/"), "u-1002")

	forged := *cb
	q := forged.Query()
	q.Set("state", "forged-"+q.Get("state"))
	forged.RawQuery = q.Encode()
	wantRefused(t, c, &forged, http.StatusBadRequest, "not the one your browser started")
	// The forged attempt consumed the flow: the genuine answer no longer works either.
	wantRefused(t, c, cb, http.StatusBadRequest, "not the one your browser started")

	// Replay: a callback that signed in once does not sign in again.
	c2 := e.client()
	cb2 := e.authorize(c2.startSSO("/"), "u-1002")
	wantRedirect(t, c2.get(cb2.RequestURI()), "/")
	c3 := e.client()
	c3.get("/login")
	wantRefused(t, c3, cb2, http.StatusBadRequest, "not the one your browser started")

	// Another browser's callback (login CSRF): its state is not ours.
	victim := e.client()
	victim.startSSO("/")
	attacker := e.client()
	wantRefused(t, victim, e.authorize(attacker.startSSO("/"), "u-1001"), http.StatusBadRequest, "not the one your browser started")

	// The provider's error answer is shown, with its state checked.
	c4 := e.client()
	authURL := c4.startSSO("/")
	st := mustURL(t, authURL).Query().Get("state")
	wantRefused(t, c4, mustURL(t, testOrigin+"/auth/oidc/callback?error=access_denied&error_description=the+user+cancelled&state="+url.QueryEscape(st)),
		http.StatusBadRequest, "refused the sign-in (access_denied): the user cancelled")
}

func TestSSORefusesBadIDTokens(t *testing.T) {
	e := newSSOEnv(t, modeltest.NewStore(t, models.DialectSQLite), LocalLoginAdmins)
	cases := []struct {
		name    string
		subject string
		tamper  func(map[string]any)
		status  int
		msg     string
	}{
		{"wrong nonce", "u-1002", func(c map[string]any) { c["nonce"] = "another" }, http.StatusUnauthorized, "ID token is not valid"},
		{"no nonce", "u-1002", func(c map[string]any) { delete(c, "nonce") }, http.StatusUnauthorized, "ID token is not valid"},
		{"expired", "u-1002", func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Minute).Unix()
			c["iat"] = time.Now().Add(-11 * time.Minute).Unix()
		}, http.StatusUnauthorized, "ID token is not valid"},
		{"wrong audience", "u-1002", func(c map[string]any) { c["aud"], c["azp"] = "someone-else", "someone-else" }, http.StatusUnauthorized, "ID token is not valid"},
		{"extra audience without azp", "u-1002", func(c map[string]any) { c["aud"] = []string{c["aud"].(string), "other"}; delete(c, "azp") }, http.StatusUnauthorized, "ID token is not valid"},
		{"wrong issuer", "u-1002", func(c map[string]any) { c["iss"] = "https://evil.example" }, http.StatusUnauthorized, "ID token is not valid"},
		{"at_hash mismatch", "u-1002", func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }, http.StatusUnauthorized, "ID token is not valid"},
		{"unverified email", "u-1004", nil, http.StatusForbidden, "is not verified"},
		{"email_verified false in token", "u-1002", func(c map[string]any) { c["email_verified"] = false }, http.StatusForbidden, "is not verified"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tamper != nil {
				e.idp.NextIDToken(tc.tamper)
			}
			c := e.client()
			wantRefused(t, c, e.authorize(c.startSSO("/"), tc.subject), tc.status, tc.msg)
		})
	}
	t.Run("forged signature", func(t *testing.T) {
		e.idp.ForgeNextIDToken()
		c := e.client()
		wantRefused(t, c, e.authorize(c.startSSO("/"), "u-1002"), http.StatusUnauthorized, "ID token is not valid")
	})
	if n := countAudit(t, e.store, models.AuditSignInFailed); n != len(cases)+1 {
		t.Fatalf("%d refusals audited, want %d", n, len(cases)+1)
	}
	if _, err := e.store.UserByEmail(t.Context(), "bob@demo.test"); err == nil {
		t.Fatal("a refused sign-in created the user")
	}
}

func TestSSOFollowsKeyRotation(t *testing.T) {
	e := newSSOEnv(t, modeltest.NewStore(t, models.DialectSQLite), LocalLoginAdmins)
	c := e.client()
	wantRedirect(t, c.get(e.authorize(c.startSSO("/"), "u-1002").RequestURI()), "/")
	e.idp.RotateKey(true) // the old key leaves the JWKS; tokens carry a new kid
	c2 := e.client()
	wantRedirect(t, c2.get(e.authorize(c2.startSSO("/"), "u-1002").RequestURI()), "/")
	wantStatus(t, c2.get("/requests"), http.StatusOK)
}

func TestSSOLinksLocalUserWithSameVerifiedEmail(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newSSOEnv(t, store, LocalLoginAll)
		local := e.addUser("bob@demo.test", models.RoleRequester)
		c := e.client()
		wantRedirect(t, c.get(e.authorize(c.startSSO("/"), "u-1002").RequestURI()), "/")
		bob := modeltest.Must(store.UserByID(t.Context(), local.ID))
		if !bob.IsSSO() || bob.Role != models.RoleApprover || !bob.HasPassword() {
			t.Fatalf("linked user %+v", bob)
		}
		if n := countAudit(t, store, models.AuditUserLinked); n != 1 {
			t.Fatalf("%d links audited, want 1", n)
		}
		// The password still works (break-glass), and a second SSO sign-in
		// finds the same user by issuer and subject.
		e.signedIn("bob@demo.test")
		c2 := e.client()
		wantRedirect(t, c2.get(e.authorize(c2.startSSO("/"), "u-1002").RequestURI()), "/")
		if p := modeltest.Must(store.ListUsers(t.Context(), models.PageQuery{}, "")); p.Total != 2 {
			t.Fatalf("%d users, want 2", p.Total)
		}
		if n := countAudit(t, store, models.AuditUserLinked); n != 1 {
			t.Fatalf("%d links audited, want 1", n)
		}
		// Another identity with the same email is refused, not merged.
		e.idp.AddUser(oidcsim.User{Subject: "u-9999", Email: "bob@demo.test", EmailVerified: true, Groups: []string{"privilege-admins"}})
		c3 := e.client()
		wantRefused(t, c3, e.authorize(c3.startSSO("/"), "u-9999"), http.StatusForbidden, "already linked to another sign-in identity")
	})
}

func TestLocalLoginOff(t *testing.T) {
	e := newSSOEnv(t, modeltest.NewStore(t, models.DialectSQLite), LocalLoginOff)
	c := e.client()
	doc := parseHTML(t, c.get("/login"))
	if doc.Find(`[data-testid="login-form"]`).Length() != 0 || doc.Find(`input[name="password"]`).Length() != 0 {
		t.Fatal("the password form is shown with PRIVILEGE_LOCAL_LOGIN=off")
	}
	if doc.Find(`[data-testid="sign-in-sso"]`).Length() != 1 {
		t.Fatal("no SSO button")
	}
	rec := c.post("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}})
	wantStatus(t, rec, http.StatusForbidden)
	if !strings.Contains(parseHTML(t, rec).Find(`[data-testid="login-error"]`).Text(), "Password sign-in is turned off") {
		t.Fatal("no clear message")
	}
	if c.get("/requests").Code != http.StatusSeeOther {
		t.Fatal("a refused password sign-in left a session")
	}
}

func TestLocalLoginAdminsIsBreakGlass(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newSSOEnv(t, store, LocalLoginAdmins)
		e.addUser("approver@example.com", models.RoleApprover)
		doc := parseHTML(t, e.client().get("/login"))
		if !strings.Contains(doc.Find(".auth-divider").Text(), "break-glass") {
			t.Fatal("the login page does not say the password form is for admins")
		}
		admin := e.signedIn("admin@example.com")
		wantStatus(t, admin.get("/users"), http.StatusOK)
		c := e.client()
		rec := c.post("/login", url.Values{"email": {"approver@example.com"}, "password": {testPassword}})
		wantStatus(t, rec, http.StatusForbidden)
		if !strings.Contains(parseHTML(t, rec).Find(`[data-testid="login-error"]`).Text(), "reserved for administrators") {
			t.Fatal("no clear message")
		}
		if c.get("/requests").Code != http.StatusSeeOther {
			t.Fatal("a refused password sign-in left a session")
		}
	})
}

func TestSSOSignOutContinuesAtProvider(t *testing.T) {
	e := newSSOEnv(t, modeltest.NewStore(t, models.DialectSQLite), LocalLoginAdmins)
	c := e.client()
	wantRedirect(t, c.get(e.authorize(c.startSSO("/"), "u-1002").RequestURI()), "/")
	rec := c.post("/logout", nil)
	wantStatus(t, rec, http.StatusOK)
	doc := parseHTML(t, rec)
	href, _ := doc.Find(`[data-testid="continue-sign-out"]`).Attr("href")
	refresh, _ := doc.Find(`meta[http-equiv="refresh"]`).Attr("content")
	if !strings.HasPrefix(href, e.idp.Issuer()+"/logout?") || refresh != "0;url="+href {
		t.Fatalf("sign-out page: link %q, refresh %q", href, refresh)
	}
	end := mustURL(t, href)
	q := end.Query()
	if q.Get("id_token_hint") == "" || q.Get("client_id") == "" || q.Get("post_logout_redirect_uri") != testOrigin+"/login" {
		t.Fatalf("end-session URL %s", end)
	}
	if c.get("/requests").Code != http.StatusSeeOther {
		t.Fatal("still signed in")
	}
	resp, err := idpClient(e.idp).Get(end.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != testOrigin+"/login" {
		t.Fatalf("provider end-session: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	select {
	case l := <-e.idp.Logouts():
		if l.Subject != "u-1002" {
			t.Fatalf("provider ended the session of %q", l.Subject)
		}
	default:
		t.Fatal("the provider saw no end-session")
	}

	// The flash waits for the login page the provider sends the browser back to.
	if !strings.Contains(parseHTML(t, c.get("/login")).Find(`[data-testid="flashes"]`).Text(), "You are signed out") {
		t.Fatal("no signed-out flash after the provider's sign-out")
	}
	// A password session signs out locally only.
	admin := e.signedIn("admin@example.com")
	wantRedirect(t, admin.post("/logout", nil), "/login")
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newSSOEnv(t, store, LocalLoginAll)
		e.addUser("rita@example.com", models.RoleRequester)
		here, other := e.signedIn("rita@example.com"), e.signedIn("rita@example.com")

		rec := here.post("/account/password", url.Values{"current_password": {"wrong password!!"}, "new_password": {"short"}, "confirm_password": {"different"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		doc := parseHTML(t, rec)
		for _, f := range []string{"current_password", "new_password", "confirm_password"} {
			if doc.Find(`[aria-invalid="true"][name="`+f+`"]`).Length() != 1 {
				t.Errorf("field %s has no error\n%s", f, trim(rec.Body.String()))
			}
		}
		wantStatus(t, other.get("/requests"), http.StatusOK)

		const next = "a brand new passphrase"
		wantRedirect(t, here.post("/account/password", url.Values{"current_password": {testPassword}, "new_password": {next}, "confirm_password": {next}}), "/account/password")
		wantStatus(t, here.get("/requests"), http.StatusOK)
		wantRedirect(t, other.get("/requests"), "/login")
		if rec := e.client().post("/login", url.Values{"email": {"rita@example.com"}, "password": {testPassword}}); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("old password: %d", rec.Code)
		}
		e.client().login("rita@example.com", next)
		if n := countAudit(t, store, models.AuditPasswordChanged); n != 1 {
			t.Fatalf("%d password changes audited", n)
		}
	})
}

func TestPasswordPageForSSOUser(t *testing.T) {
	e := newSSOEnv(t, modeltest.NewStore(t, models.DialectSQLite), LocalLoginAdmins)
	c := e.client()
	wantRedirect(t, c.get(e.authorize(c.startSSO("/"), "u-1002").RequestURI()), "/")
	doc := parseHTML(t, c.get("/account/password"))
	if !strings.Contains(doc.Find(`[data-testid="no-password"]`).Text(), "Demo SSO") || doc.Find(`[data-testid="password-form"]`).Length() != 0 {
		t.Fatal("an SSO-only user is offered a password form")
	}
	rec := c.post("/account/password", url.Values{"current_password": {""}, "new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func idpClient(p *oidcsim.Provider) *http.Client {
	hc := jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: testenv.Loopback(), RootCAs: p.CertPool()})
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

func countAudit(t *testing.T, store *models.Store, action models.AuditAction) int {
	t.Helper()
	p := modeltest.Must(store.ListAudit(t.Context(), models.PageQuery{PerPage: 100}))
	n := 0
	for _, ev := range p.Items {
		if ev.Action == action {
			n++
		}
	}
	return n
}

// TestSSOLargeIDTokenIsNotKeptInTheCookie: providers such as Entra ID issue
// ID tokens too large for the session cookie; the sign-in still works and
// sign-out names the client instead of giving the hint.
func TestSSOLargeIDTokenIsNotKeptInTheCookie(t *testing.T) {
	e := newSSOEnv(t, modeltest.NewStore(t, models.DialectSQLite), LocalLoginAdmins)
	e.idp.NextIDToken(func(c map[string]any) { c["filler"] = strings.Repeat("x", 3000) })
	c := e.client()
	wantRedirect(t, c.get(e.authorize(c.startSSO("/"), "u-1002").RequestURI()), "/")
	wantStatus(t, c.get("/requests"), http.StatusOK)
	rec := c.post("/logout", nil)
	wantStatus(t, rec, http.StatusOK)
	href, _ := parseHTML(t, rec).Find(`[data-testid="continue-sign-out"]`).Attr("href")
	q := mustURL(t, href).Query()
	if q.Has("id_token_hint") || q.Get("client_id") == "" {
		t.Fatalf("end-session URL %s", href)
	}
}

// TestSSONextStaysLocal: next= survives the trip to the provider, and only
// as a local path.
func TestSSONextStaysLocal(t *testing.T) {
	e := newSSOEnv(t, modeltest.NewStore(t, models.DialectSQLite), LocalLoginAdmins, withDefaultRole(models.RoleRequester))
	for next, want := range map[string]string{
		"/requests/new?account=3": "/requests/new?account=3",
		"//evil.example/x":        "/",
		"https://evil.example/":   "/",
		"/\\evil.example":         "/",
	} {
		c := e.client()
		rec := c.get(e.authorize(c.startSSO(next), "u-1003").RequestURI())
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
			t.Errorf("next %q: %d → %q, want %q", next, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	// The login page hands its next= to the SSO button.
	href, _ := parseHTML(t, e.client().get("/login?next=%2Frequests%2Fhistory")).Find(`[data-testid="sign-in-sso"]`).Attr("href")
	if href != "/auth/oidc/start?next=%2Frequests%2Fhistory" {
		t.Fatalf("SSO button href %q", href)
	}
}
