package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
	store := modeltest.NewStore(t, models.DialectSQLite)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	callback := base + "/integrations/jira/callback"
	sim := jirasim.New(jirasim.Options{CloudRedirectURIs: []string{callback}})
	t.Cleanup(sim.Close)
	site := sim.AddCloudSite("acme")
	site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
	bobJira := sim.AddCloudUser("Bob Approver", "bob@acme.example")
	aliceJira := sim.AddCloudUser("Alice Requester", "alice@acme.example")

	hc := jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, RootCAs: sim.CertPool()})
	cid, csecret := sim.CloudClient()
	oauth := jira.NewOAuth(jira.OAuthConfig{AuthURL: sim.AuthURL(), APIURL: sim.APIURL(), CloudClientID: cid, CloudClientSecret: csecret, RedirectURL: callback, HTTPClient: hc})
	clients := jira.NewClients(oauth, store, hc)

	// The admin's integration and the OPS link, assigning the approver who decides.
	loc, err := sim.Consent(oauth.CloudAuthCodeURL("st"), true, "")
	if err != nil {
		t.Fatal(err)
	}
	tok := modeltest.Must(oauth.ExchangeCloud(ctx, loc.Query().Get("code")))
	sites := modeltest.Must(oauth.AccessibleResources(ctx, tok.AccessToken))
	integ := modeltest.Must(store.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{
		Name: "Acme", Deployment: models.DeploymentCloud, CloudID: sites[0].CloudID, SiteURL: sites[0].URL, Token: tok}))
	account := modeltest.Must(store.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: "123456789012",
		Name: "Production", Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))
	var taskID string
	for _, it := range modeltest.Must(clients.For(jira.NewConnection(integ, "")).IssueTypes(ctx, "OPS")) {
		if it.Name == "Task" {
			taskID = it.ID
		}
	}
	modeltest.Must(store.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{
		IntegrationID: integ.ID, ProjectID: "OPS", ProjectKey: "OPS", ProjectName: "Operations", IssueTypeID: taskID, IssueTypeName: "Task",
		Statuses: map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined"}, AccountIDs: []int64{account.ID},
		AssigneeMode: models.AssigneeDecider,
	}))

	app := newTestApp(t, store, withBaseURL(base), func(_ *Config, d *Deps) { d.JiraOAuth, d.JiraClients = oauth, clients })
	srv.Config.Handler = app.e
	srv.Start()
	t.Cleanup(srv.Close)
	syncer := jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, clients, nil, jira.SyncerConfig{BaseURL: base, Workers: 2, PollInterval: 250 * time.Millisecond})
	store.OnEnqueue(syncer.Notify)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); syncer.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	modeltest.Must(store.CreateFirstAdmin(ctx, "127.0.0.1", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	for email, role := range map[string]models.Role{"bob@example.com": models.RoleApprover, "alice@example.com": models.RoleRequester} {
		modeltest.Must(store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: email, Password: testPassword, Role: role}))
	}

	shot := func(name string) chromedp.Action[chromedp.Void] { return screenshot("people-" + name) }
	linkSteps := func(email string, who jirasim.User, name string) []chromedp.Action[chromedp.Void] {
		return append(signInActions(base, email),
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

	bob := jiraBrowser(t)
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
	runSteps(t, admin, "admin", signInSteps(base))
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
