package handlers

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/models"
	"privilege/models/modeltest"
	"privilege/sso"
	"privilege/sso/oidcsim"
)

// TestBrowserSignInWithDemoSSO drives a real browser through single sign-on
// against the built-in provider: "Sign in with Demo SSO" on the login page,
// Bob (privilege-approvers) on the provider's sign-in page, the approver's
// pages (history, no admin navigation), then sign out, which continues at
// the provider's end-session endpoint and comes back to the login page.
// PRIVILEGE_SCREENSHOTS=dir saves each screen at desktop and 390 px wide.
func TestBrowserSignInWithDemoSSO(t *testing.T) {
	ctx := browserContext(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	idp := oidcsim.New(oidcsim.Options{RedirectURIs: []string{base + "/auth/oidc/callback"}, PostLogoutRedirectURIs: []string{base + "/login"}})
	t.Cleanup(idp.Close)
	id, secret := idp.Client()
	store := modeltest.NewStore(t, models.DialectSQLite)
	app := newTestApp(t, store, withBaseURL(base), func(c *Config, d *Deps) {
		c.LocalLogin = LocalLoginAdmins
		d.SSO = sso.New(sso.Config{
			Issuer: idp.Issuer(), ClientID: id, ClientSecret: secret, Name: "Demo SSO", RedirectURL: base + "/auth/oidc/callback",
			AdminGroups: []string{"privilege-admins"}, ApproverGroups: []string{"privilege-approvers"},
			HTTPClient: jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: testenv.Loopback()}),
		})
	})
	modeltest.Must(store.CreateFirstAdmin(context.Background(), "127.0.0.1", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	srv.Config.Handler = app.e
	srv.Start()
	t.Cleanup(srv.Close)

	shot := screenshotWidths
	steps := []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"login page", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/requests/history"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=sign-in-sso]`)),
			shot("sso-01-login"),
			chromedp.Click(chromedp.CSS(`[data-testid=sign-in-sso]`)),
		}},
		{"provider sign-in page", []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=oidcsim-signin]`)),
			shot("sso-02-provider"),
			chromedp.Click(chromedp.CSS(`button[data-email="bob@demo.test"]`)),
		}},
		{"approver pages", []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=history-filters]`)), // next= kept: back at the history
			shot("sso-03-history"),
			chromedp.Click(chromedp.CSS(`[data-testid=nav-requests]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=history-link]`)),
		}},
	}
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.actions...); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=nav-user]`)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(who) != "bob@demo.test" {
		t.Fatalf("signed in as %q", who)
	}
	admin, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=nav-users]').length`))
	if err != nil {
		t.Fatal(err)
	}
	if admin != 0 {
		t.Fatal("an approver sees the admin navigation")
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=sign-in-sso]`)),
		shot("sso-04-signed-out"),
	); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	select {
	case l := <-idp.Logouts():
		if l.Subject != "u-1002" || l.PostLogoutRedirectURI != base+"/login" {
			t.Fatalf("provider logout %+v", l)
		}
	default:
		t.Fatal("sign-out did not reach the provider's end-session endpoint")
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=flashes]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flash, "You are signed out") {
		t.Fatalf("flash %q", flash)
	}
	// Signed out here and at the provider: the provider asks again.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=sign-in-sso]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=oidcsim-signin]`)),
	); err != nil {
		t.Fatalf("sign in again: %v", err)
	}
}

// TestBrowserPasswordChange drives the Password page in a real browser: a
// wrong current password and a short new one are shown at their fields, the
// change succeeds, and the admin's Users page shows each user's source and
// last sign-in. PRIVILEGE_SCREENSHOTS=dir saves each screen.
func TestBrowserPasswordChange(t *testing.T) {
	ctx := browserContext(t)
	app := newSetUpApp(t, models.DialectSQLite)
	srv := httptest.NewServer(app.e)
	t.Cleanup(srv.Close)
	sub := "u-1002"
	issuer := "https://idp.example"
	if _, err := app.store.SignInWithOIDC(t.Context(), "127.0.0.1", models.OIDCIdentity{Issuer: issuer, Subject: sub, Email: "bob@demo.test", Name: "Bob", Role: models.RoleApprover}); err != nil {
		t.Fatal(err)
	}
	shot := screenshotWidths
	const next = "a brand new passphrase"
	if err := chromedp.Do(ctx, append(signIn(srv.URL, "admin@example.com"),
		chromedp.Click(chromedp.CSS(`[data-testid=nav-user] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=profile-page]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=password-link]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=password-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#current_password`), "not my password"),
		chromedp.SendKeys(chromedp.CSS(`#new_password`), "short"),
		chromedp.SendKeys(chromedp.CSS(`#confirm_password`), "short"),
		chromedp.Click(chromedp.CSS(`[data-testid=change-password]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-current_password]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-new_password]`)),
		shot("password-01-invalid"),
		chromedp.SendKeys(chromedp.CSS(`#current_password`), testPassword),
		chromedp.SendKeys(chromedp.CSS(`#new_password`), next),
		chromedp.SendKeys(chromedp.CSS(`#confirm_password`), next),
		chromedp.Click(chromedp.CSS(`[data-testid=change-password]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash-success]`)),
		shot("password-02-changed"),
		chromedp.Navigate(srv.URL+"/users"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=users-table]`)),
		shot("users-source"),
	)...); err != nil {
		t.Fatal(err)
	}
	sources, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid=user-source]')].map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sources, ",") != "local,SSO" {
		t.Fatalf("sources %v", sources)
	}
	if _, err := app.store.Authenticate(t.Context(), "admin@example.com", next); err != nil {
		t.Fatalf("new password: %v", err)
	}
}
