package jirasim

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// authRoutes serves the Cloud authorization server (auth.atlassian.com).
func (s *Sim) authRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", s.cloudAuthorize)
	mux.HandleFunc("POST /authorize", s.cloudDecide)
	mux.HandleFunc("POST /oauth/token", s.cloudToken)
	return mux
}

// cloudAuthorize validates a 3LO authorize request and shows the consent page.
func (s *Sim) cloudAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI, state := q.Get("redirect_uri"), q.Get("state")
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Get("client_id") != s.opts.CloudClientID {
		renderAuthError(w, http.StatusBadRequest, "Unknown client_id.")
		return
	}
	if !slices.Contains(s.cloudRedirects, redirectURI) {
		renderAuthError(w, http.StatusBadRequest, "The redirect_uri is not registered as a callback URL for this app.")
		return
	}
	fail := func(code, desc string) {
		http.Redirect(w, r, redirectWith(redirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {state}}), http.StatusFound)
	}
	scopes := strings.Fields(q.Get("scope"))
	allowed := append(slices.Clone(s.cloudScopes), "offline_access")
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
	case q.Get("audience") != "api.atlassian.com":
		fail("invalid_request", "audience must be api.atlassian.com")
	case len(scopes) == 0:
		fail("invalid_scope", "scope is required")
	case !scopeSubset(scopes, allowed):
		fail("invalid_scope", "The requested scope is not configured for this app: "+strings.Join(scopes, " "))
	default:
		// code_challenge is ignored: Cloud 3LO has no PKCE.
		id := s.newConsent(&consentRequest{clientID: s.opts.CloudClientID, redirectURI: redirectURI, state: state, scopes: scopes}, s.now())
		v := consentView{Product: "Atlassian", Client: s.opts.CloudClientID, Action: "/authorize", ConsentID: id, Scopes: scopes, Users: usersOf(s.cloudUsers)}
		if len(s.sites) > 1 && jiraScoped(scopes) {
			v.Sites = slices.Clone(s.sites)
		}
		renderConsent(w, v)
	}
}

// cloudDecide handles Accept/Decline. The grant covers the chosen site (the
// only site when there is one; none when there are no sites) and, as on
// Atlassian, whose accessible-resources lists every site the app is
// authorized for, the sites of the client's earlier grants that were not
// revoked.
func (s *Sim) cloudDecide(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		renderAuthError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, valid := s.takeConsent(r.PostForm.Get("consent"), nil, s.now())
	if !valid {
		renderAuthError(w, http.StatusBadRequest, "This authorization request has expired or was already answered. Start again from the app.")
		return
	}
	s.finishConsent(w, r, c)
}

// finishConsent redirects back to the app with a code or access_denied.
// s.mu must be held.
func (s *Sim) finishConsent(w http.ResponseWriter, r *http.Request, c *consentRequest) {
	params := url.Values{"state": {c.state}}
	who := r.PostForm.Get("user")
	if as := r.PostForm.Get("as"); as != "" { // "Accept as …": one click per user
		who = as
		r.PostForm.Set("decision", "accept")
	}
	if r.PostForm.Get("decision") != "accept" {
		params.Set("error", "access_denied")
		params.Set("error_description", "The user declined the authorization request.")
		http.Redirect(w, r, redirectWith(c.redirectURI, params), http.StatusFound)
		return
	}
	user := pickUser(s.consentUsers(c.dc), who)
	if user == nil || user.inactive {
		renderAuthError(w, http.StatusBadRequest, "This account cannot sign in.")
		return
	}
	code := &authCode{dc: c.dc, clientID: c.clientID, redirectURI: c.redirectURI, scopes: c.scopes, challenge: c.challenge, user: user, expires: s.now().Add(codeLifetime)}
	if c.dc == nil && jiraScoped(c.scopes) {
		switch chosen := r.PostForm.Get("site"); {
		case len(s.sites) == 1:
			code.sites = []*Site{s.sites[0]}
		case len(s.sites) > 1 && chosen == "":
			code.sites = []*Site{s.sites[0]}
		case len(s.sites) > 1:
			site := s.siteByID(chosen)
			if site == nil {
				renderAuthError(w, http.StatusBadRequest, "Choose a site.")
				return
			}
			code.sites = []*Site{site}
		}
		code.sites = s.authorizedSites(c.clientID, code.sites)
	}
	value := randomToken("code.")
	s.tokens.codes[value] = code
	params.Set("code", value)
	http.Redirect(w, r, redirectWith(c.redirectURI, params), http.StatusFound)
}

// authorizedSites is chosen plus the sites of clientID's live Cloud grants,
// in the order the sites were added. s.mu must be held.
func (s *Sim) authorizedSites(clientID string, chosen []*Site) []*Site {
	var out []*Site
	for _, site := range s.sites {
		covered := slices.Contains(chosen, site)
		for _, g := range s.tokens.grants {
			covered = covered || (g.dc == nil && g.clientID == clientID && !g.revoked && slices.Contains(g.sites, site))
		}
		if covered {
			out = append(out, site)
		}
	}
	return out
}

