package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/views"
)

// showIntegration is an integration's Manage page: its Jira projects,
// fetched live (all pages), searchable, with the accounts each tracks.
func (h *handler) showIntegration(c echo.Context) error {
	in, err := h.integrationParam(c)
	if err != nil {
		return err
	}
	return h.renderIntegration(c, http.StatusOK, in, in.ProjectKeys, nil)
}

// renderIntegration shows the integration page, its Project Keys form
// holding keys (as typed, after an error) and its field errors.
func (h *handler) renderIntegration(c echo.Context, status int, in models.Integration, keys string, fe views.FormErrors) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	page := views.IntegrationPage{Integration: integrationRow(in), Query: q, ProjectKeys: keys, Errors: fe, LinkedOnly: c.QueryParam("linked") == "1"}
	var err error
	page.Projects, page.Total, err = h.projectRows(c.Request().Context(), in, q)
	if err != nil {
		if page.JiraError, err = h.jiraNotice(c, err); err != nil {
			return err
		}
	}
	if page.PeopleProblems, err = h.peopleProblems(c.Request().Context(), in.ID); err != nil {
		return err
	}
	if page.LinkedOnly {
		page.Projects = slices.DeleteFunc(page.Projects, func(r views.ProjectRow) bool { return !r.Linked })
	}
	page.Matched = len(page.Projects)
	n, _ := strconv.Atoi(c.QueryParam("page"))
	page.Projects, page.Pager = pageProjects(page.Projects, max(n, 1), page.PageURL)
	if page.Decisions, err = h.integrationDecisions(c.Request().Context(), in); err != nil {
		return err
	}
	page.Meta = h.pageMeta(c, in.Name, views.NavIntegrations)
	return render(c, status, views.Integration(page))
}

// projectRows lists the integration's projects (restricted to its project
// keys when set) matching q, and how many projects there are in all.
func (h *handler) projectRows(ctx context.Context, in models.Integration, q string) ([]views.ProjectRow, int, error) {
	cl, err := h.jiraClient(in)
	if err != nil {
		return nil, 0, err
	}
	projects, err := cl.ListProjects(ctx)
	if err != nil {
		return nil, 0, err
	}
	if keys := in.RestrictedKeys(); len(keys) > 0 {
		projects = slices.DeleteFunc(projects, func(p jira.Project) bool { return !slices.Contains(keys, strings.ToUpper(p.Key)) })
	}
	links, err := h.store.ProjectLinks(ctx, in.ID)
	if err != nil {
		return nil, 0, err
	}
	tracked := map[string][]string{}
	for _, l := range links {
		names := []string{}
		for _, a := range l.Accounts {
			names = append(names, a.Name)
		}
		tracked[l.ProjectKey] = names
	}
	lq := strings.ToLower(q)
	var rows []views.ProjectRow
	for _, p := range projects {
		if lq != "" && !strings.Contains(strings.ToLower(p.Key), lq) && !strings.Contains(strings.ToLower(p.Name), lq) {
			continue
		}
		names, linked := tracked[p.Key]
		rows = append(rows, views.ProjectRow{Key: p.Key, Name: p.Name, Linked: linked, Accounts: len(names), AccountNames: names})
	}
	return rows, len(projects), nil
}

const projectsPerPage = 50

// pageProjects cuts one page out of the (filtered) project list: a site may
// have hundreds of projects.
func pageProjects(rows []views.ProjectRow, page int, pageURL func(int) string) ([]views.ProjectRow, views.Pager) {
	pages := max(1, (len(rows)+projectsPerPage-1)/projectsPerPage)
	page = min(page, pages)
	p := views.Pager{Page: page, Pages: pages, Total: int64(len(rows))}
	if page > 1 {
		p.PrevURL = pageURL(page - 1)
	}
	if page < pages {
		p.NextURL = pageURL(page + 1)
	}
	lo := (page - 1) * projectsPerPage
	return rows[lo:min(lo+projectsPerPage, len(rows))], p
}

