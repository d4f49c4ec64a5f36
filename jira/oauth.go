package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"privilege/models"
)

// Scopes requested at consent time.
const (
	// CloudScopes: offline_access is the only way to get a refresh token.
	CloudScopes = "read:jira-work write:jira-work read:jira-user manage:jira-webhook offline_access"
	// DCScopes: WRITE includes READ on Jira DC.
	DCScopes = "WRITE"

	cloudWriteScope = "write:jira-work"
	oauthTimeout    = 15 * time.Second
)

// OAuthConfig is the Atlassian OAuth setup of the deployment.
type OAuthConfig struct {
	AuthURL           string // PRIVILEGE_ATLASSIAN_AUTH_URL, e.g. https://auth.atlassian.com
	APIURL            string // PRIVILEGE_ATLASSIAN_API_URL, e.g. https://api.atlassian.com
	CloudClientID     string
	CloudClientSecret string
	RedirectURL       string       // {PRIVILEGE_BASE_URL}/... callback, shared by Cloud and DC
	HTTPClient        *http.Client // the guarded outbound client
}

// OAuth runs the consent flows and token refreshes for Cloud and DC.
type OAuth struct {
	cfg OAuthConfig
}

// NewOAuth returns an OAuth for cfg. A nil HTTPClient means a guarded
// client with default settings.
func NewOAuth(cfg OAuthConfig) *OAuth {
	cfg.AuthURL = strings.TrimRight(cfg.AuthURL, "/")
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = NewHTTPClient(OutboundConfig{})
	}
	return &OAuth{cfg: cfg}
}

// APIURL is the Atlassian API gateway base (no trailing slash).
func (o *OAuth) APIURL() string { return o.cfg.APIURL }

// CloudConfigured reports whether the operator configured the Atlassian
// Cloud OAuth app (PRIVILEGE_ATLASSIAN_CLIENT_ID); without it only Data
// Center can be connected.
func (o *OAuth) CloudConfigured() bool { return o.cfg.CloudClientID != "" }

// RedirectURL is the callback URL an admin registers on the OAuth app.
func (o *OAuth) RedirectURL() string { return o.cfg.RedirectURL }

