package jira

import (
	"context"
	"sync"
	"time"
)

// Calls in flight per site follow Jira, not a constant (issue 12): until the
// site first pushes back the limit grows by one per successful call (slow
// start: it doubles every window), then by one per window of successful
// calls (additive increase); it halves on a 429 or 503 (multiplicative
// decrease, at most once a second), within [MinInFlight, MaxInFlight]. A far-away site that answers slowly but
// well gets more calls in flight; a struggling one gets fewer.
const (
	MinInFlight   = 2
	MaxInFlight   = 32
	startInFlight = 8
)

type inflight struct {
	mu      sync.Mutex
	limit   float64
	n       int
	lastCut time.Time
	pushed  bool          // the site answered 429/503 once: no more slow start
	wake    chan struct{} // closed and replaced when a slot frees
}

func newInflight() *inflight {
	return &inflight{limit: startInFlight, wake: make(chan struct{})}
}

// acquire waits for a free slot.
func (f *inflight) acquire(ctx context.Context) error {
	for {
		f.mu.Lock()
		if f.n < int(f.limit) {
			f.n++
			f.mu.Unlock()
			return nil
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// release frees a slot and adapts the limit: ok is a call the site
// accepted, limited a 429/503 (neither: a transport error or another 5xx,
// which changes nothing).
func (f *inflight) release(now time.Time, ok, limited bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	switch {
	case limited && now.Sub(f.lastCut) >= time.Second:
		f.limit, f.lastCut, f.pushed = max(f.limit/2, MinInFlight), now, true
	case ok && !f.pushed:
		f.limit = min(f.limit+1, MaxInFlight)
	case ok:
		f.limit = min(f.limit+1/f.limit, MaxInFlight)
	}
	close(f.wake)
	f.wake = make(chan struct{})
}

func (f *inflight) current() (limit float64, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limit, f.n
}

// InFlightLimit is the current in-flight limit of the site of a Jira URL
// (host, plus the cloud id behind the Atlassian gateway), for metrics and
// tests; startInFlight for a site not called yet.
func (p *Pacer) InFlightLimit(host string) float64 {
	p.mu.Lock()
	s, ok := p.sites[host]
	p.mu.Unlock()
	if !ok {
		return startInFlight
	}
	limit, _ := s.inflight.current()
	return limit
}
