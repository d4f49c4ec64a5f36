package handlers

import (
	"fmt"
	"net/http"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

// /requests shows two lists, each paged with its own parameter: a link of
// one list keeps the other's page, and an absurd page number is no error.
func TestRequestsListsPageIndependently(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		for i := range 26 {
			f.request(f.bob, f.acc, fmt.Sprintf("mine %d", i))
			f.request(f.alice, f.acc, fmt.Sprintf("queue %d", i))
		}
		bob := f.signedIn("bob@example.com")
		doc := parseHTML(t, bob.get("/requests?page=2&queue_page=2"))
		for sel, want := range map[string]string{
			`[data-testid="my-requests"] [data-testid="page-prev"]`: "/requests?queue_page=2",
			`[data-testid="queue"] [data-testid="page-prev"]`:       "/requests?page=2",
		} {
			if got, _ := doc.Find(sel).Attr("href"); got != want {
				t.Errorf("%s: href %q, want %q", sel, got, want)
			}
		}
		doc = parseHTML(t, bob.get("/requests"))
		for sel, want := range map[string]string{
			`[data-testid="my-requests"] [data-testid="page-next"]`: "/requests?page=2",
			`[data-testid="queue"] [data-testid="page-next"]`:       "/requests?queue_page=2",
		} {
			if got, _ := doc.Find(sel).Attr("href"); got != want {
				t.Errorf("%s: href %q, want %q", sel, got, want)
			}
		}
		for _, q := range []string{"queue_page=9223372036854775807", "queue_page=-3", "page=9223372036854775807", "queue_page=x"} {
			wantStatus(t, bob.get("/requests?"+q), http.StatusOK)
		}
	})
}
