package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
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

// benchStack is a whole server (API, outbox, syncer) on SQLite in this
// process, talking to the simulator with zero added latency.
type benchStack struct {
	sim       *jirasim.Sim
	site      *jirasim.Site
	store     *models.Store
	base      string
	requester string
	approver  string
	accountID int64
	client    *http.Client
	stop      func()
}

// newBenchStack builds the server and serves HTTP; with a gate, its workers
// (syncer, poller, lifecycle) start once the gate closes, at once without.
func newBenchStack(b *testing.B, rateLimit float64, gate <-chan struct{}) *benchStack {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sim := jirasim.New(jirasim.Options{CloudRedirectURIs: []string{testenv.Callback}})
	site := testenv.AddAcme(sim)
	id, secret := sim.CloudClient()
	addr := freeAddr(b)
	cfg, err := loadConfig(env(map[string]string{
		"PRIVILEGE_ADDR": addr, "PRIVILEGE_BASE_URL": "http://" + addr, "PRIVILEGE_DATA_DIR": b.TempDir(),
		"PRIVILEGE_SECRET_KEY": string(modeltest.TestKey), "PRIVILEGE_ATLASSIAN_AUTH_URL": sim.AuthURL(), "PRIVILEGE_ATLASSIAN_API_URL": sim.APIURL(),
		"PRIVILEGE_ATLASSIAN_CLIENT_ID": id, "PRIVILEGE_ATLASSIAN_CLIENT_SECRET": secret, "PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8",
		"PRIVILEGE_JIRA_RATE_LIMIT": fmt.Sprint(rateLimit), "PRIVILEGE_LOG_LEVEL": "error",
		"PRIVILEGE_REQUEST_RATE_LIMIT": "0", // a load test: a few users make hundreds of requests
		// The operator's GC settings, as `privilege serve` would see them.
		"GOGC": os.Getenv("GOGC"), "GOMEMLIMIT": os.Getenv("GOMEMLIMIT"),
	}))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := newServer(ctx, cfg, io.Discard, serveOptions{})
	if err != nil {
		b.Fatal(err)
	}
	workers := make(chan func(), 1) // their stop, once they run
	go func() {
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				workers <- func() {}
				return
			}
		}
		workers <- srv.startWorkers(ctx)
	}()
	done := make(chan error, 1)
	go func() { done <- srv.serveHTTP(ctx, nil) }()
	s := &benchStack{sim: sim, site: site, store: srv.app.store, base: "http://" + addr,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	s.stop = func() { cancel(); <-done; (<-workers)(); srv.Close(); sim.Close() }
	if gate == nil {
		waitHealthy(b, s.base)
	} else {
		waitLive(b, s.base) // not ready until the syncer runs
	}
	f := setUpFixture(b, s.store, sim)
	s.requester, s.approver, s.accountID = f.requester, f.approver, f.accountID
	return s
}

func (s *benchStack) create(i int) (int64, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	code, err := apiCall(s.client, "POST", s.base+"/api/v1/requests", s.requester, map[string]any{
		"account_id": s.accountID, "resources": []string{"ReadOnly"}, "duration_minutes": 60, "justification": fmt.Sprint("bench ", i)}, &out)
	if err == nil && code != 201 {
		err = fmt.Errorf("create: HTTP %d", code)
	}
	return out.ID, err
}

func (s *benchStack) approve(id int64) error {
	code, err := apiCall(s.client, "POST", fmt.Sprintf("%s/api/v1/requests/%d/approve", s.base, id), s.approver, map[string]string{"reason": "bench"}, nil)
	if err == nil && code != 200 {
		err = fmt.Errorf("approve: HTTP %d", code)
	}
	return err
}

