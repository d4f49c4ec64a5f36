package models_test

import (
	"sync"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// Concurrent failures (several replicas, one account) are all counted: the
// counter row is created once and updated under a row lock.
func TestSignInFailuresCountedUnderConcurrency(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		const n = 12
		addr := models.AddressKey("2001:db8::1")
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := store.RecordSignInFailure(t.Context(), "Alice@Example.com", addr); err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		// 12 failures: 5 free, then 30s << 7 = 64 min, capped at 15 min.
		wait := modeltest.Must(store.SignInWait(t.Context(), "alice@example.com", models.AddressKey("192.0.2.1")))
		if wait < 14*time.Minute || wait > 15*time.Minute {
			t.Errorf("account wait %s after %d failures, want the 15m cap", wait, n)
		}
		if err := store.RecordSignInSuccess(t.Context(), "alice@example.com"); err != nil {
			t.Fatal(err)
		}
		if wait := modeltest.Must(store.SignInWait(t.Context(), "alice@example.com", addr)); wait != 0 {
			t.Errorf("wait %s after a successful sign-in, want 0 (12 failures < 50 per address)", wait)
		}
	})
}

func TestAddressKeyGroupsIPv6By64(t *testing.T) {
	for ip, want := range map[string]string{
		"192.0.2.7":            "address:192.0.2.7/32",
		"::ffff:192.0.2.7":     "address:192.0.2.7/32",
		"2001:db8:1:2::1":      "address:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9": "address:2001:db8:1:2::/64",
		"fe80::1%eth0":         "address:fe80::/64",
		"not an ip":            "address:not an ip",
	} {
		if got := models.AddressKey(ip); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", ip, got, want)
		}
	}
}
