package jira

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacer paces outbound calls per Jira site and honours Retry-After for the
// whole site: after a 429 or 503 carrying Retry-After, no call goes to that
// site until the wait is over. It also learns the site's real limit from its
// Retry-After windows: after a first 429, calls go one at a time until the
// next, and from then on a 429 sets the pace to the rate the site accepted
// since the previous one; the pacer spends exactly that budget, spread
// evenly, with no tokens booked ahead: a waiting call re-checks the pace and
// any pause when it wakes, so a new 429 holds back every call not yet sent.
// After quietRaise without a 429 the pace rises by 5 % (at least 0.5/s)
// towards the configured ceiling, so a site whose limit grew is found again
// at the cost of one 429 now and then.
//
// Before any 429, the site's X-RateLimit-* headers pace the calls to the
// tokens it says are left and its refill rate (budget.go).
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
	inflight    *inflight     // calls in flight (inflight.go)
	turn        chan struct{} // held by the call waiting for the pace
	limiter     *rate.Limiter
	adapted     bool // the pace is learned, below the ceiling
	pausedUntil time.Time
	lastRaise   time.Time
	lastLimited time.Time   // the last 429 that set the pace
	measuring   bool        // after a first 429: calls go one at a time until the next
	okTimes     []time.Time // the latest accepted calls (ring)
	okNext      int

	// What the site's rate-limit headers said (budget.go).
	seq       uint64             // calls sent
	out       map[uint64]outCall // sent and not answered yet
	acceptedN uint64             // answers accepted
	answered  chan struct{}      // closed and replaced on every answer
	budget    budget
}

const (
	okRing = 4096
	// quietRaise is how long a learned pace holds without a 429 before it
	// rises: each rise is a probe that may cost a 429 and a Retry-After
	// window, so it is not tried every second.
	quietRaise = 5 * time.Second
	// learnSpan bounds how far back the accepted calls before a 429 count
	// towards the site's rate.
	learnSpan = time.Minute
)

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
		s = &sitePace{inflight: newInflight(), turn: make(chan struct{}, 1), limiter: rate.NewLimiter(p.ceiling, p.burst), okTimes: make([]time.Time, okRing),
			out: map[uint64]outCall{}, answered: make(chan struct{})}
		p.sites[key] = s
	}
	return s
}

// wait blocks until a call to the site may go out. A pause the call cannot
// sit out (longer than maxTransparentWait or than its deadline allows) fails
// at once with the site's Retry-After, so the caller reschedules instead of
// timing out. No token is reserved ahead: a call takes one only when it is
// there, so a pause or a lower pace set meanwhile applies to it. While the
// site's rate is being measured (after a first 429), calls go one at a time:
// done, called once the answer is in, lets the next one go. seq numbers the
// call for heard.
func (p *Pacer) wait(ctx context.Context, s *sitePace) (done func(), seq uint64, err error) {
	// One waiter at a time, in arrival order, so none is starved.
	select {
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	case s.turn <- struct{}{}:
	}
	for {
		sl, err := p.nextSlot(ctx, s)
		switch {
		case err != nil:
			<-s.turn
			return nil, 0, err
		case sl.wait <= 0 && sl.serial:
			return func() { <-s.turn }, sl.seq, nil
		case sl.wait <= 0:
			<-s.turn
			return func() {}, sl.seq, nil
		}
		t := time.NewTimer(sl.wait)
		select {
		case <-ctx.Done():
			t.Stop()
			<-s.turn
			return nil, 0, ctx.Err()
		case <-t.C:
		case <-sl.wake:
			t.Stop()
		}
	}
}

// slot is nextSlot's answer: the call may go now (wait 0, numbered seq) or
// waits, until wake is closed when an answer may end the wait sooner;
// serial reports that the site's rate is being measured.
type slot struct {
	wait   time.Duration
	wake   <-chan struct{} // nil: only the wait ends it
	serial bool
	seq    uint64
}

// nextSlot takes the site's next slot now or says how long to wait for it.
func (p *Pacer) nextSlot(ctx context.Context, s *sitePace) (slot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if pause := s.pausedUntil.Sub(now); pause > 0 {
		if deadline, ok := ctx.Deadline(); pause > maxTransparentWait || (ok && time.Until(deadline) < pause) {
			return slot{}, &RateLimitError{Status: http.StatusTooManyRequests, RetryAfter: pause, Reason: "paused after an earlier 429"}
		}
		return slot{wait: pause}, nil
	}
	if d, forAnswer := s.budgetWait(now); d > 0 {
		if deadline, ok := ctx.Deadline(); !forAnswer && ok && time.Until(deadline) < d {
			return slot{}, &RateLimitError{Status: http.StatusTooManyRequests, RetryAfter: d, Reason: "paced to the site's rate-limit headers"}
		}
		return slot{wait: d, wake: s.answered}, nil
	}
	if s.limiter.AllowN(now, 1) {
		return slot{serial: s.measuring, seq: s.sent(now)}, nil
	}
	missing := 1 - s.limiter.TokensAt(now)
	d := max(time.Duration(missing/float64(s.limiter.Limit())*float64(time.Second)), time.Millisecond)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return slot{}, &RateLimitError{Status: http.StatusTooManyRequests, RetryAfter: d, Reason: "paced to the site's learned limit"}
	}
	return slot{wait: d}, nil
}