// waitSettled waits until the syncer has posted n more comments than before
// (one per approval), then until the backlog is empty and Jira holds n
// issues. It polls the simulator's counters, which cost next to nothing:
// polling the database or copying the simulator's issues would take CPU from
// what is being measured.
func (s *benchStack) waitSettled(b *testing.B, n, commentsBefore int) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if s.sim.Stats().Comments-commentsBefore >= n {
			st := modeltest.Must(s.store.SyncStats(context.Background()))
			if st.Backlog == 0 && s.ourIssues() >= n {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("not settled after 5 minutes: %d of %d comments", s.sim.Stats().Comments-commentsBefore, n)
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkCreateToJiraLatency measures, on an idle system, the time from an
// API create to the simulator receiving the issue (target p99 < 50 ms).
func BenchmarkCreateToJiraLatency(b *testing.B) {
	s := newBenchStack(b, 0, nil)
	defer s.stop()
	const n = 200
	for b.Loop() {
		lat := make([]time.Duration, 0, n)
		for i := 0; i < n; i++ {
			start := time.Now()
			before := len(s.site.Issues())
			if _, err := s.create(i); err != nil {
				b.Fatal(err)
			}
			for len(s.site.Issues()) == before {
				time.Sleep(50 * time.Microsecond) // polling; the sim stamps the create time itself
			}
			is := s.site.Issues()
			lat = append(lat, is[len(is)-1].Created.Sub(start))
		}
		b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99_ms")
	}
}

// BenchmarkSyncThroughput creates then approves 2,000 requests through the
// API and waits until Jira matches (end to end: load generator, API,
// database, syncer and simulator share this machine's cores), beside a bare
// HTTP loop making the same Jira calls at the syncer's concurrency (the
// ceiling). CPU per request and Jira calls per request are printed for both.
func BenchmarkSyncThroughput(b *testing.B) {
	const n = 2000
	for b.Loop() {
		s := newBenchStack(b, 0, nil)
		before := bareJiraLoop(b, s, n, jira.DefaultSyncWorkers)
		st0, cpu0, start := s.sim.Stats(), cpuTime(), time.Now()
		s.createAndApprove(b, n)
		apiDone := time.Since(start)
		s.waitSettled(b, n, st0.Comments)
		elapsed := time.Since(start)
		b.ReportMetric(float64(2*n)/apiDone.Seconds(), "api_calls/s")
		s.report(b, n, "synced", before, elapsed, cpuTime()-cpu0, s.sim.Stats().Requests-st0.Requests)
		s.stop()
	}
}

// BenchmarkSyncDrain holds the syncer while 2,000 requests are created and
// approved through the API, then measures the syncer alone draining that
// backlog against the same bare loop: how close the syncer gets to what the
// Jira side can take on this machine.
func BenchmarkSyncDrain(b *testing.B) {
	const n = 2000
	for b.Loop() {
		gate := make(chan struct{})
		s := newBenchStack(b, 0, gate)
		cpuAPI := cpuTime()
		stopAPIProfile := profileWindowTo(b, os.Getenv("PRIVILEGE_BENCH_API_CPUPROFILE"))
		s.createAndApprove(b, n)
		stopAPIProfile()
		b.ReportMetric(float64((cpuTime()-cpuAPI).Microseconds())/n, "api_cpu_us/req")
		before := bareJiraLoop(b, s, n, jira.DefaultSyncWorkers)
		st0, cpu0, start := s.sim.Stats(), cpuTime(), time.Now()
		stopProfile := profileWindow(b)
		close(gate)
		s.waitSettled(b, n, st0.Comments)
		stopProfile()
		s.report(b, n, "drained", before, time.Since(start), cpuTime()-cpu0, s.sim.Stats().Requests-st0.Requests)
		s.stop()
	}
}

func (s *benchStack) createAndApprove(b *testing.B, n int) []int64 {
	const clients = 16
	ids := make([]int64, n)
	parallel(b, n, clients, func(i int) error {
		id, err := s.create(i)
		ids[i] = id
		return err
	})
	parallel(b, n, clients, func(i int) error { return s.approve(ids[i]) })
	return ids
}

// report prints the run's rate beside the bare loop's, with CPU and Jira
// calls per request for both. The bare loop runs before and after the run
// and the ceiling is the mean of the two, so that a slower or faster spell of
// this (virtual) machine weighs on both sides alike.
func (s *benchStack) report(b *testing.B, n int, what string, before bareResult, elapsed, cpu time.Duration, calls int) {
	if got := s.ourIssues(); got != n {
		b.Fatalf("%d issues for %d requests", got, n)
	}
	after := bareJiraLoop(b, s, n, jira.DefaultSyncWorkers)
	bare := bareResult{rate: (before.rate + after.rate) / 2, cpu: (before.cpu + after.cpu) / 2, calls: (before.calls + after.calls) / 2}
	rate := float64(n) / elapsed.Seconds()
	b.ReportMetric(rate, what+"_req/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu_us/req")
	b.ReportMetric(float64(calls)/float64(n), "jira_calls/req")
	b.ReportMetric(bare.rate, "bare_loop_req/s")
	b.ReportMetric(float64(bare.cpu.Microseconds())/float64(n), "bare_cpu_us/req")
	b.ReportMetric(float64(bare.calls)/float64(n), "bare_jira_calls/req")
	b.ReportMetric(100*rate/bare.rate, "pct_of_ceiling")
}

// ourIssues counts the issues the syncer created: the bare loop's carry no
// correlation label.
func (s *benchStack) ourIssues() int {
	n := 0
	for _, is := range s.site.Issues() {
		if slices.ContainsFunc(is.Labels, func(l string) bool { return strings.HasPrefix(l, correlationPrefix) }) {
			n++
		}
	}
	return n
}

var correlationPrefix = strings.TrimSuffix(jira.CorrelationLabel(0), "0")

func parallel(b *testing.B, n, workers int, fn func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		b.Fatal(err)
	}
}

// bareResult is the bare loop's rate, CPU and Jira calls.
type bareResult struct {
	rate  float64
	cpu   time.Duration
	calls int
}

// bareJiraLoop makes the calls the syncer makes per approved request (create,
// read issue, read transitions, transition, comment) with a plain client.
func bareJiraLoop(b *testing.B, s *benchStack, n, workers int) bareResult {
	ctx := context.Background()
	in := modeltest.Must(s.store.ListIntegrations(ctx))[0]
	tok := modeltest.Must(s.store.IntegrationToken(ctx, in.ID))
	api := s.sim.APIURL() + "/ex/jira/" + in.CloudID + "/rest/api/3"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	do := func(method, path string, body any) (map[string]any, error) {
		var rd io.Reader
		if body != nil {
			bs, _ := json.Marshal(body)
			rd = bytes.NewReader(bs)
		}
		req, _ := http.NewRequest(method, api+path, rd)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			msg, _ := io.ReadAll(resp.Body)
			return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, msg)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out, nil
	}
	// The same payloads the syncer sends: a request's summary, ADF
	// description and approval comment, for a request like the bench's.
	now := time.Now()
	sample := models.AccessRequest{ID: 1, AccountID: s.accountID, DurationMinutes: 60, Justification: "bench 0", Status: models.RequestApproved,
		Requester: modeltest.Must(s.store.UserByEmail(ctx, "alice@example.com")), Account: modeltest.Must(s.store.AccountByID(ctx, s.accountID)),
		Resources: []models.RequestResource{{Name: "ReadOnly", Kind: "role"}}, CreatedAt: now, PendingUntil: now.Add(time.Hour)}
	approved := models.RequestEvent{ID: 2, Kind: models.EventApproved, ActorEmail: "bob@example.com", Reason: "bench", At: now}
	description := jira.IssueDescription(sample, s.base).ADF()
	comment := jira.EventComment(sample, approved).ADF()
	calls0, cpu0, start := s.sim.Stats().Requests, cpuTime(), time.Now()
	parallel(b, n, workers, func(i int) error {
		created, err := do("POST", "/issue", map[string]any{"fields": map[string]any{"project": map[string]string{"key": "OPS"}, "issuetype": map[string]string{"name": "Task"},
			"summary": jira.IssueSummary(sample), "labels": []string{jira.ProductLabel, fmt.Sprint("bare-loop-", i)}, "description": description}})
		if err != nil {
			return err
		}
		key := created["key"].(string)
		if _, err := do("GET", "/issue/"+key+"?fields=status,labels", nil); err != nil {
			return err
		}
		tr, err := do("GET", "/issue/"+key+"/transitions?expand=transitions.fields", nil)
		if err != nil {
			return err
		}
		var id string
		for _, t := range tr["transitions"].([]any) {
			if m := t.(map[string]any); m["name"] == "Done" {
				id = m["id"].(string)
			}
		}
		if _, err := do("POST", "/issue/"+key+"/transitions", map[string]any{"transition": map[string]string{"id": id}, "fields": map[string]any{"resolution": map[string]string{"name": "Done"}}}); err != nil {
			return err
		}
		_, err = do("POST", "/issue/"+key+"/comment", map[string]any{"body": comment})
		return err
	})
	return bareResult{rate: float64(n) / time.Since(start).Seconds(), cpu: cpuTime() - cpu0, calls: s.sim.Stats().Requests - calls0}
}

