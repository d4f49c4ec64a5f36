package jira_test

import (
	"strings"
	"testing"

	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// linkJira gives u a Jira user in the simulator and links it the way the
// profile page does: a consent signed in as that user, then /me or /myself.
func (h *harness) linkJira(u models.User, display string) jirasim.User {
	h.t.Helper()
	email := strings.ReplaceAll(strings.ToLower(display), " ", ".") + "@example.com"
	var ju jirasim.User
	var id jira.Identity
	var err error
	if h.dc == nil {
		ju = h.sim.AddCloudUser(display, email)
		loc, cerr := h.sim.ConsentAs(h.oauth.CloudIdentityAuthCodeURL("st"), true, "", ju.AccountID)
		if cerr != nil {
			h.t.Fatal(cerr)
		}
		id, err = h.oauth.CloudIdentity(h.ctx, loc.Query().Get("code"))
	} else {
		ju = h.dc.AddUser(strings.Fields(strings.ToLower(display))[0], display, email)
		v := jira.GenerateVerifier()
		loc, cerr := h.sim.ConsentAs(h.oauth.DCIdentityAuthCodeURL(h.dc.BaseURL(), h.dcID, "st", v), true, "", ju.Name)
		if cerr != nil {
			h.t.Fatal(cerr)
		}
		id, err = h.oauth.DCIdentity(h.ctx, h.dc.BaseURL(), h.dcID, h.dcSec, loc.Query().Get("code"), v)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	if id.AccountID == "" || (h.dc == nil && id.AccountID != ju.AccountID) || (h.dc != nil && (id.Name != ju.Name || id.AccountID != ju.Key)) || id.DisplayName != display {
		h.t.Fatalf("identity %+v for Jira user %+v", id, ju)
	}
	modeltest.Must(h.store.LinkJiraIdentity(h.ctx, models.SystemActor, u.ID, h.integ.ID, models.JiraIdentityInput{AccountID: id.AccountID, Name: id.Name, DisplayName: id.DisplayName}))
	return ju
}

// setPeople saves the project link's assignee rule and watchers option.
func (h *harness) setPeople(mode models.AssigneeMode, assignee int64, watchers bool) {
	h.t.Helper()
	l := h.link
	h.link = modeltest.Must(h.store.SaveProjectLink(h.ctx, models.SystemActor, models.ProjectLinkInput{
		IntegrationID: h.integ.ID, ProjectID: l.ProjectID, ProjectKey: l.ProjectKey, ProjectName: l.ProjectName, IssueTypeID: l.IssueTypeID, IssueTypeName: l.IssueTypeName,
		Statuses:   map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined"},
		AccountIDs: []int64{h.account.ID}, AssigneeMode: mode, AssigneeUserID: assignee, AddWatchers: watchers,
	}))
}

func (h *harness) linkNow() models.ProjectLink {
	return modeltest.Must(h.store.ProjectLink(h.ctx, h.link.ID))
}

func sameUser(a, b jirasim.User) bool { return a.ID() != "" && a.ID() == b.ID() }

func TestPeopleReporterIsTheLinkedRequester(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		unlinked := h.request(h.account)
		h.drain()
		admin := jirasim.User{}
		if h.dc == nil {
			admin = h.sim.Users()[0]
		} else {
			admin = h.dc.Users()[0]
		}
		if is := h.oneIssue(unlinked.ID); !sameUser(is.Reporter, admin) {
			t.Fatalf("unlinked requester: reporter %+v, want the connected user %+v", is.Reporter, admin)
		}
		alice := h.linkJira(h.alice, "Alice Requester")
		r := h.request(h.account)
		h.drain()
		if is := h.oneIssue(r.ID); !sameUser(is.Reporter, alice) || !strings.Contains(descriptionText(is), "alice@example.com") {
			t.Fatalf("reporter %+v, want %+v", is.Reporter, alice)
		}
		if p := h.linkNow().ReporterProblem; p != "" {
			t.Fatalf("reporter problem %q", p)
		}
	})
}

