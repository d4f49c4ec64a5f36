// Package oidcsim is a small OpenID Connect provider for tests and for
// `privilege demo`: discovery, a JWKS with key rotation, an authorization
// endpoint whose sign-in page lists sample users with their groups, a token
// endpoint that checks PKCE (RFC 7636, S256 only), userinfo and an
// end-session endpoint (RP-Initiated Logout 1.0). It follows OpenID Connect
// Core 1.0 and RFC 6749 and says no where they say no: unknown clients and
// unregistered redirect URIs get an error page (never a redirect), codes are
// single-use and short-lived, and a replayed code revokes what it issued.
//
// It does not import testing, so the demo can run it. Tests reach into it
// through Authorize (the sign-in page's choice without a browser), RotateKey,
// SetGroups, NextIDToken (to tamper with the next ID token's claims) and
// ForgeNextIDToken (a signature by a key outside the JWKS).
package oidcsim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"privilege/internal/loopcert"
)

// User is a sample person at the provider.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string
}

// Options configure a Provider. The zero value is usable.
type Options struct {
	// TLS serves HTTPS with a self-signed certificate (CertPEM, CertPool).
	TLS bool
	// Now is the provider's clock (codes, token lifetimes); nil is time.Now.
	Now func() time.Time
	// ClientID and ClientSecret of the one registered client; defaults
	// "privilege" and a random secret.
	ClientID, ClientSecret string
	// RedirectURIs are the client's registered redirect URIs (exact match).
	RedirectURIs []string
	// PostLogoutRedirectURIs are where end-session may send the browser back.
	PostLogoutRedirectURIs []string
	// Users are the sample users; nil means DemoUsers().
	Users []User
}

// DemoUsers are the sample users of `privilege demo`.
func DemoUsers() []User {
	return []User{
		{Subject: "u-1001", Email: "alice@demo.test", EmailVerified: true, Name: "Alice Admin", Groups: []string{"privilege-admins", "staff"}},
		{Subject: "u-1002", Email: "bob@demo.test", EmailVerified: true, Name: "Bob Approver", Groups: []string{"privilege-approvers", "staff"}},
		{Subject: "u-1003", Email: "carol@demo.test", EmailVerified: true, Name: "Carol Engineer", Groups: []string{"staff"}},
		{Subject: "u-1004", Email: "dave@demo.test", EmailVerified: false, Name: "Dave Unverified", Groups: []string{"staff"}},
		{Subject: "u-1005", Email: "erin@contractor.test", EmailVerified: true, Name: "Erin Contractor", Groups: []string{"contractors"}},
	}
}

const (
	codeTTL    = time.Minute
	tokenTTL   = time.Hour
	idTokenTTL = 10 * time.Minute
	cookieName = "oidcsim_session"
)

// Provider is the simulated OpenID Connect provider. Methods are safe for
// concurrent use.
type Provider struct {
	opts    Options
	srv     *httptest.Server
	issuer  string
	certPEM []byte

	mu       sync.Mutex
	keys     []*signingKey // keys[0] signs; all are published
	users    []User
	codes    map[string]*grant
	tokens   map[string]*grant // access token → grant
	sessions map[string]string // provider session cookie → subject
	tamper   []func(claims map[string]any)
	forge    int // ID tokens still to sign with an unpublished key
	logouts  chan Logout
}

type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

// grant is one authorization: its code, then its tokens.
type grant struct {
	code          string
	clientID      string
	redirectURI   string
	subject       string
	scopes        []string
	nonce         string
	challenge     string
	authTime      time.Time
	expires       time.Time
	used          bool
	accessToken   string
	accessExpires time.Time
}

// Logout is one end-session call the provider honoured.
type Logout struct {
	Subject               string // from the id_token_hint or the session, "" when unknown
	PostLogoutRedirectURI string
}

