package jirasim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Token lifetimes (Atlassian documented values).
const (
	codeLifetime         = 10 * time.Minute
	accessTokenLifetime  = time.Hour
	refreshIdleLifetime  = 90 * 24 * time.Hour
	refreshAbsoluteLimit = 365 * 24 * time.Hour
	consentLifetime      = 30 * time.Minute
)

// tokenStore holds every OAuth artefact of the Cloud auth server and of all
// DC instances (dc == nil means Cloud). Guarded by Sim.mu.
type tokenStore struct {
	consents map[string]*consentRequest
	codes    map[string]*authCode
	access   map[string]*accessToken
	refresh  map[string]*refreshToken
	grants   []*grant
}

func newTokenStore() tokenStore {
	return tokenStore{
		consents: map[string]*consentRequest{},
		codes:    map[string]*authCode{},
		access:   map[string]*accessToken{},
		refresh:  map[string]*refreshToken{},
	}
}

// grant is one consent: a refresh-token family.
type grant struct {
	dc       *DataCenter // nil for Cloud
	clientID string
	scopes   []string
	sites    []*Site // Cloud only: the sites the consent covers
	user     *simUser
	created  time.Time
	revoked  bool
	current  string // the refresh token that may be rotated next
}

// consentRequest is a validated authorize request waiting for Accept/Decline.
type consentRequest struct {
	dc                 *DataCenter
	clientID           string
	redirectURI, state string
	scopes             []string
	challenge          string // DC PKCE S256 code_challenge
	expires            time.Time
}

// consentUsers are the users who may sign in to a consent page. s.mu must be held.
func (s *Sim) consentUsers(dc *DataCenter) []*simUser {
	if dc != nil {
		return dc.inst.dcUsers
	}
	return s.cloudUsers
}

type authCode struct {
	dc          *DataCenter
	clientID    string
	redirectURI string
	scopes      []string
	sites       []*Site
	challenge   string
	user        *simUser
	expires     time.Time
	used        bool
}

type refreshToken struct {
	g         *grant
	issued    time.Time
	rotatedAt time.Time // zero while this is the family's current token
}

type accessToken struct {
	g       *grant
	expires time.Time
	expired bool // forced by ExpireAccessTokens
}

// tokenResponse is the RFC 6749 token response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// oauthError is an RFC 6749 error with its HTTP status.
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

// ExpireAccessTokens makes every access token issued so far answer 401.
func (s *Sim) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, at := range s.tokens.access {
		at.expired = true
	}
}

// RevokeGrants revokes every refresh-token family (Cloud and DC): the next
// refresh answers invalid_grant and existing access tokens answer 401.
func (s *Sim) RevokeGrants() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.tokens.grants {
		g.revoked = true
	}
}

