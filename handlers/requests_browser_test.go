package handlers

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/time/rate"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// jiraStack is the whole product on one machine: the console over a real
// SQLite store, the Jira Cloud simulator with a linked project, and a
// running syncer woken by the store's outbox.
type jiraStack struct {
	srv     *httptest.Server
	store   *models.Store
	site    *jirasim.Site
	account models.CloudAccount
}

func newJiraStack(t *testing.T) *jiraStack {
	t.Helper()
	l := newLiveJira(t)
	l.HTTP.Transport = jira.NewPacer(rate.Inf, 1).Wrap(l.HTTP.Transport)
	st := &jiraStack{srv: l.srv, store: l.Store, site: testenv.AddAcme(l.Sim)}
	// Connect the Cloud site through the simulator's consent, and link OPS.
	integ := l.ConnectCloud(t, "Acme")
	st.account = modeltest.Must(st.store.CreateAccount(t.Context(), models.SystemActor, models.AccountInput{
		Provider: models.ProviderAWS, ExternalID: "123456789012", Name: "Production",
		Resources: []models.ResourceInput{{Name: "AdministratorAccess", Kind: "permission-set"}, {Name: "ReadOnly", Kind: "role"}},
	}))
	l.LinkProject(t, integ.ID, "OPS", "Operations", []int64{st.account.ID})
	l.serve(t)
	l.runSyncer(t)
	l.addPeople(t)
	return st
}

// waitFor polls cond until it holds or the deadline passes (no sleeps: a
// ticker paces the polling).
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for %s", within, what)
		case <-tick.C:
		}
	}
}

func (st *jiraStack) issueOf(id int64) (jirasim.Issue, bool) {
	for _, is := range st.site.Issues() {
		if is.HasLabel(jira.CorrelationLabel(id)) {
			return is, true
		}
	}
	return jirasim.Issue{}, false
}

// TestBrowserRequestApprovedThroughJira is the product's main path: a
// requester asks for access in the browser, the Jira task appears with the
// approval link, an approver follows that link and approves, and the task
// reaches Done while the approval page shows the issue key, synced.
func TestBrowserRequestApprovedThroughJira(t *testing.T) {
	alice := browserContext(t)
	st := newJiraStack(t)
	base, shot := st.srv.URL, screenshots("req-")

	steps := append(signIn(base, "alice@example.com"),
		chromedp.Click(chromedp.CSS(`[data-testid=new-request]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=request-form] [data-testid=no-account]`)),
		// Choosing the account loads its resources through htmx.
		chromedp.SetValue(chromedp.CSS(`#account_id`), fmt.Sprint(st.account.ID)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`document.querySelector('#account_id').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
			return err
		}),
		chromedp.WaitVisible(chromedp.CSS(`input[name=resources][value=ReadOnly]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=submit-request]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-justification]`)),
		shot("01-form-invalid"),
		chromedp.Click(chromedp.CSS(`input[name=resources][value=ReadOnly]`)),
		chromedp.SendKeys(chromedp.CSS(`#justification`), "Rotate the leaked key from INC-42 <b>now</b>"),
		shot("02-form"),
		chromedp.Click(chromedp.CSS(`[data-testid=submit-request]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=request-page]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash-success]`)),
		shot("03-request-pending"),
	)
	runSteps(t, alice, "requester", steps)
	attr, err := chromedp.Run(alice, chromedp.AttributeValue(chromedp.CSS(`[data-testid=request-page]`), "data-request-id"))
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if _, err := fmt.Sscan(attr.Value, &id); err != nil || id == 0 {
		t.Fatalf("request id %q: %v", attr.Value, err)
	}

	var issue jirasim.Issue
	waitFor(t, "the Jira task", 20*time.Second, func() (ok bool) { issue, ok = st.issueOf(id); return ok })
	approval := base + "/requests/" + fmt.Sprint(id)
	var link string
	for _, href := range issue.DescriptionLinks() {
		if href == approval {
			link = href
		}
	}
	if link == "" {
		t.Fatalf("task %s description links %v, want %s", issue.Key, issue.DescriptionLinks(), approval)
	}

	// The approver, in a browser context of their own, follows the link.
	bob, cancel := chromedp.NewContext(alice, chromedp.WithNewBrowserContext())
	defer cancel()
	steps = append(signIn(base, "bob@example.com"),
		shot("04-queue"),
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=decide-form]`)),
		shot("05-approval-page"),
		chromedp.SendKeys(chromedp.CSS(`#reason`), "Matches INC-42"),
		chromedp.Click(chromedp.CSS(`[data-testid=approve]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash-success]`)),
	)
	runSteps(t, bob, "approver", steps)
	waitFor(t, "the task to reach Done", 20*time.Second, func() bool {
		is, _ := st.issueOf(id)
		return is.Status == "Done"
	})
	waitFor(t, "the request to be synced", 20*time.Second, func() bool {
		r, err := st.store.Request(context.Background(), id)
		return err == nil && r.Issue != nil && r.Issue.SyncState == models.SyncSynced
	})
	if err := chromedp.Do(bob, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`[data-testid=issue-link]`)), shot("06-approved-synced")); err != nil {
		t.Fatal(err)
	}
	jiraBox, err := chromedp.Run(bob, chromedp.Text(chromedp.CSS(`[data-testid=jira-task]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(jiraBox, issue.Key) || !strings.Contains(jiraBox, "synced") {
		t.Errorf("Jira box %q: want %s and synced", jiraBox, issue.Key)
	}
	captureRequestPages(t, bob, base, shot)
}

// captureRequestPages screenshots the remaining request screens (manual review).
func captureRequestPages(t *testing.T, ctx context.Context, base string, shot func(string) chromedp.Action[chromedp.Void]) {
	t.Helper()
	if os.Getenv("PRIVILEGE_SCREENSHOTS") == "" {
		return
	}
	for _, p := range []struct{ path, wait, name string }{
		{"/requests", "requests-page", "07-requests"},
		{"/requests/history?status=approved", "request-history-page", "08-history"},
		{"/requests/new?account_id=1&" + url.Values{"justification": {"typed"}}.Encode(), "request-form-page", "09-new-nojs"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(`[data-testid=`+p.wait+`]`)), shot(p.name)); err != nil {
			t.Fatal(err)
		}
	}
}
