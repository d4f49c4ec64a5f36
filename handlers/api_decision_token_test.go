package handlers

import (
	"net/http"
	"strings"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

// A decision through the API records the token it was made with: the
// request's timeline and the audit log name it.
func TestAPIDecisionRecordsToken(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		r := f.request(f.alice, f.acc, "incident 9")
		plain, tok, err := store.CreateAPIToken(t.Context(), models.Actor{UserID: f.bob.ID, Email: f.bob.Email}, f.bob.ID, "bob's bot")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, f.apiDo(http.MethodPost, "/api/v1/requests/"+itoa(r.ID)+"/approve", plain, `{"reason":"ok"}`), http.StatusOK)
		mark := "API token #" + itoa(tok.ID)
		admin := f.signedIn("admin@example.com")
		if tl := parseHTML(t, admin.get(itoaURL(r.ID))).Find(`[data-testid="timeline"]`).Text(); !strings.Contains(tl, "bob@example.com ("+mark+")") {
			t.Errorf("timeline does not name the token:\n%s", tl)
		}
		if row := parseHTML(t, admin.get("/audit")).Find(`[data-testid="audit-row"]:has([data-testid=audit-action][title="request.approved"])`).Text(); !strings.Contains(row, mark) {
			t.Errorf("audit row of the approval %q does not name the token", row)
		}
	})
}
