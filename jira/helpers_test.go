package jira

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"privilege/models"
)

// memStore is an in-memory TokenStore standing in for the database in
// these unit tests. It models the lease as owner + expiry.
type memStore struct {
	mu         sync.Mutex
	now        func() time.Time
	tok        models.OAuthToken
	leaseOwner string
	leaseUntil time.Time
	saves      []models.OAuthToken
	reconnect  string
	reads      atomic.Int64
}

func newMemStore(tok models.OAuthToken) *memStore {
	return &memStore{tok: tok, now: time.Now}
}

func (s *memStore) IntegrationToken(_ context.Context, _ int64) (models.OAuthToken, error) {
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, nil
}

func (s *memStore) TryLockTokenRefresh(_ context.Context, _ int64, owner string, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leaseOwner != "" && s.leaseOwner != owner && s.now().Before(s.leaseUntil) {
		return false, nil
	}
	s.leaseOwner, s.leaseUntil = owner, until
	return true, nil
}

func (s *memStore) SaveRefreshedToken(_ context.Context, _ int64, owner string, tok models.OAuthToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leaseOwner != owner {
		return errors.New("memStore: lease not held by " + owner)
	}
	s.tok = tok
	s.saves = append(s.saves, tok)
	s.leaseOwner = ""
	return nil
}

func (s *memStore) UnlockTokenRefresh(_ context.Context, _ int64, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leaseOwner == owner {
		s.leaseOwner = ""
	}
	return nil
}

func (s *memStore) MarkReconnectRequired(_ context.Context, _ int64, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reconnect = reason
	return nil
}

func (s *memStore) token() models.OAuthToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok
}

func validToken(access string) models.OAuthToken {
	return models.OAuthToken{AccessToken: access, RefreshToken: "refresh-1", Expiry: time.Now().Add(time.Hour), Scope: CloudScopes}
}

func expiredToken(access string) models.OAuthToken {
	return models.OAuthToken{AccessToken: access, RefreshToken: "refresh-1", Expiry: time.Now().Add(-time.Minute)}
}

// testEnv is one fake Atlassian/Jira server plus clients pointed at it.
type testEnv struct {
	t          *testing.T
	srv        *httptest.Server
	mux        *http.ServeMux
	store      *memStore
	clients    *Clients
	conn       Connection
	tokenCalls atomic.Int64
	// tokenHandler answers the token endpoint; default issues access-N.
	tokenHandler func(w http.ResponseWriter, r *http.Request)
}

const testCloudID = "cloud-1"

func loopbackOnly() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }

func newTestEnv(t *testing.T, deployment models.Deployment, tok models.OAuthToken) *testEnv {
	t.Helper()
	env := &testEnv{t: t, mux: http.NewServeMux(), store: newMemStore(tok)}
	env.tokenHandler = env.rotateTokens
	tokenEndpoint := func(w http.ResponseWriter, r *http.Request) {
		env.tokenCalls.Add(1)
		env.tokenHandler(w, r)
	}
	env.mux.HandleFunc("POST /oauth/token", tokenEndpoint)
	env.mux.HandleFunc("POST /jira/rest/oauth2/latest/token", tokenEndpoint)
	env.srv = httptest.NewServer(env.mux)
	t.Cleanup(env.srv.Close)

	hc := NewHTTPClient(OutboundConfig{AllowCIDRs: loopbackOnly(), Timeout: 10 * time.Second})
	oauth := NewOAuth(OAuthConfig{
		AuthURL: env.srv.URL, APIURL: env.srv.URL,
		CloudClientID: "cid", CloudClientSecret: "csecret",
		RedirectURL: "https://privilege.example/oauth/callback", HTTPClient: hc,
	})
	env.conn = Connection{IntegrationID: 7, Deployment: deployment}
	if deployment == models.DeploymentCloud {
		env.conn.CloudID, env.conn.SiteURL = testCloudID, "https://acme.atlassian.net/"
	} else {
		env.conn.BaseURL, env.conn.ClientID, env.conn.ClientSecret = env.srv.URL+"/jira", "dc-id", "dc-secret"
	}
	env.clients = NewClients(oauth, env.store, hc, WithTokenOptions(WithWait(noWait)))
	return env
}

func noWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// rotateTokens is a token endpoint that rotates refresh tokens.
func (env *testEnv) rotateTokens(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	n := env.tokenCalls.Load()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  "access-" + itoa(n),
		"refresh_token": "refresh-" + itoa(n+1),
		"expires_in":    3600,
		"token_type":    "Bearer",
		"scope":         CloudScopes,
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// api registers a handler for an API path below the deployment's REST base.
func (env *testEnv) api(method, path string, h http.HandlerFunc) {
	prefix := "/jira/rest/api/2"
	if env.conn.Deployment == models.DeploymentCloud {
		prefix = "/ex/jira/" + testCloudID + "/rest/api/3"
	}
	env.mux.HandleFunc(method+" "+prefix+path, h)
}

func (env *testEnv) client() *Client { return env.clients.For(env.conn) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decodeBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read body: %v", err)
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Errorf("body is not JSON: %v: %s", err, b)
	}
	return m
}

func wantBearer(t *testing.T, r *http.Request, token string) {
	t.Helper()
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q, want Bearer %s", got, token)
	}
}