// New starts a provider on a loopback port.
func New(opts Options) *Provider {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ClientID == "" {
		opts.ClientID = "privilege"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = randomString(24)
	}
	if opts.Users == nil {
		opts.Users = DemoUsers()
	}
	p := &Provider{
		opts: opts, users: slices.Clone(opts.Users), codes: map[string]*grant{}, tokens: map[string]*grant{},
		sessions: map[string]string{}, logouts: make(chan Logout, 64),
	}
	p.keys = []*signingKey{newSigningKey()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oidc/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /oidc/jwks", p.jwks)
	mux.HandleFunc("GET /oidc/authorize", p.authorizePage)
	mux.HandleFunc("POST /oidc/authorize", p.authorizeChoice)
	mux.HandleFunc("POST /oidc/token", p.token)
	mux.HandleFunc("GET /oidc/userinfo", p.userinfo)
	mux.HandleFunc("POST /oidc/userinfo", p.userinfo)
	mux.HandleFunc("GET /oidc/logout", p.endSession)
	p.srv = httptest.NewUnstartedServer(mux)
	p.srv.Config.ReadHeaderTimeout = 10 * time.Second
	if opts.TLS {
		cert, pemBytes := loopcert.New("Privilege OIDC simulator")
		p.certPEM = pemBytes
		p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	p.issuer = p.srv.URL + "/oidc"
	return p
}

// Close stops the provider.
func (p *Provider) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// Issuer is the issuer identifier (discovery at Issuer()+"/.well-known/openid-configuration").
func (p *Provider) Issuer() string { return p.issuer }

// Client returns the registered client's id and secret.
func (p *Provider) Client() (id, secret string) { return p.opts.ClientID, p.opts.ClientSecret }

// CertPEM is the TLS certificate (nil without Options.TLS).
func (p *Provider) CertPEM() []byte { return slices.Clone(p.certPEM) }

// CertPool trusts the TLS certificate (nil without Options.TLS).
func (p *Provider) CertPool() *x509.CertPool {
	if p.certPEM == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.certPEM)
	return pool
}

// Users returns the sample users.
func (p *Provider) Users() []User {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.users)
}

// SetGroups replaces a user's groups (the next ID token carries them).
func (p *Provider) SetGroups(subject string, groups ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.users {
		if p.users[i].Subject == subject {
			p.users[i].Groups = slices.Clone(groups)
			return nil
		}
	}
	return fmt.Errorf("oidcsim: no user %q", subject)
}

// AddUser adds a sample user.
func (p *Provider) AddUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users = append(p.users, u)
}

// RotateKey signs from now on with a new key (published in the JWKS under a
// new kid). With retireOld the old keys leave the JWKS.
func (p *Provider) RotateKey(retireOld bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := newSigningKey()
	if retireOld {
		p.keys = []*signingKey{k}
		return
	}
	p.keys = append([]*signingKey{k}, p.keys...)
}

// NextIDToken lets a test change the claims of the next ID token issued
// (wrong audience, expiry, nonce, …) before it is signed.
func (p *Provider) NextIDToken(f func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = append(p.tamper, f)
}

// ForgeNextIDToken signs the next ID token with a key that is not in the
// JWKS, under the kid of the published one: a forged signature.
func (p *Provider) ForgeNextIDToken() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forge++
}

// Logouts delivers each honoured end-session call.
func (p *Provider) Logouts() <-chan Logout { return p.logouts }

func (p *Provider) now() time.Time { return p.opts.Now() }

// discovery is OpenID Connect Discovery 1.0 §3.
func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.issuer + "/authorize",
		"token_endpoint":                        p.issuer + "/token",
		"userinfo_endpoint":                     p.issuer + "/userinfo",
		"jwks_uri":                              p.issuer + "/jwks",
		"end_session_endpoint":                  p.issuer + "/logout",
		"scopes_supported":                      []string{"openid", "email", "profile", "groups"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "email", "email_verified", "name", "groups"},
		"prompt_values_supported":               []string{"none", "login"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	keys := make([]map[string]string, 0, len(p.keys))
	for _, k := range p.keys {
		keys = append(keys, map[string]string{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
			"n": b64(k.key.N.Bytes()), "e": b64(big.NewInt(int64(k.key.E)).Bytes()),
		})
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// authRequest is a validated authorization request.
type authRequest struct {
	clientID, redirectURI, state, nonce, challenge, prompt string
	scopes                                                 []string
}

// redirectErr is an authorization error sent back to the client (Core
// §3.1.2.6); a plain error means the redirect URI cannot be trusted and the
// user gets an error page instead.
type redirectErr struct{ code, description string }

func (e *redirectErr) Error() string { return e.code + ": " + e.description }

// parseAuthRequest checks an authorization request (Core §3.1.2.2, RFC 7636 §4.4.1).
func (p *Provider) parseAuthRequest(q url.Values) (authRequest, error) {
	r := authRequest{
		clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), state: q.Get("state"),
		nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), prompt: q.Get("prompt"),
		scopes: strings.Fields(q.Get("scope")),
	}
	if r.clientID != p.opts.ClientID {
		return r, errors.New("unknown client_id")
	}
	if r.redirectURI == "" || !slices.Contains(p.opts.RedirectURIs, r.redirectURI) {
		return r, errors.New("redirect_uri is not registered for this client")
	}
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt"} {
		if len(q[k]) > 1 {
			return r, &redirectErr{"invalid_request", k + " is repeated"}
		}
	}
	switch {
	case q.Get("response_type") != "code":
		return r, &redirectErr{"unsupported_response_type", "only the authorization code flow (response_type=code) is supported"}
	case !slices.Contains(r.scopes, "openid"):
		return r, &redirectErr{"invalid_scope", "the openid scope is required"}
	case r.challenge == "":
		return r, &redirectErr{"invalid_request", "code_challenge is required (PKCE)"}
	case q.Get("code_challenge_method") != "S256":
		return r, &redirectErr{"invalid_request", "code_challenge_method must be S256"}
	case !validPKCE(r.challenge) || len(r.challenge) != 43:
		return r, &redirectErr{"invalid_request", "code_challenge is not a base64url SHA-256"}
	case r.prompt != "" && r.prompt != "none" && r.prompt != "login":
		return r, &redirectErr{"invalid_request", "unsupported prompt value"}
	}
	return r, nil
}

