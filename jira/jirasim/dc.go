package jirasim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
)

// DataCenter is a Jira Data Center 10.3 instance served over TLS under its
// context path: the OAuth 2.0 provider at {BaseURL}/rest/oauth2/latest/...,
// REST v2 at {BaseURL}/rest/api/2/... (and /rest/api/latest/...), and
// {BaseURL}/browse/{key}.
type DataCenter struct {
	sim         *Sim
	contextPath string
	srv         *httptest.Server
	inst        *instance
	clients     map[string]*dcClient // guarded by sim.mu
}

// dcClient is an "incoming link".
type dcClient struct {
	id, secret, redirectURI string
	scopes                  []string
}

// impliedScopes are the scopes the link allows, with the ones each implies
// (WRITE allows READ, and so on).
func (c *dcClient) impliedScopes() []string {
	top := -1
	for _, sc := range c.scopes {
		top = max(top, slices.Index(dcScopes(), sc))
	}
	return dcScopes()[:top+1]
}

// dcScopes are the DC OAuth scopes, each implying the ones before it.
func dcScopes() []string { return []string{"READ", "WRITE", "ADMIN", "SYSTEM_ADMIN"} }

// AddDataCenter starts a DC instance. contextPath is "" or like "/jira".
func (s *Sim) AddDataCenter(contextPath string) *DataCenter {
	contextPath = "/" + strings.Trim(contextPath, "/")
	if contextPath == "/" {
		contextPath = ""
	}
	d := &DataCenter{sim: s, contextPath: contextPath, clients: map[string]*dcClient{}}
	d.inst = newInstance(s, flavorDC)
	d.srv = s.startServer(http.HandlerFunc(d.serveHTTP), true)
	d.inst.selfBase = d.BaseURL()
	d.inst.browseBase = d.BaseURL()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dcs = append(s.dcs, d)
	return d
}

// BaseURL is the instance base URL including the context path, e.g.
// https://127.0.0.1:PORT/jira.
func (d *DataCenter) BaseURL() string { return d.srv.URL + d.contextPath }

// AddClient creates an incoming link with one redirect URL and the allowed
// scopes (none given = READ WRITE) and returns its credentials. HTTPS is not
// required for redirect URLs (as with the skip.redirect.url.https.requirement
// system property).
func (d *DataCenter) AddClient(redirectURI string, scopes ...string) (clientID, clientSecret string) {
	if len(scopes) == 0 {
		scopes = []string{"READ", "WRITE"}
	}
	c := &dcClient{id: randomToken("")[:32], secret: randomToken(""), redirectURI: redirectURI, scopes: slices.Clone(scopes)}
	d.sim.mu.Lock()
	defer d.sim.mu.Unlock()
	d.clients[c.id] = c
	return c.id, c.secret
}

// AddProject implements Instance.
func (d *DataCenter) AddProject(key, name string, wf Workflow) *Project {
	return d.inst.AddProject(key, name, wf)
}

// Project implements Instance.
func (d *DataCenter) Project(key string) *Project { return d.inst.Project(key) }

// Issues implements Instance.
func (d *DataCenter) Issues() []Issue { return d.inst.Issues() }

// Issue implements Instance.
func (d *DataCenter) Issue(key string) (Issue, bool) { return d.inst.Issue(key) }

// DeleteIssue implements Instance.
func (d *DataCenter) DeleteIssue(key string) { d.inst.DeleteIssue(key) }

// SetSearchLag implements Instance.
func (d *DataCenter) SetSearchLag(n int) { d.inst.SetSearchLag(n) }

// BrowseURL returns {BaseURL}/browse/{key}.
func (d *DataCenter) BrowseURL(key string) string { return d.BaseURL() + "/browse/" + key }

// serveHTTP routes everything under the context path.
func (d *DataCenter) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path, under := strings.CutPrefix(r.URL.Path, d.contextPath)
	if !under || (path != "" && !strings.HasPrefix(path, "/")) {
		http.NotFound(w, r)
		return
	}
	switch {
	case path == "/rest/oauth2/latest/authorize" && r.Method == http.MethodGet:
		d.authorize(w, r)
	case path == "/rest/oauth2/latest/authorize" && r.Method == http.MethodPost:
		d.decide(w, r)
	case path == "/rest/oauth2/latest/token" && r.Method == http.MethodPost:
		d.token(w, r)
	case strings.HasPrefix(path, "/rest/api/"):
		if rest, isLatest := strings.CutPrefix(path, "/rest/api/latest/"); isLatest {
			path = "/rest/api/2/" + rest
		}
		d.sim.guard(w, r, flavorDC, path, func(w http.ResponseWriter, r *http.Request) { d.serveREST(w, r, path) })
	case strings.HasPrefix(path, "/browse/"):
		d.inst.browse(w, r, strings.TrimPrefix(path, "/browse/"))
	case path == "" || path == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>Jira</title><h1>Jira Data Center · %s</h1>\n", template.HTMLEscapeString(d.BaseURL()))
	default:
		writeReply(w, errorReply(http.StatusNotFound, "Not found"))
	}
}

