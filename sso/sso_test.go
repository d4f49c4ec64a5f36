package sso_test

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"privilege/models"
	"privilege/sso"
	"privilege/sso/oidcsim"
)

const redirect = "https://privilege.example/auth/oidc/callback"

type rp struct {
	t      *testing.T
	idp    *oidcsim.Provider
	c      *sso.Client
	offset atomic.Int64
}

func newRP(t *testing.T, defaultRole models.Role) *rp {
	r := &rp{t: t}
	r.idp = oidcsim.New(oidcsim.Options{TLS: true, RedirectURIs: []string{redirect}})
	t.Cleanup(r.idp.Close)
	id, secret := r.idp.Client()
	r.c = sso.New(sso.Config{
		Issuer: r.idp.Issuer(), ClientID: id, ClientSecret: secret, RedirectURL: redirect,
		AdminGroups: []string{"privilege-admins"}, ApproverGroups: []string{"privilege-approvers"}, DefaultRole: defaultRole,
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.idp.CertPool(), MinVersion: tls.VersionTLS12}}},
		Now:        func() time.Time { return time.Now().Add(time.Duration(r.offset.Load())) },
	})
	return r
}

// signIn runs Start, the provider's sign-in as subject, then Finish.
func (r *rp) signIn(subject string, edit func(url.Values)) (sso.Identity, error) {
	r.t.Helper()
	f, authURL, err := r.c.Start(r.t.Context(), "/next")
	if err != nil {
		r.t.Fatal(err)
	}
	cb, err := r.idp.Authorize(authURL, subject)
	if err != nil {
		r.t.Fatal(err)
	}
	q := cb.Query()
	if edit != nil {
		edit(q)
	}
	return r.c.Finish(r.t.Context(), f, q)
}

func reason(err error) sso.Reason {
	var se *sso.Error
	if errors.As(err, &se) {
		return se.Reason
	}
	return 0
}

func TestFinishReadsClaimsTheWayProvidersSendThem(t *testing.T) {
	r := newRP(t, "")
	id, err := r.signIn("u-1001", nil)
	if err != nil || id.Role != models.RoleAdmin || id.Email != "alice@demo.test" || id.Subject != "u-1001" || id.Issuer != r.idp.Issuer() || id.IDToken == "" {
		t.Fatalf("admin (admin and staff groups): %+v, %v", id, err)
	}
	// Groups only at userinfo (Okta and Keycloak can be set up that way).
	r.idp.NextIDToken(func(c map[string]any) { delete(c, "groups") })
	if id, err := r.signIn("u-1002", nil); err != nil || id.Role != models.RoleApprover {
		t.Fatalf("groups from userinfo: %+v, %v", id, err)
	}
	// email_verified as a string, one group as a string.
	r.idp.NextIDToken(func(c map[string]any) { c["email_verified"], c["groups"] = "true", "privilege-approvers" })
	if id, err := r.signIn("u-1003", nil); err != nil || id.Role != models.RoleApprover {
		t.Fatalf("string claims: %+v, %v", id, err)
	}
	// Entra ID: no email_verified, xms_edov instead (as 1 or true).
	r.idp.NextIDToken(func(c map[string]any) { delete(c, "email_verified"); c["xms_edov"] = 1 })
	if id, err := r.signIn("u-1002", nil); err != nil || id.Email != "bob@demo.test" {
		t.Fatalf("xms_edov: %+v, %v", id, err)
	}
	r.idp.NextIDToken(func(c map[string]any) { delete(c, "email_verified"); c["xms_edov"] = false })
	if _, err := r.signIn("u-1002", nil); reason(err) != sso.ReasonUnverified {
		t.Fatalf("xms_edov false: %v", err)
	}
	r.idp.NextIDToken(func(c map[string]any) { c["email_verified"] = false; c["xms_edov"] = true })
	if _, err := r.signIn("u-1002", nil); reason(err) != sso.ReasonUnverified {
		t.Fatalf("email_verified false beside xms_edov: %v", err)
	}
	// email_verified only at userinfo.
	r.idp.NextIDToken(func(c map[string]any) { delete(c, "email_verified") })
	if _, err := r.signIn("u-1002", nil); err != nil {
		t.Fatalf("email_verified from userinfo: %v", err)
	}
	// No email in the ID token: userinfo has it.
	r.idp.NextIDToken(func(c map[string]any) { delete(c, "email"); delete(c, "email_verified") })
	if _, err := r.signIn("u-1002", nil); err != nil {
		t.Fatalf("email from userinfo: %v", err)
	}
}