// authorizePage shows the sign-in page, or answers at once when the browser
// has a provider session (and prompt is not login).
func (p *Provider) authorizePage(w http.ResponseWriter, req *http.Request) {
	ar, err := p.parseAuthRequest(req.URL.Query())
	if err != nil {
		p.authError(w, req, ar, err)
		return
	}
	if sub := p.sessionSubject(req); sub != "" && ar.prompt != "login" {
		if _, ok := p.user(sub); ok {
			http.Redirect(w, req, p.issueCode(ar, sub), http.StatusFound)
			return
		}
	}
	if ar.prompt == "none" {
		p.authError(w, req, ar, &redirectErr{"login_required", "no one is signed in at the provider"})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	renderSignIn(w, req.URL.Query(), p.Users())
}

// authorizeChoice is the sign-in page's form: a user, or cancel.
func (p *Provider) authorizeChoice(w http.ResponseWriter, req *http.Request) {
	if err := req.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ar, err := p.parseAuthRequest(req.PostForm)
	if err != nil {
		p.authError(w, req, ar, err)
		return
	}
	if req.PostForm.Get("cancel") != "" {
		p.authError(w, req, ar, &redirectErr{"access_denied", "the user cancelled the sign-in"})
		return
	}
	sub := req.PostForm.Get("sub")
	if _, ok := p.user(sub); !ok {
		http.Error(w, "no such user", http.StatusBadRequest)
		return
	}
	sid := randomString(24)
	p.mu.Lock()
	p.sessions[sid] = sub
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: sid, Path: "/oidc", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.opts.TLS})
	http.Redirect(w, req, p.issueCode(ar, sub), http.StatusFound)
}

// Authorize is the sign-in page without a browser: it validates authURL as
// the authorization endpoint would and returns the callback URL (with a code,
// or with an error for the client).
func (p *Provider) Authorize(authURL, subject string) (*url.URL, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(authURL, p.issuer+"/authorize?") {
		return nil, fmt.Errorf("oidcsim: %s is not this provider's authorization endpoint", authURL)
	}
	ar, err := p.parseAuthRequest(u.Query())
	var re *redirectErr
	if errors.As(err, &re) {
		return url.Parse(errorRedirect(ar, re))
	}
	if err != nil {
		return nil, fmt.Errorf("oidcsim: %w", err)
	}
	if _, ok := p.user(subject); !ok {
		return nil, fmt.Errorf("oidcsim: no user %q", subject)
	}
	return url.Parse(p.issueCode(ar, subject))
}

func (p *Provider) authError(w http.ResponseWriter, req *http.Request, ar authRequest, err error) {
	var re *redirectErr
	if errors.As(err, &re) {
		http.Redirect(w, req, errorRedirect(ar, re), http.StatusFound)
		return
	}
	http.Error(w, "Sign-in request refused: "+err.Error(), http.StatusBadRequest)
}

