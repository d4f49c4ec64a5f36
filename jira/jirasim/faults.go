package jirasim

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// Fault is an injected failure for the Cloud gateway (including
// accessible-resources) and Data Center REST (/rest/api/...). Faults are
// checked in injection order before authentication and the rate limiter; the
// first match applies.
type Fault struct {
	Method string // "" matches any method
	Path   string // substring of the URL path ("" matches any), e.g. "/rest/api/3/issue"

	Status     int    // response status, e.g. 429, 503, 401, 500; 0 = no error response
	RetryAfter int    // seconds, sent as Retry-After (on 429 also RateLimit-Reason and X-RateLimit-*)
	Reason     string // RateLimit-Reason on 429; default "jira-burst-based"

	Times int // matching requests it hits; 0 means 1, negative means until ClearFaults

	Latency time.Duration // added before anything else; a cancelled request context ends the wait

	// DropAfterApply serves the request fully (the issue is created, the
	// transition happens) and then closes the connection without a response.
	DropAfterApply bool
	// DropBefore closes the connection without applying the request. Note that
	// net/http transparently retries idempotent requests (GET) on a reused
	// connection that closes before any response byte, which consumes the fault.
	DropBefore bool
}

// Inject adds a fault.
func (s *Sim) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every injected fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetRateLimit puts a token bucket (perSecond refill, burst capacity, on the
// simulator clock) in front of all REST calls, Cloud and DC together. Over the
// limit the answer is 429 with an integer Retry-After (≥ 1 s) computed from the
// bucket. While it is set, Cloud answers also carry X-RateLimit-Limit (the
// burst), X-RateLimit-Remaining and, below 20 %, X-RateLimit-NearLimit; Data
// Center's headers describe it. perSecond <= 0 disables the limiter.
func (s *Sim) SetRateLimit(perSecond float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perSecond <= 0 {
		s.bucket = nil
		return
	}
	burst = max(burst, 1)
	s.bucket = &bucket{rate: perSecond, burst: float64(burst), tokens: float64(burst), last: s.now()}
}

// bucket is a token bucket on the simulator clock.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

// take consumes one token, or reports how many whole seconds to wait.
func (b *bucket) take(now time.Time) (ok bool, retryAfter int) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.burst, b.tokens+el*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := (1 - b.tokens) / b.rate
	return false, max(1, int(math.Ceil(wait)))
}

// matchFault consumes and returns the first matching fault. s.mu must be held.
func (s *Sim) matchFault(r *http.Request) (Fault, bool) {
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.Path != "" && !strings.Contains(r.URL.Path, f.Path) {
			continue
		}
		hit := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		s.stats.FaultsApplied++
		if hit.Status == http.StatusTooManyRequests {
			s.stats.RateLimited++
		}
		return hit, true
	}
	return Fault{}, false
}

// guard wraps a REST handler with stats, faults, the rate limiter and the
// X-RateLimit-* headers: Data Center's on every response, Cloud's on the
// calls the rate limiter accepts while one is set. statPath is the path without gateway or context
// prefix.
func (s *Sim) guard(w http.ResponseWriter, r *http.Request, f flavor, statPath string, next http.HandlerFunc) {
	s.mu.Lock()
	s.stats.Paths[r.Method+" "+statPath]++
	if key := issueKeyOfPath(statPath); key != "" {
		s.stats.IssueCalls[key]++
	}
	fault, hit := s.matchFault(r)
	latency := s.latency
	s.mu.Unlock()

	if latency > 0 && !sleepCtx(r.Context(), latency) {
		return
	}
	if hit && fault.Latency > 0 && !sleepCtx(r.Context(), fault.Latency) {
		return
	}
	if hit && fault.DropBefore {
		dropConnection(w)
		return
	}
	if hit && fault.Status != 0 {
		s.writeFault(w, f, fault)
		return
	}

	s.mu.Lock()
	now := s.now()
	limited, retry := false, 0
	if s.bucket != nil {
		var ok bool
		ok, retry = s.bucket.take(now)
		limited = !ok
		if limited {
			s.stats.RateLimited++
		}
	}
	switch {
	case f == flavorDC:
		s.dcRateHeaders(w.Header(), retry)
	case s.bucket != nil && !limited:
		s.cloudRateHeaders(w.Header())
	}
	s.mu.Unlock()
	if limited {
		s.writeFault(w, f, Fault{Status: http.StatusTooManyRequests, RetryAfter: retry})
		return
	}

	if hit && fault.DropAfterApply {
		next(httptest.NewRecorder(), r)
		dropConnection(w)
		return
	}
	next(w, r)
}

