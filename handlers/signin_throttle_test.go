package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// throttledApp is an app whose store runs on clock with policy p, and that
// already has an admin.
func throttledApp(t *testing.T, d models.Dialect, clock *testClock, p models.SignInPolicy, opts ...appOption) *testApp {
	t.Helper()
	store := modeltest.NewStore(t, d, models.WithClock(clock.now), models.WithSignInPolicy(p))
	app := newTestApp(t, store, append([]appOption{withClock(clock.now)}, opts...)...)
	modeltest.Must(store.CreateFirstAdmin(t.Context(), "127.0.0.1", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	return app
}

var testSignInPolicy = models.SignInPolicy{
	AccountFreeFailures: 5, AccountBaseDelay: 30 * time.Second, AccountMaxDelay: 15 * time.Minute, AccountMemory: 24 * time.Hour,
	AddressFailures: 50, AddressWindow: 15 * time.Minute,
}

func tryLogin(c *client, email, password string) *httptest.ResponseRecorder {
	return c.post("/login", url.Values{"email": {email}, "password": {password}})
}

func wantRetryAfter(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	wantStatus(t, rec, http.StatusTooManyRequests)
	if got := rec.Header().Get("Retry-After"); got != want {
		t.Errorf("Retry-After %q, want %q", got, want)
	}
	if !strings.Contains(rec.Body.String(), "Too many failed sign-ins") || parseHTML(t, rec).Find(`form input[name=email]`).Length() != 1 {
		t.Errorf("429 is not the sign-in form with a clear message:\n%s", trim(rec.Body.String()))
	}
}

// Forty colleagues sign in from one office address while someone guesses
// the admin's password from that same address: the admin's account slows
// down with backoff for every browser but the admin's own, and the
// colleagues (typos included) are never throttled.
func TestSignInThrottleManyUsersOneAddress(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		d := db.Dialect
		clock := &testClock{}
		app := throttledApp(t, d, clock, testSignInPolicy)
		const colleagues = 40
		for i := range colleagues {
			app.addUser(fmt.Sprintf("user%02d@example.com", i), models.RoleRequester)
		}
		laptop := app.signedIn("admin@example.com") // the admin's own browser, known from before
		attacker := app.client()                    // every client signs in from 192.0.2.10
		for i := range 5 {
			wantStatus(t, tryLogin(attacker, "admin@example.com", fmt.Sprintf("guess %d guess", i)), http.StatusUnprocessableEntity)
		}
		wantRetryAfter(t, tryLogin(attacker, "admin@example.com", "guess again guess"), "30")
		// Locked means locked: not even the right password is checked.
		wantRetryAfter(t, tryLogin(app.client(), "admin@example.com", testPassword), "30")

		for i := range colleagues {
			c := app.client()
			email := fmt.Sprintf("user%02d@example.com", i)
			if i%4 == 0 { // a typo first
				wantStatus(t, tryLogin(c, email, "typo typo typo"), http.StatusUnprocessableEntity)
			}
			wantRedirect(t, tryLogin(c, email, testPassword), "/")
			wantStatus(t, c.get("/requests"), http.StatusOK)
		}

		// Backoff: after the lock one more guess is checked, then the lock doubles.
		clock.advance(31 * time.Second)
		wantStatus(t, tryLogin(attacker, "admin@example.com", "guess 6 guess"), http.StatusUnprocessableEntity)
		wantRetryAfter(t, tryLogin(attacker, "admin@example.com", "guess 7 guess"), "60")
		// Once the lock is over the right password signs in and clears the count.
		clock.advance(61 * time.Second)
		wantRedirect(t, tryLogin(app.client(), "admin@example.com", testPassword), "/")
		for i := range 5 {
			wantStatus(t, tryLogin(attacker, "admin@example.com", fmt.Sprintf("fresh %d fresh", i)), http.StatusUnprocessableEntity)
		}
		wantRetryAfter(t, tryLogin(app.client(), "admin@example.com", testPassword), "30")
		// The admin's own browser has signed in before: the lock does not apply to it.
		wantRedirect(t, laptop.post("/logout", nil), "/login")
		wantRedirect(t, tryLogin(laptop, "admin@example.com", testPassword), "/")

		ev := modeltest.Must(app.store.ListAudit(t.Context(), models.PageQuery{PerPage: 200}))
		var failed, ok int
		for _, e := range ev.Items {
			switch e.Action {
			case models.AuditSignInFailed:
				failed++
			case models.AuditSignIn:
				ok++
			}
		}
		// Refused attempts never reached the password check.
		if want := 5 + colleagues/4 + 1 + 5; failed != want || ok != colleagues+3 {
			t.Errorf("audit: %d failed and %d successful sign-ins; want %d and %d", failed, ok, want, colleagues+3)
		}
	})
}

