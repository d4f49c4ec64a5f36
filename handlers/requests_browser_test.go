package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/time/rate"

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
	ctx := t.Context()
	const callback = "http://privilege.test/integrations/jira/callback"
	sim := jirasim.New(jirasim.Options{CloudRedirectURIs: []string{callback}})
	t.Cleanup(sim.Close)
	st := &jiraStack{store: modeltest.NewStore(t, models.DialectSQLite), site: sim.AddCloudSite("acme")}
	st.site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())

	hc := jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, RootCAs: sim.CertPool()})
	hc.Transport = jira.NewPacer(rate.Inf, 1).Wrap(hc.Transport)
	id, secret := sim.CloudClient()
	oauth := jira.NewOAuth(jira.OAuthConfig{AuthURL: sim.AuthURL(), APIURL: sim.APIURL(), CloudClientID: id, CloudClientSecret: secret, RedirectURL: callback, HTTPClient: hc})
	clients := jira.NewClients(oauth, st.store, hc)

	// Connect the Cloud site through the simulator's consent, and link OPS.
	loc, err := sim.Consent(oauth.CloudAuthCodeURL("st"), true, "")
	if err != nil {
		t.Fatal(err)
	}
	tok := modeltest.Must(oauth.ExchangeCloud(ctx, loc.Query().Get("code")))
	sites := modeltest.Must(oauth.AccessibleResources(ctx, tok.AccessToken))
	integ := modeltest.Must(st.store.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{
		Name: "Acme", Deployment: models.DeploymentCloud, CloudID: sites[0].CloudID, SiteURL: sites[0].URL, Token: tok}))
	st.account = modeltest.Must(st.store.CreateAccount(ctx, models.SystemActor, models.AccountInput{
		Provider: models.ProviderAWS, ExternalID: "123456789012", Name: "Production",
		Resources: []models.ResourceInput{{Name: "AdministratorAccess", Kind: "permission-set"}, {Name: "ReadOnly", Kind: "role"}},
	}))
	conn := jira.NewConnection(integ, modeltest.Must(st.store.ClientSecret(integ)))
	var taskID string
	for _, it := range modeltest.Must(clients.For(conn).IssueTypes(ctx, "OPS")) {
		if it.Name == "Task" {
			taskID = it.ID
		}
	}
	modeltest.Must(st.store.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{
		IntegrationID: integ.ID, ProjectID: "OPS", ProjectKey: "OPS", ProjectName: "Operations", IssueTypeID: taskID, IssueTypeName: "Task",
		Statuses: map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined"}, AccountIDs: []int64{st.account.ID},
	}))

	// The console, with its base URL known before it serves.
	st.srv = httptest.NewUnstartedServer(nil)
	base := "http://" + st.srv.Listener.Addr().String()
	app := newTestApp(t, st.store, withBaseURL(base), func(_ *Config, d *Deps) { d.JiraOAuth, d.JiraClients = oauth, clients })
	st.srv.Config.Handler = app.e
	st.srv.Start()
	t.Cleanup(st.srv.Close)

	syncer := jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), st.store, clients, nil, jira.SyncerConfig{
		BaseURL: base, Workers: 2, PollInterval: 250 * time.Millisecond,
	})
	st.store.OnEnqueue(syncer.Notify)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); syncer.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	modeltest.Must(st.store.CreateFirstAdmin(ctx, "127.0.0.1", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	for email, role := range map[string]models.Role{"bob@example.com": models.RoleApprover, "alice@example.com": models.RoleRequester} {
		modeltest.Must(st.store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: email, Password: testPassword, Role: role}))
	}
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

// screenshotter saves full-page PNGs into PRIVILEGE_SCREENSHOTS when set.
func screenshotter() func(name string) chromedp.Action[chromedp.Void] {
	dir := os.Getenv("PRIVILEGE_SCREENSHOTS")
	return func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if dir == "" {
				return nil
			}
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "req-"+name+".png"), png, 0o644)
		})
	}
}

func signInActions(base, email string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), testPassword),
		chromedp.Click(chromedp.CSS(`[data-testid=sign-in]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=requests-page]`)),
	}
}

// TestBrowserRequestApprovedThroughJira is the product's main path: a
// requester asks for access in the browser, the Jira task appears with the
// approval link, an approver follows that link and approves, and the task
// reaches Done while the approval page shows the issue key, synced.
func TestBrowserRequestApprovedThroughJira(t *testing.T) {
	alice := browserContext(t)
	st := newJiraStack(t)
	base, shot := st.srv.URL, screenshotter()

	steps := append(signInActions(base, "alice@example.com"),
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
	steps = append(signInActions(base, "bob@example.com"),
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

// runSteps runs actions one by one, so a failure names its step.
func runSteps(t *testing.T, ctx context.Context, who string, steps []chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx); err != nil { // starts the browser (tab) on ctx, not on a step's context
		t.Fatal(err)
	}
	for i, s := range steps {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := chromedp.Do(sctx, s)
		cancel()
		if err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(`main`)))
			t.Fatalf("%s, step %d: %v\n%s", who, i, err, trim(html))
		}
	}
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
