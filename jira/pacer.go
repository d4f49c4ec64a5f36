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
// site until the wait is over. It also adapts to the site's real limit
// (additive increase, multiplicative decrease): a 429 sets the pace to 90 %
// of the rate that was just accepted, and every second without one raises it
// a little, up to the configured ceiling. So a rate-limited site is driven
// close to its limit with about one 429 per probe instead of a burst of them.
//
// Calls in flight are limited per site too, adaptively (inflight.go).
//
// It is an http.RoundTripper wrapper, so every call (syncer, console, token
// endpoint) shares the same budget.
type Pacer struct {
	ceiling rate.Limit
	burst   int
	now     func() time.Time
	metrics *Metrics // nil records nothing

	mu    sync.Mutex
	sites map[string]*sitePace
}

type sitePace struct {
	inflight    *inflight // calls in flight (inflight.go)
	limiter     *rate.Limiter
	adapted     bool // the pace is learned, below the ceiling
	pausedUntil time.Time
	lastRaise   time.Time
	okTimes     []time.Time // accepted calls of the last second (ring)
	okNext      int
}

const okRing = 4096

// PacerOption configures a Pacer.
type PacerOption func(*Pacer)

// PacerMetrics counts the 429 and 503 answers the pacer waits out and sends
// again itself (jira_rate_limited_total, jira_paced_resends_total); the
// client counts only the answers it gets.
func PacerMetrics(m *Metrics) PacerOption { return func(p *Pacer) { p.metrics = m } }

// NewPacer paces each site to at most r calls per second with the given
// burst (r = rate.Inf: no ceiling, only Retry-After and learned limits).
func NewPacer(r rate.Limit, burst int, opts ...PacerOption) *Pacer {
	p := &Pacer{ceiling: r, burst: max(burst, 1), now: time.Now, sites: map[string]*sitePace{}}
	for _, o := range opts {
		o(p)
	}
	return p
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
		s = &sitePace{inflight: newInflight(), limiter: rate.NewLimiter(p.ceiling, p.burst), okTimes: make([]time.Time, okRing)}
		p.sites[key] = s
	}
	return s
}

// wait blocks until a call to the site may go out. A pause the call cannot
// sit out (longer than maxTransparentWait or than its deadline allows) fails
// at once with the site's Retry-After, so the caller reschedules instead of
// timing out.
func (p *Pacer) wait(ctx context.Context, s *sitePace) error {
	for {
		p.mu.Lock()
		pause := s.pausedUntil.Sub(p.now())
		p.mu.Unlock()
		if pause <= 0 {
			break
		}
		if deadline, ok := ctx.Deadline(); pause > maxTransparentWait || (ok && time.Until(deadline) < pause) {
			return &RateLimitError{Status: http.StatusTooManyRequests, RetryAfter: pause, Reason: "paused after an earlier 429"}
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

// accepted records a call the site accepted and, after a quiet second,
// raises a learned pace by 5 % (at least 0.5/s) towards the ceiling.
func (p *Pacer) accepted(s *sitePace) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	s.okTimes[s.okNext%okRing] = now
	s.okNext++
	if !s.adapted || now.Sub(s.lastRaise) < time.Second {
		return
	}
	s.lastRaise = now
	cur := s.limiter.Limit()
	next := cur + max(cur*0.05, 0.5)
	if next >= p.ceiling {
		s.limiter.SetLimit(p.ceiling)
		s.limiter.SetBurst(p.burst)
		s.adapted = false
		return
	}
	s.limiter.SetLimit(next)
}

// limited pauses the site for the wait Jira asked for and lowers the pace to
// 90 % of what the site accepted over the last second.
func (p *Pacer) limited(s *sitePace, wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if until := now.Add(wait); until.After(s.pausedUntil) {
		s.pausedUntil = until
	}
	if now.Sub(s.lastRaise) < 0 { // already lowered for this window
		return
	}
	ok := 0
	for _, t := range s.okTimes {
		if !t.IsZero() && now.Sub(t) <= time.Second {
			ok++
		}
	}
	target := rate.Limit(max(float64(ok)*0.9, 0.5))
	if cur := s.limiter.Limit(); cur < target {
		target = cur * 0.9
	}
	s.limiter.SetLimit(target)
	s.limiter.SetBurst(1)
	s.adapted = true
	// No raise before the pause is over plus a quiet second.
	s.lastRaise = now.Add(wait)
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

// maxTransparentWait bounds a Retry-After the transport waits out itself;
// longer waits go back to the caller (the syncer reschedules the job).
const maxTransparentWait = 10 * time.Second

// RoundTrip paces the call and, when the site answers 429 (never processed)
// or 503 to an idempotent call with a short Retry-After, waits it out and
// sends the call again, at most twice, so a rate limit slows work down
// instead of failing it.
func (t pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.p.site(siteKey(req))
	for attempt := 0; ; attempt++ {
		if err := t.p.wait(req.Context(), s); err != nil {
			return nil, err
		}
		if err := s.inflight.acquire(req.Context()); err != nil {
			return nil, err
		}
		resp, err := t.next.RoundTrip(req)
		if err != nil {
			s.inflight.release(t.p.now(), false, false)
			return nil, err
		}
		wait, limited := t.p.observe(s, resp)
		s.inflight.release(t.p.now(), resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests,
			resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable)
		if !limited || attempt == 2 || wait > maxTransparentWait || !replayable(req, resp) || !fitsDeadline(req, wait) {
			return resp, nil
		}
		t.p.metrics.pacedResend(resp.StatusCode, resp.Header.Get("RateLimit-Reason"))
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return resp, nil
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
		drainClose(resp.Body)
	}
}

// observe updates the site's pace from a response; limited reports a 429 or
// 503 with the wait Jira asked for.
func (p *Pacer) observe(s *sitePace, resp *http.Response) (time.Duration, bool) {
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := max(parseRetryAfter(resp.Header, p.now()), time.Second)
		p.limited(s, wait)
		return wait, true
	case resp.StatusCode == http.StatusServiceUnavailable:
		wait := parseRetryAfter(resp.Header, p.now())
		if wait <= 0 {
			return 0, false
		}
		p.mu.Lock()
		if until := p.now().Add(wait); until.After(s.pausedUntil) {
			s.pausedUntil = until
		}
		p.mu.Unlock()
		return wait, true
	case resp.StatusCode < 500:
		p.accepted(s)
	}
	return 0, false
}

// replayable: a 429 was not processed, so any call may be sent again; a 503
// may have been, so only idempotent calls are. The body must be re-readable.
func replayable(req *http.Request, resp *http.Response) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

func fitsDeadline(req *http.Request, wait time.Duration) bool {
	deadline, ok := req.Context().Deadline()
	return !ok || time.Until(deadline) > wait+time.Second
}
