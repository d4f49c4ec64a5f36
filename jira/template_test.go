package jira

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"privilege/models"
)

func templateRequest() models.AccessRequest {
	return models.AccessRequest{
		ID: 42, Requester: models.User{Email: "alice@example.com", Name: "Alice Liddell"}, DurationMinutes: 90,
		Account:       models.CloudAccount{Provider: models.ProviderAWS, ExternalID: "123456789012", Name: "Prod"},
		Resources:     []models.RequestResource{{Name: "AdministratorAccess", Kind: "permission set"}, {Name: "ReadOnly", Kind: "permission set"}},
		Justification: "Incident INC-42", PendingUntil: time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC),
	}
}

func mustTemplates(t *testing.T, summary, description string) Templates {
	t.Helper()
	tm, err := ParseTemplates(summary, description)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestTemplateDefaultsReproduceTodaysTask(t *testing.T) {
	r := templateRequest()
	tm := mustTemplates(t, "", "")
	d := TemplateData{Request: r, BaseURL: "https://privilege.example.com"}
	if got, want := tm.Summary(d), IssueSummary(r); got != want {
		t.Fatalf("summary\n got %q\nwant %q", got, want)
	}
	got, want := tm.Description(d), IssueDescription(r, d.BaseURL)
	if g, w := got.Wiki(), want.Wiki(); g != w {
		t.Fatalf("wiki\n got %q\nwant %q", g, w)
	}
	g, _ := json.Marshal(got.ADF())
	w, _ := json.Marshal(want.ADF())
	if string(g) != string(w) {
		t.Fatalf("ADF\n got %s\nwant %s", g, w)
	}
	validateADF(t, got)
}

func TestTemplateVariables(t *testing.T) {
	var names []string
	for _, v := range TemplateVars() {
		names = append(names, v.Name+"=[{{"+v.Name+"}}]")
	}
	tm := mustTemplates(t, "{{requester}} wants {{account_name}}", strings.Join(names, "\n"))
	d := TemplateData{Request: templateRequest(), BaseURL: "https://privilege.example.com/"}
	if s := tm.Summary(d); s != "Alice Liddell wants Prod" {
		t.Fatalf("summary %q", s)
	}
	wiki := strings.ReplaceAll(tm.Description(d).Wiki(), `\`, "")
	for _, want := range []string{
		"request_id=[42]", "requester=[Alice Liddell]", "requester_email=[alice@example.com]",
		"account=[AWS account 123456789012 — Prod]", "account_name=[Prod]", "account_provider=[AWS]", "account_id=[123456789012]",
		"resources=[AdministratorAccess, ReadOnly]", "duration=[1h 30m]", "justification=[Incident INC-42]",
		"approval_link=[[open the approval page|https://privilege.example.com/requests/42]]",
		// The address stays a live link on Data Center (user text never autolinks).
		"approval_url=[[https&#58;//privilege.example.com/requests/42|https://privilege.example.com/requests/42]]", "expiry=[2026-12-02T17:00:00Z]",
	} {
		if !strings.Contains(wiki, want) {
			t.Errorf("description lacks %q:\n%s", want, wiki)
		}
	}
}

// Whatever the template and the requester type, user text stays text: wiki
// markup escaped on Data Center, plain text nodes (no marks) in ADF.
func TestTemplateHostileTextStaysText(t *testing.T) {
	r := templateRequest()
	r.Justification = "*urgent* {code}rm -rf{code} [click|javascript:alert(1)] !img.png! h1. big\n[~admin] {noformat}"
	r.Requester.Name = "[Mallory|https://evil.example]"
	tm := mustTemplates(t, "{{requester}} {{justification}}", "{html}<b>x</b>{html} by {{requester}}\n**Why: **{{justification}}")
	d := TemplateData{Request: r, BaseURL: "https://privilege.example.com"}
	doc := tm.Description(d)
	wiki := doc.Wiki()
	for _, bad := range []string{"{code}", "{html}", "{noformat}", "[click|", "[Mallory|", "!img.png!", "[~admin]", "\nh1. "} {
		if strings.Contains(wiki, bad) {
			t.Errorf("wiki markup %q reached the description:\n%s", bad, wiki)
		}
	}
	validateADF(t, doc)
	raw, _ := json.Marshal(doc.ADF())
	var adf struct {
		Content []struct {
			Content []struct {
				Type  string           `json:"type"`
				Text  string           `json:"text"`
				Marks []map[string]any `json:"marks"`
			} `json:"content"`
		} `json:"content"`
	}
	if err := json.Unmarshal(raw, &adf); err != nil {
		t.Fatal(err)
	}
	var texts []string
	links := 0
	for _, b := range adf.Content {
		for _, n := range b.Content {
			texts = append(texts, n.Text)
			for _, m := range n.Marks {
				if m["type"] == "link" {
					links++
				}
			}
		}
	}
	all := strings.Join(texts, "")
	if !strings.Contains(all, "{html}<b>x</b>{html} by [Mallory|https://evil.example]") || !strings.Contains(all, "*urgent* {code}rm -rf{code}") {
		t.Fatalf("ADF text changed: %q", all)
	}
	if links != 1 { // only the appended approval link
		t.Fatalf("%d links in ADF: %s", links, raw)
	}
	if s := tm.Summary(d); strings.Contains(s, "\n") {
		t.Fatalf("summary has a newline: %q", s)
	}
}

func TestTemplateForcesApprovalLinkAndCutsSummary(t *testing.T) {
	r := templateRequest()
	r.Justification = strings.Repeat("é", 300)
	tm := mustTemplates(t, "Access {{justification}}", "Please look at this.")
	d := TemplateData{Request: r, BaseURL: "https://privilege.example.com"}
	if s := tm.Summary(d); len([]rune(s)) != 255 || !strings.HasPrefix(s, "Access éé") {
		t.Fatalf("summary of %d characters: %q", len([]rune(s)), s)
	}
	wiki := tm.Description(d).Wiki()
	if !strings.HasSuffix(wiki, "Approve or deny: [open the approval page|https://privilege.example.com/requests/42]") {
		t.Fatalf("approval link not appended:\n%s", wiki)
	}
	// A template that has the link gets it once.
	wiki = mustTemplates(t, "", "See {{approval_link}}").Description(d).Wiki()
	if strings.Count(wiki, "/requests/42") != 1 {
		t.Fatalf("approval link twice:\n%s", wiki)
	}
}

func TestTemplateRefusedWithLineAndVariable(t *testing.T) {
	for _, tc := range []struct {
		summary, description, field string
		line                        int
		variable, problem           string
	}{
		{"", "ok\n\nHello {{requester_nmae}}", "description_template", 3, "requester_nmae", "unknown variable {{requester_nmae}}"},
		{"Hi {{requester", "", "summary_template", 1, "", "{{ is not closed by }}"},
		{"", "fine\n**bold", "description_template", 2, "", "** is not closed"},
		{"one\ntwo", "", "summary_template", 2, "", "the summary is one line"},
		{"", "a\nb }} c", "description_template", 2, "", "}} without {{"},
		{"", "####### deep", "description_template", 1, "", "a heading is 1 to 6 # then a space"},
		{"{{ expiry }} **x**", "", "summary_template", 1, "", "the summary is plain text: ** is not allowed"},
	} {
		_, err := ParseTemplates(tc.summary, tc.description)
		var fe *TemplateFieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%q / %q: err %v", tc.summary, tc.description, err)
		}
		want := &TemplateError{Line: tc.line, Variable: tc.variable, Problem: tc.problem}
		if fe.Field != tc.field || !reflect.DeepEqual(fe.Err, want) {
			t.Errorf("%q / %q: got %s %+v, want %s %+v", tc.summary, tc.description, fe.Field, fe.Err, tc.field, want)
		}
	}
}

func TestTaskOptionsLabelsAndDueDate(t *testing.T) {
	extra, err := ParseExtraLabels("finance, access finance privilege-jit")
	if err != nil || !reflect.DeepEqual(extra, []string{"finance", "access", "privilege-jit"}) {
		t.Fatalf("labels %v, %v", extra, err)
	}
	for _, bad := range []string{"privilege-request-7", strings.Repeat("x", 256)} {
		if _, err := ParseExtraLabels("ok " + bad); !errors.Is(err, ErrInvalidLabel) {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
	task := ShapeTask(mustTemplates(t, "", ""), templateRequest(), "https://privilege.example.com", TaskOptions{ExtraLabels: extra, DueDateFromExpiry: true})
	if !reflect.DeepEqual(task.Labels, []string{ProductLabel, "privilege-request-42", "finance", "access"}) || task.DueDate != "2026-12-02" {
		t.Fatalf("task labels %v, due %q", task.Labels, task.DueDate)
	}
	if task := ShapeTask(mustTemplates(t, "", ""), templateRequest(), "", TaskOptions{}); task.DueDate != "" || len(task.Labels) != 2 {
		t.Fatalf("without options: %+v", task)
	}
}

// The task's fields are the link's values by field id, then the due date,
// each as Jira takes it: what the preview lists and the syncer sends.
func TestShapeTaskFields(t *testing.T) {
	values := models.FieldValues{
		"priority":          {Name: "Priority", Label: "High", Value: json.RawMessage(`{"id":"1"}`)},
		"customfield_10050": {Name: "Cost centre", Label: "Engineering", Value: json.RawMessage(`{"id":"10100"}`)},
	}
	task := ShapeTask(mustTemplates(t, "", ""), templateRequest(), "", TaskOptions{DueDateFromExpiry: true, FieldValues: values})
	var got []string
	for _, f := range task.Fields {
		got = append(got, f.ID+" "+f.Name+": "+f.Label+" "+string(f.Value))
	}
	want := []string{`customfield_10050 Cost centre: Engineering {"id":"10100"}`, `priority Priority: High {"id":"1"}`, `duedate Due date: 2026-12-02 "2026-12-02"`}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("task fields\n got %q\nwant %q", got, want)
	}
}
