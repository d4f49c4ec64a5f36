package jirasim

import (
	"sync"
	"time"
)

// Clock is a manually advanced clock that is safe for concurrent use. Pass
// its Now method as Options.Now to control token lifetimes, code expiry and
// the rate-limit bucket from a test.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that starts at start (the zero time means a fixed
// 2026-01-05 09:00 UTC, so tests are reproducible).
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)
	}
	return &Clock{now: start}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
