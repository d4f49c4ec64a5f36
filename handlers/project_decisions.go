package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/views"
)

// "Approve and deny in Jira" per project link, and the integration page's
// panel on how Jira's notices arrive (design.md §9).

// saveProjectDecisions turns decisions from Jira on or off for a linked project.
func (h *handler) saveProjectDecisions(c echo.Context) error {
	in, key, link, err := h.projectParams(c)
	if err != nil {
		return err
	}
	if link.ID == 0 {
		return redirectWithFlash(c, views.FlashInfo, key+" is not linked: link it first.", paths.Integration(in.ID))
	}
	page, _, err := h.projectPage(c, in, key, link, formFromLink(link))
	if err != nil {
		return err
	}
	page.Errors = views.FormErrors{}
	ctx := c.Request().Context()
	input := models.JiraDecisionsInput{
		On:            c.FormValue("decide_in_jira") != "",
		ApproveStatus: c.FormValue("jira_approve_status"),
		DenyStatus:    c.FormValue("jira_deny_status"),
		Statuses:      pageStatuses(page),
	}
	reach := ""
	if input.On {
		if page.JiraError != "" {
			return h.renderProject(c, http.StatusBadGateway, page)
		}
		reachable, initial, err := h.reachableFromInitial(ctx, in, key)
		if err != nil {
			if page.JiraError, err = h.jiraNotice(c, err); err != nil {
				return err
			}
			return h.renderProject(c, http.StatusBadGateway, page)
		}
		input.ReachableFromInitial = reachable
		reach = "Both are reachable from " + initial + ", where new tasks start."
		if reachable == nil {
			reach = "Whether they are reachable from where new tasks start was not checked: no task of this project has stayed where it started yet."
		}
	}
	saved, err := h.store.SetJiraDecisions(ctx, actor(c), link.ID, input)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		page.Errors = ve.Fields
		link.DecideInJira, link.JiraApproveStatus, link.JiraDenyStatus = input.On, input.ApproveStatus, input.DenyStatus
		page.Decisions = projectDecisions(page, link, reach)
		return h.renderProject(c, http.StatusUnprocessableEntity, page)
	}
	if err != nil {
		return err
	}
	msg := key + ": approving and denying in Jira is off."
	if saved.DecideInJira {
		msg = fmt.Sprintf("%s: moving a task to %s approves, to %s denies (linked approvers only). %s", key, saved.JiraApproveStatus, saved.JiraDenyStatus, reach)
	}
	return redirectWithFlash(c, views.FlashSuccess, msg, page.Action())
}

// pageStatuses are the workflow's status names the Manage page offers.
func pageStatuses(page views.ProjectPage) []string {
	if len(page.Outcomes) == 0 {
		return nil
	}
	var out []string
	for _, o := range page.Outcomes[0].Options {
		if o.Value != "" {
			out = append(out, o.Value)
		}
	}
	return out
}

// reachableFromInitial lists the statuses one transition away from the
// status new tasks start in, read from a task of the project that has not
// moved yet (Jira offers no workflow graph to apps). nil, "" when there is
// no such task yet: the check is skipped, and the form says so.
func (h *handler) reachableFromInitial(ctx context.Context, in models.Integration, key string) ([]string, string, error) {
	cl, err := h.jiraClient(in)
	if err != nil {
		return nil, "", err
	}
	refs, err := cl.FindIssuesByLabel(ctx, key, jira.ProductLabel, nil)
	if err != nil {
		return nil, "", err
	}
	for _, ref := range refs[:min(len(refs), 5)] {
		hist, err := cl.IssueHistory(ctx, ref.Key)
		if err != nil {
			return nil, "", err
		}
		if len(hist.Changes) > 0 {
			continue
		}
		opts, err := cl.Transitions(ctx, ref.Key)
		if err != nil {
			return nil, "", err
		}
		out := []string{}
		for _, o := range opts {
			out = append(out, o.ToStatus)
		}
		return out, hist.Status, nil
	}
	return nil, "", nil
}

// projectDecisions fills the form from the link (or what was submitted).
func projectDecisions(page views.ProjectPage, link models.ProjectLink, reach string) views.ProjectDecisions {
	d := views.ProjectDecisions{Action: paths.ProjectLinkDecisions(page.IntegrationID, page.ProjectKey), On: link.DecideInJira, Reachability: reach}
	statuses := pageStatuses(page)
	approve, deny := link.JiraApproveStatus, link.JiraDenyStatus
	if approve == "" {
		approve = jira.ApproveLikeStatus(statuses)
	}
	if deny == "" {
		deny = jira.DenyLikeStatus(statuses)
	}
	d.ApproveOptions = statusOptions(statuses, approve)
	d.DenyOptions = statusOptions(statuses, deny)
	return d
}

func statusOptions(statuses []string, chosen string) []views.Option {
	out := []views.Option{{Value: "", Label: "—", Selected: chosen == ""}}
	for _, s := range statuses {
		out = append(out, views.Option{Value: s, Label: s, Selected: strings.EqualFold(s, chosen)})
	}
	return out
}

// integrationDecisions is the integration page's "Decisions from Jira" panel.
func (h *handler) integrationDecisions(ctx context.Context, in models.Integration) (views.IntegrationDecisions, error) {
	d := views.IntegrationDecisions{
		DataCenter: in.Deployment == models.DeploymentDataCenter, WebhookIDs: strings.Join(in.WebhookIDList(), ", "),
		WebhookExpiresAt: in.WebhookExpiresAt, WebhookError: in.WebhookError, PollInterval: h.deps.JiraPollInterval,
		PollWatermark: in.PollWatermark, PollError: in.PollError,
		RotateAction: paths.IntegrationWebhookSecret(in.ID),
	}
	if d.PollInterval <= 0 {
		d.PollInterval = jira.DefaultPollInterval
	}
	links, err := h.store.DecisionProjectLinks(ctx, in.ID)
	if err != nil {
		return d, err
	}
	d.InUse = len(links) > 0
	if !d.DataCenter {
		d.NeedsReconnect = !slices.Contains(strings.Fields(in.Scopes), jira.WebhookScope)
		return d, nil
	}
	token, err := h.store.WebhookToken(ctx, in.ID)
	if err != nil {
		return d, err
	}
	d.WebhookURL = paths.JiraWebhookURL(h.cfg.BaseURL.String(), token)
	if d.WebhookSecret, err = h.store.WebhookSecret(ctx, in.ID); err != nil {
		return d, err
	}
	return d, nil
}
