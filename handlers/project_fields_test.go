package handlers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// A FIN-like project: the Task create screen requires the custom select
// "Cost centre" and the number "Budget".
func TestJiraProjectRequiredFieldsAndTemplates(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newJiraEnvStore(t, store)
		site := e.sim.AddCloudSite("acme")
		fin := site.AddProject("FIN", "Finance", jirasim.SimpleWorkflow())
		fin.AddCreateField("Task", jirasim.CreateField{ID: "customfield_10050", Name: "Cost centre", Kind: jirasim.FieldSelect, Required: true, Options: []string{"Engineering", "Sales"}})
		fin.AddCreateField("Task", jirasim.CreateField{ID: "customfield_10060", Name: "Budget", Kind: jirasim.FieldNumber, Required: true})
		acc := e.app.addAccount("Finance", "111111111111")
		id := e.connectCloud("Acme")
		path := "/integrations/" + itoa(id) + "/projects/FIN"
		eng := fin.OptionID("customfield_10050", "Engineering")

		doc := parseHTML(t, e.admin.get(path))
		if n := doc.Find(`[data-testid=required-customfield_10050] select option`).Length(); n != 3 {
			t.Fatalf("Cost centre offers %d options, want Choose… and 2:\n%s", n, trim(e.admin.get(path).Body.String()))
		}
		if doc.Find(`[data-testid=required-customfield_10060] input[type=number]`).Length() != 1 {
			t.Fatal("Budget has no number input")
		}
		if doc.Find(`[data-testid=field-missing]`).Length() != 2 || !strings.Contains(doc.Find(`[data-testid=workflow-notice]`).Text(), "requires Cost centre, Budget") {
			t.Fatalf("missing values not pointed out: %q", doc.Find(`[data-testid=workflow-notice]`).Text())
		}
		if doc.Find(`[data-testid=workflow-problem]`).Length() != 0 {
			t.Fatalf("blocking problems: %q", doc.Find(`[data-testid=workflow-problem]`).Text())
		}
		if v := doc.Find(`#description_template`).Text(); v != jira.DefaultDescriptionTemplate {
			t.Fatalf("description template shown %q", v)
		}
		typ, _ := doc.Find(`select[name=issue_type] option[selected]`).Attr("value")
		form := func(extra url.Values) url.Values {
			f := url.Values{"account": {itoa(acc.ID)}, "issue_type": {typ}, "status_approved": {"Done"}, "status_denied": {"Declined"},
				"status_cancelled": {"Declined"}, "status_expired": {"Declined"}}
			for k, v := range extra {
				f[k] = v
			}
			return f
		}
		linked := func() bool {
			_, err := store.ProjectLinkByKey(context.Background(), id, "FIN")
			return err == nil
		}

		rec := e.admin.post(path, form(nil))
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=error-field_customfield_10050]`).Text(); !strings.Contains(msg, "Jira requires “Cost centre”") || linked() {
			t.Fatalf("no value: error %q, linked %v", msg, linked())
		}
		rec = e.admin.post(path, form(url.Values{"field_customfield_10050": {"99999"}, "field_customfield_10060": {"lots"}}))
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		d := parseHTML(t, rec)
		if !strings.Contains(d.Find(`[data-testid=error-field_customfield_10050]`).Text(), "choose one of the values Jira allows") ||
			!strings.Contains(d.Find(`[data-testid=error-field_customfield_10060]`).Text(), "enter a number") {
			t.Fatalf("invalid values: %q / %q", d.Find(`[data-testid=error-field_customfield_10050]`).Text(), d.Find(`[data-testid=error-field_customfield_10060]`).Text())
		}
		rec = e.admin.post(path, form(url.Values{"field_customfield_10050": {eng}, "field_customfield_10060": {"1500"},
			"description_template": {"Hello\n\n**{{requester}} wants {{acount}}"}}))
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=error-description_template]`).Text(); msg != "Line 3: unknown variable {{acount}}." || linked() {
			t.Fatalf("invalid template: %q, linked %v", msg, linked())
		}

		rec = e.admin.post(path, form(url.Values{"field_customfield_10050": {eng}, "field_customfield_10060": {"1500"}, "extra_labels": {"finance privilege-request-9"}}))
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=error-extra_labels]`).Text(); !strings.Contains(msg, "privilege-request- labels find a request's task") {
			t.Fatalf("reserved label: %q", msg)
		}
		if parseHTML(t, rec).Find(`#due_date`).Length() != 0 {
			t.Fatal("due date offered though it is not on the create screen")
		}

		summary, description := "Access for {{requester_email}}", "### Request {{request_id}}\n{{justification}}"
		wantRedirect(t, e.admin.post(path, form(url.Values{"field_customfield_10050": {eng}, "field_customfield_10060": {"1500"},
			"summary_template": {summary}, "description_template": {description}, "extra_labels": {"finance, finance"}})), path)
		link := modeltest.Must(store.ProjectLinkByKey(context.Background(), id, "FIN"))
		cc, budget := link.FieldValues["customfield_10050"], link.FieldValues["customfield_10060"]
		if cc.Label != "Engineering" || string(cc.Value) != `{"id":"`+eng+`"}` || string(budget.Value) != "1500" ||
			link.SummaryTemplate != summary || link.DescriptionTemplate != description || link.ExtraLabels != "finance" {
			t.Fatalf("saved link: %+v", link)
		}
		doc = parseHTML(t, e.admin.get(path))
		if v, _ := doc.Find(`[data-testid=required-customfield_10050] option[selected]`).Attr("value"); v != eng || doc.Find(`[data-testid=field-missing]`).Length() != 0 {
			t.Fatalf("after save: selected %q, %d missing", v, doc.Find(`[data-testid=field-missing]`).Length())
		}
		if strings.Contains(doc.Find(`[data-testid=workflow-notice]`).Text(), "requires") {
			t.Fatalf("still asks for values: %q", doc.Find(`[data-testid=workflow-notice]`).Text())
		}

		// The preview: sample data first, then the newest pending request,
		// exactly as the syncer renders it.
		preview := func(summary, description string) *goquery.Document {
			rec := e.admin.post(path+"/preview", url.Values{"summary_template": {summary}, "description_template": {description}, "extra_labels": {"finance"}})
			wantStatus(t, rec, http.StatusOK)
			return parseHTML(t, rec)
		}
		p := preview(summary, description)
		if !strings.Contains(p.Find(`[data-testid=task-preview] header`).Text(), "sample data") || p.Find(`[data-testid=preview-summary]`).Text() != "Access for alex@example.com" {
			t.Fatalf("sample preview: %q", p.Text())
		}
		alice := e.app.addUser("alice@example.com", models.RoleRequester)
		r := modeltest.Must(store.CreateRequest(context.Background(), alice, models.NewRequest{AccountID: acc.ID, Resources: []string{"ReadOnly"},
			DurationMinutes: 60, Justification: "*urgent* {code}x{code} <b>bold</b>"}, time.Hour))
		p = preview(summary, description)
		if !strings.Contains(p.Find(`[data-testid=task-preview] header`).Text(), "pending request #"+itoa(r.ID)) {
			t.Fatalf("preview source %q", p.Find(`[data-testid=task-preview] header`).Text())
		}
		if got := p.Find(`[data-testid=preview-description] p`).First().Text(); got != "*urgent* {code}x{code} <b>bold</b>" {
			t.Fatalf("justification shown as %q", got)
		}
		if p.Find(`[data-testid=preview-description] b`).Length() != 0 {
			t.Fatal("requester HTML rendered in the preview")
		}
		full := modeltest.Must(store.Request(context.Background(), r.ID))
		task := jira.ShapeTask(modeltest.Must(jira.ParseTemplates(summary, description)), full, e.app.origin, jira.TaskOptions{ExtraLabels: []string{"finance"}})
		want, _ := json.MarshalIndent(task.Description.ADF(), "", "  ")
		if got := p.Find(`[data-testid=preview-body-text]`).Text(); got != string(want) {
			t.Fatalf("preview body differs from what the syncer sends:\n got %s\nwant %s", got, want)
		}
		if !strings.Contains(p.Find(`[data-testid=preview-fields]`).Text(), "Cost centre: Engineering") {
			t.Fatalf("preview fields %q", p.Find(`[data-testid=preview-fields]`).Text())
		}
		if labels := p.Find(`[data-testid=preview-label]`).Text(); !strings.Contains(labels, jira.CorrelationLabel(r.ID)) {
			t.Fatalf("preview labels %q", labels)
		}
		// What Jira refused of the values shows on the integration and Manage pages.
		if err := store.RecordFieldsProblem(context.Background(), link.ID, "Jira refused the task's fields in FIN: “Cost centre (customfield_10050)”: Option id '1' is not valid."); err != nil {
			t.Fatal(err)
		}
		if msg := parseHTML(t, e.admin.get("/integrations/"+itoa(id))).Find(`[data-testid=people-problem-fields]`).Text(); !strings.Contains(msg, "Cost centre (customfield_10050)") {
			t.Fatalf("integration page: %q", msg)
		}
		if msg := parseHTML(t, e.admin.get(path)).Find(`[data-testid=workflow-notice]`).Text(); !strings.Contains(msg, "Option id '1' is not valid") {
			t.Fatalf("Manage page notices: %q", msg)
		}
		rec = e.admin.post(path+"/preview", url.Values{"summary_template": {"{{requester"}, "description_template": {description}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=preview-error]`).Text(); msg != "Summary template, line 1: {{ is not closed by }}." {
			t.Fatalf("preview error %q", msg)
		}
	})
}

// Priority and components on the create screen but not required are
// offered as optional fields: a chosen priority is saved with the link,
// previewed and sent on create; none leaves Jira's default.
func TestJiraProjectOptionalPriority(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newJiraEnvStore(t, store)
		site := e.sim.AddCloudSite("acme")
		fin := site.AddProject("FIN", "Finance", jirasim.SimpleWorkflow())
		fin.AddCreateField("", jirasim.CreateField{ID: "priority", Name: "Priority", Kind: jirasim.FieldPriority, Options: []string{"High", "Medium", "Low"}, Default: "Medium"})
		fin.AddCreateField("", jirasim.CreateField{ID: "components", Name: "Components", Kind: jirasim.FieldComponents, Options: []string{"Payments", "Ledger"}})
		acc := e.app.addAccount("Finance", "111111111111")
		id := e.connectCloud("Acme")
		path := "/integrations/" + itoa(id) + "/projects/FIN"
		high := fin.OptionID("priority", "High")

		doc := parseHTML(t, e.admin.get(path))
		if n := doc.Find(`[data-testid=optional-priority] select option`).Length(); n != 4 {
			t.Fatalf("Priority offers %d options, want Jira's default and 3", n)
		}
		if doc.Find(`[data-testid=optional-components] select[multiple] option`).Length() != 2 || doc.Find(`[data-testid=required-fields]`).Length() != 0 {
			t.Fatal("components not offered as an optional multi select")
		}
		typ, _ := doc.Find(`select[name=issue_type] option[selected]`).Attr("value")
		form := func(priority string) url.Values {
			return url.Values{"account": {itoa(acc.ID)}, "issue_type": {typ}, "status_approved": {"Done"}, "status_denied": {"Declined"},
				"status_cancelled": {"Declined"}, "status_expired": {"Declined"}, "field_priority": {priority}}
		}
		rec := e.admin.post(path, form("99999"))
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=error-field_priority]`).Text(); !strings.Contains(msg, "choose one of the values Jira allows") {
			t.Fatalf("invalid priority: %q", msg)
		}
		wantRedirect(t, e.admin.post(path, form(high)), path)
		link := modeltest.Must(store.ProjectLinkByKey(context.Background(), id, "FIN"))
		if p := link.FieldValues["priority"]; p.Label != "High" || string(p.Value) != `{"id":"`+high+`"}` || len(link.FieldValues) != 1 {
			t.Fatalf("saved field values: %+v", link.FieldValues)
		}
		doc = parseHTML(t, e.admin.get(path))
		if v, _ := doc.Find(`[data-testid=optional-priority] option[selected]`).Attr("value"); v != high {
			t.Fatalf("after save: selected %q", v)
		}
		if f := doc.Find(`[data-testid=preview-fields]`).Text(); !strings.Contains(f, "Priority: High") {
			t.Fatalf("page preview fields %q", f)
		}
		rec = e.admin.post(path+"/preview", url.Values{"summary_template": {""}, "description_template": {""}})
		wantStatus(t, rec, http.StatusOK)
		if f := parseHTML(t, rec).Find(`[data-testid=preview-fields]`).Text(); !strings.Contains(f, "Priority: High") {
			t.Fatalf("preview fields %q", f)
		}

		// The task carries the chosen priority; with none chosen, Jira's default.
		hc := jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, RootCAs: e.sim.CertPool()})
		cid, secret := e.sim.CloudClient()
		oauth := jira.NewOAuth(jira.OAuthConfig{AuthURL: e.sim.AuthURL(), APIURL: e.sim.APIURL(), CloudClientID: cid, CloudClientSecret: secret, RedirectURL: testCallback, HTTPClient: hc})
		syncer := jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, jira.NewClients(oauth, store, hc), nil, jira.SyncerConfig{BaseURL: testOrigin})
		alice := e.app.addUser("alice@example.com", models.RoleRequester)
		priorityOfTask := func() any {
			t.Helper()
			r := modeltest.Must(store.CreateRequest(context.Background(), alice, models.NewRequest{AccountID: acc.ID, Resources: []string{"ReadOnly"},
				DurationMinutes: 60, Justification: "INC-7"}, time.Hour))
			if _, err := syncer.ProcessOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, is := range site.Issues() {
				if is.HasLabel(jira.CorrelationLabel(r.ID)) {
					return is.Fields["priority"]
				}
			}
			t.Fatalf("no task for request %d", r.ID)
			return nil
		}
		if p := priorityOfTask(); p != "High" {
			t.Fatalf("task priority %v, want High", p)
		}
		wantRedirect(t, e.admin.post(path, form("")), path)
		if link := modeltest.Must(store.ProjectLinkByKey(context.Background(), id, "FIN")); len(link.FieldValues) != 0 {
			t.Fatalf("field values after clearing: %+v", link.FieldValues)
		}
		if p := priorityOfTask(); p != "Medium" {
			t.Fatalf("task priority %v, want Jira's default Medium", p)
		}
	})
}
