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

	"privilege/jira/jiratest"
)

// TestCloudConsentOverTLSTrustedBySSLCertFile runs a real `privilege serve`
// against an Atlassian-compatible server over HTTPS whose certificate is
// trusted only through SSL_CERT_FILE (Go's standard behaviour): the product
// code path has no simulator shortcut. It signs in, presses Continue, gives
// consent on the server's page and lands on the integration's Manage page.
func TestCloudConsentOverTLSTrustedBySSLCertFile(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	sim := jiratest.New(jiratest.Options{CloudTLS: true, CloudRedirectURIs: []string{base + "/integrations/jira/callback"}})
	t.Cleanup(sim.Close)
	sim.AddCloudSite("acme").AddProject("OPS", "Operations", jiratest.SimpleWorkflow())
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

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		resp, err := browser.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	csrfRe := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	post := func(path, page string, form url.Values) *http.Response {
		m := csrfRe.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token on the page before POST %s", path)
		}
		form.Set("_csrf", html.UnescapeString(m[1]))
		resp, err := browser.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	_, page := get("/login")
	if r := post("/login", page, url.Values{"email": {"admin@example.com"}, "password": {"correct horse battery"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", r.StatusCode)
	}
	_, page = get("/integrations/jira/new")
	r := post("/integrations/jira", page, url.Values{"name": {"Acme over TLS"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("Continue: %d", r.StatusCode)
	}
	_, handoff := get(r.Header.Get("Location"))
	m := regexp.MustCompile(`data-testid="continue-to-jira"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*data-testid="continue-to-jira"`).FindStringSubmatch(handoff)
	if m == nil {
		t.Fatalf("no link to the authorization page:\n%s", handoff)
	}
	authorize := html.UnescapeString(m[1] + m[2])
	if !strings.HasPrefix(authorize, sim.AuthURL()+"/authorize") {
		t.Fatalf("authorize URL %s", authorize)
	}
	callback, err := sim.Consent(authorize, true, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := get(callback.RequestURI())
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/integrations/\d+$`).MatchString(loc) {
		t.Fatalf("callback: %d → %q", resp.StatusCode, loc)
	}
	if _, manage := get(loc); !strings.Contains(manage, "OPS") || !strings.Contains(manage, "Operations") {
		t.Fatal("the Manage page does not list the projects fetched over TLS")
	}
}
