package oidcsim

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const redirect = "https://rp.example/callback"

type fixture struct {
	t        *testing.T
	p        *Provider
	offset   atomic.Int64
	verifier string
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, verifier: strings.Repeat("v", 43)}
	f.p = New(Options{
		TLS: true, RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{"https://rp.example/bye"},
		Now: func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) },
	})
	t.Cleanup(f.p.Close)
	return f
}

func (f *fixture) client() *http.Client {
	return &http.Client{
		Transport:     &http.Transport{TLSClientConfig: tlsConfig(f.p)},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (f *fixture) authParams() url.Values {
	sum := sha256.Sum256([]byte(f.verifier))
	id, _ := f.p.Client()
	return url.Values{
		"client_id": {id}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid email profile"},
		"state": {"st"}, "nonce": {"n0"}, "code_challenge": {b64(sum[:])}, "code_challenge_method": {"S256"},
	}
}

// code runs the authorization and returns the code.
func (f *fixture) code() string {
	f.t.Helper()
	cb, err := f.p.Authorize(f.p.Issuer()+"/authorize?"+f.authParams().Encode(), "u-1002")
	if err != nil {
		f.t.Fatal(err)
	}
	if cb.Query().Get("state") != "st" || cb.Query().Get("code") == "" {
		f.t.Fatalf("callback %s", cb)
	}
	return cb.Query().Get("code")
}

func (f *fixture) token(form url.Values, basic bool) (int, map[string]any) {
	f.t.Helper()
	id, secret := f.p.Client()
	req, _ := http.NewRequest(http.MethodPost, f.p.Issuer()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := f.client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func (f *fixture) exchange(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {f.verifier}}
}

func TestAuthorizeRefusals(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name   string
		change func(url.Values)
		page   bool   // an error page, never a redirect
		error  string // else the error sent back to the client
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "nope") }, true, ""},
		{"unregistered redirect_uri", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, true, ""},
		{"no PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, false, "invalid_request"},
		{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, false, "invalid_request"},
		{"no openid scope", func(v url.Values) { v.Set("scope", "email") }, false, "invalid_scope"},
		{"implicit flow", func(v url.Values) { v.Set("response_type", "id_token") }, false, "unsupported_response_type"},
		{"prompt none without session", func(v url.Values) { v.Set("prompt", "none") }, false, "login_required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := f.authParams()
			tc.change(v)
			resp, err := f.client().Get(f.p.Issuer() + "/authorize?" + v.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tc.page {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("%d → %q, want an error page", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("error") != tc.error || loc.Query().Get("state") != "st" {
				t.Fatalf("%d → %q, want error=%s with the state", resp.StatusCode, loc, tc.error)
			}
		})
	}
}

func TestTokenEndpointChecksPKCEAndCodes(t *testing.T) {
	f := newFixture(t)

	status, body := f.token(f.exchange(f.code()), true)
	if status != http.StatusOK || body["token_type"] != "Bearer" || body["id_token"] == nil || body["access_token"] == nil {
		t.Fatalf("good exchange: %d %v", status, body)
	}

	wrong := f.exchange(f.code())
	wrong.Set("code_verifier", strings.Repeat("w", 43))
	if status, body := f.token(wrong, true); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", status, body)
	}
	missing := f.exchange(f.code())
	missing.Del("code_verifier")
	if status, body := f.token(missing, true); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Fatalf("no verifier: %d %v", status, body)
	}
	otherRedirect := f.exchange(f.code())
	otherRedirect.Set("redirect_uri", "https://rp.example/other")
	if status, body := f.token(otherRedirect, true); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("other redirect_uri: %d %v", status, body)
	}
	if status, body := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, true); status != http.StatusBadRequest || body["error"] != "unsupported_grant_type" {
		t.Fatalf("refresh grant: %d %v", status, body)
	}
	noAuth := f.exchange(f.code())
	if status, body := f.token(noAuth, false); status != http.StatusBadRequest || body["error"] != "invalid_client" {
		t.Fatalf("no client authentication: %d %v", status, body)
	}
	both := f.exchange(f.code())
	_, secret := f.p.Client()
	both.Set("client_secret", secret)
	if status, body := f.token(both, true); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Fatalf("two authentication methods: %d %v", status, body)
	}
	post := f.exchange(f.code())
	id, _ := f.p.Client()
	post.Set("client_id", id)
	post.Set("client_secret", secret)
	if status, body := f.token(post, false); status != http.StatusOK {
		t.Fatalf("client_secret_post: %d %v", status, body)
	}

	// Replay: refused, and the access token it issued is revoked.
	code := f.code()
	_, first := f.token(f.exchange(code), true)
	access, _ := first["access_token"].(string)
	if f.userinfo(access) != http.StatusOK {
		t.Fatal("userinfo refused a fresh token")
	}
	if status, body := f.token(f.exchange(code), true); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("replayed code: %d %v", status, body)
	}
	if f.userinfo(access) != http.StatusUnauthorized {
		t.Fatal("a replayed code left its access token valid")
	}

	// Codes expire after a minute.
	late := f.code()
	f.offset.Add(int64(2 * time.Minute))
	if status, body := f.token(f.exchange(late), true); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("expired code: %d %v", status, body)
	}
}

func (f *fixture) userinfo(access string) int {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.p.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := f.client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestEndSessionRefusesUnregisteredReturn(t *testing.T) {
	f := newFixture(t)
	id, _ := f.p.Client()
	for name, q := range map[string]url.Values{
		"unregistered return": {"client_id": {id}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"forged hint":         {"id_token_hint": {"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}, "post_logout_redirect_uri": {"https://rp.example/bye"}},
		"return, no client":   {"post_logout_redirect_uri": {"https://rp.example/bye"}},
	} {
		resp, err := f.client().Get(f.p.Issuer() + "/logout?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, resp.StatusCode)
		}
	}
	resp, err := f.client().Get(f.p.Issuer() + "/logout?" + url.Values{"client_id": {id}, "post_logout_redirect_uri": {"https://rp.example/bye"}, "state": {"s1"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://rp.example/bye?state=s1" {
		t.Fatalf("registered return: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func tlsConfig(p *Provider) *tls.Config {
	return &tls.Config{RootCAs: p.CertPool(), MinVersion: tls.VersionTLS12}
}
