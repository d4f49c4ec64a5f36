package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// rawJiraError is the kind of message the syncer records when a Data
// Center behind the firewall fails: it names internal hosts and addresses.
const rawJiraError = "jira: POST https://jira.corp.internal:8443/rest/api/2/issue: dial tcp 10.20.30.40:8443: connect: connection refused"

// Requesters (and approvers) see a plain sync state on the request page and
// in the API's jira.last_error; Jira's own message stays for admins.
func TestSyncErrorDetailOnlyForAdmins(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		ctx := t.Context()
		integ := modeltest.Must(store.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{
			Name: "Corp", Deployment: models.DeploymentDataCenter, BaseURL: "https://jira.corp.internal:8443",
			ClientID: "id", ClientSecret: "secret", Token: models.OAuthToken{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}}))
		modeltest.Must(store.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{
			IntegrationID: integ.ID, ProjectID: "10000", ProjectKey: "OPS", ProjectName: "Operations", IssueTypeID: "3", IssueTypeName: "Task",
			Statuses: map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined"}, AccountIDs: []int64{f.acc.ID},
		}))
		r := f.request(f.alice, f.acc, "incident 7")
		jobs := modeltest.Must(store.ClaimJobs(ctx, "test", 10, time.Minute))
		if len(jobs) != 1 {
			t.Fatalf("%d jobs claimed, want 1", len(jobs))
		}
		if err := store.FailJob(ctx, jobs[0], rawJiraError, models.SyncProgress{}); err != nil {
			t.Fatal(err)
		}

		for _, who := range []string{"alice@example.com", "bob@example.com", "admin@example.com"} {
			doc := parseHTML(t, f.signedIn(who).get(itoaURL(r.ID)))
			got := doc.Find(`[data-testid="sync-error"]`).Text()
			page := doc.Text()
			apiBody := f.apiDo(http.MethodGet, "/api/v1/requests/"+itoa(r.ID), f.tokenFor(who), "")
			var out apiRequest
			if err := json.Unmarshal(apiBody.Body.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			if who == "admin@example.com" {
				if !strings.Contains(got, "10.20.30.40") || out.Jira.LastError != rawJiraError {
					t.Errorf("admin: page %q, API %q; want Jira's message", got, out.Jira.LastError)
				}
				continue
			}
			for _, leak := range []string{"jira.corp.internal", "10.20.30.40", "dial tcp"} {
				if strings.Contains(page, leak) || strings.Contains(out.Jira.LastError, leak) {
					t.Errorf("%s sees %q (page %q, API %q)", who, leak, got, out.Jira.LastError)
				}
			}
			if !strings.Contains(got, "An admin can see why") || out.Jira.LastError != got || out.Jira.SyncState != "failed" {
				t.Errorf("%s: page %q, API %q (%s); want the plain sentence in both", who, got, out.Jira.LastError, out.Jira.SyncState)
			}
		}
	})
}

func itoaURL(id int64) string { return "/requests/" + itoa(id) }

// tokenFor is a fresh API token of the user with this email.
func (f *reqFixture) tokenFor(email string) string {
	f.t.Helper()
	u := modeltest.Must(f.store.UserByEmail(f.t.Context(), email))
	plain, _ := f.addToken(u.ID)
	return plain
}
