package jirasim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testRedirect = "https://app.example.test/jira/callback"

// env is a Cloud simulator with one site "acme" (OPS simple, SEC two-step)
// and a fake clock.
type env struct {
	sim   *Sim
	clock *Clock
	site  *Site
	http  *http.Client
}

func newEnv(t *testing.T, mutate ...func(*Options)) *env {
	t.Helper()
	clock := NewClock(timeZero())
	opts := Options{Now: clock.Now, CloudClientID: "cid", CloudClientSecret: "csecret", CloudRedirectURIs: []string{testRedirect}}
	for _, m := range mutate {
		m(&opts)
	}
	s := New(opts)
	t.Cleanup(s.Close)
	site := s.AddCloudSite("acme")
	site.AddProject("OPS", "Operations", SimpleWorkflow())
	site.AddProject("SEC", "Security", TwoStepWorkflow())
	return &env{sim: s, clock: clock, site: site, http: s.Client()}
}

func (e *env) authorizeURL(scope string) string {
	q := url.Values{
		"audience": {"api.atlassian.com"}, "client_id": {"cid"}, "scope": {scope},
		"redirect_uri": {testRedirect}, "state": {"st4te"}, "response_type": {"code"}, "prompt": {"consent"},
	}
	return e.sim.AuthURL() + "/authorize?" + q.Encode()
}

// code runs the consent flow and returns the authorization code.
func (e *env) code(t *testing.T, scope, site string) string {
	t.Helper()
	loc, err := e.sim.Consent(e.authorizeURL(scope), true, site)
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Query().Get("state"); got != "st4te" {
		t.Fatalf("state = %q", got)
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	return code
}

// tokenCall posts to the Cloud token endpoint as JSON.
func (e *env) tokenCall(t *testing.T, body map[string]string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := e.http.Post(e.sim.AuthURL()+"/oauth/token", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return decodeResp(t, resp)
}

func (e *env) exchange(t *testing.T, code string) (int, map[string]any) {
	t.Helper()
	return e.tokenCall(t, map[string]string{"grant_type": "authorization_code", "client_id": "cid", "client_secret": "csecret", "code": code, "redirect_uri": testRedirect})
}

func (e *env) refresh(t *testing.T, rt string) (int, map[string]any) {
	t.Helper()
	return e.tokenCall(t, map[string]string{"grant_type": "refresh_token", "client_id": "cid", "client_secret": "csecret", "refresh_token": rt})
}

// login returns an access token for scope (default set) on the first site.
func (e *env) login(t *testing.T, scope string) (access, refresh string) {
	t.Helper()
	if scope == "" {
		scope = "read:jira-work write:jira-work read:jira-user offline_access"
	}
	status, tok := e.exchange(t, e.code(t, scope, ""))
	if status != http.StatusOK {
		t.Fatalf("token exchange: %d %v", status, tok)
	}
	rt, _ := tok["refresh_token"].(string)
	return tok["access_token"].(string), rt
}

// api is the Cloud REST v3 base for the env's site.
func (e *env) api() string { return e.sim.APIURL() + "/ex/jira/" + e.site.CloudID + "/rest/api/3" }

// do sends a JSON request with a bearer token.
func do(t *testing.T, c *http.Client, method, u, token string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var rdr io.Reader
	if body != nil {
		if s, isString := body.(string); isString {
			rdr = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rdr = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, u, rdr)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	status, m := decodeResp(t, resp)
	return status, m, resp.Header
}

// doRaw returns the raw body (for arrays).
func doRaw(t *testing.T, c *http.Client, method, u, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func decodeResp(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(bytes.TrimSpace(b)) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
	return resp.StatusCode, m
}

// adfDoc is a minimal valid ADF document.
func adfDoc(text string) map[string]any {
	return map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": text}}},
	}}
}

// errorsOf returns the "errors" map of an ErrorCollection.
func errorsOf(m map[string]any) map[string]any {
	e, _ := m["errors"].(map[string]any)
	return e
}

// dcEnv is a DC instance at /jira with a client and a WRITE token.
type dcEnv struct {
	*env
	dc             *DataCenter
	clientID, secr string
}

func newDCEnv(t *testing.T) *dcEnv {
	t.Helper()
	e := newEnv(t)
	dc := e.sim.AddDataCenter("/jira")
	dc.AddProject("OPS", "Operations", SimpleWorkflow())
	dc.AddProject("SEC", "Security", TwoStepWorkflow())
	id, secret := dc.AddClient(testRedirect, "READ", "WRITE")
	return &dcEnv{env: e, dc: dc, clientID: id, secr: secret}
}

func (d *dcEnv) authorizeURL(scope string, extra url.Values) string {
	q := url.Values{"client_id": {d.clientID}, "redirect_uri": {testRedirect}, "response_type": {"code"}, "scope": {scope}, "state": {"dcstate"}}
	for k, v := range extra {
		q[k] = v
	}
	return d.dc.BaseURL() + "/rest/oauth2/latest/authorize?" + q.Encode()
}

func (d *dcEnv) code(t *testing.T, scope string, extra url.Values) string {
	t.Helper()
	loc, err := d.sim.Consent(d.authorizeURL(scope, extra), true, "")
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("code") == "" || loc.Query().Get("state") != "dcstate" {
		t.Fatalf("bad redirect %s", loc)
	}
	return loc.Query().Get("code")
}

// dcToken posts form parameters to the DC token endpoint.
func (d *dcEnv) dcToken(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := d.http.PostForm(d.dc.BaseURL()+"/rest/oauth2/latest/token", form)
	if err != nil {
		t.Fatal(err)
	}
	return decodeResp(t, resp)
}

func (d *dcEnv) login(t *testing.T, scope string) string {
	t.Helper()
	status, tok := d.dcToken(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {d.clientID}, "client_secret": {d.secr}, "code": {d.code(t, scope, nil)}, "redirect_uri": {testRedirect}})
	if status != http.StatusOK {
		t.Fatalf("dc token: %d %v", status, tok)
	}
	return tok["access_token"].(string)
}

func (d *dcEnv) api() string { return d.dc.BaseURL() + "/rest/api/2" }

func timeZero() (z time.Time) { return z }

func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	if v == nil {
		return http.NoBody
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}
