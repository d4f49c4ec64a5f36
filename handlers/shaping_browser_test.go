package handlers

import (
	"context"
	"encoding/json"
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

// TestBrowserTicketShaping links a FIN-like project (its Task create screen
// requires the select "Cost centre") by choosing the value, edits the
// description template and watches the preview follow; then a request's
// task in the simulator is exactly what the preview showed.
func TestBrowserTicketShaping(t *testing.T) {
	ctx := t.Context()
	store := modeltest.NewStore(t, models.DialectSQLite)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	callback := base + "/integrations/jira/callback"
	sim := jirasim.New(jirasim.Options{CloudRedirectURIs: []string{callback}})
	t.Cleanup(sim.Close)
	site := sim.AddCloudSite("acme")
	fin := site.AddProject("FIN", "Finance", jirasim.SimpleWorkflow())
	fin.AddCreateField("Task", jirasim.CreateField{ID: "customfield_10050", Name: "Cost centre", Kind: jirasim.FieldSelect, Required: true,
		Options: []string{"Engineering", "Sales"}})

	hc := jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, RootCAs: sim.CertPool()})
	cid, csecret := sim.CloudClient()
	oauth := jira.NewOAuth(jira.OAuthConfig{AuthURL: sim.AuthURL(), APIURL: sim.APIURL(), CloudClientID: cid, CloudClientSecret: csecret, RedirectURL: callback, HTTPClient: hc})
	clients := jira.NewClients(oauth, store, hc)
	loc, err := sim.Consent(oauth.CloudAuthCodeURL("st"), true, "")
	if err != nil {
		t.Fatal(err)
	}
	tok := modeltest.Must(oauth.ExchangeCloud(ctx, loc.Query().Get("code")))
	sites := modeltest.Must(oauth.AccessibleResources(ctx, tok.AccessToken))
	integ := modeltest.Must(store.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{
		Name: "Acme", Deployment: models.DeploymentCloud, CloudID: sites[0].CloudID, SiteURL: sites[0].URL, Token: tok}))
	account := modeltest.Must(store.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: "123456789012",
		Name: "Finance", Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))

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
	alice := modeltest.Must(store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: "alice@example.com", Password: testPassword, Role: models.RoleRequester}))

	shot := func(name string) chromedp.Action[chromedp.Void] { return screenshot("shaping-" + name) }
	projectPath := fmt.Sprintf("/integrations/%d/projects/FIN", integ.ID)
	template := "### Access for {{requester_email}}\n**Why: **{{justification}}\n* {{resources}}\nCost centre approval needed."
	b := jiraBrowser(t)
	runSteps(t, b, "admin links FIN", append(signInSteps(base),
		chromedp.Navigate(base+projectPath),
		chromedp.WaitVisible(css(`[data-testid=required-customfield_10050]`)),
		chromedp.WaitVisible(css(`[data-testid=field-missing]`)),
		shot("01-required-field"),
		chromedp.Click(css(fmt.Sprintf(`input[name=account][value="%d"]`, account.ID))),
		chromedp.SetValue(css(`#field_customfield_10050`), fin.OptionID("customfield_10050", "Engineering")),
		chromedp.Clear(css(`#description_template`)),
		chromedp.SendKeys(css(`#description_template`), template),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid=preview-description]').textContent.includes('Cost centre approval needed.')`, chromedp.WithPollingTimeout(10*time.Second)),
		shot("02-preview"),
	))
	if txt, err := chromedp.Run(b, chromedp.Text(css(`[data-testid=preview-description] h4`))); err != nil || txt != "Access for alex@example.com" {
		t.Fatalf("preview heading %q (%v)", txt, err)
	}
	runSteps(t, b, "admin saves", []chromedp.Action[chromedp.Void]{
		chromedp.Click(css(`[data-testid=update-project]`)),
		chromedp.WaitVisible(css(`[data-testid=flash-success]`)),
	})
	link := modeltest.Must(store.ProjectLinkByKey(ctx, integ.ID, "FIN"))
	if link.FieldValues["customfield_10050"].Label != "Engineering" || link.DescriptionTemplate != template {
		t.Fatalf("saved link: %+v", link)
	}

	// A pending request: the preview now uses it; its task must be what the
	// preview shows.
	r := modeltest.Must(store.CreateRequest(ctx, alice, models.NewRequest{AccountID: account.ID, Resources: []string{"ReadOnly"},
		DurationMinutes: 60, Justification: "INC-9: *reconcile* {code}ledger{code}"}, time.Hour))
	runSteps(t, b, "admin previews with the request", []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + projectPath),
		chromedp.WaitVisible(css(`[data-testid=task-preview]`)),
		shot("03-preview-request"),
	})
	header := modeltest.Must(chromedp.Run(b, chromedp.Text(css(`[data-testid=task-preview] header`))))
	summary := modeltest.Must(chromedp.Run(b, chromedp.Text(css(`[data-testid=preview-summary]`))))
	body := modeltest.Must(chromedp.Run(b, chromedp.TextContent(css(`[data-testid=preview-body-text]`))))
	if !strings.Contains(header, fmt.Sprintf("pending request #%d", r.ID)) {
		t.Fatalf("preview source %q", header)
	}
	var issue jirasim.Issue
	waitFor(t, "the FIN task", 20*time.Second, func() bool {
		for _, is := range site.Issues() {
			if is.HasLabel(jira.CorrelationLabel(r.ID)) {
				issue = is
				return true
			}
		}
		return false
	})
	sent, _ := json.MarshalIndent(issue.Description, "", "  ")
	if issue.Summary != summary || string(sent) != body || issue.Fields["customfield_10050"] != "Engineering" {
		t.Fatalf("task differs from the preview:\nsummary %q / %q\nbody %s\npreview %s\nfields %v", issue.Summary, summary, sent, body, issue.Fields)
	}
	runSteps(t, b, "admin views the task", []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(site.BrowseURL(issue.Key)),
		chromedp.WaitVisible(css(`body`)),
		shot("04-task"),
	})
	if os.Getenv("PRIVILEGE_SCREENSHOTS") != "" {
		for _, width := range []int64{1280, 390} {
			if err := chromedp.Do(b, chromedp.EmulateViewport(width, 900), chromedp.Navigate(base+projectPath),
				chromedp.WaitVisible(css(`[data-testid=task-preview]`)), screenshot(fmt.Sprintf("shaping-project-%d", width))); err != nil {
				t.Fatal(err)
			}
		}
	}
}
