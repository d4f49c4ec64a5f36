package jira

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"privilege/models"
)

// The workflow check of a project's Manage page (design.md §7, §8, §10):
// what Jira says about a project (its issue types, the chosen type's
// workflow and create screen, the connected user's people permissions) and
// the rules Privilege applies to it: which issue type tasks get, which
// required fields it cannot fill, which fields it offers, and which done
// status each outcome defaults to. The handlers only map the report onto
// the page.

// DefaultIssueType is the issue type tasks get unless the admin chooses another.
const DefaultIssueType = "Task"

// The Jira permissions the people options need, in the order shown.
const (
	PermModifyReporter = "MODIFY_REPORTER"
	PermAssignIssues   = "ASSIGN_ISSUES"
	PermManageWatchers = "MANAGE_WATCHERS"
)

// PeoplePermissions are the permission keys the report reads (mypermissions).
func PeoplePermissions() []string {
	return []string{PermModifyReporter, PermAssignIssues, PermManageWatchers}
}

// filledByPrivilege reports whether every created task carries the field.
func filledByPrivilege(fieldID string) bool {
	switch fieldID {
	case "summary", "issuetype", "project", "description", "labels", "reporter":
		return true
	}
	return false
}

// offeredOptional reports whether the field is one of the system fields
// offered, when on the create screen and not required, as an optional
// value of the tasks.
func offeredOptional(fieldID string) bool {
	switch fieldID {
	case "priority", "components", "fixVersions":
		return true
	}
	return false
}

// WorkflowReport is what Jira says about a project for the workflow check.
type WorkflowReport struct {
	Project    Project
	IssueTypes []IssueType // every type of the project, sub-tasks included
	Chosen     IssueType   // zero when the project has no usable type
	Missing    string      // the asked-for issue type id the project lacks
	Statuses   []Status    // of the chosen type's workflow
	Fields     []Field     // of the chosen type's create screen
	// Permissions are the connected user's PeoplePermissions in the project;
	// PermissionsErr says why they could not be read (the check is skipped).
	Permissions    map[string]bool
	PermissionsErr error
}

// WorkflowReport reads a project's issue types and, for the chosen one
// (wantTypeID, else the default), its workflow statuses, its create screen
// and the connected user's people permissions.
func (c *Client) WorkflowReport(ctx context.Context, projectKey, wantTypeID string) (WorkflowReport, error) {
	var r WorkflowReport
	projects, err := c.ListProjects(ctx)
	if err != nil {
		return r, err
	}
	i := slices.IndexFunc(projects, func(p Project) bool { return strings.EqualFold(p.Key, projectKey) })
	if i < 0 {
		return r, fmt.Errorf("project %s: %w", projectKey, ErrNotFound)
	}
	r.Project = projects[i]
	if r.IssueTypes, err = c.IssueTypes(ctx, projectKey); err != nil {
		return r, err
	}
	r.Chosen, r.Missing = ChooseIssueType(r.IssueTypes, wantTypeID)
	if r.Chosen.ID == "" {
		return r, nil
	}
	all, err := c.Statuses(ctx, projectKey)
	if err != nil {
		return r, err
	}
	r.Statuses = r.Chosen.statusesIn(all)
	if r.Fields, err = c.IssueTypeFields(ctx, projectKey, r.Chosen.ID); err != nil {
		return r, err
	}
	r.Permissions, r.PermissionsErr = c.MyPermissions(ctx, projectKey, PeoplePermissions())
	return r, nil
}

// statusesIn picks the type's workflow out of a project's statuses.
func (t IssueType) statusesIn(all []IssueTypeStatuses) []Status {
	var out []Status
	for _, its := range all {
		if its.IssueTypeID == t.ID || its.IssueTypeID == "" && strings.EqualFold(its.IssueTypeName, t.Name) {
			out = its.Statuses
		}
	}
	return out
}

// ChooseIssueType picks want (an id) when given, else DefaultIssueType,
// else the first type that is not a sub-task. missing names a wanted type
// that is gone.
func ChooseIssueType(types []IssueType, want string) (chosen IssueType, missing string) {
	if want != "" {
		for _, t := range types {
			if t.ID == want && !t.Subtask {
				return t, ""
			}
		}
		return IssueType{}, want
	}
	for _, t := range types {
		if strings.EqualFold(t.Name, DefaultIssueType) && !t.Subtask {
			return t, ""
		}
	}
	for _, t := range types {
		if !t.Subtask {
			return t, ""
		}
	}
	return IssueType{}, ""
}

