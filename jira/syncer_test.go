package jira_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

func TestSyncApprovalMovesTaskToDoneWithComment(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		r := h.request(h.account)
		h.drain()
		is := h.oneIssue(r.ID)
		if is.Status != "To Do" || is.ProjectKey != "OPS" {
			t.Fatalf("new task: %+v", is)
		}
		desc := descriptionText(is)
		for _, want := range []string{"alice@example.com", "AdministratorAccess", "ReadOnly", "2h", "123456789012", "Prod", "INC-42", "https://privilege.example.com/requests/"} {
			if !strings.Contains(desc, want) {
				t.Errorf("description lacks %q:\n%s", want, desc)
			}
		}
		got := h.reqState(r.ID)
		if got.Issue.IssueKey != is.Key || got.Issue.SyncState != models.SyncSynced || !strings.Contains(got.Issue.IssueURL, "/browse/"+is.Key) || got.Issue.JiraStatus != "To Do" {
			t.Fatalf("link = %+v", got.Issue)
		}
		modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, models.DecisionApprove, "on call"))
		h.drain()
		is = h.oneIssue(r.ID)
		if is.Status != "Done" || len(is.Comments) != 1 || !strings.Contains(commentText(is.Comments[0]), "Approved by bob@example.com") {
			t.Fatalf("after approve: status %q comments %+v", is.Status, is.Comments)
		}
		if got := h.reqState(r.ID).Issue.JiraStatus; got != "Done" {
			t.Errorf("recorded Jira status %q after approve, want Done", got)
		}
		// Running the reconcile again changes nothing.
		if err := h.store.RetryRequestSync(h.ctx, models.SystemActor, r.ID); err == nil {
			t.Fatal("retry of a synced request accepted")
		}
	})
}

func TestSyncDenyCancelExpire(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		denied, cancelled, expired := h.request(h.account), h.request(h.account), h.request(h.account)
		h.drain()
		modeltest.Must(h.store.Decide(h.ctx, h.approve, denied.ID, models.DecisionDeny, "not on call"))
		modeltest.Must(h.store.Cancel(h.ctx, h.alice, cancelled.ID, "fixed it"))
		h.clock.Advance(2 * time.Hour) // past the pending timeout
		h.drain()
		for id, want := range map[int64]struct{ status, comment string }{
			denied.ID:    {"Declined", "Denied by bob@example.com"},
			cancelled.ID: {"", "Cancelled by the requester"},
			expired.ID:   {"", "Expired"},
		} {
			is := h.oneIssue(id)
			if want.status != "" && is.Status != want.status || is.StatusCategory != "done" {
				t.Errorf("request %d: status %q (%s), want %q", id, is.Status, is.StatusCategory, want.status)
			}
			if len(is.Comments) != 1 || !strings.Contains(commentText(is.Comments[0]), want.comment) {
				t.Errorf("request %d comments: %+v", id, is.Comments)
			}
		}
		if st := h.reqState(expired.ID).Status; st != models.RequestExpired {
			t.Fatalf("expired request status %s", st)
		}
	})
}

func TestSyncSurvivesRateLimitsOutagesAndDrops(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.sim.Inject(jirasim.Fault{Status: 429, RetryAfter: 2, Times: 5})
		h.sim.Inject(jirasim.Fault{Status: 503, RetryAfter: 1, Times: 3})
		h.sim.Inject(jirasim.Fault{Method: "POST", Path: "/issue", DropAfterApply: true, Times: 2})
		h.inst.SetSearchLag(2)
		var ids []int64
		for i := 0; i < 6; i++ {
			ids = append(ids, h.request(h.account).ID)
		}
		h.drain()
		for i, id := range ids {
			if i%2 == 0 {
				modeltest.Must(h.store.Decide(h.ctx, h.approve, id, models.DecisionApprove, "ok"))
			} else {
				modeltest.Must(h.store.Decide(h.ctx, h.approve, id, models.DecisionDeny, "no"))
			}
		}
		h.sim.Inject(jirasim.Fault{Status: 503, Times: 4})
		h.drain()
		for i, id := range ids {
			is := h.oneIssue(id)
			want := "Done"
			if i%2 == 1 {
				want = "Declined"
			}
			if is.Status != want {
				t.Errorf("request %d: %s, want %s", id, is.Status, want)
			}
		}
		if n := len(h.inst.Issues()); n != len(ids) {
			t.Fatalf("%d issues for %d requests", n, len(ids))
		}
	})
}

