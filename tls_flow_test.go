package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"privilege/internal/testenv"
	"privilege/jira/jirasim"
)

// TestCloudConsentOverTLSTrustedBySSLCertFile runs a real `privilege serve`
// against an Atlassian-compatible server over HTTPS whose certificate is
// trusted only through SSL_CERT_FILE (Go's standard behaviour): the product
// code path has no simulator shortcut. It signs in, presses Continue, gives
// consent on the server's page and lands on the integration's Manage page.
func TestCloudConsentOverTLSTrustedBySSLCertFile(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	sim := testenv.StartSim(t, jirasim.Options{CloudTLS: true, CloudRedirectURIs: []string{base + "/integrations/jira/callback"}})
	testenv.AddAcme(sim)
	if !strings.HasPrefix(sim.AuthURL(), "https://") {
		t.Fatalf("simulator not on TLS: %s", sim.AuthURL())
	}
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(certFile, sim.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	id, secret := sim.CloudClient()
	vars := map[string]string{
		"PRIVILEGE_DATA_DIR": dataDir, "SSL_CERT_FILE": certFile,
		"PRIVILEGE_ATLASSIAN_AUTH_URL": sim.AuthURL(), "PRIVILEGE_ATLASSIAN_API_URL": sim.APIURL(),
		"PRIVILEGE_ATLASSIAN_CLIENT_ID": id, "PRIVILEGE_ATLASSIAN_CLIENT_SECRET": secret,
		"PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8", "PRIVILEGE_LOG_LEVEL": "error",
	}
	vars["PRIVILEGE_ADDR"], vars["PRIVILEGE_BASE_URL"] = addr, base
	if _, err := runCLI(t, vars, "", "user", "create", "--email", "admin@example.com", "--role", "admin", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	delete(vars, "PRIVILEGE_ADDR")
	delete(vars, "PRIVILEGE_BASE_URL")
	replica := startReplicaAt(t, addr, dataDir, vars)
	waitHealthy(t, replica.base)

	w := newWebClient(t, base)
	w.signIn("admin@example.com", "correct horse battery")
	loc := w.connect(url.Values{"name": {"Acme over TLS"}}, func(authorize string) *url.URL {
		if !strings.HasPrefix(authorize, sim.AuthURL()+"/authorize") {
			t.Fatalf("authorize URL %s", authorize)
		}
		callback, err := sim.Consent(authorize, true, "")
		if err != nil {
			t.Fatal(err)
		}
		return callback
	})
	if _, manage := w.get(loc); !strings.Contains(manage, "OPS") || !strings.Contains(manage, "Operations") {
		t.Fatal("the Manage page does not list the projects fetched over TLS")
	}
}

// webClient is a cookie-keeping HTTP client that fills the console's forms
// (CSRF token included) the way a browser would, without one.
type webClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newWebClient(t *testing.T, base string) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (w *webClient) get(path string) (*http.Response, string) {
	w.t.Helper()
	resp, err := w.http.Get(w.base + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// post submits form to path with the CSRF token found on page.
func (w *webClient) post(path, page string, form url.Values) *http.Response {
	w.t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		w.t.Fatalf("no CSRF token on the page before POST %s", path)
	}
	form.Set("_csrf", html.UnescapeString(m[1]))
	resp, err := w.http.PostForm(w.base+path, form)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (w *webClient) signIn(email, password string) {
	w.t.Helper()
	_, page := w.get("/login")
	if r := w.post("/login", page, url.Values{"email": {email}, "password": {password}}); r.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("sign in as %s: %d", email, r.StatusCode)
	}
}

var continueRe = regexp.MustCompile(`data-testid="continue-to-jira"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*data-testid="continue-to-jira"`)

// connect fills the Integrate form, follows Continue to the authorization
// URL, lets consent give the callback URL, calls it and returns where the
// console then sends the admin (the integration's Manage page).
func (w *webClient) connect(form url.Values, consent func(authorize string) *url.URL) string {
	w.t.Helper()
	_, page := w.get("/integrations/jira/new")
	r := w.post("/integrations/jira", page, form)
	if r.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("Continue: %d", r.StatusCode)
	}
	_, handoff := w.get(r.Header.Get("Location"))
	m := continueRe.FindStringSubmatch(handoff)
	if m == nil {
		w.t.Fatalf("no link to the authorization page:\n%s", handoff)
	}
	callback := consent(html.UnescapeString(m[1] + m[2]))
	resp, _ := w.get(callback.RequestURI())
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/integrations/\d+$`).MatchString(loc) {
		w.t.Fatalf("callback: %d → %q", resp.StatusCode, loc)
	}
	return loc
}
