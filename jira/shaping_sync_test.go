package jira_test

import (
	"strings"
	"testing"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// finProject adds FIN, whose Task create screen requires the custom select
// "Cost centre", and returns the project and its Task fields as Jira
// describes them.
func finProject(h *harness) (*jirasim.Project, jira.Field) {
	h.t.Helper()
	fin := h.inst.AddProject("FIN", "Finance", jirasim.SimpleWorkflow())
	fin.AddCreateField("Task", jirasim.CreateField{ID: "customfield_10050", Name: "Cost centre", Kind: jirasim.FieldSelect, Required: true,
		Options: []string{"Engineering", "Sales"}})
	client := h.clients.For(h.conn())
	for _, f := range modeltest.Must(client.IssueTypeFields(h.ctx, "FIN", testenv.TaskType(h.t, client, "FIN").ID)) {
		if f.ID == "customfield_10050" {
			return fin, f
		}
	}
	h.t.Fatal("createmeta lacks the Cost centre field")
	return nil, jira.Field{}
}

func (h *harness) linkFIN(acc models.CloudAccount, values models.FieldValues, summary, description string, opts ...func(*models.ProjectLinkInput)) models.ProjectLink {
	h.t.Helper()
	l := h.linkProject("FIN", acc.ID)
	in := models.ProjectLinkInput{
		IntegrationID: h.integ.ID, ProjectID: l.ProjectID, ProjectKey: "FIN", ProjectName: "FIN", IssueTypeID: l.IssueTypeID, IssueTypeName: "Task",
		Statuses: map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined"}, AccountIDs: []int64{acc.ID},
		FieldValues: values, SummaryTemplate: summary, DescriptionTemplate: description,
	}
	for _, o := range opts {
		o(&in)
	}
	return modeltest.Must(h.store.SaveProjectLink(h.ctx, models.SystemActor, in))
}

func TestSyncRequiredSelectFieldCarriedAndRefusal(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		fin, field := finProject(h)
		if field.Input() != jira.InputSelect || len(field.AllowedValues) != 2 || field.AllowedValues[0].Name != "Engineering" {
			t.Fatalf("Cost centre as read from createmeta: %+v", field)
		}
		client := h.clients.For(h.conn())
		if _, err := client.FieldValue(field, []string{"99999"}, nil); err == nil {
			t.Fatal("an option Jira does not offer was accepted")
		}
		eng := modeltest.Must(client.FieldValue(field, []string{fin.OptionID("customfield_10050", "Engineering")}, nil))
		acc := h.newAccount("210987654321", "Finance")
		h.linkFIN(acc, models.FieldValues{"customfield_10050": eng}, "", "")

		r := h.request(acc)
		h.drain()
		is := h.oneIssue(r.ID)
		if is.ProjectKey != "FIN" || is.Fields["customfield_10050"] != "Engineering" {
			t.Fatalf("FIN task: %+v", is)
		}

		// The option is removed in Jira: the next task fails with Jira's
		// message naming the field, and the link notes it.
		fin.RemoveOption("customfield_10050", "Engineering")
		r2 := h.request(acc)
		h.drain()
		got := h.reqState(r2.ID)
		if got.Issue.SyncState != models.SyncFailed || !strings.Contains(got.Issue.LastError, "Cost centre (customfield_10050)") ||
			!strings.Contains(got.Issue.LastError, "Option id '"+fin.OptionID("customfield_10050", "Engineering")+"' is not valid") {
			t.Fatalf("after the option was removed: %s %q", got.Issue.SyncState, got.Issue.LastError)
		}
		if len(h.issuesFor(r2.ID)) != 0 {
			t.Fatal("a task was created despite the refusal")
		}
		link := modeltest.Must(h.store.ProjectLinkSettingsByKey(h.ctx, h.integ.ID, "FIN"))
		if !strings.Contains(link.FieldsProblem, "Cost centre") {
			t.Fatalf("fields problem %q", link.FieldsProblem)
		}

		// The admin chooses another value; Retry creates the task.
		field.AllowedValues = field.AllowedValues[1:]
		sales := modeltest.Must(client.FieldValue(field, []string{fin.OptionID("customfield_10050", "Sales")}, nil))
		h.linkFIN(acc, models.FieldValues{"customfield_10050": sales}, "", "")
		if err := h.store.RetryRequestSync(h.ctx, models.SystemActor, r2.ID); err != nil {
			t.Fatal(err)
		}
		h.drain()
		if is := h.oneIssue(r2.ID); is.Fields["customfield_10050"] != "Sales" {
			t.Fatalf("after Retry: %+v", is)
		}
		if st := h.reqState(r2.ID).Issue.SyncState; st != models.SyncSynced {
			t.Fatalf("after Retry: %s", st)
		}
		if link := modeltest.Must(h.store.ProjectLinkSettingsByKey(h.ctx, h.integ.ID, "FIN")); link.FieldsProblem != "" {
			t.Fatalf("fields problem still %q", link.FieldsProblem)
		}
	})
}