func errorRedirect(ar authRequest, re *redirectErr) string {
	v := url.Values{"error": {re.code}, "error_description": {re.description}}
	if ar.state != "" {
		v.Set("state", ar.state)
	}
	return withQuery(ar.redirectURI, v)
}

func (p *Provider) issueCode(ar authRequest, sub string) string {
	now := p.now()
	g := &grant{
		code: randomString(32), clientID: ar.clientID, redirectURI: ar.redirectURI, subject: sub,
		scopes: ar.scopes, nonce: ar.nonce, challenge: ar.challenge, authTime: now, expires: now.Add(codeTTL),
	}
	p.mu.Lock()
	p.codes[g.code] = g
	p.mu.Unlock()
	v := url.Values{"code": {g.code}}
	if ar.state != "" {
		v.Set("state", ar.state)
	}
	return withQuery(ar.redirectURI, v)
}

func withQuery(base string, v url.Values) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + v.Encode()
}

func (p *Provider) sessionSubject(req *http.Request) string {
	c, err := req.Cookie(cookieName)
	if err != nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions[c.Value]
}

func (p *Provider) user(sub string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if u.Subject == sub {
			return u, true
		}
	}
	return User{}, false
}

// tokenError is RFC 6749 §5.2.
func tokenError(w http.ResponseWriter, status int, code, desc string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidcsim"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// token is the token endpoint: authorization_code only, client
// authentication by client_secret_basic or client_secret_post (never both),
// redirect_uri and PKCE verifier checked, codes single-use.
func (p *Provider) token(w http.ResponseWriter, req *http.Request) {
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if err := req.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body cannot be read")
		return
	}
	f := req.PostForm
	for k, v := range f {
		if len(v) > 1 {
			tokenError(w, http.StatusBadRequest, "invalid_request", k+" is repeated")
			return
		}
	}
	id, secret, basic := req.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: the credentials are form-encoded before Basic.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if f.Has("client_secret") {
			tokenError(w, http.StatusBadRequest, "invalid_request", "use one client authentication method")
			return
		}
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	if id != p.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.opts.ClientSecret)) != 1 {
		status := http.StatusBadRequest
		if basic {
			status = http.StatusUnauthorized
		}
		tokenError(w, status, "invalid_client", "client authentication failed")
		return
	}
	if f.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
		return
	}
	now := p.now()
	p.mu.Lock()
	g, ok := p.codes[f.Get("code")]
	if ok && g.used {
		// RFC 6749 §4.1.2: a code used twice revokes the tokens it issued.
		delete(p.tokens, g.accessToken)
		p.mu.Unlock()
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the authorization code was already used")
		return
	}
	if ok {
		g.used = true
	}
	p.mu.Unlock()
	switch {
	case !ok:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown authorization code")
		return
	case !now.Before(g.expires):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the authorization code expired")
		return
	case g.clientID != id:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the code was issued to another client")
		return
	case f.Get("redirect_uri") != g.redirectURI:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	}
	verifier := f.Get("code_verifier")
	if verifier == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "code_verifier is required (PKCE)")
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	if len(verifier) < 43 || len(verifier) > 128 || !validPKCE(verifier) ||
		subtle.ConstantTimeCompare([]byte(b64(sum[:])), []byte(g.challenge)) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	u, ok := p.user(g.subject)
	if !ok {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the user no longer exists")
		return
	}
	access := randomString(32)
	idToken, err := p.idToken(g, u, access, now)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	p.mu.Lock()
	g.accessToken, g.accessExpires = access, now.Add(tokenTTL)
	p.tokens[access] = g
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": int(tokenTTL / time.Second),
		"id_token": idToken, "scope": strings.Join(g.scopes, " "),
	})
}

