package handlers

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// browserJira is a real HTTP server with the console and the simulator.
type browserJira struct {
	url   string
	store *models.Store
	sim   *jirasim.Sim
}

func newBrowserJira(t *testing.T) *browserJira {
	t.Helper()
	l := newLiveJira(t)
	l.serve(t)
	store := l.Store
	modeltest.Must(store.CreateFirstAdmin(context.Background(), "127.0.0.1", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	for _, a := range [][2]string{{"Production", "111111111111"}, {"Staging", "222222222222"}, {"Sandbox", "333333333333"}} {
		modeltest.Must(store.CreateAccount(context.Background(), models.SystemActor, models.AccountInput{Provider: models.ProviderAWS,
			ExternalID: a[1], Name: a[0], Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))
	}
	return &browserJira{url: l.base, store: store, sim: l.Sim}
}

// integrateSteps goes Integrations → Jira → Integrate and fills the form.
func integrateSteps(name string, dc *jirasim.DataCenter, clientID, secret string) steps {
	s := steps{
		chromedp.Click(css(`[data-testid=nav-integrations]`)),
		chromedp.WaitVisible(css(`[data-testid=tile-jira]`)),
		screenshot("jira-01-integrations"),
		chromedp.Click(css(`[data-testid=integrate-jira]`)),
		chromedp.WaitVisible(css(`[data-testid=jira-connect-form]`)),
		chromedp.SendKeys(css(`#name`), name),
	}
	if dc != nil {
		s = append(s,
			chromedp.Click(css(`#self_hosted`)),
			chromedp.WaitVisible(css(`#base_url`)),
			chromedp.SendKeys(css(`#base_url`), dc.BaseURL()),
			chromedp.SendKeys(css(`#client_id`), clientID),
			chromedp.SendKeys(css(`#client_secret`), secret),
			screenshot("jira-02-integrate-dc"),
		)
	} else {
		s = append(s, screenshot("jira-02-integrate-cloud"))
	}
	return append(s, chromedp.Click(css(`[data-testid=continue]`)), chromedp.WaitVisible(css(`[data-testid=consent-form]`)))
}

func TestBrowserJiraConnect(t *testing.T) {
	for _, flavour := range []string{"cloud", "datacenter"} {
		t.Run(flavour, func(t *testing.T) {
			ctx := browserContext(t)
			b := newBrowserJira(t)
			var (
				dc             *jirasim.DataCenter
				clientID, scrt string
			)
			if flavour == "cloud" {
				b.sim.AddCloudSite("acme").AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
			} else {
				dc = b.sim.AddDataCenter("/jira")
				dc.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
				clientID, scrt = dc.AddClient(b.url+"/integrations/jira/callback", "WRITE")
			}
			run := func(name string, s steps) {
				t.Helper()
				if err := chromedp.Do(ctx, s...); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			run("sign in", signIn(b.url, "admin@example.com"))
			run("integrate", integrateSteps("Jira "+flavour, dc, clientID, scrt))
			run("accept", steps{
				screenshot("jira-03-consent-" + flavour),
				chromedp.Click(css(`[data-testid=accept]`)),
				chromedp.WaitVisible(css(`[data-testid=integration-page]`)),
				chromedp.WaitVisible(css(`[data-testid=project-row][data-key=OPS]`)),
				screenshot("jira-04-manage-" + flavour),
			})
			run("project", steps{
				chromedp.Click(css(`[data-testid=manage-OPS]`)),
				chromedp.WaitVisible(css(`[data-testid=project-form]`)),
				chromedp.Click(css(`label[data-testid=account-choice]:nth-of-type(1) input`)),
				chromedp.Click(css(`label[data-testid=account-choice]:nth-of-type(2) input`)),
				screenshot("jira-05-project-" + flavour),
				chromedp.Click(css(`[data-testid=update-project]`)),
				chromedp.WaitVisible(css(`[data-testid=flash-success]`)),
				chromedp.Reload(),
				chromedp.WaitVisible(css(`[data-testid=project-form]`)),
			})
			checked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[name=account]:checked')].map(i => i.parentElement.textContent.trim().split(/\s+/)[0])`))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(checked, ",") != "Production,Sandbox" { // accounts are listed by name
				t.Errorf("checked after reload: %v", checked)
			}
			run("integrations", steps{
				chromedp.Navigate(b.url + "/integrations?tab=configured"),
				chromedp.WaitVisible(css(`[data-testid=integration-row]`)),
				screenshot("jira-06-configured-" + flavour),
			})
			row, err := chromedp.Run(ctx, chromedp.Text(css(`[data-testid=integration-row]`)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(row, "Connected") || !strings.Contains(row, "Jira "+flavour) {
				t.Errorf("integration row %q", row)
			}
			ins := modeltest.Must(b.store.ListIntegrations(context.Background()))
			link := modeltest.Must(b.store.ProjectLinkByKey(context.Background(), ins[0].ID, "OPS"))
			if len(link.Accounts) != 2 {
				t.Errorf("OPS tracks %d accounts, want 2", len(link.Accounts))
			}
		})
	}
}

// A second Cloud consent, for another site, yields a grant that covers both
// (Atlassian lists every site the app is authorized for): the console asks
// which site the new integration is for.
func TestBrowserJiraCloudSitePicker(t *testing.T) {
	ctx := browserContext(t)
	b := newBrowserJira(t)
	acme := b.sim.AddCloudSite("acme")
	globex := b.sim.AddCloudSite("globex")
	s := append(signIn(b.url, "admin@example.com"), integrateSteps("Jira acme", nil, "", "")...)
	s = append(s,
		chromedp.SetValue(css(`select[data-testid=site-picker]`), acme.CloudID),
		chromedp.Click(css(`[data-testid=accept]`)),
		chromedp.WaitVisible(css(`[data-testid=integration-page]`)),
	)
	s = append(s, integrateSteps("Jira globex", nil, "", "")...)
	s = append(s,
		chromedp.SetValue(css(`select[data-testid=site-picker]`), globex.CloudID),
		chromedp.Click(css(`[data-testid=accept]`)),
		chromedp.WaitVisible(css(`[data-testid=site-picker-page]`)),
		// acme has its integration: shown, not selectable; globex is preselected.
		chromedp.WaitVisible(css(`[data-testid=site-taken-acme]`)),
		chromedp.WaitVisible(css(`input[data-testid=site-acme]:disabled`)),
		chromedp.WaitVisible(css(`input[data-testid=site-globex]:checked`)),
		screenshot("jira-08-site-picker"),
		chromedp.Click(css(`[data-testid=use-site]`)),
		chromedp.WaitVisible(css(`[data-testid=integration-page]`)),
	)
	// A third consent covers two sites that both have their integration.
	s = append(s, integrateSteps("Jira again", nil, "", "")...)
	s = append(s,
		chromedp.Click(css(`[data-testid=accept]`)),
		chromedp.WaitVisible(css(`[data-testid=flash-error]`)),
	)
	if err := chromedp.Do(ctx, s...); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(css(`[data-testid=flash-error]`)))
	if err != nil || !strings.Contains(msg, "already connected") || !strings.Contains(msg, "Nothing was saved") {
		t.Errorf("third consent: flash %q (%v)", msg, err)
	}
	got := map[string]string{}
	for _, in := range modeltest.Must(b.store.ListIntegrations(context.Background())) {
		got[in.Name] = in.CloudID
	}
	if len(got) != 2 || got["Jira acme"] != acme.CloudID || got["Jira globex"] != globex.CloudID {
		t.Fatalf("integrations %v, want Jira acme on %s and Jira globex on %s", got, acme.CloudID, globex.CloudID)
	}
}

func TestBrowserJiraDecline(t *testing.T) {
	ctx := browserContext(t)
	b := newBrowserJira(t)
	b.sim.AddCloudSite("acme")
	s := append(signIn(b.url, "admin@example.com"), integrateSteps("Declined", nil, "", "")...)
	s = append(s,
		chromedp.Click(css(`[data-testid=decline]`)),
		chromedp.WaitVisible(css(`[data-testid=integrations-page]`)),
		chromedp.WaitVisible(css(`[data-testid=flash-error]`)),
		screenshot("jira-07-declined"),
	)
	if err := chromedp.Do(ctx, s...); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(css(`[data-testid=flash-error]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "Jira access was declined; nothing was saved") {
		t.Errorf("flash %q", msg)
	}
	if n := len(modeltest.Must(b.store.ListIntegrations(context.Background()))); n != 0 {
		t.Errorf("%d integrations stored", n)
	}
}
