package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := loadConfig(env(map[string]string{
		"PRIVILEGE_BASE_URL":             "not a url",
		"PRIVILEGE_DATABASE_URL":         "mysql://x",
		"PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "10.0.0.0/8, nope, 169.254.0.0/16",
		"PRIVILEGE_SECRET_KEY":           "short",
		"PRIVILEGE_ATLASSIAN_CLIENT_ID":  "only-id",
		"PRIVILEGE_PENDING_TIMEOUT":      "soon",
		"PRIVILEGE_SESSION_IDLE_TIMEOUT": "forever",
		"PRIVILEGE_REQUEST_RATE_LIMIT":   "lots",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"PRIVILEGE_BASE_URL", "PRIVILEGE_DATABASE_URL", `"nope"`, "link-local", "PRIVILEGE_SECRET_KEY", "CLIENT_SECRET", "PRIVILEGE_PENDING_TIMEOUT", "PRIVILEGE_SESSION_IDLE_TIMEOUT", "PRIVILEGE_REQUEST_RATE_LIMIT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	cfg, err := loadConfig(env(nil))
	if err != nil || cfg.Addr != ":8080" || cfg.BaseURL.String() != "http://localhost:8080" || cfg.DataDir != "./data" || cfg.SessionIdle != 30*time.Minute || cfg.RequestsPerHour != 30 {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
}

func TestSecretKeyIsGeneratedOnceWithMode0600(t *testing.T) {
	dir := t.TempDir()
	cfg, err := loadConfig(env(map[string]string{"PRIVILEGE_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	first := cfg
	if gen, err := first.resolveSecretKeys(); err != nil || !gen {
		t.Fatalf("first start: generated=%v err=%v", gen, err)
	}
	st, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	second := cfg
	if gen, err := second.resolveSecretKeys(); err != nil || gen || !bytes.Equal(first.SecretKeys[0], second.SecretKeys[0]) {
		t.Fatalf("restart did not reuse the key: generated=%v err=%v", gen, err)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func runCLI(t *testing.T, vars map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, env(vars), strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

// TestCLITokenAuthenticatesAPI is the operator acceptance: users and tokens
// made on the command line drive the JSON API of a running server.
func TestCLITokenAuthenticatesAPI(t *testing.T) {
	addr := freeAddr(t)
	vars := map[string]string{"PRIVILEGE_DATA_DIR": t.TempDir(), "PRIVILEGE_ADDR": addr, "PRIVILEGE_BASE_URL": "http://" + addr}
	if _, err := runCLI(t, vars, "", "user", "create", "--email", "root@example.com", "--role", "admin", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, vars, "staple horse battery\n", "user", "create", "--email", "req@example.com", "--role", "requester", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	var ue usageError
	if _, err := runCLI(t, vars, "", "user", "create", "--email", "x@example.com"); !errors.As(err, &ue) {
		t.Fatalf("missing --role: %v", err)
	}
	if _, err := runCLI(t, vars, "", "user", "create", "--email", "bad", "--role", "boss", "--password", "short"); err == nil || !strings.Contains(err.Error(), "--role") {
		t.Fatalf("invalid user accepted or unclear: %v", err)
	}
	adminTok, err := runCLI(t, vars, "", "token", "create", "--email", "root@example.com", "--name", "ci")
	if err != nil || !strings.HasPrefix(adminTok, "prv_") || strings.Count(adminTok, "\n") != 1 {
		t.Fatalf("token output %q, %v", adminTok, err)
	}
	reqTok, _ := runCLI(t, vars, "", "token", "create", "--email", "req@example.com", "--name", "laptop")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, env(vars), strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	}()
	base := "http://" + addr
	waitHealthy(t, base)
	if _, err := runCLI(t, vars, "", "healthcheck"); err != nil {
		t.Fatalf("healthcheck: %v", err)
	}

	call := func(method, path, token, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, _ := call("GET", "/api/v1/accounts", adminTok, ""); code != 200 {
		t.Fatalf("with token: %d", code)
	}
	if code, m := call("GET", "/api/v1/accounts", "", ""); code != 401 || m["error"] == nil {
		t.Fatalf("without token: %d %v", code, m)
	}
	body := `{"provider":"aws","external_id":"123456789012","name":"Prod","resources":[{"name":"Admin","kind":"role"}]}`
	if code, m := call("POST", "/api/v1/accounts", reqTok, body); code != 403 || m["error"] == nil {
		t.Fatalf("requester on admin endpoint: %d %v", code, m)
	}
	if code, _ := call("POST", "/api/v1/accounts", adminTok, body); code != 201 {
		t.Fatalf("admin create: %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("graceful shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not shut down")
	}
}

func waitHealthy(t testing.TB, base string) {
	t.Helper()
	waitOK(t, base+"/readyz")
}

// waitLive waits for the liveness probe only.
func waitLive(t testing.TB, base string) {
	t.Helper()
	waitOK(t, base+"/healthz")
}

func waitOK(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
	t.Fatalf("%s never answered 200", url)
}

func TestUnknownCommandIsAUsageError(t *testing.T) {
	_, err := runCLI(t, map[string]string{"PRIVILEGE_DATA_DIR": t.TempDir()}, "", "frobnicate")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "usage:") {
		t.Fatalf("err = %v", err)
	}
}

// TestGCSettings: GOGC 200 and a 48 MiB soft memory limit by default; an
// operator's GOGC or GOMEMLIMIT is left to the runtime; a container limit
// smaller than the default lowers the soft limit to three quarters of it.
func TestGCSettings(t *testing.T) {
	noCgroup := func() (int64, bool) { return 0, false }
	tests := []struct {
		vars      map[string]string
		container func() (int64, bool)
		gogc      int
		limit     int64
	}{
		{nil, noCgroup, 200, 48 << 20},
		{map[string]string{"GOGC": "100"}, noCgroup, 0, 48 << 20},
		{map[string]string{"GOMEMLIMIT": "200MiB"}, noCgroup, 200, 0},
		{nil, func() (int64, bool) { return 1 << 30, true }, 200, 48 << 20},
		{nil, func() (int64, bool) { return 40 << 20, true }, 200, 30 << 20},
		{map[string]string{"GOMEMLIMIT": "20MiB"}, func() (int64, bool) { return 40 << 20, true }, 200, 0},
	}
	for _, tc := range tests {
		gogc, limit := gcSettings(env(tc.vars), tc.container)
		if gogc != tc.gogc || limit != tc.limit {
			t.Errorf("%v: gogc %d limit %d, want %d and %d", tc.vars, gogc, limit, tc.gogc, tc.limit)
		}
	}
}

// TestGCTunedFromInjectedEnv: the GC settings serve applies come from the
// getenv given to loadConfig, never from the process's own environment.
func TestGCTunedFromInjectedEnv(t *testing.T) {
	prevPercent, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
	t.Setenv("GOGC", "100") // the process's own: must not count

	cfg, err := loadConfig(env(map[string]string{"GOMEMLIMIT": "1GiB"}))
	if err != nil {
		t.Fatal(err)
	}
	tuneGC(cfg.GC)
	if p := debug.SetGCPercent(100); p != 200 {
		t.Errorf("GC percent %d, want 200 (GOGC unset in the injected env)", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("memory limit %d: set although the injected env has GOMEMLIMIT", l)
	}

	cfg, err = loadConfig(env(map[string]string{"GOGC": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	tuneGC(cfg.GC)
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GC percent %d: set although the injected env has GOGC", p)
	}
	if l := debug.SetMemoryLimit(-1); l <= 0 || l > defaultMemoryLimit {
		t.Errorf("memory limit %d, want at most %d (GOMEMLIMIT unset in the injected env)", l, defaultMemoryLimit)
	}
}
