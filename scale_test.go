package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// serveChildEnv makes this test binary behave as `privilege serve` (the same
// run function the real binary calls), so tests can start replicas.
const serveChildEnv = "PRIVILEGE_TEST_SERVE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(serveChildEnv) != "" {
		if err := run(context.Background(), []string{"serve"}, os.Getenv, os.Stdin, io.Discard, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "privilege:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// replica is one `privilege serve` process.
type replica struct {
	cmd  *exec.Cmd
	base string
}

func startReplica(t testing.TB, vars map[string]string) *replica {
	t.Helper()
	return startReplicaAt(t, freeAddr(t), t.TempDir(), vars)
}

func startReplicaAt(t testing.TB, addr, dataDir string, vars map[string]string) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveChildEnv+"=1", "PRIVILEGE_ADDR="+addr, "PRIVILEGE_BASE_URL=http://"+addr, "PRIVILEGE_DATA_DIR="+dataDir)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{cmd: cmd, base: "http://" + addr}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	return r
}

func apiCall(client *http.Client, method, url, token string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, nil
}

// TestThreeReplicasShareABurst starts three `privilege serve` processes on one
// PostgreSQL (they migrate concurrently), sends a burst of 1,000 requests and
// their decisions through the API of all three, and expires the Jira access
// token midway. Jira ends with exactly 1,000 issues, none twice, every
// decision applied, and the token refreshed without invalid_grant.
func TestThreeReplicasShareABurst(t *testing.T) {
	if testing.Short() {
		t.Skip("scale-out test skipped in -short mode")
	}
	const total = 1000
	ctx := context.Background()
	dsn := modeltest.PostgresSchemaURL(t)
	sim := testenv.StartSim(t, jirasim.Options{CloudRedirectURIs: []string{testenv.Callback}})
	site := testenv.AddAcme(sim)
	id, secret := sim.CloudClient()
	vars := map[string]string{
		"PRIVILEGE_DATABASE_URL": dsn, "PRIVILEGE_SECRET_KEY": string(modeltest.TestKey),
		"PRIVILEGE_ATLASSIAN_AUTH_URL": sim.AuthURL(), "PRIVILEGE_ATLASSIAN_API_URL": sim.APIURL(),
		"PRIVILEGE_ATLASSIAN_CLIENT_ID": id, "PRIVILEGE_ATLASSIAN_CLIENT_SECRET": secret,
		"PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8", "PRIVILEGE_JIRA_RATE_LIMIT": "0", "PRIVILEGE_LOG_LEVEL": "error",
		"PRIVILEGE_REQUEST_RATE_LIMIT": "0", // a load test: a few users make hundreds of requests
	}
	replicas := []*replica{startReplica(t, vars), startReplica(t, vars), startReplica(t, vars)}
	for _, r := range replicas {
		waitHealthy(t, r.base)
	}

	// Set up through the store, as an admin would through the console.
	db, err := models.Open(ctx, dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, _ := models.NewSealer([][]byte{modeltest.TestKey})
	store := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
	f := setUpFixture(t, store, sim)
	requester, approver := f.requester, f.approver
	refreshesBefore := sim.Stats().TokenRefreshes

	// The burst: 16 concurrent clients over the three replicas.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	ids := make([]int64, total)
	var next atomic.Int64
	var failures atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				if i == total/2 {
					sim.ExpireAccessTokens() // every replica sees 401 from now on
				}
				base := replicas[i%3].base
				var created struct {
					ID int64 `json:"id"`
				}
				code, err := apiCall(client, "POST", base+"/api/v1/requests", requester, map[string]any{
					"account_id": f.accountID, "resources": []string{"ReadOnly"}, "duration_minutes": 60, "justification": fmt.Sprint("burst ", i)}, &created)
				if err != nil || code != 201 {
					failures.Add(1)
					continue
				}
				ids[i] = created.ID
				verb := "approve"
				if i%2 == 1 {
					verb = "deny"
				}
				code, err = apiCall(client, "POST", fmt.Sprintf("%s/api/v1/requests/%d/%s", replicas[(i+1)%3].base, created.ID, verb), approver, map[string]string{"reason": "scale test"}, nil)
				if err != nil || code != 200 {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d API calls failed", f)
	}

	deadline := time.Now().Add(3 * time.Minute)
	for {
		st := modeltest.Must(store.SyncStats(ctx))
		if st.Backlog == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog still %d", st.Backlog)
		}
		time.Sleep(200 * time.Millisecond) // polling with a deadline
	}
	issues := site.Issues()
	if len(issues) != total {
		t.Fatalf("Jira holds %d issues for %d requests", len(issues), total)
	}
	byLabel := map[string]jirasim.Issue{}
	for _, is := range issues {
		for _, l := range is.Labels {
			if strings.HasPrefix(l, "privilege-request-") {
				if _, dup := byLabel[l]; dup {
					t.Fatalf("two issues for %s", l)
				}
				byLabel[l] = is
			}
		}
	}
	for i, id := range ids {
		is, ok := byLabel[jira.CorrelationLabel(id)]
		want := "Done"
		if i%2 == 1 {
			want = "Declined"
		}
		if !ok || is.Status != want {
			t.Errorf("request %d: issue %+v, want status %s", id, is.Key, want)
		}
	}
	in := modeltest.Must(store.Integration(ctx, f.integrationID))
	if in.Status != models.IntegrationConnected {
		t.Fatalf("integration %s: %s", in.Status, in.StatusReason)
	}
	if n := sim.Stats().TokenRefreshes - refreshesBefore; n != 1 {
		t.Errorf("%d token refreshes for one expiry across three replicas, want 1", n)
	}
}

