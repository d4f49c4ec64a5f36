package jirasim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCloudAuthorizeRejectsBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := e.authorizeURL("read:jira-work offline_access")
	tests := []struct {
		name      string
		edit      func(url.Values)
		wantError string // redirect error; "" = error page (no redirect)
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, ""},
		{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", testRedirect+"/x") }, ""},
		{"scope not on app", func(q url.Values) { q.Set("scope", "read:jira-work manage:jira-configuration") }, "invalid_scope"},
		{"wrong response_type", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		{"missing audience", func(q url.Values) { q.Del("audience") }, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse(good)
			q := u.Query()
			tc.edit(q)
			u.RawQuery = q.Encode()
			resp, err := e.http.Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tc.wantError == "" {
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("status = %d, want 400 error page", resp.StatusCode)
				}
				return
			}
			loc, err := resp.Location()
			if err != nil {
				t.Fatalf("no redirect: %d", resp.StatusCode)
			}
			if got := loc.Query().Get("error"); got != tc.wantError || loc.Query().Get("state") != "st4te" {
				t.Fatalf("redirect = %s, want error %s", loc, tc.wantError)
			}
		})
	}
}

func TestCloudConsentPageAndDecline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sim.AddCloudSite("other")
	resp, err := e.http.Get(e.authorizeURL("read:jira-work write:jira-work offline_access") + "&code_challenge=ignored&code_challenge_method=S256")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = decodeResp(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("consent page status %d", resp.StatusCode)
	}
	loc, err := e.sim.Consent(e.authorizeURL("read:jira-work"), false, "")
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("state") != "st4te" || q.Get("code") != "" {
		t.Fatalf("decline redirect = %s", loc)
	}
}

func TestCloudCodeIsSingleUseAndExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	code := e.code(t, "read:jira-work offline_access", "")
	if status, tok := e.exchange(t, code); status != http.StatusOK || tok["refresh_token"] == nil || tok["expires_in"] != float64(3600) {
		t.Fatalf("first exchange: %d %v", status, tok)
	}
	if status, tok := e.exchange(t, code); status != http.StatusForbidden || tok["error"] != "invalid_grant" {
		t.Fatalf("second exchange: %d %v", status, tok)
	}

	late := e.code(t, "read:jira-work", "")
	e.clock.Advance(10*time.Minute + time.Second)
	if status, tok := e.exchange(t, late); status != http.StatusForbidden || tok["error"] != "invalid_grant" {
		t.Fatalf("expired code: %d %v", status, tok)
	}
}

func TestCloudNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, tok := e.exchange(t, e.code(t, "read:jira-work write:jira-work", ""))
	if status != http.StatusOK || tok["refresh_token"] != nil {
		t.Fatalf("got %d %v, want no refresh_token", status, tok)
	}
	if tok["scope"] != "read:jira-work write:jira-work" {
		t.Fatalf("scope = %v", tok["scope"])
	}
}

func TestCloudTokenEndpointEncodings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	post := func(t *testing.T, contentType, body string, basic bool) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.sim.AuthURL()+"/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if basic {
			req.SetBasicAuth("cid", "csecret")
		}
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return decodeResp(t, resp)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {e.code(t, "read:jira-work", "")}, "redirect_uri": {testRedirect}, "client_id": {"cid"}, "client_secret": {"csecret"}}
	if status, tok := post(t, "application/x-www-form-urlencoded", form.Encode(), false); status != http.StatusOK {
		t.Fatalf("form: %d %v", status, tok)
	}
	basic := url.Values{"grant_type": {"authorization_code"}, "code": {e.code(t, "read:jira-work", "")}, "redirect_uri": {testRedirect}}
	if status, tok := post(t, "application/x-www-form-urlencoded", basic.Encode(), true); status != http.StatusOK {
		t.Fatalf("basic: %d %v", status, tok)
	}
	if status, tok := e.exchange(t, e.code(t, "read:jira-work", "")); status != http.StatusOK {
		t.Fatalf("json: %d %v", status, tok)
	}
	bad := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {testRedirect}, "client_id": {"cid"}, "client_secret": {"wrong"}}
	if status, tok := post(t, "application/x-www-form-urlencoded", bad.Encode(), false); status != http.StatusUnauthorized || tok["error"] != "invalid_client" {
		t.Fatalf("bad secret: %d %v", status, tok)
	}
	wrongRedirect := map[string]string{"grant_type": "authorization_code", "client_id": "cid", "client_secret": "csecret", "code": e.code(t, "read:jira-work", ""), "redirect_uri": testRedirect + "?x=1"}
	if status, tok := e.tokenCall(t, wrongRedirect); status != http.StatusForbidden || tok["error"] != "invalid_grant" {
		t.Fatalf("redirect mismatch: %d %v", status, tok)
	}
}

func TestCloudRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, rt1 := e.login(t, "")

	status, tok := e.refresh(t, rt1)
	rt2, _ := tok["refresh_token"].(string)
	if status != http.StatusOK || rt2 == "" || rt2 == rt1 {
		t.Fatalf("refresh: %d %v", status, tok)
	}
	// Reuse of rt1 within the leeway: new access token, the family's current refresh token.
	e.clock.Advance(5 * time.Minute)
	status, tok = e.refresh(t, rt1)
	if status != http.StatusOK || tok["refresh_token"] != rt2 || tok["access_token"] == "" {
		t.Fatalf("reuse within leeway: %d %v", status, tok)
	}
	// Reuse after the leeway revokes the family, rt2 included.
	e.clock.Advance(6 * time.Minute)
	if status, tok = e.refresh(t, rt1); status != http.StatusForbidden || tok["error"] != "invalid_grant" {
		t.Fatalf("reuse after leeway: %d %v", status, tok)
	}
	if status, tok = e.refresh(t, rt2); status != http.StatusForbidden {
		t.Fatalf("family not revoked: %d %v", status, tok)
	}
	if got := e.sim.Stats().TokenRefreshes; got != 2 {
		t.Fatalf("TokenRefreshes = %d, want 2", got)
	}
}

func TestCloudRefreshExpiry(t *testing.T) {
	t.Parallel()
	t.Run("idle 90 days", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		_, rt := e.login(t, "")
		e.clock.Advance(91 * 24 * time.Hour)
		if status, tok := e.refresh(t, rt); status != http.StatusForbidden || tok["error"] != "invalid_grant" {
			t.Fatalf("idle: %d %v", status, tok)
		}
	})
	t.Run("absolute 365 days", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		_, rt := e.login(t, "")
		for range 5 { // refresh every 80 days: never idle, but the family ages
			e.clock.Advance(80 * 24 * time.Hour)
			status, tok := e.refresh(t, rt)
			if status != http.StatusOK {
				if e.clock.Now().Sub(NewClock(time.Time{}).Now()) <= 365*24*time.Hour {
					t.Fatalf("refresh before 365 days failed: %d %v", status, tok)
				}
				return
			}
			rt = tok["refresh_token"].(string)
		}
		t.Fatal("refresh still works after 400 days")
	})
	t.Run("RevokeGrants", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		_, rt := e.login(t, "")
		e.sim.RevokeGrants()
		if status, _ := e.refresh(t, rt); status != http.StatusForbidden {
			t.Fatalf("after RevokeGrants: %d", status)
		}
	})
}

func TestAccessibleResourcesListsChosenSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.sim.AddCloudSite("beta")
	status, tok := e.exchange(t, e.code(t, "read:jira-work offline_access", "beta"))
	if status != http.StatusOK {
		t.Fatal(status, tok)
	}
	at := tok["access_token"].(string)
	status, body := doRaw(t, e.http, http.MethodGet, e.sim.APIURL()+"/oauth/token/accessible-resources", at)
	if status != http.StatusOK || !strings.Contains(string(body), other.CloudID) || strings.Contains(string(body), e.site.CloudID) ||
		!strings.Contains(string(body), `"scopes":["read:jira-work"]`) || !strings.Contains(string(body), `"avatarUrl"`) {
		t.Fatalf("accessible-resources: %d %s", status, body)
	}
	// The token reaches beta only.
	if status, _, _ := do(t, e.http, http.MethodGet, e.api()+"/project/search", at, nil); status != http.StatusUnauthorized {
		t.Fatalf("other site: %d, want 401", status)
	}
	if status, _, _ := do(t, e.http, http.MethodGet, e.sim.APIURL()+"/ex/jira/"+other.CloudID+"/rest/api/3/project/search", at, nil); status != http.StatusOK {
		t.Fatalf("granted site: %d", status)
	}
}

