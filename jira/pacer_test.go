package jira

import (
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
	for i := 0; i < 20; i++ { // 20 calls accepted within the last second
		p.accepted(s)
		now = now.Add(10 * time.Millisecond)
	}
	p.limited(s, 2*time.Second)
	if got := s.limiter.Limit(); got < 17 || got > 18.5 {
		t.Fatalf("after a 429 the pace is %v/s, want 90%% of the 20/s accepted", got)
	}
	if pause := s.pausedUntil.Sub(now); pause != 2*time.Second {
		t.Fatalf("pause %v, want Retry-After", pause)
	}
	p.limited(s, 2*time.Second) // a second 429 of the same window does not lower it again
	if got := s.limiter.Limit(); got < 17 {
		t.Fatalf("lowered twice in one window: %v", got)
	}
	before := s.limiter.Limit()
	for i := 0; i < 300; i++ { // quiet seconds: the pace climbs back to the ceiling
		now = now.Add(time.Second)
		p.accepted(s)
	}
	if got := s.limiter.Limit(); got != 100 || s.adapted || got <= before {
		t.Fatalf("pace %v (adapted %v), want back at the 100/s ceiling", got, s.adapted)
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