func TestPeopleDeciderIsAssignedOnDecision(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		bob := h.linkJira(h.approve, "Bob Approver")
		h.setPeople(models.AssigneeDecider, 0, false)
		r := h.request(h.account)
		h.drain()
		if is := h.oneIssue(r.ID); is.Assignee.ID() != "" {
			t.Fatalf("assigned before the decision: %+v", is.Assignee)
		}
		modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, models.DecisionApprove, "on call"))
		h.drain()
		is := h.oneIssue(r.ID)
		if !sameUser(is.Assignee, bob) || is.Status != "Done" || len(is.Comments) != 1 {
			t.Fatalf("after approval: assignee %+v status %q comments %d", is.Assignee, is.Status, len(is.Comments))
		}
	})
}

func TestPeopleFixedAssigneeAndWatchers(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		bob := h.linkJira(h.approve, "Bob Approver")
		ada := h.linkJira(h.admin, "Ada Second")
		alice := h.linkJira(h.alice, "Alice Requester")
		h.setPeople(models.AssigneeFixed, h.approve.ID, true)
		r := h.request(h.account)
		h.drain()
		is := h.oneIssue(r.ID)
		if !sameUser(is.Assignee, bob) || !sameUser(is.Reporter, alice) {
			t.Fatalf("assignee %+v reporter %+v", is.Assignee, is.Reporter)
		}
		if len(is.Watchers) != 2 || !sameUser(is.Watchers[0], bob) && !sameUser(is.Watchers[1], bob) || !sameUser(is.Watchers[0], ada) && !sameUser(is.Watchers[1], ada) {
			t.Fatalf("watchers %+v, want the two linked approvers (not the requester)", is.Watchers)
		}
		l := h.linkNow()
		if l.AssigneeProblem != "" || l.WatchersProblem != "" {
			t.Fatalf("problems %q %q", l.AssigneeProblem, l.WatchersProblem)
		}
	})
}

func TestPeopleRefusalsStillGiveExactlyOneTask(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		bob := h.linkJira(h.approve, "Bob Approver")
		h.linkJira(h.alice, "Alice Requester")
		h.setPeople(models.AssigneeFixed, h.approve.ID, true)
		p := h.inst.Project("OPS")
		p.SetPermission(jirasim.PermModifyReporter, false)
		p.SetPermission(jirasim.PermManageWatchers, false)
		p.SetAssignable(bob.ID(), false)
		r := h.request(h.account)
		h.drain()
		is := h.oneIssue(r.ID)
		if is.Assignee.ID() != "" || len(is.Watchers) != 0 || is.Reporter.DisplayName == "Alice Requester" {
			t.Fatalf("refused parts reached the task: %+v", is)
		}
		if got := h.reqState(r.ID); got.Issue.SyncState != models.SyncSynced {
			t.Fatalf("sync state %s: %s", got.Issue.SyncState, got.Issue.LastError)
		}
		l := h.linkNow()
		for part, want := range map[string]string{l.ReporterProblem: "Modify Reporter", l.AssigneeProblem: "Assignable User", l.WatchersProblem: "Manage Watchers"} {
			if !strings.Contains(part, want) {
				t.Errorf("problem %q does not name %q", part, want)
			}
		}

		// Approver who decides, not assignable and no Assign Issues: still
		// one task, moved, with one comment.
		h.setPeople(models.AssigneeDecider, 0, false)
		p.SetPermission(jirasim.PermAssignIssues, false)
		modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, models.DecisionApprove, "ok"))
		h.drain()
		is = h.oneIssue(r.ID)
		if is.Status != "Done" || len(is.Comments) != 1 || is.Assignee.ID() != "" {
			t.Fatalf("after approval: %+v", is)
		}
		if l := h.linkNow(); !strings.Contains(l.AssigneeProblem, "Assign Issues") {
			t.Fatalf("assignee problem %q", l.AssigneeProblem)
		}

		// Once Jira allows it again, the next task has the reporter and the
		// problem is gone.
		p.SetPermission(jirasim.PermModifyReporter, true)
		r2 := h.request(h.account)
		h.drain()
		if is := h.oneIssue(r2.ID); is.Reporter.DisplayName != "Alice Requester" {
			t.Fatalf("reporter %+v", is.Reporter)
		}
		if l := h.linkNow(); l.ReporterProblem != "" {
			t.Fatalf("reporter problem kept: %q", l.ReporterProblem)
		}
	})
}
