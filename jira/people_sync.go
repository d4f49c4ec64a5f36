package jira

import (
	"context"
	"errors"
	"strings"

	"privilege/models"
)

// The people on a task (design.md §8): the reporter is the requester when
// linked, the assignee follows the project link's rule, and linked eligible
// approvers may watch. A part Jira refuses never blocks the task: the create
// is refused as a whole with a 400 naming the field (so nothing was created
// and creating again without that part cannot duplicate it), and later
// calls (assign, watch) are best effort. What Jira refused is recorded on
// the project link for the integration page, and cleared once Jira accepts.

// peopleOnCreate is who the new task names: the linked requester as
// reporter, and the fixed assignee when the project link has one.
func (s *Syncer) peopleOnCreate(ctx context.Context, t target, r models.AccessRequest) (reporter, assignee *Person, err error) {
	id, err := s.store.UserJiraIdentity(ctx, t.integ.ID, r.RequesterID)
	switch {
	case err == nil:
		reporter = PersonOf(id)
	case !errors.Is(err, models.ErrNotFound):
		return nil, nil, err
	}
	if t.link == nil || t.link.AssigneeMode != models.AssigneeFixed || t.link.AssigneeUserID == nil {
		return reporter, nil, nil
	}
	id, err = s.store.UserJiraIdentity(ctx, t.integ.ID, *t.link.AssigneeUserID)
	switch {
	case err == nil:
		assignee = PersonOf(id)
	case errors.Is(err, models.ErrNotFound):
		s.notePeople(ctx, t, models.PartAssignee, "The chosen assignee no longer has a linked Jira account on this integration, so tasks are created unassigned. Choose another assignee on the project's Manage page.")
	default:
		return nil, nil, err
	}
	return reporter, assignee, nil
}

// createWithPeople creates the issue; a reporter or assignee that Jira
// refuses is left out and the create sent again (at most once per part).
func (s *Syncer) createWithPeople(ctx context.Context, client *Client, t target, in IssueInput) (IssueRef, error) {
	for {
		ref, err := client.CreateIssue(ctx, in)
		if err == nil {
			if in.Reporter != nil {
				s.notePeople(ctx, t, models.PartReporter, "")
			}
			if in.Assignee != nil {
				s.notePeople(ctx, t, models.PartAssignee, "")
			}
			return ref, nil
		}
		if msg, refused := FieldRefusal(err, "reporter"); refused && in.Reporter != nil {
			s.notePeople(ctx, t, models.PartReporter, "Jira refused "+in.Reporter.DisplayName+" as reporter (“"+msg+"”), so tasks are reported by the connected Jira user, with the requester named in the description. "+
				"The connected Jira user needs the “Modify Reporter” permission in "+t.key+", and the requester must be an active user who may use the project.")
			in.Reporter = nil
			continue
		}
		if msg, refused := FieldRefusal(err, "assignee"); refused && in.Assignee != nil {
			s.notePeople(ctx, t, models.PartAssignee, "Jira refused to assign tasks to "+in.Assignee.DisplayName+" (“"+msg+"”), so they are created unassigned. "+
				"The connected Jira user needs the “Assign Issues” permission in "+t.key+", and the assignee “Assignable User”.")
			in.Assignee = nil
			continue
		}
		return IssueRef{}, err
	}
}

// addWatchers adds the linked users who may decide the request as watchers
// of its new task, when the project link asks for it. Never fails the job.
func (s *Syncer) addWatchers(ctx context.Context, client *Client, t target, key string, r models.AccessRequest) {
	if t.link == nil || !t.link.AddWatchers {
		return
	}
	ids, err := s.store.ApproverJiraIdentities(ctx, t.integ.ID, r.RequesterID)
	if err != nil {
		s.log.Warn("list approvers to watch", "access_request_id", r.ID, "err", err)
		return
	}
	var problems []string
	for _, id := range ids {
		err := client.AddWatcher(ctx, key, PersonOf(id))
		if err == nil {
			continue
		}
		msg, refused := Refusal(err)
		if !refused {
			msg = err.Error()
		}
		problems = append(problems, id.DisplayName+" (“"+msg+"”)")
	}
	note := ""
	if len(problems) > 0 {
		note = "Jira did not add these approvers as watchers of " + key + ": " + strings.Join(problems, "; ") +
			". The connected Jira user needs the “Manage Watchers” permission in " + t.key + ", and each watcher must be able to browse the project."
	}
	s.notePeople(ctx, t, models.PartWatchers, note)
}

// assignDecider assigns the task to the approver who decided, when the
// project link asks for it and that approver is linked. Only an unclear
// failure (network, 5xx, rate limit) is returned, to retry the event.
func (s *Syncer) assignDecider(ctx context.Context, client *Client, t target, key string, ev models.RequestEvent) error {
	if t.link == nil || t.link.AssigneeMode != models.AssigneeDecider || ev.ActorID == nil ||
		(ev.Kind != models.EventApproved && ev.Kind != models.EventDenied) {
		return nil
	}
	id, err := s.store.UserJiraIdentity(ctx, t.integ.ID, *ev.ActorID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil // the approver has not linked their Jira account
	case err != nil:
		return err
	}
	err = client.AssignIssue(ctx, key, PersonOf(id))
	if err == nil {
		s.notePeople(ctx, t, models.PartAssignee, "")
		return nil
	}
	if msg, refused := Refusal(err); refused {
		s.notePeople(ctx, t, models.PartAssignee, "Jira refused to assign "+key+" to "+id.DisplayName+", who decided (“"+msg+"”). "+
			"The connected Jira user needs the “Assign Issues” permission in "+t.key+", and approvers “Assignable User”.")
		return nil
	}
	return err
}

// notePeople records what Jira refused for part ("" = nothing), writing
// only when it changed.
func (s *Syncer) notePeople(ctx context.Context, t target, part models.PeoplePart, problem string) {
	if t.link == nil || t.link.Problem(part) == problem {
		return
	}
	if err := s.store.RecordPeopleProblem(ctx, t.link.ID, part, problem); err != nil {
		s.log.Warn("record what Jira refused", "project", t.key, "part", part, "err", err)
		return
	}
	switch part {
	case models.PartReporter:
		t.link.ReporterProblem = problem
	case models.PartAssignee:
		t.link.AssigneeProblem = problem
	case models.PartWatchers:
		t.link.WatchersProblem = problem
	}
}
