package handlers

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// TestBrowserPeopleInJira: an approver and a requester each link their Jira
// account through the consent page; the requester submits a request; the
// simulator's task names the requester as reporter; the approver approves;
// the task is assigned to the approver (project link: "the approver who
// decides").
func TestBrowserPeopleInJira(t *testing.T) {
	ctx := t.Context()
	l := newLiveJira(t)
	store, sim, base := l.Store, l.Sim, l.base
	site := testenv.AddAcme(sim)
	bobJira := sim.AddCloudUser("Bob Approver", "bob@acme.example")
	aliceJira := sim.AddCloudUser("Alice Requester", "alice@acme.example")

	// The admin's integration and the OPS link, assigning the approver who decides.
	integ := l.ConnectCloud(t, "Acme")
	account := modeltest.Must(store.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: "123456789012",
		Name: "Production", Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))
	l.LinkProject(t, integ.ID, "OPS", "Operations", []int64{account.ID}, func(in *models.ProjectLinkInput) { in.AssigneeMode = models.AssigneeDecider })
	l.serve(t)
	l.runSyncer(t)
	l.addPeople(t)

	shot := screenshots("people-")
	linkSteps := func(email string, who jirasim.User, name string) []chromedp.Action[chromedp.Void] {
		return append(signIn(base, email),
			chromedp.Click(css(`[data-testid=profile-link]`)),
			chromedp.WaitVisible(css(`[data-testid=profile-page]`)),
			shot(name+"-01-profile"),
			chromedp.Click(css(`[data-testid=link-jira]`)),
			chromedp.WaitVisible(css(`[data-testid=consent-form]`)),
			shot(name+"-02-consent"),
			chromedp.Click(css(`button[data-testid=accept-as][value="`+who.AccountID+`"]`)),
			chromedp.WaitVisible(css(`[data-testid=flash-success]`)),
			chromedp.WaitVisible(css(`[data-testid=unlink-jira]`)),
			shot(name+"-03-linked"),
		)
	}

	bob := browserContext(t)
	runSteps(t, bob, "approver links", linkSteps("bob@example.com", bobJira, "approver"))
	alice, cancelAlice := chromedp.NewContext(bob, chromedp.WithNewBrowserContext())
	defer cancelAlice()
	runSteps(t, alice, "requester links", linkSteps("alice@example.com", aliceJira, "requester"))
	if txt, err := chromedp.Run(alice, chromedp.Text(css(`[data-testid=jira-identity]`))); err != nil || !strings.Contains(txt, "Alice Requester") {
		t.Fatalf("requester's profile shows %q (%v)", txt, err)
	}

	runSteps(t, alice, "requester asks", []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/requests/new?account_id=" + fmt.Sprint(account.ID)),
		chromedp.WaitVisible(css(`input[name=resources][value=ReadOnly]`)),
		chromedp.Click(css(`input[name=resources][value=ReadOnly]`)),
		chromedp.SendKeys(css(`#justification`), "INC-7: read the audit trail"),
		chromedp.Click(css(`[data-testid=submit-request]`)),
		chromedp.WaitVisible(css(`[data-testid=request-page]`)),
	})
	attr, err := chromedp.Run(alice, chromedp.AttributeValue(css(`[data-testid=request-page]`), "data-request-id"))
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if _, err := fmt.Sscan(attr.Value, &id); err != nil || id == 0 {
		t.Fatalf("request id %q: %v", attr.Value, err)
	}
	issueOf := func() (jirasim.Issue, bool) {
		for _, is := range site.Issues() {
			if is.HasLabel(jira.CorrelationLabel(id)) {
				return is, true
			}
		}
		return jirasim.Issue{}, false
	}
	var issue jirasim.Issue
	waitFor(t, "the Jira task", 20*time.Second, func() (ok bool) { issue, ok = issueOf(); return ok })
	if issue.Reporter.AccountID != aliceJira.AccountID {
		t.Fatalf("reporter %+v, want %+v", issue.Reporter, aliceJira)
	}
	// The simulator's own issue page says so too.
	runSteps(t, bob, "approver views the task", []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(site.BrowseURL(issue.Key)),
		chromedp.WaitVisible(css(`[data-testid=reporter]`)),
		shot("04-task-reported"),
	})
	if txt, err := chromedp.Run(bob, chromedp.Text(css(`[data-testid=reporter]`))); err != nil || txt != "Alice Requester" {
		t.Fatalf("task page reporter %q (%v)", txt, err)
	}

	runSteps(t, bob, "approver approves", []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/requests/" + fmt.Sprint(id)),
		chromedp.WaitVisible(css(`[data-testid=decide-form]`)),
		chromedp.SendKeys(css(`#reason`), "INC-7 confirmed"),
		chromedp.Click(css(`[data-testid=approve]`)),
		chromedp.WaitVisible(css(`[data-testid=flash-success]`)),
	})
	waitFor(t, "the task to be assigned to the approver and done", 20*time.Second, func() bool {
		is, _ := issueOf()
		return is.Assignee.AccountID == bobJira.AccountID && is.Status == "Done"
	})
	runSteps(t, bob, "approver views the assigned task", []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(site.BrowseURL(issue.Key)),
		chromedp.WaitVisible(css(`[data-testid=assignee]`)),
		shot("05-task-assigned"),
	})
	if txt, err := chromedp.Run(bob, chromedp.Text(css(`[data-testid=assignee]`))); err != nil || txt != "Bob Approver" {
		t.Fatalf("task page assignee %q (%v)", txt, err)
	}
	capturePeoplePages(t, bob, base, "/integrations/"+fmt.Sprint(integ.ID)+"/projects/OPS")
}

// capturePeoplePages screenshots the new screens at desktop and phone
// width (manual review), as an admin: profile, Users, the project's Manage page.
func capturePeoplePages(t *testing.T, ctx context.Context, base, projectPath string) {
	t.Helper()
	if os.Getenv("PRIVILEGE_SCREENSHOTS") == "" {
		return
	}
	admin, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	runSteps(t, admin, "admin", signIn(base, "admin@example.com"))
	for _, width := range []int64{1280, 390} {
		for _, p := range []struct{ path, wait, name string }{
			{"/profile", "profile-page", "profile"}, {"/users", "users-page", "users"}, {projectPath, "people", "project"},
		} {
			if err := chromedp.Do(admin, chromedp.EmulateViewport(width, 900), chromedp.Navigate(base+p.path),
				chromedp.WaitVisible(css(`[data-testid=`+p.wait+`]`)), screenshot(fmt.Sprintf("people-%s-%d", p.name, width))); err != nil {
				t.Fatal(err)
			}
		}
	}
}
