package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// "Approve and deny in Jira" on the project's Manage page: bad choices
// re-render the form with the field's error (422); good ones are saved.
func TestJiraProjectDecisionsForm(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newJiraEnvStore(t, store)
		site := e.sim.AddCloudSite("acme")
		site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
		prod := e.app.addAccount("Production", "111111111111")
		id := e.connectCloud("Acme")
		path := "/integrations/" + itoa(id) + "/projects/OPS"
		if doc := parseHTML(t, e.admin.get(path)); doc.Find(`[data-testid=decisions-form]`).Length() != 0 {
			t.Fatal("decisions form on a project that is not linked")
		}
		wantRedirect(t, e.admin.post(path, url.Values{"account": {itoa(prod.ID)}, "status_approved": {"Done"}, "status_denied": {"Declined"},
			"status_cancelled": {"Declined"}, "status_expired": {"Declined"}}), path)

		rec := e.admin.post(path+"/decisions", url.Values{"decide_in_jira": {"1"}, "jira_approve_status": {"Done"}, "jira_deny_status": {"Done"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		doc := parseHTML(t, rec)
		if msg := doc.Find(`[data-testid=decisions-form]`).Text(); !strings.Contains(msg, `Privilege itself moves approved requests to "Done"; pick another status.`) {
			t.Fatalf("form without the error:\n%s", trim(msg))
		}
		rec = e.admin.post(path+"/decisions", url.Values{"decide_in_jira": {"1"}, "jira_approve_status": {"Done"}, "jira_deny_status": {"To Nowhere"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=decisions-form]`).Text(); !strings.Contains(msg, `no status "To Nowhere"`) {
			t.Fatalf("form without the error:\n%s", trim(msg))
		}

		rec = e.admin.post(path+"/decisions", url.Values{"decide_in_jira": {"1"}, "jira_approve_status": {"Done"}, "jira_deny_status": {"Declined"}})
		if flash := e.flashAfter(rec, "success"); !strings.Contains(flash, "moving a task to Done approves, to Declined denies") {
			t.Fatalf("flash %q", flash)
		}
		link := modeltest.Must(store.ProjectLinkByKey(context.Background(), id, "OPS"))
		if !link.DecideInJira || link.JiraApproveStatus != "Done" || link.JiraDenyStatus != "Declined" {
			t.Fatalf("saved %+v", link)
		}
		doc = parseHTML(t, e.admin.get(path))
		if _, on := doc.Find(`[data-testid=decide-in-jira]`).Attr("checked"); !on {
			t.Fatal("the switch is not shown on")
		}
		// Off again.
		rec = e.admin.post(path+"/decisions", url.Values{"jira_approve_status": {"Done"}, "jira_deny_status": {"Declined"}})
		if flash := e.flashAfter(rec, "success"); !strings.Contains(flash, "off") {
			t.Fatalf("flash %q", flash)
		}
	})
}

// A Cloud integration connected before the webhook scope says how to get
// decisions from Jira; a Data Center one shows its webhook URL and secret,
// and replacing the secret changes it.
func TestIntegrationDecisionsPanel(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newJiraEnvStore(t, store)
		ctx := context.Background()
		old := models.OAuthToken{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour), Scope: "read:jira-work write:jira-work read:jira-user offline_access"}
		cloud := modeltest.Must(store.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "Old", Deployment: models.DeploymentCloud, CloudID: "old", SiteURL: "https://old.atlassian.net", Token: old}))
		doc := parseHTML(t, e.admin.get("/integrations/"+itoa(cloud.ID)))
		if txt := doc.Find(`[data-testid=decisions-reconnect]`).Text(); txt != "Reconnect to enable decisions from Jira" {
			t.Fatalf("panel:\n%s", trim(doc.Find(`[data-testid=decisions-panel]`).Text()))
		}

		dc := modeltest.Must(store.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "Corp", Deployment: models.DeploymentDataCenter,
			BaseURL: "https://jira.corp.example", ClientID: "c", ClientSecret: "s", Token: old}))
		path := "/integrations/" + itoa(dc.ID)
		doc = parseHTML(t, e.admin.get(path))
		url1, secret1 := doc.Find(`[data-testid=webhook-url]`).Text(), doc.Find(`[data-testid=webhook-secret]`).Text()
		if !strings.HasPrefix(url1, testOrigin+"/webhooks/jira/") || len(secret1) < 32 || doc.Find(`[data-testid=decisions-reconnect]`).Length() != 0 {
			t.Fatalf("url %q secret %q", url1, secret1)
		}
		if flash := e.flashAfter(e.admin.post(path+"/webhook-secret", url.Values{}), "success"); !strings.Contains(flash, "replaced") {
			t.Fatalf("flash %q", flash)
		}
		doc = parseHTML(t, e.admin.get(path))
		if url2, secret2 := doc.Find(`[data-testid=webhook-url]`).Text(), doc.Find(`[data-testid=webhook-secret]`).Text(); url2 != url1 || secret2 == secret1 {
			t.Fatalf("after rotation: url %q secret %q", url2, secret2)
		}
		// Cloud has no secret to rotate.
		wantStatus(t, e.admin.post("/integrations/"+itoa(cloud.ID)+"/webhook-secret", url.Values{}), http.StatusNotFound)
	})
}