func randomToken(prefix string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// issueTokens mints an access token (and a new current refresh token when
// withRefresh) for g. s.mu must be held.
func (s *Sim) issueTokens(g *grant, now time.Time, withRefresh bool) tokenResponse {
	at := randomToken("at.")
	s.tokens.access[at] = &accessToken{g: g, expires: now.Add(accessTokenLifetime)}
	resp := tokenResponse{AccessToken: at, ExpiresIn: int(accessTokenLifetime / time.Second), TokenType: "Bearer", Scope: strings.Join(g.scopes, " ")}
	if g.dc != nil {
		resp.TokenType = "bearer"
	}
	if withRefresh {
		rt := randomToken("v1.")
		s.tokens.refresh[rt] = &refreshToken{g: g, issued: now}
		g.current = rt
		resp.RefreshToken = rt
	}
	return resp
}

// exchangeCode runs the authorization_code grant. s.mu must be held.
// grant runs a token-endpoint grant for Cloud (dc nil) or a Data Center
// instance. The caller holds s.mu.
func (s *Sim) grant(dc *DataCenter, p tokenParams) (tokenResponse, *oauthError) {
	switch p.grantType {
	case "authorization_code":
		return s.exchangeCode(dc, p, s.now())
	case "refresh_token":
		return s.refreshGrant(dc, p, s.now())
	}
	return tokenResponse{}, &oauthError{status: http.StatusBadRequest, Code: "unsupported_grant_type", Description: "Unsupported grant type: " + p.grantType}
}

// answerToken writes a grant's outcome.
func (s *Sim) answerToken(w http.ResponseWriter, resp tokenResponse, oerr *oauthError) {
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	writeTokenResponse(w, resp)
}

func (s *Sim) exchangeCode(dc *DataCenter, p tokenParams, now time.Time) (tokenResponse, *oauthError) {
	bad := invalidGrant(dc)
	c, found := s.tokens.codes[p.code]
	switch {
	case p.code == "" || !found || c.dc != dc:
		return tokenResponse{}, bad("Invalid authorization code")
	case c.used:
		return tokenResponse{}, bad("Authorization code has already been used")
	case now.After(c.expires):
		return tokenResponse{}, bad("Authorization code has expired")
	case c.clientID != p.clientID:
		return tokenResponse{}, bad("Authorization code was issued to another client")
	case c.redirectURI != p.redirectURI:
		return tokenResponse{}, bad("redirect_uri does not match the authorization request")
	case c.challenge != "" && !pkceMatches(c.challenge, p.verifier):
		return tokenResponse{}, bad("PKCE verification failed")
	}
	c.used = true
	g := &grant{dc: dc, clientID: c.clientID, scopes: c.scopes, sites: c.sites, user: c.user, created: now}
	s.tokens.grants = append(s.tokens.grants, g)
	s.stats.TokenExchanges++
	withRefresh := dc != nil || slices.Contains(c.scopes, "offline_access")
	return s.issueTokens(g, now, withRefresh), nil
}

// refreshGrant runs the refresh_token grant with rotation and reuse
// detection. s.mu must be held.
//
// Rules: the used token is rotated out. A rotated token presented again within
// the reuse leeway gets a new access token plus the family's current refresh
// token (no second rotation, so concurrent refreshers converge on one
// family member). A rotated token presented after the leeway revokes the
// whole family. Tokens expire 90 days after issue (each rotation resets
// this); Cloud families also end 365 days after consent.
func (s *Sim) refreshGrant(dc *DataCenter, p tokenParams, now time.Time) (tokenResponse, *oauthError) {
	bad := invalidGrant(dc)
	rt, found := s.tokens.refresh[p.refreshToken]
	if p.refreshToken == "" || !found || rt.g.dc != dc || rt.g.clientID != p.clientID {
		return tokenResponse{}, bad("Unknown or invalid refresh token.")
	}
	g := rt.g
	switch {
	case g.revoked:
		return tokenResponse{}, bad("Unknown or invalid refresh token.")
	case dc == nil && now.Sub(g.created) > refreshAbsoluteLimit:
		return tokenResponse{}, bad("The refresh token has reached its absolute expiry.")
	case now.Sub(rt.issued) > refreshIdleLifetime:
		return tokenResponse{}, bad("The refresh token has expired due to inactivity.")
	}
	if !rt.rotatedAt.IsZero() {
		if s.leeway < 0 || now.Sub(rt.rotatedAt) > s.leeway {
			g.revoked = true
			return tokenResponse{}, bad("Unknown or invalid refresh token.")
		}
		resp := s.issueTokens(g, now, false)
		resp.RefreshToken = g.current
		s.stats.TokenRefreshes++
		return resp, nil
	}
	rt.rotatedAt = now
	s.stats.TokenRefreshes++
	return s.issueTokens(g, now, true), nil
}

// invalidGrant builds invalid_grant errors: 403 on Cloud (Atlassian's
// Auth0-based server), 400 on DC (RFC 6749).
func invalidGrant(dc *DataCenter) func(string) *oauthError {
	status := http.StatusForbidden
	if dc != nil {
		status = http.StatusBadRequest
	}
	return func(desc string) *oauthError {
		return &oauthError{status: status, Code: "invalid_grant", Description: desc}
	}
}

// bearer authenticates an access token for dc (nil = Cloud). s.mu must be held.
func (s *Sim) bearer(r *http.Request, dc *DataCenter, now time.Time) (*accessToken, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return nil, false
	}
	at, found := s.tokens.access[strings.TrimSpace(h[len(prefix):])]
	if !found || at.g.dc != dc || at.expired || at.g.revoked || !now.Before(at.expires) {
		return nil, false
	}
	return at, true
}

// tokenParams are the token endpoint parameters from any accepted encoding.
type tokenParams struct {
	grantType, clientID, clientSecret string
	code, redirectURI, verifier       string
	refreshToken                      string
}

// readTokenParams reads a JSON or form body, plus (when withQuery) the query
// string, plus HTTP Basic client authentication.
func readTokenParams(r *http.Request, withQuery bool) (tokenParams, error) {
	v := url.Values{}
	if withQuery {
		for k, vs := range r.URL.Query() {
			v[k] = vs
		}
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&m); err != nil {
			return tokenParams{}, err
		}
		for k, e := range m {
			if str, isString := e.(string); isString {
				v.Set(k, str)
			}
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return tokenParams{}, err
		}
		for k, vs := range r.PostForm {
			v[k] = vs
		}
	}
	p := tokenParams{
		grantType:    v.Get("grant_type"),
		clientID:     v.Get("client_id"),
		clientSecret: v.Get("client_secret"),
		code:         v.Get("code"),
		redirectURI:  v.Get("redirect_uri"),
		verifier:     v.Get("code_verifier"),
		refreshToken: v.Get("refresh_token"),
	}
	if id, secret, hasBasic := r.BasicAuth(); hasBasic {
		if uid, err := url.QueryUnescape(id); err == nil {
			id = uid
		}
		if usecret, err := url.QueryUnescape(secret); err == nil {
			secret = usecret
		}
		p.clientID, p.clientSecret = id, secret
	}
	return p, nil
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, e)
}

func writeTokenResponse(w http.ResponseWriter, resp tokenResponse) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// scopeSubset reports whether every requested scope is allowed.
func scopeSubset(requested, allowed []string) bool {
	for _, sc := range requested {
		if !slices.Contains(allowed, sc) {
			return false
		}
	}
	return true
}

// redirectWith appends query parameters to a registered redirect URI.
func redirectWith(redirectURI string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return redirectURI
	}
	q := u.Query()
	for k, vs := range params {
		if len(vs) > 0 && vs[0] != "" {
			q.Set(k, vs[0])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