func TestFinishRefusals(t *testing.T) {
	r := newRP(t, "")
	if _, err := r.signIn("u-1005", nil); reason(err) != sso.ReasonNoRole {
		t.Fatalf("no matching group: %v", err)
	}
	if _, err := r.signIn("u-1002", func(q url.Values) { q.Set("iss", "https://evil.example") }); reason(err) != sso.ReasonIssuerMixup {
		t.Fatalf("iss mix-up: %v", err)
	}
	if _, err := r.signIn("u-1002", func(q url.Values) { q.Del("code") }); reason(err) != sso.ReasonBadCallback {
		t.Fatalf("no code: %v", err)
	}
	if _, err := r.signIn("u-1002", func(q url.Values) { q.Set("code", "made-up") }); reason(err) != sso.ReasonToken {
		t.Fatalf("made-up code: %v", err)
	}
	f, authURL, err := r.c.Start(t.Context(), "/")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := r.idp.Authorize(authURL, "u-1002")
	if err != nil {
		t.Fatal(err)
	}
	r.offset.Add(int64(sso.FlowTTL + time.Second))
	if _, err := r.c.Finish(t.Context(), f, cb.Query()); reason(err) != sso.ReasonState {
		t.Fatalf("late callback: %v", err)
	}
	if _, err := r.c.Finish(t.Context(), sso.Flow{}, cb.Query()); reason(err) != sso.ReasonState {
		t.Fatalf("no flow: %v", err)
	}
}

func TestDefaultRoleAndPrecedence(t *testing.T) {
	r := newRP(t, models.RoleRequester)
	for groups, want := range map[string]models.Role{
		"privilege-admins,privilege-approvers": models.RoleAdmin,
		"privilege-approvers":                  models.RoleApprover,
		"staff":                                models.RoleRequester,
	} {
		if got, ok := r.c.RoleFor(strings.Split(groups, ",")); !ok || got != want {
			t.Errorf("%s: %s, want %s", groups, got, want)
		}
	}
}

func TestLogoutURLNeedsEndSessionEndpoint(t *testing.T) {
	r := newRP(t, "")
	u, ok := r.c.LogoutURL(t.Context(), "hint", "https://privilege.example/login")
	if !ok {
		t.Fatal("no logout URL though discovery has end_session_endpoint")
	}
	p, _ := url.Parse(u)
	q := p.Query()
	if p.Scheme+"://"+p.Host+p.Path != r.idp.Issuer()+"/logout" || q.Get("id_token_hint") != "hint" || q.Get("post_logout_redirect_uri") != "https://privilege.example/login" || q.Get("client_id") == "" {
		t.Fatalf("logout URL %s", u)
	}
	down := sso.New(sso.Config{Issuer: "https://127.0.0.1:1/none", ClientID: "x"})
	if _, ok := down.LogoutURL(t.Context(), "", "https://privilege.example/login"); ok {
		t.Fatal("a logout URL without discovery")
	}
}

func TestDiscoveryErrorsAreExplained(t *testing.T) {
	r := newRP(t, "")
	id, secret := r.idp.Client()
	for issuer, want := range map[string]string{
		r.idp.Issuer() + "/":  "the provider calls itself " + r.idp.Issuer() + ",",
		"https://127.0.0.1:1": "cannot be reached",
	} {
		c := sso.New(sso.Config{Issuer: issuer, ClientID: id, ClientSecret: secret, RedirectURL: redirect,
			HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.idp.CertPool(), MinVersion: tls.VersionTLS12}}}})
		_, _, err := c.Start(t.Context(), "/")
		var se *sso.Error
		if !errors.As(err, &se) || se.Reason != sso.ReasonUnavailable || !strings.Contains(se.Message, want) {
			t.Errorf("issuer %s: %v, want a message containing %q", issuer, err, want)
		}
	}
}
