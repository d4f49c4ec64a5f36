package handlers

import (
	"context"
	"net/url"
	"strconv"

	"privilege/jira"
	"privilege/models"
	"privilege/views"
)

// The people options of a project's Manage page (design.md §8): who tasks
// are assigned to, whether linked approvers watch them, and what the
// connected Jira user may do about it (GET mypermissions).

type peopleForm struct {
	mode     models.AssigneeMode
	user     int64
	watchers bool
}

func parsePeopleForm(form url.Values) peopleForm {
	f := peopleForm{mode: models.AssigneeMode(form.Get("assignee_mode")), watchers: form.Get("add_watchers") != ""}
	if id, err := strconv.ParseInt(form.Get("assignee_user"), 10, 64); err == nil && id > 0 {
		f.user = id
	}
	return f
}

// permissionLabel is a permission's name and what the people options need it for.
func permissionLabel(key string) (name, neededFor string) {
	switch key {
	case jira.PermModifyReporter:
		return "Modify Reporter", "to name the requester as reporter"
	case jira.PermAssignIssues:
		return "Assign Issues", "to assign tasks (fixed assignee or the approver who decides)"
	case jira.PermManageWatchers:
		return "Manage Watchers", "to add approvers as watchers"
	}
	return key, ""
}

// applyPeople fills the people section and what "Update" saves, and adds
// the permission check to the workflow check's notices (never blocking:
// a refused part only leaves that part out).
func (h *handler) applyPeople(ctx context.Context, page *views.ProjectPage, input *models.ProjectLinkInput, in models.Integration, f jira.WorkflowReport, form peopleForm) error {
	if form.mode == "" {
		form.mode = models.AssigneeNone
	}
	input.AssigneeMode, input.AssigneeUserID, input.AddWatchers = form.mode, form.user, form.watchers
	ids, err := h.store.IntegrationJiraIdentities(ctx, in.ID)
	if err != nil {
		return err
	}
	p := views.ProjectPeople{AddWatchers: form.watchers, LinkedPeople: len(ids)}
	for _, m := range []struct {
		mode  models.AssigneeMode
		label string
	}{{models.AssigneeNone, "Nobody"}, {models.AssigneeFixed, "A fixed linked user"}, {models.AssigneeDecider, "The approver who decides"}} {
		p.Modes = append(p.Modes, views.Option{Value: string(m.mode), Label: m.label, Selected: m.mode == form.mode})
	}
	p.Assignees = append(p.Assignees, views.Option{Value: "", Label: "—", Selected: form.user == 0})
	for _, id := range ids {
		p.Assignees = append(p.Assignees, views.Option{Value: strconv.FormatInt(id.UserID, 10), Label: id.DisplayName, Selected: id.UserID == form.user})
	}
	switch {
	case f.PermissionsErr != nil:
		page.Notices = append(page.Notices, "Privilege could not read the connected Jira user's permissions in "+page.ProjectKey+", so the people options are not checked.")
	case f.Permissions != nil:
		for _, k := range jira.PeoplePermissions() {
			name, needed := permissionLabel(k)
			p.Permissions = append(p.Permissions, views.PermissionCheck{Key: k, Name: name, Needed: needed, Have: f.Permissions[k]})
		}
		if !f.Permissions[jira.PermModifyReporter] {
			page.Notices = append(page.Notices, "The connected Jira user lacks “Modify Reporter” in "+page.ProjectKey+": tasks will be reported by that user, with the requester named in the description.")
		}
		if form.mode != models.AssigneeNone && !f.Permissions[jira.PermAssignIssues] {
			page.Notices = append(page.Notices, "The connected Jira user lacks “Assign Issues” in "+page.ProjectKey+": tasks will stay unassigned.")
		}
		if form.watchers && !f.Permissions[jira.PermManageWatchers] {
			page.Notices = append(page.Notices, "The connected Jira user lacks “Manage Watchers” in "+page.ProjectKey+": approvers will not be added as watchers.")
		}
	}
	page.People = p
	return nil
}

// peopleProblems lists what Jira refused on the integration's tasks.
func (h *handler) peopleProblems(ctx context.Context, integrationID int64) ([]views.PeopleProblem, error) {
	links, err := h.store.ProjectLinks(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	var out []views.PeopleProblem
	for _, l := range links {
		for _, part := range []models.PeoplePart{models.PartReporter, models.PartAssignee, models.PartWatchers} {
			if msg := l.Problem(part); msg != "" {
				out = append(out, views.PeopleProblem{ProjectKey: l.ProjectKey, Part: part, Message: msg})
			}
		}
		if l.FieldsProblem != "" { // ticket shaping: a required field's value Jira refused
			out = append(out, views.PeopleProblem{ProjectKey: l.ProjectKey, Part: "fields", Message: l.FieldsProblem})
		}
	}
	return out, nil
}