// BenchmarkRateLimitedSync lets the simulator accept 10 requests/s and reports
// how close the syncer's accepted call rate gets to it, and how many 429s it
// drew per Retry-After window.
func BenchmarkRateLimitedSync(b *testing.B) {
	const n = 60
	// The simulator's bucket refills a call in 0.1 s, which its Retry-After
	// rounds up to whole seconds: every window is a second.
	const limit, retryAfter = 10, time.Second
	for b.Loop() {
		s := newBenchStack(b, 0, nil)
		s.sim.SetRateLimit(limit, limit)
		before := s.sim.Stats()
		start := time.Now()
		stopWatch := watch429s(s.sim, before.RateLimited)
		ids := make([]int64, n)
		parallel(b, n, 4, func(i int) error {
			id, err := s.create(i)
			ids[i] = id
			return err
		})
		parallel(b, n, 4, func(i int) error { return s.approve(ids[i]) })
		s.waitSettled(b, n, before.Comments)
		elapsed := time.Since(start)
		perWindow := stopWatch().perWindow(retryAfter)
		if len(perWindow) > 0 {
			// The first window's 429s answer the calls sent before the site
			// first pushed back: the pacer holds them to the tokens the
			// X-RateLimit-* headers say are left (issue 12).
			b.ReportMetric(float64(perWindow[0]), "first_window_429s")
			b.ReportMetric(float64(slices.Max(append(perWindow[1:], 0))), "max_429s_later_window")
		}
		after := s.sim.Stats()
		limited := after.RateLimited - before.RateLimited
		accepted := after.Requests - before.Requests - limited
		rate := float64(accepted) / elapsed.Seconds()
		b.ReportMetric(rate, "accepted_calls/s")
		b.ReportMetric(100*rate/limit, "pct_of_limit")
		b.ReportMetric(float64(limited), "429s")
		windows := float64(elapsed) / float64(retryAfter)
		b.ReportMetric(windows, "retry_after_windows")
		b.ReportMetric(float64(limited)/windows, "429s_per_window") // target ≤ 1
		// Issue 12: requests completed per second against what 10 calls/s
		// allow at this many calls per request (target ≥ 90 %).
		perReq := float64(restCallsSince(before, after)-limited) / n
		b.ReportMetric(perReq, "jira_calls/req")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "req/s")
		b.ReportMetric(100*(float64(n)/elapsed.Seconds())/(limit/perReq), "pct_of_10_over_calls")
		s.stop()
	}
}