func TestSyncRefreshesExpiredTokenAndPersistsRotation(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		before := modeltest.Must(h.store.IntegrationToken(h.ctx, h.integ.ID))
		h.sim.ExpireAccessTokens()
		r := h.request(h.account)
		h.drain()
		h.oneIssue(r.ID)
		after := modeltest.Must(h.store.IntegrationToken(h.ctx, h.integ.ID))
		if after.RefreshToken == before.RefreshToken || after.AccessToken == before.AccessToken {
			t.Fatal("rotated tokens were not persisted")
		}
		// Time passes beyond the access token's life: the stored (rotated) refresh token works.
		h.clock.Advance(2 * time.Hour)
		modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, models.DecisionApprove, "ok"))
		h.drain()
		if is := h.oneIssue(r.ID); is.Status != "Done" {
			t.Fatalf("status %s", is.Status)
		}
		if in := modeltest.Must(h.store.Integration(h.ctx, h.integ.ID)); in.Status != models.IntegrationConnected {
			t.Fatalf("integration %s: %s", in.Status, in.StatusReason)
		}
	})
}

func TestSyncParksOnInvalidGrantAndResumesAfterReconnect(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.sim.RevokeGrants()
		h.sim.ExpireAccessTokens()
		r := h.request(h.account)
		h.drain()
		in := modeltest.Must(h.store.Integration(h.ctx, h.integ.ID))
		got := h.reqState(r.ID)
		if in.Status != models.IntegrationReconnectRequired || got.Issue.SyncState != models.SyncParked {
			t.Fatalf("integration %s, sync %s (%s)", in.Status, got.Issue.SyncState, got.Issue.LastError)
		}
		modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, models.DecisionApprove, "ok"))
		h.drain()
		if len(h.issuesFor(r.ID)) != 0 {
			t.Fatal("an issue was created with a dead grant")
		}
		var g models.IntegrationGrant
		if in.Deployment == models.DeploymentCloud {
			g = h.cloudGrant()
		} else {
			g = h.dcGrant()
		}
		if err := h.store.ReconnectIntegration(h.ctx, models.SystemActor, h.integ.ID, g); err != nil {
			t.Fatal(err)
		}
		h.drain()
		if is := h.oneIssue(r.ID); is.Status != "Done" {
			t.Fatalf("after reconnect: %s", is.Status)
		}
	})
}

func TestSyncDeletedIssueFailsWithoutRecreating(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		r := h.request(h.account)
		h.drain()
		is := h.oneIssue(r.ID)
		h.inst.DeleteIssue(is.Key)
		modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, models.DecisionApprove, "ok"))
		h.drain()
		got := h.reqState(r.ID)
		if got.Issue.SyncState != models.SyncFailed || !strings.Contains(got.Issue.LastError, is.Key) {
			t.Fatalf("sync %s: %s", got.Issue.SyncState, got.Issue.LastError)
		}
		if n := len(h.inst.Issues()); n != 0 {
			t.Fatalf("%d issues re-created", n)
		}
	})
}

func TestSyncValidationFailureThenRetry(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.inst.Project("OPS").RequireField("Task", "customfield_10050", "Cost center")
		r := h.request(h.account)
		h.drain()
		got := h.reqState(r.ID)
		if got.Issue.SyncState != models.SyncFailed || !strings.Contains(got.Issue.LastError, "customfield_10050") && !strings.Contains(got.Issue.LastError, "Cost center") {
			t.Fatalf("sync %s: %q", got.Issue.SyncState, got.Issue.LastError)
		}
	})
}