// idToken is Core §2 with the claims the scopes ask for.
func (p *Provider) idToken(g *grant, u User, access string, now time.Time) (string, error) {
	sum := sha256.Sum256([]byte(access))
	claims := map[string]any{
		"iss": p.issuer, "sub": u.Subject, "aud": g.clientID, "azp": g.clientID,
		"exp": now.Add(idTokenTTL).Unix(), "iat": now.Unix(), "auth_time": g.authTime.Unix(),
		"at_hash": b64(sum[:16]),
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	maps(claims, userClaims(u, g.scopes))
	p.mu.Lock()
	key := p.keys[0]
	var tamper func(map[string]any)
	if len(p.tamper) > 0 {
		tamper, p.tamper = p.tamper[0], p.tamper[1:]
	}
	if p.forge > 0 {
		p.forge--
		key = &signingKey{kid: key.kid, key: newSigningKey().key}
	}
	p.mu.Unlock()
	if tamper != nil {
		tamper(claims)
	}
	return sign(key, claims)
}

func maps(dst, src map[string]any) {
	for k, v := range src {
		dst[k] = v
	}
}

func userClaims(u User, scopes []string) map[string]any {
	c := map[string]any{"groups": u.Groups}
	if slices.Contains(scopes, "email") {
		c["email"], c["email_verified"] = u.Email, u.EmailVerified
	}
	if slices.Contains(scopes, "profile") {
		c["name"] = u.Name
	}
	return c
}

// userinfo is Core §5.3 (Bearer token in the header, RFC 6750).
func (p *Provider) userinfo(w http.ResponseWriter, req *http.Request) {
	tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	g, found := p.tokens[tok]
	p.mu.Unlock()
	if !ok || !found || !p.now().Before(g.accessExpires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	u, exists := p.user(g.subject)
	if !exists {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	c := userClaims(u, g.scopes)
	c["sub"] = u.Subject
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c)
}

// endSession is RP-Initiated Logout 1.0: it ends the provider session and
// returns to a registered post_logout_redirect_uri (with state) or shows a
// signed-out page.
func (p *Provider) endSession(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	var hintSub, hintAud string
	if hint := q.Get("id_token_hint"); hint != "" {
		claims, err := p.verifyOwnToken(hint)
		if err != nil {
			http.Error(w, "Sign-out refused: id_token_hint is not an ID token of this provider", http.StatusBadRequest)
			return
		}
		hintSub, _ = claims["sub"].(string)
		hintAud, _ = claims["aud"].(string)
	}
	clientID := q.Get("client_id")
	if clientID != "" && clientID != p.opts.ClientID || hintAud != "" && clientID != "" && hintAud != clientID {
		http.Error(w, "Sign-out refused: unknown client_id", http.StatusBadRequest)
		return
	}
	post := q.Get("post_logout_redirect_uri")
	if post != "" && (clientID == "" && hintAud == "" || !slices.Contains(p.opts.PostLogoutRedirectURIs, post)) {
		http.Error(w, "Sign-out refused: post_logout_redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	sub := hintSub
	if c, err := req.Cookie(cookieName); err == nil {
		p.mu.Lock()
		if sub == "" {
			sub = p.sessions[c.Value]
		}
		delete(p.sessions, c.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/oidc", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.opts.TLS})
	select {
	case p.logouts <- Logout{Subject: sub, PostLogoutRedirectURI: post}:
	default:
	}
	if post != "" {
		v := url.Values{}
		if s := q.Get("state"); s != "" {
			v.Set("state", s)
		}
		if len(v) > 0 {
			post = withQuery(post, v)
		}
		http.Redirect(w, req, post, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><title>Signed out</title><p>You are signed out of the demo identity provider.</p>`)
}

// verifyOwnToken checks a JWT's signature against the provider's keys
// (expired tokens are fine as a hint).
func (p *Provider) verifyOwnToken(raw string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWS")
	}
	var hdr struct{ Alg, Kid string }
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "RS256" {
		return nil, errors.New("bad header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	p.mu.Lock()
	keys := slices.Clone(p.keys)
	p.mu.Unlock()
	for _, k := range keys {
		if k.kid == hdr.Kid && rsa.VerifyPKCS1v15(&k.key.PublicKey, crypto.SHA256, sum[:], sig) == nil {
			pb, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				return nil, err
			}
			var claims map[string]any
			if err := json.Unmarshal(pb, &claims); err != nil {
				return nil, err
			}
			if claims["iss"] != p.issuer {
				return nil, errors.New("another issuer")
			}
			return claims, nil
		}
	}
	return nil, errors.New("unknown key or bad signature")
}

func sign(k *signingKey, claims map[string]any) (string, error) {
	hdr, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": k.kid})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(hdr) + "." + b64(body)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign id token: %w", err)
	}
	return input + "." + b64(sig), nil
}

func newSigningKey() *signingKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("oidcsim: generate key: %v", err))
	}
	return &signingKey{kid: randomString(8), key: key}
}

// validPKCE: RFC 7636 §4.1 unreserved characters only.
func validPKCE(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '~') {
			return false
		}
	}
	return s != ""
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
