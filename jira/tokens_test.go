package jira

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"privilege/models"
)

// blockingRefresher hands out new tokens, optionally waiting for a release.
type blockingRefresher struct {
	calls   atomic.Int64
	started chan struct{}
	release chan struct{}
	err     error
}

func (r *blockingRefresher) Refresh(ctx context.Context, _ Connection, refreshToken string) (models.OAuthToken, error) {
	n := r.calls.Add(1)
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.release != nil {
		<-r.release
	}
	if r.err != nil {
		return models.OAuthToken{}, r.err
	}
	return models.OAuthToken{AccessToken: "fresh-" + itoa(n), RefreshToken: refreshToken + "-next", Expiry: time.Now().Add(time.Hour)}, nil
}

func TestTokenManagerReturnsValidTokenWithoutRefresh(t *testing.T) {
	t.Parallel()
	store := newMemStore(validToken("good"))
	ref := &blockingRefresher{}
	m := NewTokenManager(store, ref)
	got, err := m.AccessToken(context.Background(), Connection{IntegrationID: 1})
	if err != nil || got != "good" || ref.calls.Load() != 0 {
		t.Fatalf("got %q err %v calls %d", got, err, ref.calls.Load())
	}
}

func TestTokenManagerRefreshesWithinSkew(t *testing.T) {
	t.Parallel()
	tok := validToken("soon")
	tok.Expiry = time.Now().Add(30 * time.Second) // inside the 1 min skew
	store := newMemStore(tok)
	ref := &blockingRefresher{}
	got, err := NewTokenManager(store, ref).AccessToken(context.Background(), Connection{IntegrationID: 1})
	if err != nil || got != "fresh-1" {
		t.Fatalf("got %q err %v", got, err)
	}
	if saved := store.token(); saved.RefreshToken != "refresh-1-next" {
		t.Fatalf("rotated refresh token not saved: %+v", saved)
	}
}

// Two processes (two managers with their own owner ids) share one store:
// the one without the lease waits for the other's rotated token and never
// spends the refresh token itself.
func TestTokenManagerWaitsForOtherProcessLease(t *testing.T) {
	t.Parallel()
	store := newMemStore(expiredToken("old"))
	refA := &blockingRefresher{started: make(chan struct{}, 1), release: make(chan struct{})}
	refB := &blockingRefresher{}
	a := NewTokenManager(store, refA, WithOwner("process-a"))
	waiting := make(chan struct{}, 1)
	b := NewTokenManager(store, refB, WithOwner("process-b"), WithWait(func(ctx context.Context, _ time.Duration) error {
		select {
		case waiting <- struct{}{}:
		default:
		}
		return ctx.Err()
	}))
	conn := Connection{IntegrationID: 1}

	resA := make(chan string, 1)
	go func() {
		tok, err := a.AccessToken(context.Background(), conn)
		if err != nil {
			t.Error(err)
		}
		resA <- tok
	}()
	<-refA.started // A holds the lease and is talking to Atlassian

	resB := make(chan string, 1)
	go func() {
		tok, err := b.AccessToken(context.Background(), conn)
		if err != nil {
			t.Error(err)
		}
		resB <- tok
	}()
	<-waiting // B found the lease taken and is polling
	close(refA.release)

	if got := <-resA; got != "fresh-1" {
		t.Fatalf("A got %q", got)
	}
	if got := <-resB; got != "fresh-1" {
		t.Fatalf("B got %q, want A's token", got)
	}
	if refB.calls.Load() != 0 || refA.calls.Load() != 1 {
		t.Fatalf("refresh calls: A=%d B=%d", refA.calls.Load(), refB.calls.Load())
	}
}

func TestTokenManagerWaitGivesUpAtDeadline(t *testing.T) {
	t.Parallel()
	store := newMemStore(expiredToken("old"))
	store.leaseOwner, store.leaseUntil = "someone-else", time.Now().Add(time.Hour)
	clock := time.Now()
	m := NewTokenManager(store, &blockingRefresher{},
		WithClock(func() time.Time { return clock }),
		WithRefreshWaitTimeout(5*time.Second),
		WithWait(func(ctx context.Context, d time.Duration) error { clock = clock.Add(d); return ctx.Err() }))
	_, err := m.AccessToken(context.Background(), Connection{IntegrationID: 1})
	if err == nil {
		t.Fatal("want an error when the lease is never released")
	}
}

func TestForceRefreshSkipsWhenAlreadyRotated(t *testing.T) {
	t.Parallel()
	store := newMemStore(validToken("rotated-by-other-worker"))
	ref := &blockingRefresher{}
	got, err := NewTokenManager(store, ref).ForceRefresh(context.Background(), Connection{IntegrationID: 1}, "rejected")
	if err != nil || got != "rotated-by-other-worker" || ref.calls.Load() != 0 {
		t.Fatalf("got %q err %v calls %d", got, err, ref.calls.Load())
	}
}

func TestForceRefreshRefreshesStillRejectedToken(t *testing.T) {
	t.Parallel()
	store := newMemStore(validToken("rejected"))
	ref := &blockingRefresher{}
	got, err := NewTokenManager(store, ref).ForceRefresh(context.Background(), Connection{IntegrationID: 1}, "rejected")
	if err != nil || got != "fresh-1" || ref.calls.Load() != 1 {
		t.Fatalf("got %q err %v calls %d", got, err, ref.calls.Load())
	}
}

func TestRefreshErrorReleasesLease(t *testing.T) {
	t.Parallel()
	store := newMemStore(expiredToken("old"))
	ref := &blockingRefresher{err: errors.New("network down")}
	m := NewTokenManager(store, ref)
	if _, err := m.AccessToken(context.Background(), Connection{IntegrationID: 1}); err == nil {
		t.Fatal("want error")
	}
	if store.leaseOwner != "" {
		t.Fatalf("lease still held by %q", store.leaseOwner)
	}
	if store.reconnect != "" {
		t.Fatal("a network error must not require reconnecting")
	}
}

func TestCallerCancellationDoesNotAbortRefresh(t *testing.T) {
	t.Parallel()
	store := newMemStore(expiredToken("old"))
	ref := &blockingRefresher{started: make(chan struct{}, 1), release: make(chan struct{})}
	m := NewTokenManager(store, ref)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := m.AccessToken(ctx, Connection{IntegrationID: 1})
		done <- err
	}()
	<-ref.started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	close(ref.release)
	// The detached refresh still stores its rotated token; a new caller gets it.
	got, err := m.AccessToken(context.Background(), Connection{IntegrationID: 1})
	if err != nil || got != "fresh-1" || ref.calls.Load() != 1 {
		t.Fatalf("got %q err %v calls %d", got, err, ref.calls.Load())
	}
}
