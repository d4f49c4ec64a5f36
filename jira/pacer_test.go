package jira

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

func TestPacerLearnsTheSiteLimitAndRecovers(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := NewPacer(rate.Limit(100), 100)
	p.now = func() time.Time { return now }
	s := p.site("jira.example")
	for i := 0; i < 20; i++ { // a burst the site lets through
		p.accepted(s)
		now = now.Add(10 * time.Millisecond)
	}
	p.limited(s, 2*time.Second)
	if got := s.limiter.Limit(); got != 100 || s.adapted {
		t.Fatalf("after a first 429 the pace is %v/s, want unchanged until a window is measured", got)
	}
	if pause := s.pausedUntil.Sub(now); pause != 2*time.Second {
		t.Fatalf("pause %v, want Retry-After", pause)
	}
	p.limited(s, 2*time.Second) // a second 429 of the same window counts for nothing
	if s.adapted {
		t.Fatal("a 429 of the same window set the pace")
	}
	// After the pause the site accepts 30 calls, then says 429 again: its
	// rate is the 30 calls of the 3 s since the first 429.
	now = now.Add(2 * time.Second)
	for i := 0; i < 30; i++ {
		p.accepted(s)
		now = now.Add(time.Second / 30)
	}
	p.limited(s, time.Second)
	if got := float64(s.limiter.Limit()); got < 9.99 || got > 10.01 || !s.adapted {
		t.Fatalf("pace %v/s, want the 30 calls per 3 s the site accepted", got)
	}
	// Paced, it accepts 8/s over 10 s, then 429 again: the pace follows.
	now = now.Add(time.Second)
	for i := 0; i < 80; i++ {
		p.accepted(s)
		now = now.Add(125 * time.Millisecond)
	}
	p.limited(s, time.Second)
	if got := float64(s.limiter.Limit()); got < 7.2 || got > 7.3 {
		t.Fatalf("pace %v/s, want the 80 calls accepted in the 11 s since the last 429", got)
	}
	before := s.limiter.Limit()
	for i := 0; i < 300; i++ { // quiet time: the pace climbs back to the ceiling
		now = now.Add(quietRaise)
		p.accepted(s)
	}
	if got := s.limiter.Limit(); got != 100 || s.adapted || got <= before {
		t.Fatalf("pace %v (adapted %v), want back at the 100/s ceiling", got, s.adapted)
	}
}

// A 429 holds back calls already waiting for the pace: none was given a
// slot ahead of time.
func TestPacerBooksNoSlotAhead(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := NewPacer(rate.Limit(10), 1)
	p.now = func() time.Time { return now }
	s := p.site("jira.example")
	ctx := context.Background()
	if sl, err := p.nextSlot(ctx, s); sl.wait != 0 || err != nil {
		t.Fatalf("first call waits %v (%v)", sl.wait, err)
	}
	for i := 0; i < 5; i++ { // five waiters ask; none takes a slot
		if sl, err := p.nextSlot(ctx, s); sl.wait != 100*time.Millisecond || err != nil {
			t.Fatalf("waiter %d told to wait %v (%v), want the pace's 100 ms", i, sl.wait, err)
		}
	}
	p.limited(s, time.Second)
	now = now.Add(100 * time.Millisecond)
	if sl, err := p.nextSlot(ctx, s); sl.wait != 900*time.Millisecond || err != nil {
		t.Fatalf("after a 429 a waiter is told %v (%v), want the rest of the Retry-After", sl.wait, err)
	}
}

func TestPacerKeysGatewaySitesApart(t *testing.T) {
	a := httptest.NewRequest(http.MethodGet, "https://api.atlassian.com/ex/jira/c1/rest/api/3/issue/X-1", nil)
	b := httptest.NewRequest(http.MethodGet, "https://api.atlassian.com/ex/jira/c2/rest/api/3/issue/X-1", nil)
	d := httptest.NewRequest(http.MethodGet, "https://jira.corp/jira/rest/api/2/issue/X-1", nil)
	if siteKey(a) == siteKey(b) || siteKey(d) != "jira.corp" {
		t.Fatalf("keys %q %q %q", siteKey(a), siteKey(b), siteKey(d))
	}
}

