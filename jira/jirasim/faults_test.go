package jirasim

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at, _ := e.login(t, "")

	e.sim.Inject(Fault{Method: http.MethodGet, Path: "/project/search", Status: http.StatusTooManyRequests, RetryAfter: 7, Times: 2})
	for range 2 {
		st, _, h := do(t, e.http, http.MethodGet, e.api()+"/project/search", at, nil)
		if st != http.StatusTooManyRequests || h.Get("Retry-After") != "7" || h.Get("RateLimit-Reason") != "jira-burst-based" ||
			h.Get("X-RateLimit-Reset") == "" || h.Get("X-RateLimit-Remaining") != "0" {
			t.Fatalf("429: %d %v", st, h)
		}
	}
	if st, _, _ := do(t, e.http, http.MethodGet, e.api()+"/project/search", at, nil); st != http.StatusOK {
		t.Fatalf("after Times: %d", st)
	}

	e.sim.Inject(Fault{Status: http.StatusServiceUnavailable, RetryAfter: 3})
	if st, _, h := do(t, e.http, http.MethodGet, e.api()+"/myself", at, nil); st != http.StatusServiceUnavailable || h.Get("Retry-After") != "3" {
		t.Fatalf("503: %d", st)
	}

	// Ambiguous create: applied, then the connection drops.
	e.sim.Inject(Fault{Method: http.MethodPost, Path: "/rest/api/3/issue", DropAfterApply: true})
	req, _ := http.NewRequest(http.MethodPost, e.api()+"/issue", jsonBody(t, map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": "OPS"}, "issuetype": map[string]any{"name": "Task"}, "summary": "dropped"}}))
	req.Header.Set("Authorization", "Bearer "+at)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := e.http.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("DropAfterApply: got response %d", resp.StatusCode)
	}
	if issues := e.site.Issues(); len(issues) != 1 || issues[0].Summary != "dropped" {
		t.Fatalf("DropAfterApply did not apply: %+v", issues)
	}

	e.sim.Inject(Fault{Method: http.MethodPost, DropBefore: true})
	if resp, err := e.http.Do(mustReq(t, http.MethodPost, e.api()+"/issue/OPS-1/comment", at, map[string]any{"body": adfDoc("x")})); err == nil {
		resp.Body.Close()
		t.Fatal("DropBefore: got a response")
	}
	if is, _ := e.site.Issue("OPS-1"); len(is.Comments) != 0 {
		t.Fatal("DropBefore applied the request")
	}

	e.sim.Inject(Fault{Path: "/myself", Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		resp, err := e.http.Do(mustReq(t, http.MethodGet, e.api()+"/myself", at, nil).WithContext(ctx))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("latency: request finished despite cancellation")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("latency fault ignored context cancellation")
	}
	e.sim.ClearFaults()

	st := e.sim.Stats()
	if st.RateLimited != 2 || st.FaultsApplied < 5 || st.IssuesCreated != 1 || st.Paths["GET /rest/api/3/project/search"] != 3 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestRateLimiterUsesClock(t *testing.T) {
	t.Parallel()
	d := newDCEnv(t)
	at := d.login(t, "WRITE")
	d.sim.SetRateLimit(0.5, 2)
	for range 2 {
		if st, _, h := do(t, d.http, http.MethodGet, d.api()+"/myself", at, nil); st != http.StatusOK || h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-FillRate") == "" {
			t.Fatalf("within burst: %d %v", st, h)
		}
	}
	st, _, h := do(t, d.http, http.MethodGet, d.api()+"/myself", at, nil)
	retry, _ := strconv.Atoi(h.Get("Retry-After"))
	if st != http.StatusTooManyRequests || retry != 2 {
		t.Fatalf("over limit: %d Retry-After %q", st, h.Get("Retry-After"))
	}
	d.clock.Advance(time.Duration(retry) * time.Second)
	if st, _, _ := do(t, d.http, http.MethodGet, d.api()+"/myself", at, nil); st != http.StatusOK {
		t.Fatalf("after Retry-After: %d", st)
	}
	d.sim.SetRateLimit(0, 0)
	if st, _, h := do(t, d.http, http.MethodGet, d.api()+"/myself", at, nil); st != http.StatusOK || h.Get("X-RateLimit-Remaining") == "" {
		t.Fatalf("disabled: %d", st)
	}
}

// Cloud sends X-RateLimit-Limit and -Remaining on the calls it accepts while
// a limit is set, and X-RateLimit-NearLimit once less than 20 % remains; a
// site with no limit set sends none.
func TestCloudRateLimitHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at, _ := e.login(t, "")
	if st, _, h := do(t, e.http, http.MethodGet, e.api()+"/myself", at, nil); st != http.StatusOK ||
		h.Get("X-RateLimit-Limit") != "" || h.Get("X-RateLimit-Remaining") != "" || h.Get("X-RateLimit-NearLimit") != "" {
		t.Fatalf("no limit set: %d %v", st, h)
	}
	e.sim.SetRateLimit(1, 10) // the simulator clock stands still: no refill
	for want := 9; want >= 0; want-- {
		st, _, h := do(t, e.http, http.MethodGet, e.api()+"/myself", at, nil)
		near := ""
		if want < 2 {
			near = "true"
		}
		if st != http.StatusOK || h.Get("X-RateLimit-Limit") != "10" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(want) ||
			h.Get("X-RateLimit-NearLimit") != near || h.Get("X-RateLimit-FillRate") != "" {
			t.Fatalf("call leaving %d: %d %v", want, st, h)
		}
	}
	if st, _, h := do(t, e.http, http.MethodGet, e.api()+"/myself", at, nil); st != http.StatusTooManyRequests || h.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("over the limit: %d %v", st, h)
	}
	e.clock.Advance(5 * time.Second)
	if st, _, h := do(t, e.http, http.MethodGet, e.api()+"/myself", at, nil); st != http.StatusOK ||
		h.Get("X-RateLimit-Remaining") != "4" || h.Get("X-RateLimit-NearLimit") != "" {
		t.Fatalf("refilled: %d %v", st, h)
	}
	e.sim.SetRateLimit(0, 0)
	if st, _, h := do(t, e.http, http.MethodGet, e.api()+"/myself", at, nil); st != http.StatusOK || h.Get("X-RateLimit-Remaining") != "" {
		t.Fatalf("limit removed: %d %v", st, h)
	}
}

func mustReq(t *testing.T, method, u, token string, body any) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, jsonBody(t, body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return req
}
