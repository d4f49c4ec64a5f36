package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"privilege/handlers"
	"privilege/jira"
	"privilege/models"
	"privilege/sso/oidcsim"
)

// TestSSOCodeFlowOverTLSTrustedBySSLCertFile runs a real `privilege serve`
// with single sign-on against the built-in provider over HTTPS, trusted only
// through SSL_CERT_FILE and reached through the guarded outbound client
// (loopback allowed by PRIVILEGE_OUTBOUND_ALLOW_CIDRS): discovery, the code
// exchange with PKCE, the JWKS, then sign-out continuing at the provider.
func TestSSOCodeFlowOverTLSTrustedBySSLCertFile(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	idp := oidcsim.New(oidcsim.Options{TLS: true, RedirectURIs: []string{base + "/auth/oidc/callback"}, PostLogoutRedirectURIs: []string{base + "/login"}})
	t.Cleanup(idp.Close)
	if !strings.HasPrefix(idp.Issuer(), "https://") {
		t.Fatalf("provider not on TLS: %s", idp.Issuer())
	}
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(certFile, idp.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	id, secret := idp.Client()
	vars := map[string]string{
		"SSL_CERT_FILE": certFile, "PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8", "PRIVILEGE_LOG_LEVEL": "error",
		"PRIVILEGE_OIDC_ISSUER": idp.Issuer(), "PRIVILEGE_OIDC_CLIENT_ID": id, "PRIVILEGE_OIDC_CLIENT_SECRET": secret,
		"PRIVILEGE_OIDC_NAME": "Demo SSO", "PRIVILEGE_OIDC_ADMIN_GROUPS": "privilege-admins",
		"PRIVILEGE_OIDC_APPROVER_GROUPS": "privilege-approvers, other-approvers",
	}
	dataDir := t.TempDir()
	if _, err := runCLI(t, map[string]string{"PRIVILEGE_DATA_DIR": dataDir}, "", "user", "create", "--email", "root@example.com", "--role", "admin", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	replica := startReplicaAt(t, addr, dataDir, vars)
	waitHealthy(t, replica.base)

	w := newWebClient(t, base)
	_, page := w.get("/login?next=/users")
	if !strings.Contains(page, "Sign in with Demo SSO") {
		t.Fatal("no SSO button on the login page")
	}
	r, _ := w.get("/auth/oidc/start?next=%2Fusers")
	authorize := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(authorize, idp.Issuer()+"/authorize?") {
		t.Fatalf("start: %d → %q", r.StatusCode, authorize)
	}
	cb, err := idp.Authorize(authorize, "u-1001") // Alice, privilege-admins
	if err != nil {
		t.Fatal(err)
	}
	resp, body := w.get(cb.RequestURI())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/users" {
		t.Fatalf("callback: %d → %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, users := w.get("/users")
	if resp.StatusCode != http.StatusOK || !strings.Contains(users, "alice@demo.test") {
		t.Fatalf("users page as the SSO admin: %d", resp.StatusCode)
	}
	// Password sign-in defaults to admins only once SSO is on: root still can.
	w2 := newWebClient(t, base)
	w2.signIn("root@example.com", "correct horse battery")

	r = w.post("/logout", users, url.Values{})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("sign out: %d", r.StatusCode)
	}
}

func TestSSOConfig(t *testing.T) {
	base := map[string]string{
		"PRIVILEGE_OIDC_ISSUER": "https://login.example.com/realms/acme", "PRIVILEGE_OIDC_CLIENT_ID": "privilege",
		"PRIVILEGE_OIDC_CLIENT_SECRET": "s3cret", "PRIVILEGE_OIDC_APPROVER_GROUPS": "approvers",
	}
	cfg, err := loadConfig(env(base))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.OIDC
	if cfg.LocalLogin != handlers.LocalLoginAdmins || strings.Join(o.Scopes, " ") != "openid email profile" || o.GroupsClaim != "groups" ||
		o.Name != "SSO" || o.DefaultRole != "" || len(o.ApproverGroups) != 1 {
		t.Fatalf("defaults with SSO: %+v, local login %s", o, cfg.LocalLogin)
	}
	if cfg, err := loadConfig(env(nil)); err != nil || cfg.LocalLogin != handlers.LocalLoginAll || cfg.OIDC.Enabled() {
		t.Fatalf("defaults without SSO: local login %s, %v", cfg.LocalLogin, err)
	}

	_, err = loadConfig(env(map[string]string{
		"PRIVILEGE_OIDC_ISSUER": "http://idp.example.com", "PRIVILEGE_OIDC_SCOPES": "email profile",
		"PRIVILEGE_OIDC_DEFAULT_ROLE": "admin", "PRIVILEGE_LOCAL_LOGIN": "sometimes", "PRIVILEGE_PENDING_TIMEOUT": "soon",
	}))
	if err == nil {
		t.Fatal("bad SSO configuration accepted")
	}
	for _, want := range []string{"PRIVILEGE_OIDC_ISSUER must be", "PRIVILEGE_OIDC_CLIENT_ID is required", "PRIVILEGE_OIDC_SCOPES must include openid",
		"PRIVILEGE_OIDC_DEFAULT_ROLE must be requester", "PRIVILEGE_LOCAL_LOGIN must be", "PRIVILEGE_PENDING_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	for name, vars := range map[string]map[string]string{
		"nobody could sign in":   {"PRIVILEGE_OIDC_ISSUER": "https://idp.example.com", "PRIVILEGE_OIDC_CLIENT_ID": "x"},
		"off without SSO":        {"PRIVILEGE_LOCAL_LOGIN": "off"},
		"client id without SSO":  {"PRIVILEGE_OIDC_CLIENT_ID": "x"},
		"issuer with a fragment": {"PRIVILEGE_OIDC_ISSUER": "https://idp.example.com#x", "PRIVILEGE_OIDC_CLIENT_ID": "x", "PRIVILEGE_OIDC_DEFAULT_ROLE": "requester"},
	} {
		if _, err := loadConfig(env(vars)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	loop := map[string]string{"PRIVILEGE_OIDC_ISSUER": "http://127.0.0.1:9999/oidc", "PRIVILEGE_OIDC_CLIENT_ID": "x", "PRIVILEGE_OIDC_DEFAULT_ROLE": "requester", "PRIVILEGE_LOCAL_LOGIN": "off"}
	if cfg, err := loadConfig(env(loop)); err != nil || cfg.LocalLogin != handlers.LocalLoginOff {
		t.Fatalf("http issuer on loopback: %v", err)
	}
}

// TestCLIUserSetPassword is the admin's reset: the new password works, the
// old one no longer does, and every session of the user has ended.
func TestCLIUserSetPassword(t *testing.T) {
	vars := map[string]string{"PRIVILEGE_DATA_DIR": t.TempDir()}
	if _, err := runCLI(t, vars, "", "user", "create", "--email", "rita@example.com", "--role", "requester", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, vars, "a brand new passphrase\n", "user", "set-password", "--email", "Rita@Example.com", "--password-stdin")
	if err != nil || !strings.Contains(out, "rita@example.com") {
		t.Fatalf("set-password: %q, %v", out, err)
	}
	var ue usageError
	for _, args := range [][]string{
		{"user", "set-password", "--email", "rita@example.com"},
		{"user", "set-password", "--email", "rita@example.com", "--password", "x", "--password-stdin"},
		{"user", "set-password", "--password", "a brand new passphrase"},
	} {
		if _, err := runCLI(t, vars, "", args...); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if _, err := runCLI(t, vars, "", "user", "set-password", "--email", "nobody@example.com", "--password", "a brand new passphrase"); err == nil || !strings.Contains(err.Error(), "no user") {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := runCLI(t, vars, "", "user", "set-password", "--email", "rita@example.com", "--password", "short"); err == nil || !strings.Contains(err.Error(), "--password") {
		t.Fatalf("short password: %v", err)
	}

	cfg, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, newLogger(io.Discard, cfg.LogLevel))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	u, err := a.store.Authenticate(context.Background(), "rita@example.com", "a brand new passphrase")
	if err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, err := a.store.Authenticate(context.Background(), "rita@example.com", "correct horse battery"); !errors.Is(err, models.ErrInvalidLogin) {
		t.Fatalf("old password: %v", err)
	}
	if u.SessionsValidAfter == nil || u.SessionValid(u.SessionsValidAfter.Add(-1)) {
		t.Fatal("the reset did not end the user's sessions")
	}
}

// TestDemoSignsInWithDemoSSO: `privilege demo` wires the built-in provider,
// so "Sign in with Demo SSO" works offline; Bob (privilege-approvers) gets
// the approver's pages, Dave (email not verified) is refused.
func TestDemoSignsInWithDemoSSO(t *testing.T) {
	addr := freeAddr(t)
	cfg, err := loadConfig(env(map[string]string{"PRIVILEGE_ADDR": addr, "PRIVILEGE_BASE_URL": "http://" + addr, "PRIVILEGE_LOG_LEVEL": "error"}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDemo(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.sim.Close(); d.idp.Close(); os.RemoveAll(d.cfg.DataDir) })
	var banner strings.Builder
	d.banner(&banner)
	if !strings.Contains(banner.String(), "Sign in with Demo SSO") {
		t.Fatalf("banner does not mention Demo SSO:\n%s", banner.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.serve(ctx, io.Discard) }()
	t.Cleanup(func() { cancel(); <-done })
	waitHealthy(t, "http://"+addr)

	signIn := func(subject string) (*webClient, *http.Response, string) {
		w := newWebClient(t, "http://"+addr)
		r, _ := w.get("/auth/oidc/start?next=%2Frequests%2Fhistory")
		cb, err := d.idp.Authorize(r.Header.Get("Location"), subject)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := w.get(cb.RequestURI())
		return w, resp, body
	}
	w, resp, _ := signIn("u-1002")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/requests/history" {
		t.Fatalf("Bob: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := w.get("/requests/history"); resp.StatusCode != http.StatusOK {
		t.Fatalf("approver page: %d", resp.StatusCode)
	}
	if resp, _ := w.get("/users"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin page for an approver: %d", resp.StatusCode)
	}
	if _, resp, body := signIn("u-1004"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "is not verified") {
		t.Fatalf("Dave: %d", resp.StatusCode)
	}
}

// TestSSOCallsGoThroughTheOutboundGuard: the provider is reached through
// Jira's guarded client, so a loopback issuer is refused unless
// PRIVILEGE_OUTBOUND_ALLOW_CIDRS lists it.
func TestSSOCallsGoThroughTheOutboundGuard(t *testing.T) {
	idp := oidcsim.New(oidcsim.Options{RedirectURIs: []string{"http://localhost:8080/auth/oidc/callback"}})
	t.Cleanup(idp.Close)
	id, secret := idp.Client()
	vars := map[string]string{"PRIVILEGE_OIDC_ISSUER": idp.Issuer(), "PRIVILEGE_OIDC_CLIENT_ID": id, "PRIVILEGE_OIDC_CLIENT_SECRET": secret, "PRIVILEGE_OIDC_DEFAULT_ROLE": "requester"}
	cfg, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := newSSOClient(cfg, nil).Start(t.Context(), "/"); !errors.Is(err, jira.ErrForbiddenAddress) {
		t.Fatalf("loopback issuer without an allow-list: %v", err)
	}
	vars["PRIVILEGE_OUTBOUND_ALLOW_CIDRS"] = "127.0.0.0/8"
	if cfg, err = loadConfig(env(vars)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := newSSOClient(cfg, nil).Start(t.Context(), "/"); err != nil {
		t.Fatalf("allowed loopback issuer: %v", err)
	}
}

// TestSignInConfigIsReportedAtStart: the sign-in settings are logged at
// start, the client secret never.
func TestSignInConfigIsReportedAtStart(t *testing.T) {
	cfg, err := loadConfig(env(map[string]string{
		"PRIVILEGE_OIDC_ISSUER": "https://login.example.com", "PRIVILEGE_OIDC_CLIENT_ID": "privilege-app",
		"PRIVILEGE_OIDC_CLIENT_SECRET": "do-not-log-me", "PRIVILEGE_OIDC_ADMIN_GROUPS": "ops-admins", "PRIVILEGE_OIDC_DEFAULT_ROLE": "requester",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	logSignInConfig(newLogger(&buf, slog.LevelInfo), cfg)
	out := buf.String()
	for _, want := range []string{`"local_login":"admins"`, `"oidc_issuer":"https://login.example.com"`, `"oidc_client_id":"privilege-app"`,
		`"oidc_admin_groups":"ops-admins"`, `"oidc_default_role":"requester"`, `"oidc_redirect_uri":"http://localhost:8080/auth/oidc/callback"`, `"oidc_client_secret_set":true`} {
		if !strings.Contains(out, want) {
			t.Errorf("start log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "do-not-log-me") {
		t.Fatal("the client secret was logged")
	}
}