// seen429s are the times the simulator's 429 count was seen to grow.
type seen429s []time.Time

// watch429s polls the simulator's 429 count every 5 ms (a few map copies:
// next to nothing beside the calls measured) until stop.
func watch429s(sim *jirasim.Sim, from int) (stop func() seen429s) {
	done, out := make(chan struct{}), make(chan seen429s)
	go func() {
		var seen seen429s
		last := from
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				out <- seen
				return
			case now := <-tick.C:
				n := sim.Stats().RateLimited
				for ; last < n; last++ {
					seen = append(seen, now)
				}
			}
		}
	}()
	return func() seen429s { close(done); return <-out }
}

// perWindow counts the 429s of each Retry-After window: a window opens with a
// 429 seen outside the previous one and lasts retryAfter (plus one poll).
func (seen seen429s) perWindow(retryAfter time.Duration) []int {
	var counts []int
	var end time.Time
	for _, t := range seen {
		if len(counts) == 0 || t.After(end) {
			counts = append(counts, 0)
			end = t.Add(retryAfter + 5*time.Millisecond)
		}
		counts[len(counts)-1]++
	}
	return counts
}

// profileWindow writes a CPU profile of the measured window alone to the file
// named by PRIVILEGE_BENCH_CPUPROFILE, when set (go test -cpuprofile would
// include the API phase and the bare loop).
func profileWindow(b *testing.B) (stop func()) {
	return profileWindowTo(b, os.Getenv("PRIVILEGE_BENCH_CPUPROFILE"))
}

