package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"privilege/models"
	"privilege/models/modeltest"
)

// textOf reads the text of the first element matching sel.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// evalJS evaluates a (possibly async) expression in the page.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// submitRequest fills and sends the Request access form as the signed-in user.
func submitRequest(accountID int64, justification string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Click(css(`[data-testid=new-request]`)),
		chromedp.WaitVisible(css(`[data-testid=request-form]`)),
		chromedp.SetValue(css(`#account_id`), fmt.Sprint(accountID)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`document.querySelector('#account_id').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
			return err
		}),
		chromedp.WaitVisible(css(`input[name=resources][value=ReadOnly]`)),
		chromedp.Click(css(`input[name=resources][value=ReadOnly]`)),
		// The 4 h preset reloads the form with that duration, keeping the choice.
		chromedp.Click(css(`[data-testid=preset-240]`)),
		chromedp.WaitVisible(css(`[data-testid=preset-240]:not(.outline)`)),
		chromedp.SendKeys(css(`#justification`), justification),
		chromedp.Click(css(`[data-testid=submit-request]`)),
		chromedp.WaitVisible(css(`[data-testid=request-page]`)),
	}
}

// TestBrowserDemoLoop is the approval loop as people walk it: the request
// page fills in its Jira task by itself; the task's page in the simulator
// shows the description with a clickable approval link; the approver
// follows it and approves; both sides then show the task Done.
func TestBrowserDemoLoop(t *testing.T) {
	alice := browserContext(t)
	st := newJiraStack(t)
	base := st.srv.URL
	steps := append(signIn(base, "alice@example.com"), submitRequest(st.account.ID, "Rotate the key of INC-7")...)
	steps = append(steps,
		chromedp.WaitVisible(css(`[data-testid=flash-success]`)),
		screenshot("loop-01-request-submitted"),
		// No reload: htmx polls the Jira box until the task exists.
		chromedp.WaitVisible(css(`#jira-task[data-sync-state=synced] [data-testid=issue-link]`)),
		screenshot("loop-02-request-synced"),
	)
	runSteps(t, alice, "requester", steps)
	if got := textOf(t, alice, `[data-testid=jira-status]`); got != "To Do" {
		t.Errorf("Jira status on the request page %q, want To Do", got)
	}
	if got := textOf(t, alice, `[data-testid=tracker]`); !strings.Contains(got, "Acme · OPS (Operations)") {
		t.Errorf("tracker %q", got)
	}
	if got := textOf(t, alice, `[data-testid=duration]`); got != "240 min (4 h)" {
		t.Errorf("duration %q, want the 4 h preset", got)
	}
	if n := evalJS[int](t, alice, `document.querySelectorAll('[data-testid=sync-headline]').length`); n != 1 {
		t.Errorf("%d status lines, want one", n)
	}
	issueURL := evalJS[string](t, alice, `document.querySelector('[data-testid=issue-link]').href`)
	id := evalJS[string](t, alice, `document.querySelector('[data-testid=request-page]').dataset.requestId`)

	bob, cancel := chromedp.NewContext(alice, chromedp.WithNewBrowserContext())
	defer cancel()
	runSteps(t, bob, "approver", append(signIn(base, "bob@example.com"),
		chromedp.Navigate(issueURL),
		chromedp.WaitVisible(css(`[data-testid=jira-issue-page]`)),
		screenshot("loop-03-jira-issue"),
	))
	if got := textOf(t, bob, `[data-testid=status]`); got != "To Do" {
		t.Errorf("simulator status %q", got)
	}
	desc := textOf(t, bob, `[data-testid=description]`)
	if !strings.Contains(desc, "Rotate the key of INC-7") || !strings.Contains(desc, "ReadOnly") {
		t.Errorf("description %q", desc)
	}
	if got := evalJS[string](t, bob, `document.querySelector('[data-testid=description-link]').href`); got != base+"/requests/"+id {
		t.Fatalf("approval link %q, want %s", got, base+"/requests/"+id)
	}
	runSteps(t, bob, "approver", []chromedp.Action[chromedp.Void]{
		chromedp.Click(css(`[data-testid=description-link]`)),
		chromedp.WaitVisible(css(`[data-testid=decide-form]`)),
		chromedp.SendKeys(css(`#reason`), "Matches INC-7"),
		chromedp.Click(css(`[data-testid=approve]`)),
		chromedp.WaitVisible(css(`[data-testid=flash-success]`)),
		// The page polls again until the task has moved.
		chromedp.WaitVisible(css(`#jira-task[data-sync-state=synced] [data-testid=jira-status]`)),
		screenshot("loop-04-approved"),
	})
	if got := textOf(t, bob, `[data-testid=jira-status]`); got != "Done" {
		t.Errorf("Jira status after approval %q, want Done", got)
	}
	runSteps(t, bob, "approver", []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(issueURL),
		chromedp.WaitVisible(css(`[data-testid=history-entry]`)),
		screenshot("loop-05-jira-issue-done"),
	})
	if got := textOf(t, bob, `[data-testid=status]`); got != "Done" {
		t.Errorf("simulator status after approval %q", got)
	}
	if got := textOf(t, bob, `[data-testid=history]`); !strings.Contains(got, "To Do → Done") {
		t.Errorf("history %q", got)
	}
	if got := textOf(t, bob, `[data-testid=comments]`); !strings.Contains(got, "Approved by bob@example.com") {
		t.Errorf("comments %q", got)
	}
}