// The task is what the link's templates say, in ADF or wiki markup, with
// the correlation labels and the approval link forced in.
func TestSyncTaskFromTemplates(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		fin, field := finProject(h)
		fin.AddCreateField("", jirasim.CreateField{ID: "duedate", Name: "Due date", Kind: jirasim.FieldDate})
		acc := h.newAccount("210987654321", "Finance")
		eng := modeltest.Must(h.clients.For(h.conn()).FieldValue(field, []string{field.AllowedValues[0].ID}, nil))
		h.linkFIN(acc, models.FieldValues{"customfield_10050": eng}, "[{{account_name}}] {{requester}} for {{duration}}",
			"### Why\n{{justification}}\n* {{resources}}", func(in *models.ProjectLinkInput) {
				in.ExtraLabels, in.DueDateFromExpiry = "finance access", true
			})
		r := h.request(acc)
		h.drain()
		is := h.oneIssue(r.ID)
		if is.Summary != "[Finance] alice@example.com for 2h" {
			t.Fatalf("summary %q", is.Summary)
		}
		if !is.HasLabel(jira.ProductLabel) || !is.HasLabel(jira.CorrelationLabel(r.ID)) || !is.HasLabel("finance") || !is.HasLabel("access") {
			t.Fatalf("labels %v", is.Labels)
		}
		if due := h.reqState(r.ID).PendingUntil.UTC().Format("2006-01-02"); is.Fields["duedate"] != due {
			t.Fatalf("due date %v, want %s", is.Fields["duedate"], due)
		}
		desc := descriptionText(is)
		for _, want := range []string{"Why", "Incident INC-42: <script>alert(1)</script> {code}", "AdministratorAccess", "https://privilege.example.com/requests/"} {
			if !strings.Contains(desc, want) {
				t.Errorf("description lacks %q:\n%s", want, desc)
			}
		}
		if s, isWiki := is.Description.(string); isWiki && strings.Contains(s, "{code}") {
			t.Fatalf("wiki markup from the justification reached Jira: %s", s)
		}
	})
}

// A required user picker gets a linked person: {"accountId"} on Cloud,
// {"name"} on Data Center; Jira refuses someone it does not know.
func TestSyncRequiredUserField(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		fin := h.inst.AddProject("FIN", "Finance", jirasim.SimpleWorkflow())
		fin.AddCreateField("Task", jirasim.CreateField{ID: "customfield_10080", Name: "Budget owner", Kind: jirasim.FieldUser, Required: true})
		var owner jirasim.User
		if h.dc != nil {
			owner = h.dc.AddUser("carol", "Carol Owner", "carol@example.com")
		} else {
			owner = h.sim.AddCloudUser("Carol Owner", "carol@example.com")
		}
		client := h.clients.For(h.conn())
		var taskID string
		for _, it := range modeltest.Must(client.IssueTypes(h.ctx, "FIN")) {
			if it.Name == "Task" {
				taskID = it.ID
			}
		}
		var field jira.Field
		for _, f := range modeltest.Must(client.IssueTypeFields(h.ctx, "FIN", taskID)) {
			if f.ID == "customfield_10080" {
				field = f
			}
		}
		if field.Input() != jira.InputUser {
			t.Fatalf("user field read as %q: %+v", field.Input(), field)
		}
		if _, err := client.FieldValue(field, []string{"7"}, nil); err == nil {
			t.Fatal("a user field without a linked person was accepted")
		}
		person := &jira.Person{AccountID: owner.AccountID, Name: owner.Name, DisplayName: owner.DisplayName}
		fv := modeltest.Must(client.FieldValue(field, []string{"7"}, person))
		acc := h.newAccount("210987654321", "Finance")
		h.linkFIN(acc, models.FieldValues{"customfield_10080": fv}, "", "")
		r := h.request(acc)
		h.drain()
		if is := h.oneIssue(r.ID); is.Fields["customfield_10080"] != owner.ID() || fv.Label != "Carol Owner" {
			t.Fatalf("budget owner %v (label %q), want %s", is.Fields["customfield_10080"], fv.Label, owner.ID())
		}
		// Someone Jira does not know: refused, naming the field.
		ghost := modeltest.Must(client.FieldValue(field, []string{"8"}, &jira.Person{AccountID: "557058:ghost", Name: "ghost", DisplayName: "Ghost"}))
		h.linkFIN(acc, models.FieldValues{"customfield_10080": ghost}, "", "")
		r2 := h.request(acc)
		h.drain()
		if got := h.reqState(r2.ID).Issue; got.SyncState != models.SyncFailed || !strings.Contains(got.LastError, "Budget owner (customfield_10080)") {
			t.Fatalf("unknown user: %s %q", got.SyncState, got.LastError)
		}
	})
}