// CreatableTypes are the project's issue types that are not sub-tasks.
func (r WorkflowReport) CreatableTypes() []IssueType {
	return slices.DeleteFunc(slices.Clone(r.IssueTypes), func(t IssueType) bool { return t.Subtask })
}

// HasDefaultType reports whether the project has the DefaultIssueType.
func (r WorkflowReport) HasDefaultType() bool {
	return slices.ContainsFunc(r.IssueTypes, func(t IssueType) bool { return !t.Subtask && strings.EqualFold(t.Name, DefaultIssueType) })
}

// needsValue reports whether Jira requires a value for the field that
// neither a default nor Privilege's own task fields give.
func needsValue(f Field) bool {
	return f.Required && !f.HasDefault && !filledByPrivilege(f.ID)
}

// Unfillable names ("Name (id)") the required fields Privilege can offer
// no input for: they block the workflow check.
func (r WorkflowReport) Unfillable() []string {
	var names []string
	for _, f := range r.Fields {
		if needsValue(f) && f.Input() == InputNone {
			names = append(names, fmt.Sprintf("%s (%s)", f.Name, f.ID))
		}
	}
	return names
}

// RequiredFields are the required fields the admin gives a value for.
func (r WorkflowReport) RequiredFields() []Field {
	var out []Field
	for _, f := range r.Fields {
		if needsValue(f) && f.Input() != InputNone {
			out = append(out, f)
		}
	}
	return out
}

// OptionalFields are the priority, components and fix versions when they
// are on the create screen but need no value: the admin may give one.
func (r WorkflowReport) OptionalFields() []Field {
	var out []Field
	for _, f := range r.Fields {
		if offeredOptional(f.ID) && !needsValue(f) && f.Input() != InputNone {
			out = append(out, f)
		}
	}
	return out
}

// OnCreateScreen reports whether the field is on the chosen type's create screen.
func (r WorkflowReport) OnCreateScreen(fieldID string) bool {
	return slices.ContainsFunc(r.Fields, func(f Field) bool { return f.ID == fieldID })
}

// HasDoneStatus reports whether a decided request can close its task.
func (r WorkflowReport) HasDoneStatus() bool {
	return slices.ContainsFunc(r.Statuses, Status.Done)
}

// HasNegativeDoneStatus reports whether the workflow has a Declined-like
// done status for denied, cancelled and expired requests.
func (r WorkflowReport) HasNegativeDoneStatus() bool {
	return slices.ContainsFunc(r.Statuses, func(s Status) bool { return s.Done() && NegativeStatus(s.Name) })
}

// OutcomeStatus is the status an outcome's task goes to: want when the
// workflow has it, else DefaultStatus. ok is false when want was given but
// is not in the workflow.
func (r WorkflowReport) OutcomeStatus(o models.Outcome, want string) (status string, ok bool) {
	if want != "" && slices.ContainsFunc(r.Statuses, func(s Status) bool { return s.Name == want }) {
		return want, true
	}
	return r.DefaultStatus(o), want == ""
}

// DefaultStatus is a done-category status: a negative-sounding one
// (Declined, Rejected, Won't Do) for denied, cancelled and expired when the
// workflow has one, otherwise the first positive one ("Done").
func (r WorkflowReport) DefaultStatus(o models.Outcome) string {
	var positive, negative string
	for _, s := range r.Statuses {
		switch {
		case !s.Done():
		case NegativeStatus(s.Name):
			negative = cmp.Or(negative, s.Name)
		default:
			positive = cmp.Or(positive, s.Name)
		}
	}
	if o != models.OutcomeApproved && negative != "" {
		return negative
	}
	if positive != "" {
		return positive
	}
	return negative
}

var negativeStatusName = regexp.MustCompile(`(?i)declin|reject|won'?t do|denied|cancel`)

// NegativeStatus reports whether a status name sounds like a "no"
// (Declined, Rejected, Won't Do, Denied, Cancelled).
func NegativeStatus(name string) bool { return negativeStatusName.MatchString(name) }

// ApproveLikeStatus is the first of the statuses whose name sounds like an
// approval ("" = none): the default of "moving a task there approves".
func ApproveLikeStatus(statuses []string) string { return statusLike(statuses, "approv") }

// DenyLikeStatus is the first of the statuses whose name sounds like a
// denial ("" = none): the default of "moving a task there denies".
func DenyLikeStatus(statuses []string) string {
	return statusLike(statuses, "declin", "reject", "deni")
}

func statusLike(statuses []string, hints ...string) string {
	for _, s := range statuses {
		for _, h := range hints {
			if strings.Contains(strings.ToLower(s), h) {
				return s
			}
		}
	}
	return ""
}
