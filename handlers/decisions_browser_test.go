package handlers

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// approvalWorkflow is To Do → Approved | Declined, as a team that approves
// in Jira would set it up.
func approvalWorkflow() jirasim.Workflow {
	return jirasim.Workflow{
		Initial: "To Do",
		Statuses: []jirasim.Status{
			{ID: "10000", Name: "To Do", Category: jirasim.CategoryNew},
			{ID: "10010", Name: "Approved", Category: jirasim.CategoryDone},
			{ID: "10011", Name: "Declined", Category: jirasim.CategoryDone},
		},
		Transitions: []jirasim.Transition{
			{ID: "11", Name: "Approve", From: []string{"To Do"}, To: "Approved"},
			{ID: "21", Name: "Decline", From: []string{"To Do"}, To: "Declined"},
			{ID: "31", Name: "Reopen", From: []string{"Approved", "Declined"}, To: "To Do"},
		},
	}
}

// TestBrowserDecisionFromJira: the approver, linked to Jira, opens the task in
// the simulator's issue view and moves it to Approved; Jira's signed webhook
// reaches the console, which reads the move back and approves; the request
// page says "approved via Jira".
func TestBrowserDecisionFromJira(t *testing.T) {
	ctx := t.Context()
	l := newLiveJira(t)
	store, sim, base := l.Store, l.Sim, l.base
	site := sim.AddCloudSite("acme")
	site.AddProject("OPS", "Operations", approvalWorkflow())
	bobJira := sim.AddCloudUser("Bob Approver", "bob@acme.example")
	clients := l.Clients
	integ := l.ConnectCloud(t, "Acme")
	account := modeltest.Must(store.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: "123456789012",
		Name: "Production", Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))
	link := l.LinkProject(t, integ.ID, "OPS", "Operations", []int64{account.ID}, func(in *models.ProjectLinkInput) {
		in.Statuses[models.OutcomeApproved] = "Approved"
	})
	l.serve(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	l.runSyncer(t)
	bob, alice := l.addPeople(t)
	modeltest.Must(store.LinkJiraIdentity(ctx, models.SystemActor, bob.ID, integ.ID, models.JiraIdentityInput{AccountID: bobJira.AccountID, DisplayName: bobJira.DisplayName}))

	// The admin turns "Approve and deny in Jira" on in the project's Manage page.
	admin := browserContext(t)
	projectPath := fmt.Sprintf("/integrations/%d/projects/OPS", integ.ID)
	runSteps(t, admin, "admin turns decisions on", append(signIn(base, "admin@example.com"),
		chromedp.Navigate(base+projectPath),
		chromedp.WaitVisible(css(`[data-testid=decisions-form]`)),
		chromedp.Click(css(`[data-testid=decide-in-jira]`)),
		chromedp.SetValue(css(`select[name=jira_approve_status]`), "Approved"),
		chromedp.SetValue(css(`select[name=jira_deny_status]`), "Declined"),
		chromedp.Click(css(`[data-testid=save-decisions]`)),
		chromedp.WaitVisible(css(`[data-testid=flash-success]`)),
		screenshot("decisions-01-project"),
	))
	if l := modeltest.Must(store.ProjectLink(ctx, link.ID)); !l.DecideInJira || l.JiraApproveStatus != "Approved" || l.JiraDenyStatus != "Declined" {
		t.Fatalf("link %+v", l)
	}
	// The poller registers the app's webhook (it would on its next tick).
	poller := jira.NewPoller(logger, store, clients, nil, jira.PollerConfig{BaseURL: base})
	poller.RunOnce(ctx)
	if hooks := site.Webhooks(); len(hooks) != 1 {
		t.Fatalf("webhooks %+v", hooks)
	}
	runSteps(t, admin, "admin sees the webhook", []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + fmt.Sprintf("/integrations/%d", integ.ID)),
		chromedp.WaitVisible(css(`[data-testid=decisions-panel]`)),
		screenshot("decisions-02-integration"),
	})
	if txt, err := chromedp.Run(admin, chromedp.Text(css(`[data-testid=webhook-state]`))); err != nil || !strings.Contains(txt, "registered") || !strings.Contains(txt, "expires") {
		t.Fatalf("webhook state %q (%v)", txt, err)
	}

	r := modeltest.Must(store.CreateRequest(ctx, alice, models.NewRequest{AccountID: account.ID, Resources: []string{"ReadOnly"}, DurationMinutes: 60, Justification: "INC-9"}, time.Hour))
	var key string
	waitFor(t, "the Jira task", 20*time.Second, func() bool {
		got := modeltest.Must(store.Request(ctx, r.ID))
		if got.Issue != nil && got.Issue.IssueKey != "" {
			key = got.Issue.IssueKey
			return true
		}
		return false
	})

	// Bob, in Jira, moves the task to Approved.
	bobCtx, cancelBob := chromedp.NewContext(admin, chromedp.WithNewBrowserContext())
	defer cancelBob()
	runSteps(t, bobCtx, "approver approves in Jira", []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(site.BrowseURL(key)),
		chromedp.WaitVisible(css(`[data-testid=move-as-form]`)),
		chromedp.SetValue(css(`[data-testid=move-as]`), bobJira.AccountID),
		chromedp.SendKeys(css(`[data-testid=move-comment]`), "INC-9 confirmed"),
		screenshot("decisions-03-jira-issue"),
		chromedp.Click(css(`[data-testid="move-to-Approved"]`)),
		chromedp.WaitVisible(css(`[data-testid=status]`)),
	})
	waitFor(t, "the approval", 20*time.Second, func() bool {
		return modeltest.Must(store.Request(ctx, r.ID)).Status == models.RequestApproved
	})
	runSteps(t, bobCtx, "approver sees the request", append(signIn(base, "bob@example.com"),
		chromedp.Navigate(base+fmt.Sprintf("/requests/%d", r.ID)),
		chromedp.WaitVisible(css(`[data-testid=via-jira]`)),
		screenshot("decisions-04-request"),
	))
	if txt, err := chromedp.Run(bobCtx, chromedp.Text(css(`[data-testid=timeline]`))); err != nil || !strings.Contains(txt, "via Jira") || !strings.Contains(txt, "INC-9 confirmed") {
		t.Fatalf("timeline %q (%v)", txt, err)
	}
	defer func() {
		// Disconnecting the integration deletes its webhook in Jira first.
		runSteps(t, admin, "admin disconnects", []chromedp.Action[chromedp.Void]{
			chromedp.EmulateViewport(1280, 900),
			chromedp.Navigate(base + fmt.Sprintf("/integrations/%d/disconnect", integ.ID)),
			chromedp.Click(css(`[data-testid=confirm-disconnect]`)),
			chromedp.WaitVisible(css(`[data-testid=flash-success]`)),
		})
		if hooks := site.Webhooks(); len(hooks) != 0 {
			t.Errorf("webhooks left after disconnecting: %+v", hooks)
		}
	}()
	for _, width := range []int64{1280, 390} {
		if err := chromedp.Do(admin, chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(base+projectPath), chromedp.WaitVisible(css(`[data-testid=decisions-form]`)), screenshot(fmt.Sprintf("decisions-project-%d", width)),
			chromedp.Navigate(base+fmt.Sprintf("/integrations/%d", integ.ID)), chromedp.WaitVisible(css(`[data-testid=decisions-panel]`)), screenshot(fmt.Sprintf("decisions-integration-%d", width)),
		); err != nil {
			t.Fatal(err)
		}
	}
}