// Like Atlassian's, a token lists every site the app was authorized for:
// earlier consents count until their grants are revoked.
func TestAccessibleResourcesAccumulateAcrossConsents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.sim.AddCloudSite("beta")
	sitesOf := func(code string) []string {
		t.Helper()
		status, tok := e.exchange(t, code)
		if status != http.StatusOK {
			t.Fatal(status, tok)
		}
		var out []struct{ ID string }
		status, body := doRaw(t, e.http, http.MethodGet, e.sim.APIURL()+"/oauth/token/accessible-resources", tok["access_token"].(string))
		if err := json.Unmarshal(body, &out); status != http.StatusOK || err != nil {
			t.Fatalf("accessible-resources: %d %s", status, body)
		}
		var ids []string
		for _, r := range out {
			ids = append(ids, r.ID)
		}
		return ids
	}
	if got := sitesOf(e.code(t, "write:jira-work offline_access", e.site.Name)); !slices.Equal(got, []string{e.site.CloudID}) {
		t.Fatalf("first consent covers %v", got)
	}
	if got := sitesOf(e.code(t, "write:jira-work offline_access", "beta")); !slices.Equal(got, []string{e.site.CloudID, other.CloudID}) {
		t.Fatalf("second consent covers %v, want both sites", got)
	}
	e.sim.RevokeGrants()
	if got := sitesOf(e.code(t, "write:jira-work offline_access", "beta")); !slices.Equal(got, []string{other.CloudID}) {
		t.Fatalf("after revocation the consent covers %v, want beta only", got)
	}
}

func pkcePair() (verifier, challenge string) {
	verifier = "a-very-long-code-verifier-with-enough-entropy-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestDCTokenPKCEAndClientAuth(t *testing.T) {
	t.Parallel()
	d := newDCEnv(t)
	verifier, challenge := pkcePair()
	pkce := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	base := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "client_id": {d.clientID}, "client_secret": {d.secr}, "code": {code}, "redirect_uri": {testRedirect}}
	}

	t.Run("wrong verifier", func(t *testing.T) {
		f := base(d.code(t, "WRITE", pkce))
		f.Set("code_verifier", verifier+"x")
		if status, tok := d.dcToken(t, f); status != http.StatusBadRequest || tok["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, tok)
		}
	})
	t.Run("missing verifier", func(t *testing.T) {
		if status, tok := d.dcToken(t, base(d.code(t, "WRITE", pkce))); status != http.StatusBadRequest || tok["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, tok)
		}
	})
	t.Run("right verifier in the query string", func(t *testing.T) {
		f := base(d.code(t, "READ WRITE", pkce))
		f.Set("code_verifier", verifier)
		resp, err := d.http.Post(d.dc.BaseURL()+"/rest/oauth2/latest/token?"+f.Encode(), "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		status, tok := decodeResp(t, resp)
		if status != http.StatusOK || tok["refresh_token"] == nil || tok["scope"] != "READ WRITE" {
			t.Fatalf("%d %v", status, tok)
		}
	})
	t.Run("basic auth and rotation", func(t *testing.T) {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {d.code(t, "WRITE", nil)}, "redirect_uri": {testRedirect}}
		req, _ := http.NewRequest(http.MethodPost, d.dc.BaseURL()+"/rest/oauth2/latest/token", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(d.clientID, d.secr)
		resp, err := d.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status, tok := decodeResp(t, resp)
		if status != http.StatusOK {
			t.Fatalf("%d %v", status, tok)
		}
		rt1 := tok["refresh_token"].(string)
		refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {d.clientID}, "client_secret": {d.secr}, "refresh_token": {rt1}}
		status, tok = d.dcToken(t, refresh)
		if status != http.StatusOK || tok["refresh_token"] == rt1 {
			t.Fatalf("refresh: %d %v", status, tok)
		}
		d.clock.Advance(11 * time.Minute)
		if status, _ = d.dcToken(t, refresh); status != http.StatusBadRequest {
			t.Fatalf("reused refresh token after leeway: %d", status)
		}
	})
	t.Run("bad scope and bad method", func(t *testing.T) {
		for _, u := range []string{d.authorizeURL("ADMIN", nil), d.authorizeURL("WRITE", url.Values{"code_challenge": {"x"}, "code_challenge_method": {"plain"}})} {
			loc, err := d.sim.Consent(u, true, "")
			if err != nil {
				t.Fatal(err)
			}
			if loc.Query().Get("error") == "" {
				t.Fatalf("%s: no error in %s", u, loc)
			}
		}
	})
}
