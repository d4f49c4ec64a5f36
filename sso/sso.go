// Package sso signs people in to the console through an OpenID Connect
// provider (design.md §11): discovery from the issuer, the authorization code
// flow with PKCE (S256), state and nonce, ID token verification through the
// provider's JWKS (github.com/coreos/go-oidc/v3), email_verified required,
// and roles mapped from a groups claim. It also builds the RP-initiated
// logout URL when the provider's discovery offers an end_session_endpoint.
//
// The handlers keep the Flow of a sign-in in the pre-login session and hand
// it back with the callback's query; this package never stores anything.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"privilege/models"
)

// Config is the relying party's configuration (PRIVILEGE_OIDC_*).
type Config struct {
	Issuer         string
	ClientID       string
	ClientSecret   string // empty for a public client (PKCE only)
	Name           string // the provider's name on the sign-in button
	Scopes         []string
	RedirectURL    string // {BASE_URL}/auth/oidc/callback
	GroupsClaim    string
	AdminGroups    []string
	ApproverGroups []string
	DefaultRole    models.Role // "" refuses users in none of the groups
	// HTTPClient makes every call to the provider (discovery, JWKS, token,
	// userinfo): the same guarded client as Jira's.
	HTTPClient *http.Client
	// Now is the clock of flow expiry and token expiry checks (default time.Now).
	Now func() time.Time
}

// FlowTTL bounds the time between pressing "Sign in with …" and the callback.
const FlowTTL = 10 * time.Minute

// callTimeout bounds each round trip to the provider.
const callTimeout = 20 * time.Second

// Client is the relying party. Discovery happens at the first sign-in and is
// retried until it succeeds, so a provider that is down at start does not
// stop the console.
type Client struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider
	meta     providerMeta
}

// providerMeta are the discovery fields go-oidc does not expose.
type providerMeta struct {
	EndSession        string   `json:"end_session_endpoint"`
	TokenAuthMethods  []string `json:"token_endpoint_auth_methods_supported"`
	ChallengeMethods  []string `json:"code_challenge_methods_supported"`
	ResponseTypes     []string `json:"response_types_supported"`
	IssuerParamInResp bool     `json:"authorization_response_iss_parameter_supported"`
}

// New returns a relying party for cfg.
func New(cfg Config) *Client {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.Name == "" {
		cfg.Name = "SSO"
	}
	return &Client{cfg: cfg}
}

// Name is the provider's name for the sign-in button.
func (c *Client) Name() string { return c.cfg.Name }

// Flow is one sign-in in progress, kept in the browser's pre-login session
// (an encrypted, signed cookie) between Start and Finish.
type Flow struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Next     string    `json:"next"`
	Expires  time.Time `json:"expires"`
}

// Identity is who signed in, with the role their groups give.
type Identity struct {
	models.OIDCIdentity
	Groups []string
	// IDToken is the raw ID token, the id_token_hint of RP-initiated logout.
	IDToken string
}

// Reason classifies a refused sign-in so the handlers can say what happened.
type Reason int

const (
	ReasonState            Reason = iota + 1 // missing, forged, replayed or expired state
	ReasonProvider                           // the provider answered the authorization with an error
	ReasonUnavailable                        // the provider could not be reached or misbehaved
	ReasonToken                              // the ID token failed verification
	ReasonUnverified                         // email missing or not verified
	ReasonNoRole                             // no matching group and no default role
	ReasonBadCallback                        // the callback lacks a code
	ReasonIssuerMixup                        // the callback's iss names another issuer
	ReasonMissingClaim                       // sub or email absent
	ReasonUserinfoMismatch                   // userinfo's sub differs from the ID token's
)

// Error is a refused or failed sign-in. Message is safe to show; Err (when
// set) carries the technical detail for the log.
type Error struct {
	Reason  Reason
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "sso: " + e.Message + ": " + e.Err.Error()
	}
	return "sso: " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func fail(r Reason, msg string, err error) *Error { return &Error{Reason: r, Message: msg, Err: err} }

