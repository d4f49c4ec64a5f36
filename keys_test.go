package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// TestKeyRotationReseals is the operator's rotation: connect Jira under key A,
// restart with "B,A" (the start re-seals), restart with B alone and expire
// the Jira access token: a new request still reaches Jira, through a refresh
// that needs the re-sealed refresh token. Then `privilege rotate-keys` moves
// everything to C, and refuses loudly when no configured key opens a secret.
func TestKeyRotationReseals(t *testing.T) {
	for _, dialect := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(dialect), func(t *testing.T) {
			const (
				keyA = "key-a-key-a-key-a-key-a-key-a-key-a"
				keyB = "key-b-key-b-key-b-key-b-key-b-key-b"
				keyC = "key-c-key-c-key-c-key-c-key-c-key-c"
			)
			ctx := context.Background()
			sim := testenv.StartSim(t, jirasim.Options{CloudRedirectURIs: []string{testenv.Callback}})
			site := testenv.AddAcme(sim)
			id, secret := sim.CloudClient()
			addr := freeAddr(t)
			vars := map[string]string{
				"PRIVILEGE_ADDR": addr, "PRIVILEGE_BASE_URL": "http://" + addr, "PRIVILEGE_DATA_DIR": t.TempDir(),
				"PRIVILEGE_ATLASSIAN_AUTH_URL": sim.AuthURL(), "PRIVILEGE_ATLASSIAN_API_URL": sim.APIURL(),
				"PRIVILEGE_ATLASSIAN_CLIENT_ID": id, "PRIVILEGE_ATLASSIAN_CLIENT_SECRET": secret,
				"PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8", "PRIVILEGE_JIRA_RATE_LIMIT": "0", "PRIVILEGE_LOG_LEVEL": "error",
			}
			if dialect == models.DialectPostgres {
				vars["PRIVILEGE_DATABASE_URL"] = modeltest.PostgresSchemaURL(t)
			}
			withKeys := func(keys string) map[string]string {
				m := map[string]string{"PRIVILEGE_SECRET_KEY": keys}
				for k, v := range vars {
					m[k] = v
				}
				return m
			}

			// Key A: Jira connected, a project linked.
			cfg, err := loadConfig(env(withKeys(keyA)))
			if err != nil {
				t.Fatal(err)
			}
			a, err := openApp(ctx, cfg, newLogger(io.Discard, cfg.LogLevel))
			if err != nil {
				t.Fatal(err)
			}
			f := setUpFixture(t, a.store, sim)
			a.Close()

			// Rotation: B first, A still listed; the start re-seals.
			serveUntilReady(t, withKeys(keyB+","+keyA), "http://"+addr)()

			// A dropped; the access token expires, so syncing needs the refresh token.
			stop := serveUntilReady(t, withKeys(keyB), "http://"+addr)
			sim.ExpireAccessTokens()
			refreshes := sim.Stats().TokenRefreshes
			var created struct {
				ID int64 `json:"id"`
			}
			code, err := apiCall(http.DefaultClient, "POST", "http://"+addr+"/api/v1/requests", f.requester, map[string]any{
				"account_id": f.accountID, "resources": []string{"ReadOnly"}, "duration_minutes": 60, "justification": "after the rotation"}, &created)
			if err != nil || code != http.StatusCreated {
				t.Fatalf("create request: %d %v", code, err)
			}
			waitForIssue(t, site, created.ID)
			if sim.Stats().TokenRefreshes == refreshes {
				t.Fatal("the sync did not need a refresh: the test proves nothing about the refresh token")
			}
			stop()

			// `privilege rotate-keys` on demand: C first, B listed.
			out, err := runCLI(t, withKeys(keyC+","+keyB), "", "rotate-keys")
			if err != nil || !strings.Contains(out, "re-sealed 1 under the newest key") {
				t.Fatalf("rotate-keys: %q %v", out, err)
			}
			if out, err := runCLI(t, withKeys(keyC), "", "rotate-keys"); err != nil || !strings.Contains(out, "re-sealed 0") {
				t.Fatalf("rotate-keys with C alone after the re-seal: %q %v", out, err)
			}
			cfg, _ = loadConfig(env(withKeys(keyC)))
			a, err = openApp(ctx, cfg, newLogger(io.Discard, cfg.LogLevel))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := a.store.IntegrationToken(ctx, f.integrationID)
			a.Close()
			if err != nil || tok.RefreshToken == "" {
				t.Fatalf("token under C alone: %v", err)
			}
			_, err = runCLI(t, withKeys("key-d-key-d-key-d-key-d-key-d-key-d"), "", "rotate-keys")
			if err == nil || !strings.Contains(err.Error(), "sealed under a key that is not in PRIVILEGE_SECRET_KEY") {
				t.Fatalf("rotate-keys with an unrelated key: %v", err)
			}
		})
	}
}

// serveUntilReady runs `privilege serve` in this process until the returned
// stop function is called; it returns once /readyz answers.
func serveUntilReady(t *testing.T, vars map[string]string, base string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, env(vars), strings.NewReader(""), io.Discard, io.Discard) }()
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop")
		}
	}
	t.Cleanup(stop)
	waitHealthy(t, base)
	return stop
}

// waitForIssue polls the simulator until the request's task exists.
func waitForIssue(t *testing.T, site *jirasim.Site, requestID int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, is := range site.Issues() {
			if is.HasLabel(jira.CorrelationLabel(requestID)) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
	t.Fatalf("request %d never reached Jira", requestID)
}