// profileWindowTo profiles until stop into path, when path is set.
func profileWindowTo(b *testing.B, path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// cpuTime is the CPU this process has used (user and system): everything in
// a benchmark runs in it, simulator and load generator included.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBurstMemory runs the console as its own `privilege serve` process
// (SQLite, the syncer, the default memory settings unless GOGC or GOMEMLIMIT
// are set), sends a burst of 400 requests created then approved through the
// API by 16 clients, waits until Jira matches, and reports the process's peak
// resident memory (VmHWM) beside the burst's throughput. The simulator and
// the load generator run in this process, so they do not count.
func BenchmarkBurstMemory(b *testing.B) {
	const n = 400
	for b.Loop() {
		sim := jirasim.New(jirasim.Options{CloudRedirectURIs: []string{testenv.Callback}})
		site := testenv.AddAcme(sim)
		id, secret := sim.CloudClient()
		dataDir := b.TempDir()
		r := startReplicaAt(b, freeAddr(b), dataDir, map[string]string{
			"PRIVILEGE_SECRET_KEY": string(modeltest.TestKey), "PRIVILEGE_ATLASSIAN_AUTH_URL": sim.AuthURL(), "PRIVILEGE_ATLASSIAN_API_URL": sim.APIURL(),
			"PRIVILEGE_ATLASSIAN_CLIENT_ID": id, "PRIVILEGE_ATLASSIAN_CLIENT_SECRET": secret, "PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8",
			"PRIVILEGE_JIRA_RATE_LIMIT": "0", "PRIVILEGE_LOG_LEVEL": "error",
			"PRIVILEGE_REQUEST_RATE_LIMIT": "0", // a load test: a few users make hundreds of requests
		})
		waitHealthy(b, r.base)
		db, err := models.OpenSQLite(context.Background(), dataDir+"/privilege.db")
		if err != nil {
			b.Fatal(err)
		}
		sealer, _ := models.NewSealer([][]byte{modeltest.TestKey})
		store := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
		f := setUpFixture(b, store, sim)
		s := &benchStack{sim: sim, site: site, store: store, base: r.base, requester: f.requester, approver: f.approver, accountID: f.accountID,
			client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
		idle := peakRSS(b, r.cmd.Process.Pid)
		st0, start := sim.Stats(), time.Now()
		s.createAndApprove(b, n)
		s.waitSettled(b, n, st0.Comments)
		elapsed := time.Since(start)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "burst_req/s")
		b.ReportMetric(idle, "idle_peak_rss_MiB")
		peak := peakRSS(b, r.cmd.Process.Pid)
		b.ReportMetric(peak, "peak_rss_MiB")
		if peak > burstRSSBudget && os.Getenv("GOMEMLIMIT") == "" {
			b.Errorf("peak RSS %.1f MiB over the %d MiB budget", peak, burstRSSBudget)
		}
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		_ = r.cmd.Wait()
		db.Close()
		sim.Close()
	}
}

// burstRSSBudget is the most a console process may hold during the burst
// with the default memory settings (issue 9).
const burstRSSBudget = 60

// peakRSS is the process's peak resident set (VmHWM) in MiB.
func peakRSS(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%f kB", &kb); err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}

// BenchmarkSyncFarJira: every Jira call takes 100 ms (a far-away site).
// 1,000 requests are created and approved through the API while the syncer
// is held, then the syncer drains them, beside a plain loop making create /
// read transitions / transition-with-comment at the syncer's former fixed
// concurrency (8) and at its present job count (32) (target ≥ 1.3× the
// loop), with Jira calls per request (target ≤ 3). The
// syncer is held so that the figure is the Jira side's: on this machine the
// API phase, not Jira, bounds an end-to-end run. Loop and syncer call the same
// simulator, in the same process, under the same memory limit
// (deploymentMemoryLimit).
func BenchmarkSyncFarJira(b *testing.B) {
	const n = 1000
	deploymentMemoryLimit(b)
	for b.Loop() {
		gate := make(chan struct{})
		s := newBenchStack(b, 0, gate)
		s.sim.SetLatency(100 * time.Millisecond)
		start := time.Now()
		s.createAndApprove(b, n)
		b.ReportMetric(time.Since(start).Seconds(), "api_phase_s")
		loop8 := threeCallLoop(b, s, 300, 8) // the syncer's former fixed concurrency
		loop := threeCallLoop(b, s, n, jira.DefaultSyncWorkers)
		st0, start := s.sim.Stats(), time.Now()
		close(gate)
		s.waitSettled(b, n, st0.Comments)
		rate := float64(n) / time.Since(start).Seconds()
		b.ReportMetric(rate, "far_req/s")
		b.ReportMetric(loop8, "loop8_req/s")
		b.ReportMetric(rate/loop8, "x_loop8")
		b.ReportMetric(loop, "loop32_req/s")
		b.ReportMetric(rate/loop, "x_loop32")
		b.ReportMetric(float64(restCallsSince(st0, s.sim.Stats()))/float64(n), "jira_calls/req")
		s.stop()
	}
}

// benchMemoryLimit is the soft memory limit of a bench whose process holds,
// beside the console, the simulator's thousands of issues and the load
// generator: as a deployment sets GOMEMLIMIT to its container's memory.
const benchMemoryLimit = 512 << 20

// deploymentMemoryLimit sets GOMEMLIMIT for the rest of the bench (the
// server then leaves the runtime's limit alone) and the runtime's limit
// itself, which it reads only at start: the console's default 48 MiB would
// otherwise count the simulator's heap too and have the collector run
// almost without pause.
func deploymentMemoryLimit(b *testing.B) {
	b.Setenv("GOMEMLIMIT", strconv.Itoa(benchMemoryLimit))
	prev := debug.SetMemoryLimit(benchMemoryLimit)
	b.Cleanup(func() { debug.SetMemoryLimit(prev) })
}

// restCallsSince counts REST calls to Jira between two snapshots (token and
// consent endpoints excluded).
func restCallsSince(before, after jirasim.Stats) int {
	n := 0
	for p, c := range after.Paths {
		n += c - before.Paths[p]
	}
	return n
}

// threeCallLoop is the plain loop issue 12 measures against: create, read
// transitions, transition with the comment in update.comment.
func threeCallLoop(b *testing.B, s *benchStack, n, workers int) float64 {
	ctx := context.Background()
	in := modeltest.Must(s.store.ListIntegrations(ctx))[0]
	tok := modeltest.Must(s.store.IntegrationToken(ctx, in.ID))
	api := s.sim.APIURL() + "/ex/jira/" + in.CloudID + "/rest/api/3"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	do := func(method, path string, body any) (map[string]any, error) {
		var rd io.Reader
		if body != nil {
			bs, _ := json.Marshal(body)
			rd = bytes.NewReader(bs)
		}
		req, _ := http.NewRequest(method, api+path, rd)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			msg, _ := io.ReadAll(resp.Body)
			return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, msg)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out, nil
	}
	comment := jira.NewDocument(jira.Paragraph(jira.Text("Approved by bob@example.com."))).ADF()
	start := time.Now()
	parallel(b, n, workers, func(i int) error {
		created, err := do("POST", "/issue", map[string]any{"fields": map[string]any{"project": map[string]string{"key": "OPS"}, "issuetype": map[string]string{"name": "Task"},
			"summary": fmt.Sprint("loop ", i), "labels": []string{jira.ProductLabel, fmt.Sprint("plain-loop-", i)}}})
		if err != nil {
			return err
		}
		key := created["key"].(string)
		tr, err := do("GET", "/issue/"+key+"/transitions?expand=transitions.fields", nil)
		if err != nil {
			return err
		}
		var id string
		for _, t := range tr["transitions"].([]any) {
			if m := t.(map[string]any); m["name"] == "Done" {
				id = m["id"].(string)
			}
		}
		_, err = do("POST", "/issue/"+key+"/transitions", map[string]any{"transition": map[string]string{"id": id},
			"fields": map[string]any{"resolution": map[string]string{"name": "Done"}}, "update": map[string]any{"comment": []any{map[string]any{"add": map[string]any{"body": comment}}}}})
		return err
	})
	return float64(n) / time.Since(start).Seconds()
}