// discover returns the provider, fetching the discovery document once.
func (c *Client) discover(ctx context.Context) (*oidc.Provider, providerMeta, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, c.meta, nil
	}
	ctx, cancel := context.WithTimeout(c.clientCtx(ctx), callTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
	if err != nil {
		return nil, providerMeta{}, fmt.Errorf("discovery at %s: %w", c.cfg.Issuer, err)
	}
	var meta providerMeta
	if err := p.Claims(&meta); err != nil {
		return nil, providerMeta{}, fmt.Errorf("discovery at %s: %w", c.cfg.Issuer, err)
	}
	if len(meta.ResponseTypes) > 0 && !slices.Contains(meta.ResponseTypes, "code") {
		return nil, providerMeta{}, fmt.Errorf("discovery at %s: the provider does not offer the authorization code flow (response_types_supported %v)", c.cfg.Issuer, meta.ResponseTypes)
	}
	c.provider, c.meta = p, meta
	return p, meta, nil
}

// discoveryFailure tells a wrong issuer setting from an unreachable provider.
func discoveryFailure(err error) *Error {
	var mismatch *oidc.IssuerMismatchError
	if errors.As(err, &mismatch) {
		return fail(ReasonUnavailable, "Single sign-on is misconfigured: the provider calls itself "+mismatch.Discovered+", not the configured PRIVILEGE_OIDC_ISSUER. Ask your administrator", err)
	}
	return fail(ReasonUnavailable, "The sign-in provider cannot be reached. Try again in a minute", err)
}

func (c *Client) clientCtx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, c.cfg.HTTPClient)
}

func (c *Client) oauth2Config(p *oidc.Provider, meta providerMeta) *oauth2.Config {
	ep := p.Endpoint()
	// client_secret_basic is the default (OpenID Connect Core §9); a
	// provider that lists only client_secret_post gets the form body.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if c.cfg.ClientSecret == "" || len(meta.TokenAuthMethods) > 0 &&
		!slices.Contains(meta.TokenAuthMethods, "client_secret_basic") && slices.Contains(meta.TokenAuthMethods, "client_secret_post") {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret,
		Endpoint: ep, RedirectURL: c.cfg.RedirectURL, Scopes: c.cfg.Scopes,
	}
}

// Start begins a sign-in: it returns the flow to keep in the session and the
// provider's authorization URL to send the browser to.
func (c *Client) Start(ctx context.Context, next string) (Flow, string, error) {
	p, meta, err := c.discover(ctx)
	if err != nil {
		return Flow{}, "", discoveryFailure(err)
	}
	f := Flow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: next, Expires: c.cfg.Now().Add(FlowTTL)}
	u := c.oauth2Config(p, meta).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	return f, u, nil
}