// Spraying one guess at each of many accounts is limited per address, and
// an IPv6 client cannot escape by moving around its /64. Other addresses
// are unaffected, so is a browser that signed in to its account before,
// and the lock ends with the window.
func TestSignInThrottlePerAddressIPv6Prefix(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		clock := &testClock{}
		p := testSignInPolicy
		p.AddressFailures = 10
		app := throttledApp(t, db.Dialect, clock, p)
		for i := range 12 {
			app.addUser(fmt.Sprintf("user%02d@example.com", i), models.RoleRequester)
		}
		regular := app.client() // signed in from this /64 before the spraying
		regular.ip = "2001:db8:1:2::abc"
		wantRedirect(t, tryLogin(regular, "user11@example.com", testPassword), "/")
		wantRedirect(t, regular.post("/logout", nil), "/login")
		for i := range 10 {
			c := app.client()
			c.ip = fmt.Sprintf("2001:db8:1:2::%x", i+1)
			wantStatus(t, tryLogin(c, fmt.Sprintf("user%02d@example.com", i), "spray spray spray"), http.StatusUnprocessableEntity)
		}
		moved := app.client()
		moved.ip = "2001:db8:1:2:ffff:ffff:ffff:fffe"
		wantRetryAfter(t, tryLogin(moved, "user10@example.com", "spray spray spray"), "900")
		newcomer := app.client()
		newcomer.ip = "2001:db8:1:2::abc"
		wantRetryAfter(t, tryLogin(newcomer, "user11@example.com", testPassword), "900")
		// A browser that signed in to the account before is not throttled.
		wantRedirect(t, tryLogin(regular, "user11@example.com", testPassword), "/")

		other := app.client()
		other.ip = "2001:db8:1:3::5" // the next /64
		wantRedirect(t, tryLogin(other, "user11@example.com", testPassword), "/")
		v4 := app.client()
		v4.ip = "198.51.100.7"
		wantRedirect(t, tryLogin(v4, "user10@example.com", testPassword), "/")

		clock.advance(15 * time.Minute)
		wantRedirect(t, tryLogin(moved, "user10@example.com", testPassword), "/")
	})
}

// Without PRIVILEGE_TRUSTED_PROXIES a client cannot pick its address with
// X-Forwarded-For to escape the per-address limit.
func TestXForwardedForIgnoredByDefault(t *testing.T) {
	clock := &testClock{}
	p := testSignInPolicy
	p.AddressFailures = 2
	app := throttledApp(t, models.DialectSQLite, clock, p)
	c := app.client()
	for i := range 2 {
		wantStatus(t, tryLogin(c, fmt.Sprintf("nobody%d@example.com", i), "nope nope nope"), http.StatusUnprocessableEntity)
	}
	f := url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "_csrf": {c.csrf()}}
	rec := c.postRaw("/login", f, http.Header{"X-Forwarded-For": {"203.0.113.99"}})
	wantStatus(t, rec, http.StatusTooManyRequests)
}

// Password checks run a bounded number at a time: with every slot taken a
// sign-in is told to retry instead of piling up Argon2id hashes.
func TestSignInHashingIsBounded(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite, func(c *Config, _ *Deps) { c.LoginConcurrency, c.LoginHashWait = 1, time.Millisecond })
	release, ok := app.h.hashGate.acquire(t.Context()) // a sign-in in progress
	if !ok {
		t.Fatal("gate full before any sign-in")
	}
	rec := tryLogin(app.client(), "admin@example.com", testPassword)
	wantStatus(t, rec, http.StatusServiceUnavailable)
	if !strings.Contains(rec.Body.String(), "busy checking other sign-ins") || rec.Header().Get("Retry-After") == "" {
		t.Errorf("busy answer lacks a message or Retry-After:\n%s", trim(rec.Body.String()))
	}
	release()
	wantRedirect(t, tryLogin(app.client(), "admin@example.com", testPassword), "/")
}