// cloudToken is POST /oauth/token (JSON or form body, client auth in the body
// or HTTP Basic).
func (s *Sim) cloudToken(w http.ResponseWriter, r *http.Request) {
	p, err := readTokenParams(r, false)
	if err != nil {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Description: err.Error()})
		return
	}
	if p.clientID != s.opts.CloudClientID || p.clientSecret != s.opts.CloudClientSecret {
		writeOAuthError(w, &oauthError{status: http.StatusUnauthorized, Code: "invalid_client", Description: "Unauthorized"})
		return
	}
	s.mu.Lock()
	resp, oerr := s.grant(nil, p)
	s.mu.Unlock()
	s.answerToken(w, resp, oerr)
}

// scopesKey carries the caller's granted scopes to instance routes.
type scopesKey struct{}

func withScopes(ctx context.Context, scopes []string) context.Context {
	return context.WithValue(ctx, scopesKey{}, scopes)
}

func scopesFrom(ctx context.Context) []string {
	sc, _ := ctx.Value(scopesKey{}).([]string)
	return sc
}

// gatewayRoutes serves the Cloud API gateway (api.atlassian.com).
func (s *Sim) gatewayRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth/token/accessible-resources", func(w http.ResponseWriter, r *http.Request) {
		s.guard(w, r, flavorCloud, "/oauth/token/accessible-resources", s.accessibleResources)
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		s.guard(w, r, flavorCloud, "/me", s.me)
	})
	mux.HandleFunc("/ex/jira/{cloudId}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		rest := "/" + r.PathValue("rest")
		s.guard(w, r, flavorCloud, rest, func(w http.ResponseWriter, r *http.Request) {
			s.serveGateway(w, r, r.PathValue("cloudId"), rest)
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, gatewayError{Code: 404, Message: "Not Found"})
	})
	return mux
}

// accessibleResources lists the sites the token's grant covers.
func (s *Sim) accessibleResources(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, gatewayError{Code: 405, Message: "Method Not Allowed"})
		return
	}
	s.mu.Lock()
	at, valid := s.bearer(r, nil, s.now())
	type resource struct {
		ID        string   `json:"id"`
		URL       string   `json:"url"`
		Name      string   `json:"name"`
		Scopes    []string `json:"scopes"`
		AvatarURL string   `json:"avatarUrl"`
	}
	out := []resource{}
	if valid {
		scopes := slices.DeleteFunc(slices.Clone(at.g.scopes), func(sc string) bool { return sc == "offline_access" })
		for _, site := range at.g.sites {
			out = append(out, resource{ID: site.CloudID, URL: site.URL, Name: site.Name, Scopes: scopes, AvatarURL: site.AvatarURL})
		}
	}
	s.mu.Unlock()
	if !valid {
		writeJSON(w, http.StatusUnauthorized, gatewayError{Code: 401, Message: "Unauthorized"})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// serveGateway authenticates a gateway call and hands it to the site.
func (s *Sim) serveGateway(w http.ResponseWriter, r *http.Request, cloudID, rest string) {
	s.mu.Lock()
	site := s.siteByID(cloudID)
	at, valid := s.bearer(r, nil, s.now())
	granted := valid && site != nil && slices.Contains(at.g.sites, site)
	var scopes []string
	var user *simUser
	if valid {
		scopes, user = at.g.scopes, at.g.user
	}
	s.mu.Unlock()
	switch {
	case !valid:
		writeJSON(w, http.StatusUnauthorized, gatewayError{Code: 401, Message: "Unauthorized"})
		return
	case site == nil:
		writeJSON(w, http.StatusNotFound, gatewayError{Code: 404, Message: "Site not found"})
		return
	case !granted:
		writeJSON(w, http.StatusUnauthorized, gatewayError{Code: 401, Message: "Unauthorized; the token was not granted access to this site"})
		return
	}
	r2 := r.Clone(withCaller(withScopes(r.Context(), scopes), user))
	r2.URL.Path, r2.URL.RawPath = rest, ""
	site.inst.mux.ServeHTTP(w, r2)
}

// serveSite stands in for https://{name}.atlassian.net: /{name}/browse/{key}
// renders the issue; /{name}/rest/... rejects 3LO bearer tokens with 401.
func (s *Sim) serveSite(w http.ResponseWriter, r *http.Request) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	rest = "/" + rest
	s.mu.Lock()
	site := s.siteByName(name)
	s.mu.Unlock()
	switch {
	case site == nil:
		http.NotFound(w, r)
	case strings.HasPrefix(rest, "/rest/"):
		w.Header().Set("WWW-Authenticate", `OAuth realm="`+site.URL+`"`)
		writeJSON(w, http.StatusUnauthorized, gatewayError{Code: 401, Message: "Client must be authenticated to access this resource."})
	case strings.HasPrefix(rest, "/browse/"):
		site.inst.browse(w, r, strings.TrimPrefix(rest, "/browse/"))
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>Jira · %s</h1>\n", template.HTMLEscapeString(site.Name), template.HTMLEscapeString(site.URL))
	}
}