func TestPacerWaitsOutA429AndResends(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write(body) // echo: the resent body must be complete
	}))
	defer srv.Close()
	client := &http.Client{Transport: NewPacer(rate.Inf, 1).Wrap(http.DefaultTransport)}
	resp, err := client.Post(srv.URL+"/rest/api/2/issue", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != `{"a":1}` || hits.Load() != 2 {
		t.Fatalf("status %d body %q hits %d", resp.StatusCode, got, hits.Load())
	}
}

func TestPacerDoesNotResendAnAmbiguous503Post(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	client := &http.Client{Transport: NewPacer(rate.Inf, 1).Wrap(http.DefaultTransport)}
	resp, err := client.Post(srv.URL+"/rest/api/2/issue", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || hits.Load() != 1 {
		t.Fatalf("status %d, hits %d: a POST that may have been applied was resent", resp.StatusCode, hits.Load())
	}
}

// After a 429 asking for a long wait, later calls to the site fail at once
// with that Retry-After instead of blocking until they time out.
func TestPacerFailsFastDuringALongPause(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "300")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	client := &http.Client{Transport: NewPacer(rate.Inf, 1).Wrap(http.DefaultTransport)}
	resp, err := client.Get(srv.URL + "/rest/api/2/issue/X-1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || hits.Load() != 1 {
		t.Fatalf("first call: status %d, hits %d", resp.StatusCode, hits.Load())
	}
	_, err = client.Get(srv.URL + "/rest/api/2/issue/X-2")
	if d, ok := RetryAfter(err); !ok || d < 290*time.Second || hits.Load() != 1 {
		t.Fatalf("second call: %v (retry after %v), hits %d; want an immediate rate-limit error", err, d, hits.Load())
	}
}

// TestPacerCountsTheLimitsItAbsorbs: a 429 the pacer waits out and resends
// never reaches the client, so the pacer counts it itself: one
// jira_rate_limited_total by reason and one jira_paced_resends_total.
func TestPacerCountsTheLimitsItAbsorbs(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("RateLimit-Reason", "jira-burst-based")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	reg := prometheus.NewRegistry()
	client := &http.Client{Transport: NewPacer(rate.Inf, 1, PacerMetrics(NewMetrics(reg))).Wrap(http.DefaultTransport)}
	resp, err := client.Get(srv.URL + "/rest/api/2/serverInfo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || hits.Load() != 2 {
		t.Fatalf("status %d after %d hits", resp.StatusCode, hits.Load())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = fmt.Sprint(m.GetCounter().GetValue())
		}
	}
	for k, v := range map[string]string{"jira_rate_limited_total{reason=jira-burst-based}": "1", "jira_paced_resends_total{status=429}": "1"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %s (all: %v)", k, got[k], v, got)
		}
	}
}