// TestBrowserEveryPageFitsAPhone visits every page at 390 px wide: the
// document is never wider than the viewport (wide tables scroll inside
// their own container) and Sign out stays on screen.
func TestBrowserEveryPageFitsAPhone(t *testing.T) {
	ctx := browserContext(t)
	st := newJiraStack(t)
	base := st.srv.URL
	c := context.Background()
	admin := modeltest.Must(st.store.UserByEmail(c, "admin@example.com"))
	alice := modeltest.Must(st.store.UserByEmail(c, "alice@example.com"))
	mine := modeltest.Must(st.store.CreateRequest(c, admin, models.NewRequest{AccountID: st.account.ID, Resources: []string{"ReadOnly"},
		DurationMinutes: 60, Justification: strings.Repeat("a-long-unbroken-justification-", 8)}, time.Hour))
	theirs := modeltest.Must(st.store.CreateRequest(c, alice, models.NewRequest{AccountID: st.account.ID, Resources: []string{"AdministratorAccess", "ReadOnly"},
		DurationMinutes: 60, Justification: "INC-9"}, time.Hour))
	bob := modeltest.Must(st.store.UserByEmail(c, "bob@example.com"))
	modeltest.Must(st.store.Decide(c, bob, theirs.ID, models.DecisionApprove, "ok"))
	integ := modeltest.Must(st.store.ListIntegrations(c))[0]
	waitFor(t, "the task of the approved request", 20*time.Second, func() bool { _, ok := st.issueOf(theirs.ID); return ok })
	issue, _ := st.issueOf(theirs.ID)

	pages := []struct{ path, wait string }{
		{"/requests", "requests-page"},
		{"/requests/new", "request-form-page"},
		{"/requests/history", "request-history-page"},
		{fmt.Sprintf("/requests/%d", mine.ID), "request-page"},
		{fmt.Sprintf("/requests/%d", theirs.ID), "request-page"},
		{fmt.Sprintf("/requests/%d/cancel", mine.ID), "confirm-page"},
		{fmt.Sprintf("/requests/%d/revoke", theirs.ID), "confirm-page"},
		{"/accounts", "accounts-page"},
		{"/accounts/new", "account-form"},
		{fmt.Sprintf("/accounts/%d/edit", st.account.ID), "account-form"},
		{fmt.Sprintf("/accounts/%d/delete", st.account.ID), "account-delete-page"},
		{"/users", "users-page"},
		{"/users/new", "user-form"},
		{"/tokens", "tokens-page"},
		{"/tokens/new", "token-form"},
		{"/audit", "audit-page"},
		{"/integrations", "integrations-page"},
		{"/integrations/jira/new", "jira-connect-form"},
		{fmt.Sprintf("/integrations/%d", integ.ID), "integration-page"},
		{fmt.Sprintf("/integrations/%d/projects/OPS", integ.ID), "project-page"},
		{fmt.Sprintf("/integrations/%d/projects/OPS/unlink", integ.ID), "confirm-page"},
		{fmt.Sprintf("/integrations/%d/disconnect", integ.ID), "disconnect-page"},
		{"/nope", "error-page"},
	}
	runSteps(t, ctx, "admin", append(signIn(base, "admin@example.com"), chromedp.EmulateViewport(390, 844)))
	check := func(name, url, wait string) {
		t.Helper()
		runSteps(t, ctx, "admin", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(url), chromedp.WaitVisible(css(`[data-testid=` + wait + `]`)), screenshot("phone-" + name),
		})
		sizes := evalJS[[]int](t, ctx, `[document.scrollingElement.scrollWidth, window.innerWidth]`)
		if sizes[0] > sizes[1] {
			t.Errorf("%s is %d px wide in a %d px viewport", url, sizes[0], sizes[1])
		}
		if wait != "jira-issue-page" && wait != "login-form" {
			if right := evalJS[float64](t, ctx, `document.querySelector('[data-testid=sign-out]').getBoundingClientRect().right`); right > float64(sizes[1]) {
				t.Errorf("%s: Sign out ends at %.0f px, off a %d px screen", url, right, sizes[1])
			}
		}
	}
	for _, p := range pages {
		check(strings.NewReplacer("/", "-", "?", "-").Replace(strings.Trim(p.path, "/")), base+p.path, p.wait)
	}
	check("jira-issue", st.site.BrowseURL(issue.Key), "jira-issue-page")
	// Desktop screenshots of the new screens, for review.
	runSteps(t, ctx, "admin", []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base + "/requests"), chromedp.WaitVisible(css(`[data-testid=queue-table]`)), screenshot("desktop-queue"),
		chromedp.Navigate(fmt.Sprintf("%s/requests/%d", base, theirs.ID)), chromedp.WaitVisible(css(`[data-testid=jira-task]`)), screenshot("desktop-request"),
		chromedp.Navigate(base + "/audit"), chromedp.WaitVisible(css(`[data-testid=audit-table]`)), screenshot("desktop-audit"),
		chromedp.Navigate(fmt.Sprintf("%s/integrations/%d", base, integ.ID)), chromedp.WaitVisible(css(`[data-testid=projects-table]`)), screenshot("desktop-integration"),
		chromedp.Navigate(st.site.BrowseURL(issue.Key)), chromedp.WaitVisible(css(`[data-testid=jira-issue-page]`)), screenshot("desktop-jira-issue"),
		chromedp.Navigate(base + "/requests"), chromedp.WaitVisible(css(`[data-testid=sign-out]`)),
		chromedp.Click(css(`[data-testid=sign-out]`)), chromedp.WaitVisible(css(`[data-testid=login-form]`)), chromedp.EmulateViewport(390, 844),
	})
	check("login", base+"/login", "login-form")
}

