package jira

import (
	"context"
	"testing"
	"time"
)

func TestTokenManagerServesFreshTokenFromMemory(t *testing.T) {
	t.Parallel()
	now := time.Now()
	store := newMemStore(validToken("good"))
	m := NewTokenManager(store, &blockingRefresher{}, WithClock(func() time.Time { return now }))
	conn := Connection{IntegrationID: 1}
	for range 10 {
		if tok, err := m.AccessToken(context.Background(), conn); err != nil || tok != "good" {
			t.Fatalf("token %q, %v", tok, err)
		}
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d store reads for 10 calls, want 1", n)
	}
	now = now.Add(tokenCacheTTL + time.Second)
	if _, err := m.AccessToken(context.Background(), conn); err != nil || store.reads.Load() != 2 {
		t.Fatalf("after the cache TTL: reads %d, %v", store.reads.Load(), err)
	}
	if _, err := m.ForceRefresh(context.Background(), conn, "good"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := m.AccessToken(context.Background(), conn); tok == "good" {
		t.Fatal("a rejected token was served from memory after ForceRefresh")
	}
}