func TestSyncBackfillAndAccountMove(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		dev := h.newAccount("210987654321", "Dev")
		pending, decided := h.request(dev), h.request(dev)
		modeltest.Must(h.store.Decide(h.ctx, h.approve, decided.ID, models.DecisionApprove, "ok"))
		h.drain()
		if len(h.inst.Issues()) != 0 {
			t.Fatal("untracked account produced issues")
		}
		h.linkProject("OPS", h.account.ID, dev.ID)
		h.drain()
		h.oneIssue(pending.ID)
		if len(h.issuesFor(decided.ID)) != 0 {
			t.Fatal("a decided request was backfilled")
		}
		// Move dev to another project: the open task stays, new ones go there.
		h.inst.(interface {
			AddProject(string, string, jirasim.Workflow) *jirasim.Project
		}).AddProject("SEC", "Security", jirasim.TwoStepWorkflow())
		h.linkProject("SEC", dev.ID)
		fresh := h.request(dev)
		modeltest.Must(h.store.Decide(h.ctx, h.approve, pending.ID, models.DecisionApprove, "ok"))
		modeltest.Must(h.store.Decide(h.ctx, h.approve, fresh.ID, models.DecisionApprove, "ok"))
		h.drain()
		if is := h.oneIssue(pending.ID); is.ProjectKey != "OPS" || is.Status != "Done" {
			t.Fatalf("moved account's open task: %+v", is)
		}
		if is := h.oneIssue(fresh.ID); is.ProjectKey != "SEC" || is.StatusCategory != "done" {
			t.Fatalf("new task after move: %s %s", is.ProjectKey, is.Status)
		}
	})
}

func TestSyncProjectUnlinkedOrIntegrationDisconnectedWhileQueued(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// Unlinked before the task exists: nothing is created, the request says why.
		queued := h.request(h.account)
		if err := h.store.UnlinkProject(h.ctx, models.SystemActor, h.link.ID); err != nil {
			t.Fatal(err)
		}
		h.drain()
		if got := h.reqState(queued.ID); got.Issue.SyncState != models.SyncDetached || len(h.issuesFor(queued.ID)) != 0 {
			t.Fatalf("unlinked: %s %q, %d issues", got.Issue.SyncState, got.Issue.LastError, len(h.issuesFor(queued.ID)))
		}
		// A task that exists keeps being updated after its project is unlinked.
		h.link = h.linkProject("OPS", h.account.ID)
		open := h.request(h.account)
		h.drain()
		if err := h.store.UnlinkProject(h.ctx, models.SystemActor, h.link.ID); err != nil {
			t.Fatal(err)
		}
		modeltest.Must(h.store.Decide(h.ctx, h.approve, open.ID, models.DecisionApprove, "ok"))
		h.drain()
		if is := h.oneIssue(open.ID); is.StatusCategory != "done" {
			t.Fatalf("task of an unlinked project not updated: %s", is.Status)
		}
		// Disconnected with work queued: the request is detached, nothing is lost silently.
		h.link = h.linkProject("OPS", h.account.ID)
		last := h.request(h.account)
		h.drain()
		modeltest.Must(h.store.Decide(h.ctx, h.approve, last.ID, models.DecisionDeny, "no"))
		if err := h.store.DisconnectIntegration(h.ctx, models.SystemActor, h.integ.ID); err != nil {
			t.Fatal(err)
		}
		h.drain()
		got := h.reqState(last.ID)
		if got.Issue.SyncState != models.SyncDetached || !strings.Contains(got.Issue.LastError, "disconnected") {
			t.Fatalf("disconnected: %s %q", got.Issue.SyncState, got.Issue.LastError)
		}
		if st := modeltest.Must(h.store.SyncStats(h.ctx)); st.Backlog != 0 {
			t.Fatalf("backlog %d after disconnect", st.Backlog)
		}
	})
}

func TestSyncPostsEachCommentOnceAfterADroppedConnection(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		r := h.request(h.account)
		h.drain()
		h.sim.Inject(jirasim.Fault{Method: "POST", Path: "/comment", DropAfterApply: true})
		modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, models.DecisionApprove, "ok"))
		h.drain()
		is := h.oneIssue(r.ID)
		if is.Status != "Done" || len(is.Comments) != 1 {
			t.Fatalf("status %s, %d comments; want Done and exactly one", is.Status, len(is.Comments))
		}
	})
}

