package jira

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestInFlightLimitGrowsOnSuccessAndHalvesOnRateLimit(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	f := newInflight()
	ctx := context.Background()
	cycle := func(n int, ok, limited bool) {
		for range n {
			if err := f.acquire(ctx); err != nil {
				t.Fatal(err)
			}
			f.release(now, ok, limited)
			now = now.Add(10 * time.Millisecond)
		}
	}
	cycle(8, true, false) // slow start: +1 per success
	if l, _ := f.current(); l != 16 {
		t.Fatalf("after 8 successes the limit is %v, want 16", l)
	}
	cycle(1, false, true)
	if l, _ := f.current(); l != 8 {
		t.Fatalf("after a 429 the limit is %v, want halved", l)
	}
	cycle(8, true, false) // after a push-back: +1 per window
	if l, _ := f.current(); l < 8.9 || l > 9.1 {
		t.Fatalf("after 8 more successes the limit is %v, want about 9", l)
	}
	now = now.Add(time.Second)
	cycle(1, false, true)
	if l, _ := f.current(); l < 4.4 || l > 4.6 {
		t.Fatalf("after a 429 the limit is %v, want halved", l)
	}
	cycle(3, false, true) // the same second: not halved again
	if l, _ := f.current(); l < 4.4 {
		t.Fatalf("halved twice within a second: %v", l)
	}
	for range 5 {
		now = now.Add(time.Second)
		cycle(1, false, true)
	}
	if l, _ := f.current(); l != MinInFlight {
		t.Fatalf("floor: %v, want %d", l, MinInFlight)
	}
	cycle(5000, true, false)
	if l, _ := f.current(); l != MaxInFlight {
		t.Fatalf("ceiling: %v, want %d", l, MaxInFlight)
	}
	cycle(3, false, false) // transport errors and 500s change nothing
	if l, _ := f.current(); l != MaxInFlight {
		t.Fatalf("a transport error moved the limit to %v", l)
	}
}

// Through the transport: never more calls in flight than the limit, and a
// waiting call goes out as soon as one returns.
func TestPacerBoundsCallsInFlight(t *testing.T) {
	p := NewPacer(rate.Inf, 1)
	release := make(chan struct{})
	var cur, peak atomic.Int32
	rt := p.Wrap(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n := cur.Add(1)
		for {
			if m := peak.Load(); n <= m || peak.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		cur.Add(-1)
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	}))
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := rt.RoundTrip(httptest.NewRequest(http.MethodGet, "https://jira.example/rest/api/2/myself", nil))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for cur.Load() < startInFlight {
		if time.Now().After(deadline) {
			t.Fatalf("only %d calls in flight", cur.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if got := cur.Load(); got != startInFlight {
		t.Fatalf("%d calls in flight, limit %d", got, startInFlight)
	}
	close(release)
	wg.Wait()
	if peak.Load() > 20 {
		t.Fatalf("peak %d in flight", peak.Load())
	}
	if l := p.InFlightLimit("jira.example"); l <= startInFlight {
		t.Fatalf("limit %v after 20 successes, want grown", l)
	}
}
