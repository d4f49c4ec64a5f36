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
	if d, _, err := p.nextSlot(ctx, s); d != 0 || err != nil {
		t.Fatalf("first call waits %v (%v)", d, err)
	}
	for i := 0; i < 5; i++ { // five waiters ask; none takes a slot
		if d, _, err := p.nextSlot(ctx, s); d != 100*time.Millisecond || err != nil {
			t.Fatalf("waiter %d told to wait %v (%v), want the pace's 100 ms", i, d, err)
		}
	}
	p.limited(s, time.Second)
	now = now.Add(100 * time.Millisecond)
	if d, _, err := p.nextSlot(ctx, s); d != 900*time.Millisecond || err != nil {
		t.Fatalf("after a 429 a waiter is told %v (%v), want the rest of the Retry-After", d, err)
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
	if _, serial, _ := p.nextSlot(ctx, s); serial {
		t.Fatal("serial before any 429")
	}
	p.limited(s, time.Second)
	now = now.Add(time.Second)
	if d, serial, err := p.nextSlot(ctx, s); d != 0 || !serial || err != nil {
		t.Fatalf("after the pause: wait %v, serial %v (%v); want one call at a time", d, serial, err)
	}
	for range 10 {
		p.accepted(s)
	}
	p.limited(s, time.Second)
	now = now.Add(time.Second)
	if _, serial, _ := p.nextSlot(ctx, s); serial || !s.adapted {
		t.Fatalf("serial %v, paced %v after the measuring window", serial, s.adapted)
	}
}