// serveREST authenticates (serverInfo is public) and dispatches to REST v2.
func (d *DataCenter) serveREST(w http.ResponseWriter, r *http.Request, path string) {
	s := d.sim
	var scopes []string
	var user *simUser
	if path != "/rest/api/2/serverInfo" {
		s.mu.Lock()
		at, valid := s.bearer(r, d, s.now())
		if valid {
			scopes, user = at.g.scopes, at.g.user
		}
		s.mu.Unlock()
		if !valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+d.BaseURL()+`"`)
			writeReply(w, errorReply(http.StatusUnauthorized, "You are not authenticated. Authentication required to perform this operation."))
			return
		}
	}
	r2 := r.Clone(withCaller(withScopes(r.Context(), scopes), user))
	r2.URL.Path, r2.URL.RawPath = path, ""
	d.inst.mux.ServeHTTP(w, r2)
}

// authorize validates a DC authorize request and shows the consent page.
func (d *DataCenter) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s := d.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	c, known := d.clients[q.Get("client_id")]
	if !known {
		renderAuthError(w, http.StatusBadRequest, "Invalid client_id.")
		return
	}
	redirectURI, state := q.Get("redirect_uri"), q.Get("state")
	if redirectURI != c.redirectURI {
		renderAuthError(w, http.StatusBadRequest, "Invalid redirect_uri: it does not match the incoming link's redirect URL.")
		return
	}
	fail := func(code, desc string) {
		http.Redirect(w, r, redirectWith(redirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {state}}), http.StatusFound)
	}
	scopes := strings.Fields(q.Get("scope"))
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
	case len(scopes) == 0:
		fail("invalid_scope", "scope is required")
	case !scopeSubset(scopes, dcScopes()) || !scopeSubset(scopes, c.impliedScopes()):
		fail("invalid_scope", "The requested scope is not allowed for this application: "+strings.Join(scopes, " "))
	case challenge != "" && method != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
	case challenge == "" && method != "":
		fail("invalid_request", "code_challenge is required with code_challenge_method")
	default:
		id := s.newConsent(&consentRequest{dc: d, clientID: c.id, redirectURI: redirectURI, state: state, scopes: scopes, challenge: challenge}, s.now())
		renderConsent(w, consentView{Product: "Jira", Client: "Privilege (" + c.id + ")", Action: d.contextPath + "/rest/oauth2/latest/authorize", ConsentID: id, Scopes: scopes, Users: usersOf(d.inst.dcUsers)})
	}
}

// decide handles the DC consent form.
func (d *DataCenter) decide(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		renderAuthError(w, http.StatusBadRequest, err.Error())
		return
	}
	s := d.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	c, valid := s.takeConsent(r.PostForm.Get("consent"), d, s.now())
	if !valid {
		renderAuthError(w, http.StatusBadRequest, "This authorization request has expired or was already answered.")
		return
	}
	s.finishConsent(w, r, c)
}

// token is the DC token endpoint: client credentials in the query string,
// the form body, a JSON body or HTTP Basic.
func (d *DataCenter) token(w http.ResponseWriter, r *http.Request) {
	p, err := readTokenParams(r, true)
	if err != nil {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Description: err.Error()})
		return
	}
	s := d.sim
	s.mu.Lock()
	c, known := d.clients[p.clientID]
	if !known || subtle.ConstantTimeCompare([]byte(c.secret), []byte(p.clientSecret)) != 1 {
		s.mu.Unlock()
		writeOAuthError(w, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Description: "Client authentication failed"})
		return
	}
	resp, oerr := s.grant(d, p)
	s.mu.Unlock()
	s.answerToken(w, resp, oerr)
}

// pkceMatches checks an S256 code_verifier against its challenge.
func pkceMatches(challenge, verifier string) bool {
	if verifier == "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}