var projectKeyParam = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,254}$`)

// projectParams loads the integration, the :key and its link (ID 0 when
// the project is not linked yet).
func (h *handler) projectParams(c echo.Context) (models.Integration, string, models.ProjectLink, error) {
	in, err := h.integrationParam(c)
	if err != nil {
		return in, "", models.ProjectLink{}, err
	}
	key := strings.ToUpper(c.Param("key"))
	if !projectKeyParam.MatchString(key) {
		return in, "", models.ProjectLink{}, problemFor(codeNotFound)
	}
	link, err := h.store.ProjectLinkByKey(c.Request().Context(), in.ID, key)
	if errors.Is(err, models.ErrNotFound) {
		err = nil
	}
	return in, key, link, err
}

// showProject is a project's Manage page.
func (h *handler) showProject(c echo.Context) error {
	in, key, link, err := h.projectParams(c)
	if err != nil {
		return err
	}
	page, _, err := h.projectPage(c, in, key, link, formFromLink(link))
	if err != nil {
		return err
	}
	page.Errors = nil // nothing was submitted yet
	return h.renderProject(c, http.StatusOK, page)
}

// saveProject is "Update" (or "Check workflow", which only re-renders).
func (h *handler) saveProject(c echo.Context) error {
	in, key, link, err := h.projectParams(c)
	if err != nil {
		return err
	}
	form, err := parseProjectForm(c)
	if err != nil {
		return err
	}
	page, input, err := h.projectPage(c, in, key, link, form)
	switch {
	case err != nil:
		return err
	case c.FormValue("check") != "":
		page.Errors = nil
		return h.renderProject(c, http.StatusOK, page)
	case !page.CanSave() || len(page.Errors) > 0:
		return h.renderProject(c, http.StatusUnprocessableEntity, page)
	case len(input.AccountIDs) == 0:
		// A link that tracks nothing creates no task: say so instead of
		// saving it silently.
		page.Errors["accounts"] = "Choose at least one account: a project that tracks no account never gets a task."
		if page.Linked {
			page.Errors["accounts"] = "Choose at least one account. To stop tracking every account, use Unlink project below."
		}
		return h.renderProject(c, http.StatusUnprocessableEntity, page)
	}
	_, err = h.store.SaveProjectLink(c.Request().Context(), actor(c), input)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		page.Errors = ve.Fields
		return h.renderProject(c, http.StatusUnprocessableEntity, page)
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("%s is saved: it tracks %d account(s).", key, len(input.AccountIDs))
	return redirectWithFlash(c, views.FlashSuccess, msg, page.Action())
}

// unlinkProject removes a project's link; its accounts stop being tracked.
func (h *handler) unlinkProject(c echo.Context) error {
	in, key, link, err := h.projectParams(c)
	if err != nil {
		return err
	}
	if link.ID == 0 {
		return redirectWithFlash(c, views.FlashInfo, key+" was not linked.", paths.Integration(in.ID))
	}
	if err := h.store.UnlinkProject(c.Request().Context(), actor(c), link.ID); err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, key+" is unlinked: its accounts are no longer tracked in Jira. Existing tasks stay.", paths.Integration(in.ID))
}

func (h *handler) renderProject(c echo.Context, status int, page views.ProjectPage) error {
	page.Meta = h.pageMeta(c, page.ProjectKey+" · "+page.Integration, views.NavIntegrations)
	if page.Linked && page.Decisions.Action == "" { // decisions from Jira (project_decisions.go)
		link, err := h.store.ProjectLinkByKey(c.Request().Context(), page.IntegrationID, page.ProjectKey)
		if err != nil {
			return err
		}
		page.Decisions = projectDecisions(page, link, "")
	}
	return render(c, status, views.Project(page))
}

// projectForm is what the project's Manage page shows as chosen: the
// saved link on GET, the submitted values on POST.
type projectForm struct {
	accounts    map[int64]bool
	move        bool
	issueTypeID string
	statuses    map[models.Outcome]string
	people      peopleForm
	shaping     shapingForm // project_fields.go
}

func formFromLink(l models.ProjectLink) projectForm {
	f := projectForm{accounts: map[int64]bool{}, issueTypeID: l.IssueTypeID, statuses: map[models.Outcome]string{}}
	for _, a := range l.Accounts {
		f.accounts[a.ID] = true
	}
	for _, o := range models.Outcomes {
		f.statuses[o] = l.StatusFor(o)
	}
	f.people = peopleForm{mode: l.AssigneeMode, watchers: l.AddWatchers}
	f.shaping = shapingFromLink(l)
	if l.AssigneeUserID != nil {
		f.people.user = *l.AssigneeUserID
	}
	return f
}

func parseProjectForm(c echo.Context) (projectForm, error) {
	form, err := c.FormParams()
	if err != nil {
		return projectForm{}, newProblem(codeBadRequest, "The form could not be read.")
	}
	f := projectForm{accounts: map[int64]bool{}, move: form.Get("move_accounts") != "", issueTypeID: form.Get("issue_type"), statuses: map[models.Outcome]string{}}
	for _, v := range form["account"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			f.accounts[id] = true
		}
	}
	for _, o := range models.Outcomes {
		f.statuses[o] = form.Get("status_" + string(o))
	}
	f.people = parsePeopleForm(form)
	f.shaping = parseShapingForm(form)
	return f, nil
}

// projectPage builds the project's Manage page and what "Update" would
// save. Jira failures become page.JiraError (the page still renders).
func (h *handler) projectPage(c echo.Context, in models.Integration, key string, link models.ProjectLink, form projectForm) (views.ProjectPage, models.ProjectLinkInput, error) {
	ctx := c.Request().Context()
	page := views.ProjectPage{IntegrationID: in.ID, Integration: in.Name, ProjectKey: key, ProjectName: link.ProjectName,
		Linked: link.ID != 0, MoveAccounts: form.move, Errors: views.FormErrors{}}
	input := models.ProjectLinkInput{IntegrationID: in.ID, ProjectKey: key, MoveAccounts: form.move, Statuses: map[models.Outcome]string{}}
	accounts, err := h.store.AllAccounts(ctx)
	if err != nil {
		return page, input, err
	}
	trackers, err := h.store.ProjectTrackers(ctx)
	if err != nil {
		return page, input, err
	}
	page.Accounts, input.AccountIDs = accountChoices(accounts, trackers, link.ID, form.accounts)
	facts, err := h.workflowReport(ctx, in, key, form.issueTypeID)
	if err != nil {
		page.JiraError, err = h.jiraNotice(c, err)
		return page, input, err
	}
	applyFacts(&page, &input, facts, form)
	if err := h.applyPeople(ctx, &page, &input, in, facts, form.people); err != nil {
		return page, input, err
	}
	if err := h.applyShaping(ctx, &page, &input, in, link, facts, form.shaping); err != nil {
		return page, input, err
	}
	return page, input, nil
}

func accountChoices(accounts []models.CloudAccount, trackers map[int64]models.ProjectTracker, linkID int64, chosen map[int64]bool) ([]views.AccountChoice, []int64) {
	out := make([]views.AccountChoice, 0, len(accounts))
	var ids []int64
	for _, a := range accounts {
		ch := views.AccountChoice{ID: a.ID, Name: a.Name, Provider: a.Provider, Checked: chosen[a.ID]}
		if a.ProjectLinkID != nil && *a.ProjectLinkID != linkID {
			if t, ok := trackers[*a.ProjectLinkID]; ok {
				ch.Elsewhere = views.TrackerFrom(t).Label()
			}
		}
		if ch.Checked {
			ids = append(ids, a.ID)
		}
		out = append(out, ch)
	}
	return out, ids
}

// workflowReport is what Jira says about a project for the workflow check.
func (h *handler) workflowReport(ctx context.Context, in models.Integration, key, wantTypeID string) (jira.WorkflowReport, error) {
	cl, err := h.jiraClient(in)
	if err != nil {
		return jira.WorkflowReport{}, err
	}
	return cl.WorkflowReport(ctx, key, wantTypeID)
}

// applyFacts fills the issue type and status choices and runs the
// workflow check: blocking problems refuse "Update".
func applyFacts(page *views.ProjectPage, input *models.ProjectLinkInput, f jira.WorkflowReport, form projectForm) {
	page.ProjectName, input.ProjectID, input.ProjectName = f.Project.Name, f.Project.ID, f.Project.Name
	input.IssueTypeID, input.IssueTypeName = f.Chosen.ID, f.Chosen.Name
	for _, t := range f.CreatableTypes() {
		page.IssueTypes = append(page.IssueTypes, views.Option{Value: t.ID, Label: t.Name, Selected: t.ID == f.Chosen.ID})
	}
	switch {
	case f.Missing != "":
		page.Problems = append(page.Problems, "The issue type chosen for this project no longer exists in it. Choose another issue type and press Check workflow.")
	case f.Chosen.ID == "":
		page.Problems = append(page.Problems, "This project has no issue type Privilege can create (only sub-tasks, or none). Add “Task” to the project's issue type scheme.")
		return
	case !f.HasDefaultType():
		page.Notices = append(page.Notices, fmt.Sprintf("This project has no issue type “%s”, so tasks will be created as “%s”. Choose another type and press Check workflow if that is wrong.", jira.DefaultIssueType, f.Chosen.Name))
	}
	if f.Chosen.ID == "" {
		return
	}
	if names := f.Unfillable(); len(names) > 0 {
		page.Problems = append(page.Problems, fmt.Sprintf("“%s” requires fields Privilege cannot fill: %s. Make them optional or give them a default value on the project's create screen, or choose another issue type.", f.Chosen.Name, strings.Join(names, ", ")))
	}
	if !f.HasDoneStatus() {
		page.Problems = append(page.Problems, fmt.Sprintf("The workflow of “%s” has no status in the Done category, so a decided request could never close its task.", f.Chosen.Name))
		return
	}
	if !f.HasNegativeDoneStatus() {
		page.Notices = append(page.Notices, fmt.Sprintf("The workflow of “%s” has no Declined-like done status, so denied, cancelled and expired requests also go to “%s”, and look like approved ones in Jira. Add a status such as Declined to the workflow (then press Check workflow), or choose the statuses below deliberately.",
			f.Chosen.Name, f.DefaultStatus(models.OutcomeDenied)))
	}
	for _, o := range models.Outcomes {
		oc, chosen, ok := outcomeChoice(o, f, form.statuses[o])
		if !ok {
			page.Errors[oc.FieldName()] = fmt.Sprintf("Choose a status of the “%s” workflow.", f.Chosen.Name)
		}
		page.Outcomes = append(page.Outcomes, oc)
		input.Statuses[o] = chosen
	}
}

var outcomeLabels = map[models.Outcome]string{
	models.OutcomeApproved:  "When approved",
	models.OutcomeDenied:    "When denied",
	models.OutcomeCancelled: "When cancelled",
	models.OutcomeExpired:   "When expired",
}

// outcomeChoice is the status select of one outcome; ok is false when the
// submitted status is not in the workflow.
func outcomeChoice(o models.Outcome, f jira.WorkflowReport, want string) (views.OutcomeChoice, string, bool) {
	oc := views.OutcomeChoice{Outcome: o, Label: outcomeLabels[o]}
	chosen, ok := f.OutcomeStatus(o, want)
	for _, s := range f.Statuses {
		label := s.Name
		if s.Done() {
			label += " (done)"
		}
		oc.Options = append(oc.Options, views.Option{Value: s.Name, Label: label, Selected: s.Name == chosen})
	}
	return oc, chosen, ok
}