// TestDeadReplicasJobsAreTakenQuickly: a replica is SIGKILLed while its
// workers wait on Jira to apply decisions; another replica finishes them
// within one short lease (renewed by the heartbeat while the dead replica
// was alive) plus a poll, not the old two-minute lease. Each task ends in
// its final status with one comment. (A create in flight at the kill is
// picked up as quickly but, being ambiguous, is only repeated after
// Jira search had time to show it: the syncer's 60 s AmbiguousGrace.)
func TestDeadReplicasJobsAreTakenQuickly(t *testing.T) {
	if testing.Short() {
		t.Skip("scale-out test skipped in -short mode")
	}
	const total = jira.DefaultSyncWorkers // one claim batch for the doomed replica
	ctx := context.Background()
	dsn := modeltest.PostgresSchemaURL(t)
	sim := testenv.StartSim(t, jirasim.Options{CloudRedirectURIs: []string{testenv.Callback}})
	site := testenv.AddAcme(sim)
	id, secret := sim.CloudClient()
	vars := map[string]string{
		"PRIVILEGE_DATABASE_URL": dsn, "PRIVILEGE_SECRET_KEY": string(modeltest.TestKey),
		"PRIVILEGE_ATLASSIAN_AUTH_URL": sim.AuthURL(), "PRIVILEGE_ATLASSIAN_API_URL": sim.APIURL(),
		"PRIVILEGE_ATLASSIAN_CLIENT_ID": id, "PRIVILEGE_ATLASSIAN_CLIENT_SECRET": secret,
		"PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8", "PRIVILEGE_JIRA_RATE_LIMIT": "0", "PRIVILEGE_LOG_LEVEL": "error",
		"PRIVILEGE_REQUEST_RATE_LIMIT": "0", // one requester makes more than an hour's allowance
	}
	doomed := startReplica(t, vars)
	waitHealthy(t, doomed.base)
	db, err := models.Open(ctx, dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, _ := models.NewSealer([][]byte{modeltest.TestKey})
	store := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
	f := setUpFixture(t, store, sim)
	waitFor := func(what string, budget time.Duration, done func() int) time.Duration {
		t.Helper()
		start := time.Now()
		for {
			n := done()
			if n == total {
				return time.Since(start)
			}
			if time.Since(start) > budget {
				t.Fatalf("%s: %d of %d after %s", what, n, total, budget)
			}
			time.Sleep(50 * time.Millisecond) // polling with a deadline
		}
	}
	issueOf := func(id int64) (jirasim.Issue, bool) {
		for _, is := range site.Issues() {
			if is.HasLabel(jira.CorrelationLabel(id)) {
				return is, true
			}
		}
		return jirasim.Issue{}, false
	}

	var ids []int64
	for i := 0; i < total; i++ {
		var created struct {
			ID int64 `json:"id"`
		}
		code, err := apiCall(http.DefaultClient, "POST", doomed.base+"/api/v1/requests", f.requester, map[string]any{
			"account_id": f.accountID, "resources": []string{"ReadOnly"}, "duration_minutes": 60, "justification": fmt.Sprint("doomed ", i)}, &created)
		if err != nil || code != 201 {
			t.Fatalf("create %d: %d %v", i, code, err)
		}
		ids = append(ids, created.ID)
	}
	waitFor("tasks created", 30*time.Second, func() int {
		n := 0
		for _, id := range ids {
			if _, ok := issueOf(id); ok {
				n++
			}
		}
		return n
	})

	// Jira hangs on transitions: the doomed replica's workers all wait on it.
	// (The simulator only notices a dead client after the wait: keep it short.)
	sim.Inject(jirasim.Fault{Method: "POST", Path: "/transitions", Latency: 30 * time.Second, Times: -1})
	for _, id := range ids {
		if code, err := apiCall(http.DefaultClient, "POST", fmt.Sprintf("%s/api/v1/requests/%d/approve", doomed.base, id), f.approver, map[string]string{"reason": "on call"}, nil); err != nil || code != 200 {
			t.Fatalf("approve %d: %d %v", id, code, err)
		}
	}
	waitFor("decision jobs running on the doomed replica", 30*time.Second, func() int {
		var running int64
		if err := db.Gorm.Raw("SELECT count(*) FROM sync_jobs WHERE state = 'running'").Scan(&running).Error; err != nil {
			t.Fatal(err)
		}
		return int(running)
	})
	survivor := startReplica(t, vars)
	waitHealthy(t, survivor.base)

	if err := doomed.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = doomed.cmd.Wait()
	sim.ClearFaults()
	const recoveryBudget = jira.DefaultLease + syncPollInterval + 6*time.Second // the lease, a poll, the Jira calls
	took := waitFor("approvals applied after the kill", recoveryBudget, func() int {
		n := 0
		for _, id := range ids {
			if is, ok := issueOf(id); ok && is.Status == "Done" && len(is.Comments) == 1 {
				n++
			}
		}
		return n
	})
	t.Logf("the dead replica's %d decisions reached Jira %s after the kill", total, took.Round(time.Millisecond))
	if n := len(site.Issues()); n != total {
		t.Fatalf("Jira holds %d issues for %d requests", n, total)
	}
	for _, id := range ids {
		if is, _ := issueOf(id); len(is.Comments) != 1 {
			t.Errorf("request %d: %d comments, want 1", id, len(is.Comments))
		}
	}
}
