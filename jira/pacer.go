package jira

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacer paces outbound calls per Jira site and honours Retry-After for the
// whole site: after a 429 or 503 carrying Retry-After, no call goes to that
// site until the wait is over. It is an http.RoundTripper wrapper, so every
// call (syncer, console, token endpoint) shares the same budget.
type Pacer struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu    sync.Mutex
	sites map[string]*sitePace
}

type sitePace struct {
	limiter     *rate.Limiter
	pausedUntil time.Time
}

// NewPacer paces each site to r calls per second with the given burst
// (r = rate.Inf disables pacing but keeps Retry-After pauses).
func NewPacer(r rate.Limit, burst int) *Pacer {
	return &Pacer{rate: r, burst: burst, now: time.Now, sites: map[string]*sitePace{}}
}

// siteKey is the host, plus the cloud id for the Atlassian gateway, so two
// Cloud sites behind api.atlassian.com have their own budgets.
func siteKey(req *http.Request) string {
	key := req.URL.Host
	if rest, ok := strings.CutPrefix(req.URL.Path, "/ex/jira/"); ok {
		if i := strings.IndexByte(rest, '/'); i > 0 {
			key += "/" + rest[:i]
		}
	}
	return key
}

func (p *Pacer) site(key string) *sitePace {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sites[key]
	if !ok {
		s = &sitePace{limiter: rate.NewLimiter(p.rate, p.burst)}
		p.sites[key] = s
	}
	return s
}

// Wait blocks until a call to the site may go out.
func (p *Pacer) wait(ctx context.Context, key string) error {
	s := p.site(key)
	for {
		p.mu.Lock()
		pause := s.pausedUntil.Sub(p.now())
		p.mu.Unlock()
		if pause <= 0 {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return s.limiter.Wait(ctx)
}

// Pause stops calls to the site for d.
func (p *Pacer) pause(key string, d time.Duration) {
	s := p.site(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := p.now().Add(d); until.After(s.pausedUntil) {
		s.pausedUntil = until
	}
}

// Wrap returns rt paced by p.
func (p *Pacer) Wrap(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return pacedTransport{p: p, next: rt}
}

type pacedTransport struct {
	p    *Pacer
	next http.RoundTripper
}

func (t pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := siteKey(req)
	if err := t.p.wait(req.Context(), key); err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d := parseRetryAfter(resp.Header, t.p.now()); d > 0 {
			t.p.pause(key, d)
		}
	}
	return resp, nil
}