// Finish completes a sign-in from the callback's query: state, provider
// error, code exchange with the PKCE verifier, ID token verification
// (signature through the JWKS, issuer, audience, expiry, nonce, azp), the
// userinfo endpoint when the ID token lacks the email, its verification or
// the groups, then
// email_verified and the role.
func (c *Client) Finish(ctx context.Context, f Flow, q url.Values) (Identity, error) {
	if f.State == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return Identity{}, fail(ReasonState, "This sign-in link is not the one your browser started, or it was already used", nil)
	}
	if !c.cfg.Now().Before(f.Expires) {
		return Identity{}, fail(ReasonState, "The sign-in took too long", nil)
	}
	// RFC 9207: a callback naming another issuer is a mix-up attack.
	if iss := q.Get("iss"); iss != "" && iss != c.cfg.Issuer {
		return Identity{}, fail(ReasonIssuerMixup, "The sign-in answer came from another provider", fmt.Errorf("iss %q", iss))
	}
	if e := q.Get("error"); e != "" {
		msg := "The sign-in provider refused the sign-in (" + clip(e, 60) + ")"
		if d := q.Get("error_description"); d != "" {
			msg += ": " + clip(d, 200)
		}
		return Identity{}, fail(ReasonProvider, msg, nil)
	}
	code := q.Get("code")
	if code == "" {
		return Identity{}, fail(ReasonBadCallback, "The sign-in answer has no authorization code", nil)
	}
	p, meta, err := c.discover(ctx)
	if err != nil {
		return Identity{}, discoveryFailure(err)
	}
	ctx, cancel := context.WithTimeout(c.clientCtx(ctx), callTimeout)
	defer cancel()
	conf := c.oauth2Config(p, meta)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode != "" {
			return Identity{}, fail(ReasonToken, "The sign-in provider did not accept the authorization code ("+clip(re.ErrorCode, 60)+")", err)
		}
		return Identity{}, fail(ReasonUnavailable, "The sign-in provider's token endpoint failed", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fail(ReasonToken, "The sign-in provider sent no ID token", nil)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, Now: c.cfg.Now}).Verify(ctx, raw)
	if err != nil {
		return Identity{}, fail(ReasonToken, "The sign-in provider's ID token is not valid", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return Identity{}, fail(ReasonToken, "The sign-in provider's ID token is not valid", errors.New("nonce mismatch"))
	}
	var std struct {
		AZP string `json:"azp"`
	}
	if err := idt.Claims(&std); err != nil {
		return Identity{}, fail(ReasonToken, "The sign-in provider's ID token is not valid", err)
	}
	// Core §3.1.3.7: with several audiences, azp must name this client.
	if (len(idt.Audience) > 1 || std.AZP != "") && std.AZP != c.cfg.ClientID {
		return Identity{}, fail(ReasonToken, "The sign-in provider's ID token is not valid", fmt.Errorf("azp %q is not this client", std.AZP))
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return Identity{}, fail(ReasonToken, "The sign-in provider's ID token is not valid", err)
		}
	}
	var all map[string]json.RawMessage
	if err := idt.Claims(&all); err != nil {
		return Identity{}, fail(ReasonToken, "The sign-in provider's ID token is not valid", err)
	}
	cl := readClaims(all, c.cfg.GroupsClaim)
	if (!cl.hasEmail || !cl.hasVerified || !cl.hasGroups) && p.UserInfoEndpoint() != "" {
		err := addUserinfo(ctx, p, tok, idt.Subject, all)
		var se *Error
		switch {
		case errors.As(err, &se) && se.Reason == ReasonUserinfoMismatch, err != nil && (!cl.hasEmail || !cl.hasVerified):
			return Identity{}, err
		case err == nil:
			cl = readClaims(all, c.cfg.GroupsClaim)
		}
		// Otherwise only the groups were missing (Google never sends any):
		// go on with the ID token, so the default role (or the refusal) applies.
	}
	if idt.Subject == "" {
		return Identity{}, fail(ReasonMissingClaim, "The sign-in provider's ID token names nobody (no sub)", nil)
	}
	if cl.email == "" {
		return Identity{}, fail(ReasonUnverified, "Your sign-in provider shares no email address with Privilege. Ask your administrator to release the email claim", nil)
	}
	if !cl.emailVerified {
		return Identity{}, fail(ReasonUnverified, "Your email address "+cl.email+" is not verified at your sign-in provider. Verify it there, then sign in again", nil)
	}
	role, ok := c.RoleFor(cl.groups)
	if !ok {
		return Identity{}, fail(ReasonNoRole, "Your account ("+cl.email+") is in none of the groups that may use Privilege. Ask your administrator to add you to one", nil)
	}
	return Identity{
		OIDCIdentity: models.OIDCIdentity{Issuer: idt.Issuer, Subject: idt.Subject, Email: cl.email, Name: cl.name, Role: role},
		Groups:       cl.groups, IDToken: raw,
	}, nil
}

