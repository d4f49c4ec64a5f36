package handlers

import (
	"encoding/json"
	"fmt"
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
	l := newLiveJira(t)
	store, sim, base := l.Store, l.Sim, l.base
	site := sim.AddCloudSite("acme")
	fin := site.AddProject("FIN", "Finance", jirasim.SimpleWorkflow())
	fin.AddCreateField("Task", jirasim.CreateField{ID: "customfield_10050", Name: "Cost centre", Kind: jirasim.FieldSelect, Required: true,
		Options: []string{"Engineering", "Sales"}})
	fin.AddCreateField("", jirasim.CreateField{ID: "priority", Name: "Priority", Kind: jirasim.FieldPriority, Options: []string{"High", "Medium", "Low"}, Default: "Medium"})

	integ := l.ConnectCloud(t, "Acme")
	account := modeltest.Must(store.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: "123456789012",
		Name: "Finance", Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))

	l.serve(t)
	l.runSyncer(t)
	_, alice := l.addPeople(t)

	shot := screenshots("shaping-")
	projectPath := fmt.Sprintf("/integrations/%d/projects/FIN", integ.ID)
	template := "### Access for {{requester_email}}\n**Why: **{{justification}}\n* {{resources}}\nCost centre approval needed."
	b := browserContext(t)
	runSteps(t, b, "admin links FIN", append(signIn(base, "admin@example.com"),
		chromedp.Navigate(base+projectPath),
		chromedp.WaitVisible(css(`[data-testid=required-customfield_10050]`)),
		chromedp.WaitVisible(css(`[data-testid=field-missing]`)),
		shot("01-required-field"),
		chromedp.Click(css(fmt.Sprintf(`input[name=account][value="%d"]`, account.ID))),
		chromedp.SetValue(css(`#field_customfield_10050`), fin.OptionID("customfield_10050", "Engineering")),
		chromedp.WaitVisible(css(`[data-testid=optional-priority]`)),
		chromedp.SetValue(css(`#field_priority`), fin.OptionID("priority", "High")),
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
	if link.FieldValues["customfield_10050"].Label != "Engineering" || link.FieldValues["priority"].Label != "High" || link.DescriptionTemplate != template {
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
	if issue.Summary != summary || string(sent) != body || issue.Fields["customfield_10050"] != "Engineering" || issue.Fields["priority"] != "High" {
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