func (o *OAuth) cloudConfig() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     o.cfg.CloudClientID,
		ClientSecret: o.cfg.CloudClientSecret,
		RedirectURL:  o.cfg.RedirectURL,
		Scopes:       strings.Fields(CloudScopes),
		Endpoint: oauth2.Endpoint{
			AuthURL:   o.cfg.AuthURL + "/authorize",
			TokenURL:  o.cfg.AuthURL + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func (o *OAuth) dcConfig(baseURL, clientID, clientSecret string) *oauth2.Config {
	base := strings.TrimRight(baseURL, "/")
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  o.cfg.RedirectURL,
		Scopes:       strings.Fields(DCScopes),
		Endpoint: oauth2.Endpoint{
			AuthURL:   base + "/rest/oauth2/latest/authorize",
			TokenURL:  base + "/rest/oauth2/latest/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// CloudAuthCodeURL is the Atlassian consent page address for state.
func (o *OAuth) CloudAuthCodeURL(state string) string {
	return o.cloudConfig().AuthCodeURL(state,
		oauth2.SetAuthURLParam("audience", "api.atlassian.com"),
		oauth2.SetAuthURLParam("prompt", "consent"),
	)
}

// GenerateVerifier returns a fresh PKCE code verifier for DCAuthCodeURL.
func GenerateVerifier() string { return oauth2.GenerateVerifier() }

// DCAuthCodeURL is the Jira DC consent page address, with PKCE S256.
func (o *OAuth) DCAuthCodeURL(baseURL, clientID, state, verifier string) string {
	return o.dcConfig(baseURL, clientID, "").AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

func (o *OAuth) clientContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, o.cfg.HTTPClient)
}

// ExchangeCloud trades an authorization code for Cloud tokens.
func (o *OAuth) ExchangeCloud(ctx context.Context, code string) (models.OAuthToken, error) {
	ctx, cancel := context.WithTimeout(ctx, oauthTimeout)
	defer cancel()
	tok, err := o.cloudConfig().Exchange(o.clientContext(ctx), code)
	if err != nil {
		return models.OAuthToken{}, fmt.Errorf("jira: exchange Atlassian authorization code: %w", tokenEndpointError(err))
	}
	return fromOAuth2(tok, ""), nil
}

// ExchangeDC trades an authorization code (and its PKCE verifier) for DC tokens.
func (o *OAuth) ExchangeDC(ctx context.Context, baseURL, clientID, clientSecret, code, verifier string) (models.OAuthToken, error) {
	ctx, cancel := context.WithTimeout(ctx, oauthTimeout)
	defer cancel()
	tok, err := o.dcConfig(baseURL, clientID, clientSecret).Exchange(o.clientContext(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return models.OAuthToken{}, fmt.Errorf("jira: exchange Jira authorization code: %w", tokenEndpointError(err))
	}
	return fromOAuth2(tok, ""), nil
}

// Refresh spends refreshToken for a new token pair. When the answer carries
// no new refresh token, the old one is kept. An invalid_grant answer (any
// status) becomes ErrReconnectRequired. Callers should go through the
// TokenManager, which makes sure a refresh token is spent only once.
func (o *OAuth) Refresh(ctx context.Context, conn Connection, refreshToken string) (models.OAuthToken, error) {
	if refreshToken == "" {
		return models.OAuthToken{}, fmt.Errorf("jira: refresh token: %w: no refresh token is stored", ErrReconnectRequired)
	}
	cfg := o.cloudConfig()
	if !conn.isCloud() {
		cfg = o.dcConfig(conn.BaseURL, conn.ClientID, conn.ClientSecret)
	}
	ctx, cancel := context.WithTimeout(ctx, oauthTimeout)
	defer cancel()
	tok, err := cfg.TokenSource(o.clientContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return models.OAuthToken{}, fmt.Errorf("jira: refresh token: %w", tokenEndpointError(err))
	}
	return fromOAuth2(tok, refreshToken), nil
}

// tokenEndpointError turns an OAuth error answer into words and sentinels,
// without echoing the request (which holds secrets).
func tokenEndpointError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	desc := truncateRunes(strings.TrimSpace(re.ErrorDescription), 300)
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	switch re.ErrorCode {
	case "invalid_grant":
		if desc == "" {
			desc = "the authorization was revoked or has expired"
		}
		return fmt.Errorf("%w: the token endpoint said: %s", ErrReconnectRequired, desc)
	case "invalid_client":
		// The client id or secret was refused (a Data Center incoming link
		// recreated, an OAuth app rotated): nothing works until an admin
		// reconnects with the current credentials.
		if desc == "" {
			desc = "the client id or secret is no longer valid"
		}
		return fmt.Errorf("%w: the token endpoint refused the client credentials: %s", ErrReconnectRequired, desc)
	}
	switch {
	case re.ErrorCode != "" && desc != "":
		return fmt.Errorf("the token endpoint answered %s: %s (HTTP %d)", re.ErrorCode, desc, status)
	case re.ErrorCode != "":
		return fmt.Errorf("the token endpoint answered %s (HTTP %d)", re.ErrorCode, status)
	case status >= 500:
		return &ServerError{Status: status}
	default:
		return fmt.Errorf("the token endpoint answered HTTP %d", status)
	}
}

func fromOAuth2(tok *oauth2.Token, previousRefresh string) models.OAuthToken {
	out := models.OAuthToken{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
	}
	if out.RefreshToken == "" {
		out.RefreshToken = previousRefresh
	}
	if s, ok := tok.Extra("scope").(string); ok {
		out.Scope = s
	}
	return out
}

// AccessibleResources lists the Cloud sites the access token may reach.
func (o *OAuth) AccessibleResources(ctx context.Context, accessToken string) ([]Site, error) {
	ctx, cancel := context.WithTimeout(ctx, oauthTimeout)
	defer cancel()
	var sites []Site
	err := getJSON(ctx, o.cfg.HTTPClient, o.cfg.APIURL+"/oauth/token/accessible-resources", accessToken, &sites)
	if err != nil {
		return nil, fmt.Errorf("jira: list accessible Jira sites: %w", err)
	}
	for i := range sites {
		sites[i].URL = strings.TrimRight(sites[i].URL, "/")
	}
	return sites, nil
}

// CheckWriteScope reports ErrMissingWriteScope unless the granted scope
// (space separated, as in models.OAuthToken.Scope) allows writing issues:
// write:jira-work on Cloud, WRITE (or ADMIN, SYSTEM_ADMIN) on DC. DC may not
// report scopes at all; an empty DC scope is accepted.
func CheckWriteScope(d models.Deployment, grantedScope string) error {
	scopes := strings.Fields(grantedScope)
	if d == models.DeploymentCloud {
		if slices.Contains(scopes, cloudWriteScope) {
			return nil
		}
		return fmt.Errorf("jira: %w: Atlassian granted %q, %s is needed to create and update issues", ErrMissingWriteScope, grantedScope, cloudWriteScope)
	}
	if len(scopes) == 0 {
		return nil
	}
	for _, s := range scopes {
		switch strings.ToUpper(s) {
		case "WRITE", "ADMIN", "SYSTEM_ADMIN":
			return nil
		}
	}
	return fmt.Errorf("jira: %w: Jira granted %q; the incoming link must allow the WRITE scope", ErrMissingWriteScope, grantedScope)
}

// CheckSiteWriteScope is CheckWriteScope for one Cloud site's scopes.
func CheckSiteWriteScope(s Site) error {
	if slices.Contains(s.Scopes, cloudWriteScope) {
		return nil
	}
	return fmt.Errorf("jira: site %s: %w (%s is needed)", s.URL, ErrMissingWriteScope, cloudWriteScope)
}

// ProbeServerInfo asks {base}/rest/api/2/serverInfo without credentials
// and returns ErrNotJira when the answer is not Jira's.
func (o *OAuth) ProbeServerInfo(ctx context.Context, baseURL string) (ServerInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, oauthTimeout)
	defer cancel()
	base := strings.TrimRight(baseURL, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/rest/api/2/serverInfo", nil)
	if err != nil {
		return ServerInfo{}, fmt.Errorf("jira: check %s: %w", base, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := o.cfg.HTTPClient.Do(req)
	if err != nil {
		return ServerInfo{}, fmt.Errorf("jira: check %s: %w", base, err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ServerInfo{}, fmt.Errorf("jira: check %s: %w: /rest/api/2/serverInfo answered HTTP %d; check the Base URL, including any context path such as /jira", base, ErrNotJira, resp.StatusCode)
	}
	var info ServerInfo
	if err := decodeJSON(resp, &info); err != nil {
		return ServerInfo{}, fmt.Errorf("jira: check %s: %w: /rest/api/2/serverInfo did not answer with Jira's JSON", base, ErrNotJira)
	}
	if info.Version == "" || info.DeploymentType == "" {
		return ServerInfo{}, fmt.Errorf("jira: check %s: %w: the answer has no Jira version or deployment type", base, ErrNotJira)
	}
	return info, nil
}

// getJSON is a bare authenticated GET used outside a Client (no refresh).
func getJSON(ctx context.Context, hc *http.Client, rawURL, accessToken string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := hc.Do(req)
	if err != nil {
		return redactURLError(err)
	}
	defer drainClose(resp.Body)
	if resp.StatusCode == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unexpected HTTP %d", resp.StatusCode)
	}
	return decodeJSON(resp, out)
}

// decodeJSON decodes a size-limited JSON body.
func decodeJSON(resp *http.Response, out any) error {
	body, err := readLimited(resp.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode Jira's answer: %w", err)
	}
	return nil
}

var errBodyTooLarge = fmt.Errorf("Jira's answer is larger than %d bytes", maxResponseBytes)

func readLimited(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxResponseBytes {
		return nil, errBodyTooLarge
	}
	return body, nil
}

func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// redactURLError drops the query string from a *url.Error, which never
// carries tokens here but may carry long JQL.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			u.User = nil
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
