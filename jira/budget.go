package jira

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A site's rate-limit headers let the pacer slow down before the first 429
// (issue 12; jira-api.md §4). Data Center sends on every answer the tokens
// left in its bucket (X-RateLimit-Remaining) and how fast it refills
// (X-RateLimit-FillRate per X-RateLimit-Interval-Seconds); Cloud sends
// X-RateLimit-Limit and -Remaining, and X-RateLimit-NearLimit: true when less
// than 20 % remains, but no refill rate.
//
// From the latest answer that carried them the pacer keeps its own copy of
// the bucket: the tokens it said were left, less one per call sent since and
// per earlier call still unanswered then (either may have spent one after
// the count), plus what refilled since. A call goes only when that copy
// holds a whole token, so the calls in flight never outrun the site's budget.
// The refill rate is Data Center's; without one (Cloud) it is measured: between two
// answers the site refilled at least what Remaining rose plus the calls it
// accepted in between, less what the rounding of Remaining and the calls
// answered out of order may account for, and that lower bound, over the
// best pair of answers, is the rate the pacer trusts for a minute unless a
// higher one is found (a bound so low that the next call would wait more
// than maxTransparentWait says little: a single call probes the site
// instead). Until the refill is known, a Cloud site near its limit (NearLimit, or
// Remaining under 20 % of Limit) gets one call at a time, so that its
// remaining budget is spread over calls that each bring a fresh count back,
// and running out costs at most the one call in flight; such a probe is also
// what goes once the copy is empty and the refill still unknown. The 429
// learning of pacer.go stays the backstop.
//
// An accepted answer without X-RateLimit-Remaining (a site without rate
// limiting, or a Cloud site far from its limit) forgets what the headers
// said; malformed headers (not numbers, negative, Remaining above Limit) are
// ignored.

const budgetRing = 256

// budget is what a site's rate-limit headers said. Guarded by Pacer.mu.
type budget struct {
	known      bool
	seq        uint64    // the call whose answer set it (the latest sent with headers)
	remaining  float64   // X-RateLimit-Remaining then
	at         time.Time // when that answer came
	unsure     int       // calls sent before it and still unanswered then
	near       bool      // the site said it was near its limit
	fill       float64   // tokens/s Data Center gave (0: not given)
	measured   float64   // tokens/s the site refilled at least (0: unknown)
	measuredAt time.Time // when that bound was found: it holds for learnSpan

	samples []budgetSample // ring of the latest answers with headers
	next    int
}

// budgetSample is an answer with headers, for measuring the refill.
type budgetSample struct {
	sent, at  time.Time
	remaining float64
	accepted  uint64 // answers accepted so far, this one included
	out       int    // calls unanswered when it came
}

// outCall is a call sent and not answered yet.
type outCall struct {
	sent     time.Time
	accepted uint64 // answers accepted when it was sent
}

// sent records a call leaving now and returns its number. p.mu held.
func (s *sitePace) sent(now time.Time) uint64 {
	s.seq++
	s.out[s.seq] = outCall{sent: now, accepted: s.acceptedN}
	return s.seq
}

// heard records the answer to call seq (nil: none came) and reads its
// rate-limit headers when the site accepted the call. p.mu held.
func (s *sitePace) heard(seq uint64, resp *http.Response, now time.Time) {
	call, ok := s.out[seq]
	delete(s.out, seq)
	close(s.answered)
	s.answered = make(chan struct{})
	if !ok || resp == nil || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return
	}
	overlap := int(s.acceptedN - call.accepted) // answered while it was out
	s.acceptedN++
	s.readBudget(resp.Header, seq, call, overlap, now)
}