// A request parked before its task was created is detached, not left parked
// forever, when the integration is disconnected.
func TestDisconnectDetachesParkedRequestsWithoutTask(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.link = h.linkProject("OPS", h.account.ID)
		if err := h.store.MarkReconnectRequired(h.ctx, h.integ.ID, "test"); err != nil {
			t.Fatal(err)
		}
		r := h.request(h.account)
		h.drain()
		if got := h.reqState(r.ID); got.Issue.SyncState != models.SyncParked {
			t.Fatalf("before disconnect: %s", got.Issue.SyncState)
		}
		if err := h.store.DisconnectIntegration(h.ctx, models.SystemActor, h.integ.ID); err != nil {
			t.Fatal(err)
		}
		got := h.reqState(r.ID)
		if got.Issue.SyncState != models.SyncDetached || !strings.Contains(got.Issue.LastError, "before the task was created") {
			t.Fatalf("after disconnect: %s %q", got.Issue.SyncState, got.Issue.LastError)
		}
		if st := modeltest.Must(h.store.SyncStats(h.ctx)); st.Parked != 0 || st.Backlog != 0 {
			t.Fatalf("after disconnect: %+v", st)
		}
	})
}

// Retry after Jira refused the create: the request's task is created once the
// cause is fixed, and the failed job is replaced, not kept beside the new one.
func TestSyncRetryAfterRefusedCreate(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.inst.Project("OPS").SetCreatePermission(false)
		r := h.request(h.account)
		h.drain()
		if got := h.reqState(r.ID); got.Issue.SyncState != models.SyncFailed {
			t.Fatalf("without create permission: %s %q", got.Issue.SyncState, got.Issue.LastError)
		}
		h.inst.Project("OPS").SetCreatePermission(true)
		if err := h.store.RetryRequestSync(h.ctx, models.SystemActor, r.ID); err != nil {
			t.Fatal(err)
		}
		h.drain()
		if got := h.reqState(r.ID); got.Issue.SyncState != models.SyncSynced || len(h.issuesFor(r.ID)) != 1 {
			t.Fatalf("after retry: %s %q, %d issues", got.Issue.SyncState, got.Issue.LastError, len(h.issuesFor(r.ID)))
		}
		if st := modeltest.Must(h.store.SyncStats(h.ctx)); st.Failed != 0 || st.Backlog != 0 {
			t.Fatalf("after retry: %+v", st)
		}
	})
}

// TestDataCenterDescriptionKeepsUserLinksInert: bare URLs and mailto: in a
// requester's justification (and in the account name an admin typed) reach
// the Data Center task as text Jira's wiki renderer cannot autolink, while the
// approval link stays a live [text|url] link.
func TestDataCenterDescriptionKeepsUserLinksInert(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			h := newHarness(t, d, models.DeploymentDataCenter)
			acc := h.newAccount("210987654321", "Billing see http://wiki.corp.example/billing")
			h.linkProject("OPS", acc.ID)
			r := modeltest.Must(h.store.CreateRequest(h.ctx, h.alice, models.NewRequest{
				AccountID: acc.ID, Resources: []string{"AdministratorAccess"}, DurationMinutes: 60,
				Justification: "Log in at https://evil.example/login or write to mailto:ceo@corp.example",
			}, time.Hour))
			h.drain()
			desc, ok := h.oneIssue(r.ID).Description.(string)
			if !ok {
				t.Fatalf("Data Center description is not wiki markup: %#v", h.oneIssue(r.ID).Description)
			}
			for _, live := range []string{"https://evil.example", "mailto:ceo", "http://wiki.corp.example"} {
				if strings.Contains(desc, live) {
					t.Errorf("description carries %q, which Jira's wiki renderer autolinks:\n%s", live, desc)
				}
			}
			for _, inert := range []string{"https&#58;//evil.example/login", "mailto&#58;ceo@corp.example", "http&#58;//wiki.corp.example/billing"} {
				if !strings.Contains(desc, inert) {
					t.Errorf("description lacks the inert %q:\n%s", inert, desc)
				}
			}
			approval := "[open the approval page|https://privilege.example.com/requests/" + strconv.FormatInt(r.ID, 10) + "]"
			if !strings.Contains(desc, approval) {
				t.Errorf("the approval link is not a live wiki link %s:\n%s", approval, desc)
			}
		})
	}
}
