package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// One requester cannot flood Jira: past the per-user limit the form keeps
// the typed answers and says when to try again (429), the API answers 429
// rate_limited with Retry-After; other users are unaffected, and the window
// slides.
func TestRequestRateLimitPerUser(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, db *models.DB) {
		clock := &testClock{}
		store := models.NewStore(db, modeltest.Must(models.NewSealer([][]byte{modeltest.TestKey})),
			models.WithPasswordParams(modeltest.CheapPasswords), models.WithClock(clock.now),
			models.WithRequestRateLimit(models.RequestRateLimit{Max: 3, Per: time.Hour}))
		f := newReqFixture(t, store)
		alice := f.signedIn("alice@example.com")
		form := func(why string) url.Values {
			return url.Values{"account_id": {itoa(f.acc.ID)}, "resources": {"ReadOnly"}, "duration_minutes": {"30"}, "justification": {why}}
		}
		for i := range 3 {
			wantRedirect(t, alice.post("/requests", form(fmt.Sprintf("incident %d", i))), "/requests/")
			clock.advance(10 * time.Minute)
		}
		rec := alice.post("/requests", form("incident 4"))
		wantStatus(t, rec, http.StatusTooManyRequests)
		doc := parseHTML(t, rec)
		msg := doc.Find(`[data-testid="form-error"]`).Text()
		if !strings.Contains(msg, "3 requests in the last hour") || !strings.Contains(msg, "30 minutes") {
			t.Errorf("form error %q", msg)
		}
		if got := doc.Find(`textarea[name=justification]`).Text(); got != "incident 4" {
			t.Errorf("justification not kept: %q", got)
		}
		if got := rec.Header().Get("Retry-After"); got != "1800" {
			t.Errorf("Retry-After %q, want 1800", got)
		}

		aliceToken, _ := f.addToken(f.alice.ID)
		body := fmt.Sprintf(`{"account_id":%d,"resources":["ReadOnly"],"duration_minutes":30,"justification":"api"}`, f.acc.ID)
		api := f.apiDo(http.MethodPost, "/api/v1/requests", aliceToken, body)
		if api.Header().Get("Retry-After") != "1800" {
			t.Errorf("API Retry-After %q", api.Header().Get("Retry-After"))
		}
		wantAPIError(t, api, http.StatusTooManyRequests, "rate_limited")
		if n := f.count(); n != 3 {
			t.Fatalf("%d requests stored, want 3", n)
		}

		// Carol has her own budget.
		carolToken, _ := f.addToken(f.carol.ID)
		wantStatus(t, f.apiDo(http.MethodPost, "/api/v1/requests", carolToken, body), http.StatusCreated)
		// The window slides: once the first request is an hour old, one more fits.
		clock.advance(31 * time.Minute)
		wantRedirect(t, alice.post("/requests", form("incident 4")), "/requests/")
		wantStatus(t, alice.post("/requests", form("incident 5")), http.StatusTooManyRequests)
	})
}