// readBudget updates the site's budget from an accepted answer's headers.
func (s *sitePace) readBudget(h http.Header, seq uint64, call outCall, overlap int, now time.Time) {
	b := &s.budget
	if strings.TrimSpace(h.Get("X-RateLimit-Remaining")) == "" {
		*b = budget{samples: b.samples[:0]}
		return
	}
	remaining, ok := headerNumber(h, "X-RateLimit-Remaining")
	if !ok {
		return
	}
	limit, hasLimit := headerNumber(h, "X-RateLimit-Limit")
	if (h.Get("X-RateLimit-Limit") != "" && !hasLimit) || (hasLimit && remaining > limit) {
		return
	}
	fill := 0.0
	if r, ok := headerNumber(h, "X-RateLimit-FillRate"); ok && r > 0 {
		if iv, ok := headerNumber(h, "X-RateLimit-Interval-Seconds"); ok && iv > 0 {
			fill = r / iv
		}
	}
	k := budgetSample{sent: call.sent, at: now, remaining: remaining, accepted: s.acceptedN, out: len(s.out)}
	if r := b.refillSince(k, overlap); r >= b.measured || now.Sub(b.measuredAt) > learnSpan {
		b.measured, b.measuredAt = r, now
	}
	b.record(k)
	if seq < b.seq { // an older count than the one kept
		return
	}
	unsure := 0
	for n := range s.out {
		if n < seq {
			unsure++
		}
	}
	b.known, b.seq, b.remaining, b.at, b.unsure, b.fill = true, seq, remaining, now, unsure, fill
	b.near = strings.EqualFold(strings.TrimSpace(h.Get("X-RateLimit-NearLimit")), "true") || (hasLimit && remaining < 0.2*limit)
}

// refillSince is the highest refill rate the site is sure to have had
// between an answer of the last learnSpan and k (0: none is sure): between
// answers b and k it refilled more than k's Remaining less b's, less one for
// the rounding down of both counts, plus the calls it accepted in between,
// less those that may have been counted on the wrong side: unanswered when b
// came (possibly counted in b already) or answered while k was out (possibly
// spent after k's count). The span is at most from b's sending to k's answer.
func (b *budget) refillSince(k budgetSample, overlap int) float64 {
	best := 0.0
	for _, o := range b.samples {
		span := k.at.Sub(o.sent).Seconds()
		if o.accepted >= k.accepted || span <= 0 || k.at.Sub(o.at) > learnSpan {
			continue
		}
		refill := k.remaining - o.remaining - 1 + float64(k.accepted-o.accepted) - float64(o.out) - float64(overlap)
		if refill >= 1 {
			best = max(best, refill/span)
		}
	}
	return best
}

func (b *budget) record(k budgetSample) {
	if len(b.samples) < budgetRing {
		b.samples = append(b.samples, k)
		return
	}
	b.samples[b.next] = k
	b.next = (b.next + 1) % budgetRing
}

// budgetWait says how long the next call must wait for the site's budget
// (0: it may go now); an answer with a fresh count may end the wait sooner.
// forAnswer reports a wait for the answer to a call out, of no known length.
// p.mu held.
func (s *sitePace) budgetWait(now time.Time) (d time.Duration, forAnswer bool) {
	b := &s.budget
	if !b.known {
		return 0, false
	}
	tokens := b.remaining - float64(s.seq-b.seq) - float64(b.unsure)
	rate := b.fill
	if rate == 0 {
		rate = b.measured
	}
	if rate > 0 {
		tokens += rate * now.Sub(b.at).Seconds()
	}
	switch {
	case tokens >= 1 && (rate > 0 || !b.near):
		return 0, false
	case rate > 0:
		d = max(time.Duration((1-tokens)/rate*float64(time.Second)), time.Millisecond)
		if b.fill == 0 && d > maxTransparentWait && len(s.out) == 0 {
			// A measured bound this low says little: a probe asks the site.
			return 0, false
		}
		return d, false
	case len(s.out) > 0:
		// Near the limit or out of tokens with the refill unknown: one call
		// at a time, the next once this one's count is in.
		return maxTransparentWait, true
	}
	return 0, false
}

// headerNumber is a header's value as a finite number ≥ 0.
func headerNumber(h http.Header, name string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(h.Get(name)), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}