// A resend that cannot wait for the site answers with the 429 it waited out,
// which says the call was not processed, rather than an error that would
// read as a call sent and lost.
func TestPacerAnswersTheRefusalWhenAResendCannotWait(t *testing.T) {
	p := NewPacer(rate.Inf, 1)
	var hits atomic.Int32
	var site *sitePace
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		// Meanwhile another call drew a longer Retry-After for the site.
		p.limited(site, 5*time.Second)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"errorMessages":["Rate limit exceeded."]}`)
	}))
	defer srv.Close()
	site = p.site(strings.TrimPrefix(srv.URL, "http://"))
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/rest/api/2/issue", strings.NewReader(`{"a":1}`))
	resp, err := (&http.Client{Transport: p.Wrap(http.DefaultTransport)}).Do(req)
	if err != nil {
		t.Fatalf("got %v, want the 429", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "Rate limit") || hits.Load() != 1 {
		t.Fatalf("status %d body %q hits %d", resp.StatusCode, body, hits.Load())
	}
}

// After a first 429, calls go one at a time until the next one measures the
// site's rate, so that window draws a single 429.
func TestPacerMeasuresOneCallAtATime(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := NewPacer(rate.Inf, 1)
	p.now = func() time.Time { return now }
	s := p.site("jira.example")
	ctx := context.Background()
	if sl, _ := p.nextSlot(ctx, s); sl.serial {
		t.Fatal("serial before any 429")
	}
	p.limited(s, time.Second)
	now = now.Add(time.Second)
	if sl, err := p.nextSlot(ctx, s); sl.wait != 0 || !sl.serial || err != nil {
		t.Fatalf("after the pause: wait %v, serial %v (%v); want one call at a time", sl.wait, sl.serial, err)
	}
	for range 10 {
		p.accepted(s)
	}
	p.limited(s, time.Second)
	now = now.Add(time.Second)
	if sl, _ := p.nextSlot(ctx, s); sl.serial || !s.adapted {
		t.Fatalf("serial %v, paced %v after the measuring window", sl.serial, s.adapted)
	}
}

// headerClock is a pacer on an injected clock, for the rate-limit header
// tests: take sends a call if the site's budget lets it go now, answer
// gives a call the site's answer.
type headerClock struct {
	t   *testing.T
	now time.Time
	p   *Pacer
	s   *sitePace
}

func newHeaderClock(t *testing.T) *headerClock {
	c := &headerClock{t: t, now: time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC), p: NewPacer(rate.Inf, 1)}
	c.p.now = func() time.Time { return c.now }
	c.s = c.p.site("jira.example")
	return c
}

// take returns the number of a call that may go now, or 0 and the wait.
func (c *headerClock) take() (uint64, slot) {
	c.t.Helper()
	sl, err := c.p.nextSlot(context.Background(), c.s)
	if err != nil {
		c.t.Fatal(err)
	}
	if sl.wait > 0 {
		return 0, sl
	}
	return sl.seq, sl
}

func (c *headerClock) mustTake() uint64 {
	c.t.Helper()
	seq, sl := c.take()
	if seq == 0 {
		c.t.Fatalf("call held back %v, want it sent", sl.wait)
	}
	return seq
}

// answer is the site's 200 to call seq with these headers (name, value…).
func (c *headerClock) answer(seq uint64, kv ...string) {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	resp := &http.Response{StatusCode: http.StatusOK, Header: h}
	c.p.heard(c.s, seq, resp)
	c.p.observe(c.s, resp)
}

func dcHeaders(remaining string) []string {
	return []string{"X-RateLimit-Limit", "10", "X-RateLimit-Remaining", remaining,
		"X-RateLimit-Interval-Seconds", "2", "X-RateLimit-FillRate", "4", "Retry-After", "0"}
}

// Data Center says how many tokens are left and how fast they come back:
// the calls spend what is left, then go at the fill rate, before any 429.
func TestPacerFollowsDataCenterHeaders(t *testing.T) {
	c := newHeaderClock(t)
	c.answer(c.mustTake(), dcHeaders("3")...)
	for range 3 { // what is left goes at once
		c.mustTake()
	}
	seq, sl := c.take()
	if seq != 0 || sl.wait != 500*time.Millisecond || sl.wake == nil {
		t.Fatalf("out of tokens: sent %d, wait %v; want the 500 ms of a 4-per-2-s refill", seq, sl.wait)
	}
	// Each refilled token lets one call go: 2 calls/s, not more.
	for i := range 4 {
		c.now = c.now.Add(500 * time.Millisecond)
		c.mustTake()
		if seq, sl := c.take(); seq != 0 || sl.wait != 500*time.Millisecond {
			t.Fatalf("call %d after a refill: sent %d, wait %v", i, seq, sl.wait)
		}
	}
	// A fresh count supersedes the copy: the site had refilled more than
	// counted (its count rounds down), so calls go again.
	for seq := range c.s.seq - 1 {
		c.answer(seq+1, dcHeaders("0")...)
	}
	c.answer(c.s.seq, dcHeaders("2")...)
	c.mustTake()
	c.mustTake()
	if seq, _ := c.take(); seq != 0 {
		t.Fatal("sent beyond the fresh count")
	}
	if s := c.s; s.adapted || !s.pausedUntil.IsZero() || s.limiter.Limit() != rate.Inf {
		t.Fatal("the headers touched the 429 learning")
	}
}

// Calls in flight when the count came are charged to it: of a Cloud bucket
// with 9 left and 7 calls out, 2 more may go.
func TestPacerChargesCallsInFlightToTheCount(t *testing.T) {
	c := newHeaderClock(t)
	var out []uint64
	for range 8 {
		out = append(out, c.mustTake())
	}
	c.answer(out[0], "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "9")
	c.mustTake()
	c.mustTake()
	if seq, sl := c.take(); seq != 0 || sl.wake == nil {
		t.Fatalf("a third call went (wait %v): the calls out may spend the 9 tokens", sl.wait)
	}
	// A later call's answer sets the copy again: 3 left, but 6 calls sent
	// before it are still out and 2 went after it, so none may go.
	c.answer(out[7], "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "3")
	if seq, _ := c.take(); seq != 0 {
		t.Fatal("sent with calls out that may spend the last tokens")
	}
}

// Cloud near its limit, refill unknown: one call at a time, each sent once
// the previous one's count is in; once a refill is measured, the calls go at
// that rate instead.
func TestPacerSlowsDownNearCloudLimit(t *testing.T) {
	c := newHeaderClock(t)
	cloud := func(remaining string, near bool) []string {
		h := []string{"X-RateLimit-Limit", "100", "X-RateLimit-Remaining", remaining}
		if near {
			h = append(h, "X-RateLimit-NearLimit", "true")
		}
		return h
	}
	a, b := c.mustTake(), c.mustTake()
	c.answer(a, cloud("60", false)...)
	c.mustTake() // far from the limit: calls go side by side
	c.answer(b, cloud("15", true)...)
	seq, sl := c.take()
	if seq != 0 || sl.wake == nil {
		t.Fatalf("near the limit with a call out: sent %d (wait %v), want to wait for its answer", seq, sl.wait)
	}
	c.answer(c.s.seq, cloud("14", true)...)
	probe := c.mustTake()
	if seq, _ := c.take(); seq != 0 {
		t.Fatal("a second call went beside the one out near the limit")
	}
	// One second on, the site says 19: it refilled at least
	// 19 - 14 - 1 + 1 = 5 tokens in the second since the last count.
	c.now = c.now.Add(time.Second)
	c.answer(probe, cloud("19", true)...)
	if m := c.s.budget.measured; m < 4.9 || m > 5.1 {
		t.Fatalf("measured refill %v/s, want 5", m)
	}
	for range 19 {
		c.mustTake()
	}
	if seq, sl := c.take(); seq != 0 || sl.wait != 200*time.Millisecond {
		t.Fatalf("out of tokens: sent %d, wait %v; want the measured 5/s", seq, sl.wait)
	}
}

// A site that sends no rate-limit headers, or malformed ones, is paced as
// before; an answer without them forgets what earlier ones said.
func TestPacerIgnoresAbsentOrMalformedHeaders(t *testing.T) {
	c := newHeaderClock(t)
	for range 50 {
		c.answer(c.mustTake())
	}
	for _, h := range [][]string{
		{"X-RateLimit-Remaining", "lots"},
		{"X-RateLimit-Remaining", "-1"},
		{"X-RateLimit-Remaining", "NaN"},
		{"X-RateLimit-Limit", "5", "X-RateLimit-Remaining", "9"},
		{"X-RateLimit-Limit", "x", "X-RateLimit-Remaining", "0"},
	} {
		c.answer(c.mustTake(), h...)
		if c.s.budget.known {
			t.Fatalf("%v taken for a count", h)
		}
	}
	// Data Center without a limit configured sends huge values.
	c.answer(c.mustTake(), "X-RateLimit-Limit", "2147483647", "X-RateLimit-Remaining", "2147483646",
		"X-RateLimit-Interval-Seconds", "1", "X-RateLimit-FillRate", "2147483647")
	for range 100 {
		c.mustTake()
	}
	c.answer(c.s.seq, "X-RateLimit-Limit", "10", "X-RateLimit-Remaining", "0")
	if seq, _ := c.take(); seq != 0 {
		t.Fatal("sent with no token left")
	}
	c.answer(c.s.seq - 1) // the site no longer sends any: nothing holds the calls
	for range 20 {
		c.mustTake()
	}
}