// Priority and fix versions on the create screen but not required are the
// workflow report's optional fields; the values chosen for them are sent on
// create, and a version Jira later removes fails the job naming the field.
func TestSyncOptionalPriorityAndVersions(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		fin, cost := finProject(h)
		fin.AddCreateField("", jirasim.CreateField{ID: "priority", Name: "Priority", Kind: jirasim.FieldPriority, Options: []string{"High", "Medium"}, Default: "Medium"})
		fin.AddCreateField("", jirasim.CreateField{ID: "fixVersions", Name: "Fix versions", Kind: jirasim.FieldVersions, Options: []string{"2026.1", "2026.2"}})
		client := h.clients.For(h.conn())
		report := modeltest.Must(client.WorkflowReport(h.ctx, "FIN", ""))
		optional := report.OptionalFields()
		if len(optional) != 2 || optional[0].ID != "priority" || optional[1].ID != "fixVersions" || len(report.RequiredFields()) != 1 {
			t.Fatalf("optional %+v, required %+v", optional, report.RequiredFields())
		}
		values := models.FieldValues{"customfield_10050": modeltest.Must(client.FieldValue(cost, []string{cost.AllowedValues[0].ID}, nil))}
		values["priority"] = modeltest.Must(client.FieldValue(optional[0], []string{fin.OptionID("priority", "High")}, nil))
		values["fixVersions"] = modeltest.Must(client.FieldValue(optional[1], []string{fin.OptionID("fixVersions", "2026.1"), fin.OptionID("fixVersions", "2026.2")}, nil))
		if values["priority"].Label != "High" || values["fixVersions"].Label != "2026.1, 2026.2" {
			t.Fatalf("labels %q, %q", values["priority"].Label, values["fixVersions"].Label)
		}
		acc := h.newAccount("210987654321", "Finance")
		h.linkFIN(acc, values, "", "")
		r := h.request(acc)
		h.drain()
		is := h.oneIssue(r.ID)
		if versions, _ := is.Fields["fixVersions"].([]string); is.Fields["priority"] != "High" || strings.Join(versions, ",") != "2026.1,2026.2" {
			t.Fatalf("FIN task fields: %v", is.Fields)
		}

		fin.RemoveOption("fixVersions", "2026.2")
		r2 := h.request(acc)
		h.drain()
		if got := h.reqState(r2.ID).Issue; got.SyncState != models.SyncFailed || !strings.Contains(got.LastError, "Fix versions (fixVersions)") {
			t.Fatalf("after the version was removed: %s %q", got.SyncState, got.LastError)
		}
	})
}

// A create Jira refused outright made no issue: the attempt is forgotten, so
// Retry after the admin fixes the value creates the task in the next run,
// without searching for it or waiting for search to catch up.
func TestSyncRetryAfterRefusedCreateCreatesAtOnce(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		fin, field := finProject(h)
		client := h.clients.For(h.conn())
		eng := modeltest.Must(client.FieldValue(field, []string{fin.OptionID("customfield_10050", "Engineering")}, nil))
		acc := h.newAccount("210987654321", "Finance")
		h.linkFIN(acc, models.FieldValues{"customfield_10050": eng}, "", "")
		fin.RemoveOption("customfield_10050", "Engineering")
		r := h.request(acc)
		h.drain()
		if got := h.reqState(r.ID).Issue; got.SyncState != models.SyncFailed || got.CreateAttemptedAt != nil {
			t.Fatalf("after the refused create: %s, attempt noted at %v", got.SyncState, got.CreateAttemptedAt)
		}

		field.AllowedValues = field.AllowedValues[1:]
		sales := modeltest.Must(client.FieldValue(field, []string{fin.OptionID("customfield_10050", "Sales")}, nil))
		h.linkFIN(acc, models.FieldValues{"customfield_10050": sales}, "", "")
		if err := h.store.RetryRequestSync(h.ctx, models.SystemActor, r.ID); err != nil {
			t.Fatal(err)
		}
		before := h.sim.Stats()
		if _, err := h.syncer.ProcessOnce(h.ctx); err != nil { // the clock does not move
			t.Fatal(err)
		}
		if is := h.oneIssue(r.ID); is.Fields["customfield_10050"] != "Sales" {
			t.Fatalf("after Retry: %+v", is)
		}
		after := h.sim.Stats()
		for path, n := range after.Paths {
			if strings.Contains(path, "/search") && n != before.Paths[path] {
				t.Errorf("Retry searched for the task (%s) though the refused create made none", path)
			}
		}
		if created := after.IssuesCreated - before.IssuesCreated; created != 1 {
			t.Errorf("%d issues created after Retry, want 1", created)
		}
	})
}