// dcRateHeaders sets Data Center's X-RateLimit-* headers. s.mu must be held.
func (s *Sim) dcRateHeaders(h http.Header, retry int) {
	limit, remaining, fill := 100, 100, 10.0
	if b := s.bucket; b != nil {
		limit, remaining, fill = int(b.burst), int(b.tokens), b.rate
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-RateLimit-Interval-Seconds", "1")
	h.Set("X-RateLimit-FillRate", strconv.FormatFloat(fill, 'f', -1, 64))
	h.Set("Retry-After", strconv.Itoa(retry))
}

// cloudRateHeaders sets Jira Cloud's X-RateLimit-Limit and -Remaining, and
// X-RateLimit-NearLimit: true when less than 20 % of the bucket remains.
// A site with no limit set is far from any limit and sends none. s.mu must
// be held and s.bucket set.
func (s *Sim) cloudRateHeaders(h http.Header) {
	b := s.bucket
	h.Set("X-RateLimit-Limit", strconv.Itoa(int(b.burst)))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(int(b.tokens), 0)))
	if b.tokens < 0.2*b.burst {
		h.Set("X-RateLimit-NearLimit", "true")
	}
}

// writeFault renders an injected or rate-limit error response.
func (s *Sim) writeFault(w http.ResponseWriter, f flavor, fault Fault) {
	h := w.Header()
	if fault.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(fault.RetryAfter))
	}
	switch fault.Status {
	case http.StatusTooManyRequests:
		reason := fault.Reason
		if reason == "" {
			reason = "jira-burst-based"
		}
		s.mu.Lock()
		reset := s.now().Add(time.Duration(max(fault.RetryAfter, 1)) * time.Second)
		limit := 100
		if s.bucket != nil {
			limit = int(s.bucket.burst)
		}
		s.mu.Unlock()
		h.Set("RateLimit-Reason", reason)
		h.Set("X-RateLimit-Reset", reset.UTC().Format("2006-01-02T15:04Z"))
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", "0")
		writeReply(w, errorReply(http.StatusTooManyRequests, "Rate limit exceeded."))
	case http.StatusUnauthorized:
		if f == flavorCloud {
			writeJSON(w, http.StatusUnauthorized, gatewayError{Code: 401, Message: "Unauthorized"})
			return
		}
		writeReply(w, errorReply(http.StatusUnauthorized, "You are not authenticated. Authentication required to perform this operation."))
	default:
		writeReply(w, errorReply(fault.Status, http.StatusText(fault.Status)))
	}
}

// sleepCtx waits d or until ctx ends; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropConnection closes the client connection without writing a response.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// issueKeyOfPath is the issue key named by a REST path
// (/rest/api/N/issue/{key}[/...]), or "" (ids and createmeta are not keys).
func issueKeyOfPath(path string) string {
	_, rest, ok := strings.Cut(path, "/issue/")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, "/")
	if k, n, found := strings.Cut(key, "-"); !found || k == "" || n == "" || strings.Trim(n, "0123456789") != "" {
		return ""
	}
	return key
}

// SetLatency delays every REST call (Cloud gateway and Data Center) by d
// before it is served, as a far-away site would (benchmarks); 0 removes
// the delay. A cancelled request context ends the wait.
func (s *Sim) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}