// TestBrowserQueueInlineAndAuditExport: an approver denies from the queue
// (a reason is required and the field gets the focus), approves another;
// the admin filters the audit log and downloads it as CSV.
func TestBrowserQueueInlineAndAuditExport(t *testing.T) {
	ctx := browserContext(t)
	st := newJiraStack(t)
	base := st.srv.URL
	c := context.Background()
	alice := modeltest.Must(st.store.UserByEmail(c, "alice@example.com"))
	r1 := modeltest.Must(st.store.CreateRequest(c, alice, models.NewRequest{AccountID: st.account.ID, Resources: []string{"ReadOnly"}, DurationMinutes: 60, Justification: "INC-1"}, time.Hour))
	r2 := modeltest.Must(st.store.CreateRequest(c, alice, models.NewRequest{AccountID: st.account.ID, Resources: []string{"ReadOnly"}, DurationMinutes: 60, Justification: "INC-2"}, time.Hour))
	row := func(id int64) string { return fmt.Sprintf(`[data-testid=queue-row][data-request-id="%d"] `, id) }

	runSteps(t, ctx, "approver", append(signIn(base, "bob@example.com"),
		chromedp.WaitVisible(css(row(r1.ID)+`[data-testid=inline-deny]`)),
		screenshot("queue-01"),
		chromedp.Click(css(row(r1.ID)+`[data-testid=inline-deny]`)),
		chromedp.WaitVisible(css(row(r1.ID)+`[data-testid=inline-error]`)),
		screenshot("queue-02-deny-needs-reason"),
	))
	if focused := evalJS[string](t, ctx, `document.activeElement.id`); focused != fmt.Sprintf("reason-%d", r1.ID) {
		t.Errorf("focus is on %q, want the reason of #%d", focused, r1.ID)
	}
	if got := textOf(t, ctx, `[data-testid=nav-pending]`); got != "2" {
		t.Errorf("pending count %q", got)
	}
	runSteps(t, ctx, "approver", []chromedp.Action[chromedp.Void]{
		chromedp.SendKeys(css(row(r1.ID)+`input[name=reason]`), "No incident open"),
		chromedp.Click(css(row(r1.ID) + `[data-testid=inline-deny]`)),
		chromedp.WaitVisible(css(`[data-testid=flash-success]`)),
		chromedp.Click(css(row(r2.ID) + `[data-testid=inline-approve]`)),
		chromedp.WaitVisible(css(`[data-testid=queue-empty]`)),
	})
	for id, want := range map[int64]models.RequestStatus{r1.ID: models.RequestDenied, r2.ID: models.RequestApproved} {
		if r := modeltest.Must(st.store.Request(c, id)); r.Status != want {
			t.Errorf("#%d is %s, want %s", id, r.Status, want)
		}
	}

	admin, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	runSteps(t, admin, "admin", append(signIn(base, "admin@example.com"),
		chromedp.Navigate(base+"/audit"),
		chromedp.WaitVisible(css(`[data-testid=audit-filters]`)),
		chromedp.SetValue(css(`#action`), string(models.AuditRequestDenied)),
		chromedp.SendKeys(css(`#actor`), "bob@"),
		chromedp.Click(css(`[data-testid=audit-apply]`)),
		// The unfiltered page has rows too: wait for the filtered page first.
		chromedp.WaitVisible(css(`[data-testid=audit-export][href*="action="]`)),
		chromedp.WaitVisible(css(`[data-testid=audit-row]`)),
		screenshot("audit-filtered"),
	))
	if n := evalJS[int](t, admin, `document.querySelectorAll('[data-testid=audit-row]').length`); n != 1 {
		t.Fatalf("%d audit rows, want the one denial", n)
	}
	if got := textOf(t, admin, `[data-testid=audit-target]`); got != fmt.Sprintf("Request #%d", r1.ID) {
		t.Errorf("target %q", got)
	}
	href := evalJS[string](t, admin, `document.querySelector('[data-testid=audit-export]').href`)
	body := evalJS[string](t, admin, `fetch(document.querySelector('[data-testid=audit-export]').href).then(r => r.text())`)
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][2] != string(models.AuditRequestDenied) || recs[1][3] != fmt.Sprintf("Request #%d", r1.ID) {
		t.Fatalf("CSV from %s: %v\n%s", href, err, body)
	}
}

// TestBrowserOriginBanner: an admin browsing at another origin than the
// configured base URL sees what to set.
func TestBrowserOriginBanner(t *testing.T) {
	ctx := browserContext(t)
	app := newTestApp(t, modeltest.NewStore(t, models.DialectSQLite), withBaseURL("http://localhost:8080"))
	modeltest.Must(app.store.CreateFirstAdmin(context.Background(), "127.0.0.1", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	srv := httptest.NewServer(app.e)
	t.Cleanup(srv.Close)
	runSteps(t, ctx, "admin", append(signIn(srv.URL, "admin@example.com"),
		chromedp.WaitVisible(css(`[data-testid=origin-banner]`)), screenshot("origin-banner")))
	if got := textOf(t, ctx, `[data-testid=origin-banner]`); !strings.Contains(got, "PRIVILEGE_BASE_URL="+srv.URL) || !strings.Contains(got, "http://localhost:8080") {
		t.Errorf("banner %q", got)
	}
}
