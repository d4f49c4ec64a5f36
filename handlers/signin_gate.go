package handlers

import (
	"context"
	"time"
)

// hashGate bounds how many sign-ins check a password at once. Each check
// costs an Argon2id hash (19 MiB, tens of milliseconds of CPU); without a
// bound a burst of attempts takes every core and all the memory it wants.
type hashGate struct {
	slots chan struct{}
	wait  time.Duration
}

func newHashGate(n int, wait time.Duration) *hashGate {
	return &hashGate{slots: make(chan struct{}, n), wait: wait}
}

// acquire takes a slot, waiting at most g.wait; ok is false when none came
// free in time (or ctx ended). release gives the slot back.
func (g *hashGate) acquire(ctx context.Context) (release func(), ok bool) {
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, true
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}
