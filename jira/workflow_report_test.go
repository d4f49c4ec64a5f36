package jira_test

import (
	"slices"
	"testing"

	"privilege/jira"
	"privilege/models"
)

func TestWorkflowChooseIssueType(t *testing.T) {
	types := []jira.IssueType{{ID: "1", Name: "Sub-task", Subtask: true}, {ID: "2", Name: "Story"}, {ID: "3", Name: "task"}}
	for _, c := range []struct {
		types        []jira.IssueType
		want         string
		chosen, gone string
		hasDefault   bool
	}{
		{types, "", "3", "", true},
		{types, "2", "2", "", true},
		{types, "1", "", "1", true}, // a sub-task is never chosen
		{types, "9", "", "9", true},
		{types[:2], "", "2", "", false},
		{types[:1], "", "", "", false},
	} {
		chosen, missing := jira.ChooseIssueType(c.types, c.want)
		if chosen.ID != c.chosen || missing != c.gone {
			t.Errorf("ChooseIssueType(%v, %q) = %q, %q; want %q, %q", c.types, c.want, chosen.ID, missing, c.chosen, c.gone)
		}
		if has := (jira.WorkflowReport{IssueTypes: c.types}).HasDefaultType(); has != c.hasDefault {
			t.Errorf("HasDefaultType(%v) = %v", c.types, has)
		}
	}
	if got := (jira.WorkflowReport{IssueTypes: types}).CreatableTypes(); len(got) != 2 || got[0].ID != "2" {
		t.Errorf("CreatableTypes = %v", got)
	}
}

func TestWorkflowDefaultStatuses(t *testing.T) {
	open, done := jira.Status{Name: "To Do", CategoryKey: jira.CategoryNew}, jira.Status{Name: "Done", CategoryKey: jira.CategoryDone}
	declined, wontDo := jira.Status{Name: "Declined", CategoryKey: jira.CategoryDone}, jira.Status{Name: "Won't Do", CategoryKey: jira.CategoryDone}
	rejectedOpen := jira.Status{Name: "Rejected?", CategoryKey: jira.CategoryIndeterminate}
	for _, c := range []struct {
		statuses          []jira.Status
		approved, denied  string
		hasDone, negative bool
	}{
		{[]jira.Status{open, done, declined}, "Done", "Declined", true, true},
		{[]jira.Status{open, wontDo, done, declined}, "Done", "Won't Do", true, true},
		{[]jira.Status{open, done, rejectedOpen}, "Done", "Done", true, false},
		{[]jira.Status{open, declined}, "Declined", "Declined", true, true},
		{[]jira.Status{open, rejectedOpen}, "", "", false, false},
	} {
		r := jira.WorkflowReport{Statuses: c.statuses}
		if a, d := r.DefaultStatus(models.OutcomeApproved), r.DefaultStatus(models.OutcomeExpired); a != c.approved || d != c.denied {
			t.Errorf("%v: defaults %q, %q; want %q, %q", c.statuses, a, d, c.approved, c.denied)
		}
		if r.HasDoneStatus() != c.hasDone || r.HasNegativeDoneStatus() != c.negative {
			t.Errorf("%v: done %v, negative done %v", c.statuses, r.HasDoneStatus(), r.HasNegativeDoneStatus())
		}
	}
	r := jira.WorkflowReport{Statuses: []jira.Status{open, done, declined}}
	for _, c := range []struct {
		want, got string
		ok        bool
	}{{"", "Declined", true}, {"To Do", "To Do", true}, {"Gone", "Declined", false}} {
		if got, ok := r.OutcomeStatus(models.OutcomeDenied, c.want); got != c.got || ok != c.ok {
			t.Errorf("OutcomeStatus(denied, %q) = %q, %v; want %q, %v", c.want, got, ok, c.got, c.ok)
		}
	}
	names := []string{"To Do", "Awaiting approval", "Approved", "Rejected", "Denied"}
	if a, d := jira.ApproveLikeStatus(names), jira.DenyLikeStatus(names); a != "Awaiting approval" || d != "Rejected" {
		t.Errorf("approve-like %q, deny-like %q", a, d)
	}
	if a, d := jira.ApproveLikeStatus(names[:1]), jira.DenyLikeStatus(names[:1]); a != "" || d != "" {
		t.Errorf("approve-like %q, deny-like %q", a, d)
	}
}

func TestWorkflowFields(t *testing.T) {
	option := jira.FieldSchema{Type: "option", Custom: "com.atlassian.jira.plugin.system.customfieldtypes:select"}
	r := jira.WorkflowReport{Fields: []jira.Field{
		{ID: "summary", Name: "Summary", Required: true, Schema: jira.FieldSchema{Type: "string", System: "summary"}},
		{ID: "customfield_1", Name: "Cost centre", Required: true, Schema: option},
		{ID: "customfield_2", Name: "Region", Required: true, Schema: jira.FieldSchema{Type: "option-with-child"}},
		{ID: "customfield_3", Name: "Team", Required: true, HasDefault: true, Schema: jira.FieldSchema{Type: "option-with-child"}},
		{ID: "priority", Name: "Priority", HasDefault: true, Schema: jira.FieldSchema{Type: "priority", System: "priority"}},
		{ID: "components", Name: "Components", Required: true, Schema: jira.FieldSchema{Type: "array", Items: "component", System: "components"}},
		{ID: "fixVersions", Name: "Fix versions", Schema: jira.FieldSchema{Type: "array", Items: "version", System: "fixVersions"}},
		{ID: "duedate", Name: "Due date", Schema: jira.FieldSchema{Type: "date", System: "duedate"}},
	}}
	ids := func(fs []jira.Field) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	if got := r.Unfillable(); !slices.Equal(got, []string{"Region (customfield_2)"}) {
		t.Errorf("Unfillable = %q", got)
	}
	if got := ids(r.RequiredFields()); !slices.Equal(got, []string{"customfield_1", "components"}) {
		t.Errorf("RequiredFields = %q", got)
	}
	if got := ids(r.OptionalFields()); !slices.Equal(got, []string{"priority", "fixVersions"}) {
		t.Errorf("OptionalFields = %q", got)
	}
	if !r.OnCreateScreen("duedate") || r.OnCreateScreen("environment") {
		t.Error("OnCreateScreen")
	}
}