// addUserinfo adds the userinfo endpoint's claims to those of the ID token
// (which win), after checking that they are about the same subject.
func addUserinfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, sub string, all map[string]json.RawMessage) error {
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fail(ReasonUnavailable, "The sign-in provider's userinfo endpoint failed", err)
	}
	// Core §5.3.2: the userinfo sub must equal the ID token's.
	if ui.Subject != sub {
		return fail(ReasonUserinfoMismatch, "The sign-in provider's userinfo answer is for someone else", fmt.Errorf("sub %q, ID token sub %q", ui.Subject, sub))
	}
	var more map[string]json.RawMessage
	if err := ui.Claims(&more); err != nil {
		return fail(ReasonUnavailable, "The sign-in provider's userinfo answer cannot be read", err)
	}
	for k, v := range more {
		if _, ok := all[k]; !ok {
			all[k] = v
		}
	}
	return nil
}

// RoleFor maps groups to a role: admin groups first, then approver groups,
// then the default role; false when none applies.
func (c *Client) RoleFor(groups []string) (models.Role, bool) {
	in := func(list []string) bool {
		for _, g := range groups {
			if slices.Contains(list, g) {
				return true
			}
		}
		return false
	}
	switch {
	case in(c.cfg.AdminGroups):
		return models.RoleAdmin, true
	case in(c.cfg.ApproverGroups):
		return models.RoleApprover, true
	case c.cfg.DefaultRole != "":
		return c.cfg.DefaultRole, true
	}
	return "", false
}

// LogoutURL is where a signed-out browser continues when the provider's
// discovery offers an end_session_endpoint (OpenID Connect RP-Initiated
// Logout 1.0): with the ID token as hint (when kept), this client's id and
// the page to come back to, which must be registered at the provider.
func (c *Client) LogoutURL(ctx context.Context, idTokenHint, postLogout string) (string, bool) {
	_, meta, err := c.discover(ctx)
	if err != nil || meta.EndSession == "" {
		return "", false
	}
	u, err := url.Parse(meta.EndSession)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", false
	}
	q := u.Query()
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	q.Set("client_id", c.cfg.ClientID)
	q.Set("post_logout_redirect_uri", postLogout)
	u.RawQuery = q.Encode()
	return u.String(), true
}

// claims are the parts of the ID token (and userinfo) the console reads.
type claims struct {
	email         string
	hasEmail      bool
	emailVerified bool
	hasVerified   bool
	name          string
	groups        []string
	hasGroups     bool
}

func readClaims(all map[string]json.RawMessage, groupsClaim string) claims {
	var cl claims
	if raw, ok := all["email"]; ok {
		cl.hasEmail = json.Unmarshal(raw, &cl.email) == nil && cl.email != ""
	}
	if raw, ok := all["email_verified"]; ok {
		cl.emailVerified, cl.hasVerified = jsonTrue(raw), true
	} else if raw, ok := all["xms_edov"]; ok {
		// Microsoft Entra ID sends no email_verified; its optional claim
		// xms_edov ("email domain owner verified") is Microsoft's answer to
		// the same question. An explicit email_verified always wins.
		cl.emailVerified, cl.hasVerified = jsonTrue(raw), true
	}
	for _, k := range []string{"name", "preferred_username"} {
		if raw, ok := all[k]; ok && json.Unmarshal(raw, &cl.name) == nil && cl.name != "" {
			break
		}
	}
	if raw, ok := all[groupsClaim]; ok {
		cl.hasGroups = true
		var list []string
		var one string
		switch {
		case json.Unmarshal(raw, &list) == nil:
			cl.groups = list
		case json.Unmarshal(raw, &one) == nil: // a single group as a string
			cl.groups = []string{one}
		}
	}
	return cl
}

// jsonTrue reads a boolean claim sent as true, "true" or 1 (providers differ).
func jsonTrue(raw json.RawMessage) bool {
	var b bool
	var s string
	var n int
	switch {
	case json.Unmarshal(raw, &b) == nil:
		return b
	case json.Unmarshal(raw, &s) == nil:
		return s == "true" || s == "1"
	case json.Unmarshal(raw, &n) == nil:
		return n == 1
	}
	return false
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len([]rune(s)) > n {
		return string([]rune(s)[:n]) + "…"
	}
	return s
}