// accepted records a call the site accepted and, after quietRaise without a
// 429, raises a learned pace by 5 % (at least 0.5/s) towards the ceiling.
func (p *Pacer) accepted(s *sitePace) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	s.okTimes[s.okNext%okRing] = now
	s.okNext++
	if s.measuring && now.Sub(s.lastRaise) >= quietRaise {
		s.measuring = false // no second 429 came: nothing to learn
	}
	if !s.adapted || now.Sub(s.lastRaise) < quietRaise {
		return
	}
	s.lastRaise = now
	cur := s.limiter.Limit()
	next := cur + max(cur*0.05, 0.5)
	if next >= p.ceiling {
		s.limiter.SetLimitAt(now, p.ceiling)
		s.limiter.SetBurstAt(now, p.burst)
		s.adapted = false
		return
	}
	s.limiter.SetLimitAt(now, next)
}

// limited pauses the site for the wait Jira asked for and learns the site's
// rate from its Retry-After windows. The first 429 only starts the
// measurement: once the pause is over calls go one at a time, at the pace
// they had, so the window after it spends what the site refilled meanwhile
// and draws a single 429. From the next
// 429 on, the pace is what the site accepted since the previous one, pause
// included: the site's budget, which the pacer then spends evenly. Further
// 429s of the same window change nothing.
func (p *Pacer) limited(s *sitePace, wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if until := now.Add(wait); until.After(s.pausedUntil) {
		s.pausedUntil = until
	}
	if now.Sub(s.lastRaise) < 0 { // already counted for this window
		return
	}
	// No rise before the pause is over plus quietRaise.
	s.lastRaise = now.Add(wait)
	from := s.lastLimited
	s.lastLimited = now
	if from.IsZero() || now.Sub(from) > learnSpan {
		s.measuring = true
		return
	}
	s.measuring = false
	target := max(s.acceptedRate(from, now), 0.5)
	if s.adapted && target > s.limiter.Limit() {
		// Accepted faster than paced (resends, or another client stopped):
		// keep the pace, the quiet-time rise finds the rest.
		target = s.limiter.Limit()
	}
	s.limiter.SetLimitAt(now, target)
	s.limiter.SetBurstAt(now, 1)
	s.adapted = true
}

// acceptedRate is the rate of accepted calls between from and now (at most
// the ring's span).
func (s *sitePace) acceptedRate(from, now time.Time) rate.Limit {
	n, oldest := 0, now
	for _, t := range s.okTimes {
		if t.After(from) && !t.After(now) {
			n++
			if t.Before(oldest) {
				oldest = t
			}
		}
	}
	span := now.Sub(from)
	if n == okRing { // the ring wrapped: its span is all it knows
		span = now.Sub(oldest)
	}
	if span <= 0 {
		return 0
	}
	return rate.Limit(float64(n) / span.Seconds())
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
	var refused *http.Response // the 429 or 503 being waited out, kept until the resend leaves
	for attempt := 0; ; attempt++ {
		done, seq, err := t.p.admit(req.Context(), s)
		if err != nil {
			if refused != nil {
				// The resend cannot wait: answer with the refusal, which says
				// the call was not processed (an error would read as sent).
				return refused, nil
			}
			return nil, err
		}
		resp, err := t.next.RoundTrip(req)
		if err != nil {
			t.p.heard(s, seq, nil)
			done()
			s.inflight.release(t.p.now(), false, false)
			return nil, err
		}
		t.p.heard(s, seq, resp)
		wait, limited := t.p.observe(s, resp)
		done()
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
		refused = buffered(resp)
	}
}

// admit takes a free slot in flight, then waits for the site's pace: a
// pause set while the call waited for the slot still holds it back. done is
// and seq for wait's.
func (p *Pacer) admit(ctx context.Context, s *sitePace) (done func(), seq uint64, err error) {
	if err := s.inflight.acquire(ctx); err != nil {
		return nil, 0, err
	}
	if done, seq, err = p.wait(ctx, s); err != nil {
		s.inflight.release(p.now(), false, false)
		return nil, 0, err
	}
	return done, seq, nil
}

// heard records the answer to call seq (nil: none came) and what its
// rate-limit headers say (budget.go).
func (p *Pacer) heard(s *sitePace, seq uint64, resp *http.Response) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.heard(seq, resp, p.now())
}

// buffered reads a (small) refusal's body into memory and closes the
// original, so the connection goes back to the pool during the wait.
func buffered(resp *http.Response) *http.Response {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	drainClose(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
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
