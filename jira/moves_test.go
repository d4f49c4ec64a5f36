package jira_test

import (
	"strings"
	"testing"

	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// restCalls sums the simulator's REST calls (every path).
func restCalls(st jirasim.Stats) int {
	n := 0
	for _, c := range st.Paths {
		n += c
	}
	return n
}

// createAndApprove runs one request through create and approval and returns
// the Jira calls its task cost, as the simulator counted them per issue; it
// fails if any REST call of the run was not on that issue.
func createAndApprove(t *testing.T, h *harness, acc models.CloudAccount, decision models.Decision) (jirasim.Issue, int) {
	t.Helper()
	before := h.sim.Stats()
	r := h.request(acc)
	h.drain()
	modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, decision, "on call"))
	h.drain()
	after := h.sim.Stats()
	is := h.oneIssue(r.ID)
	calls := after.IssueCalls[is.Key] - before.IssueCalls[is.Key]
	if all := restCalls(after) - restCalls(before); all != calls {
		t.Fatalf("%d REST calls in the run, %d on %s: %v", all, calls, is.Key, after.Paths)
	}
	if len(is.Comments) != 1 {
		t.Fatalf("%s has %d comments, want 1", is.Key, len(is.Comments))
	}
	return is, calls
}

func TestSyncCallsPerRequestColdAndWarm(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		is, cold := createAndApprove(t, h, h.account, models.DecisionApprove)
		if is.Status != "Done" || is.Resolution != "Done" || !strings.Contains(commentText(is.Comments[0]), "Approved by bob@example.com") {
			t.Fatalf("cold: %+v", is)
		}
		// create, read the transitions from the created status, transition with the comment.
		if cold != 3 {
			t.Fatalf("cold request cost %d calls, want 3", cold)
		}
		is, warm := createAndApprove(t, h, h.account, models.DecisionApprove)
		if is.Status != "Done" || warm != 2 {
			t.Fatalf("warm request: %d calls, status %q; want 2 calls to Done", warm, is.Status)
		}
		is, denied := createAndApprove(t, h, h.account, models.DecisionDeny)
		if is.Status != "Declined" || is.Resolution != "Won't Do" || denied != 2 || !strings.Contains(commentText(is.Comments[0]), "Denied by") {
			t.Fatalf("warm denial: %d calls, %+v", denied, is)
		}
	})
}

func TestSyncCommentRefusedInTransitionIsRememberedPerWorkflow(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		wf := jirasim.SimpleWorkflow()
		wf.RefuseTransitionComment = true
		h.inst.AddProject("FIN", "Finance", wf)
		fin := h.newAccount("210987654321", "Finance")
		h.linkProject("FIN", fin.ID)

		is, first := createAndApprove(t, h, fin, models.DecisionApprove)
		// create, transitions, transition with comment (400), transition, comment.
		if is.Status != "Done" || first != 5 {
			t.Fatalf("first: %d calls, status %q", first, is.Status)
		}
		is, second := createAndApprove(t, h, fin, models.DecisionApprove)
		// The refusal is remembered: create, transition, comment.
		if is.Status != "Done" || second != 3 {
			t.Fatalf("second: %d calls, status %q", second, is.Status)
		}
		// Another workflow of the same site still carries its comments.
		if _, n := createAndApprove(t, h, h.account, models.DecisionApprove); n != 3 {
			t.Fatalf("OPS cold after FIN: %d calls, want 3", n)
		}
	})
}

// A task moved in Jira behind Privilege's back: the guessed transition is
// refused (Cloud 400, Data Center 500), the issue is read and the move done
// from its real status; one comment whatever the path.
func TestSyncStaleStatusGuessFallsBackToReading(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		createAndApprove(t, h, h.account, models.DecisionApprove) // warm the cache
		client := h.clients.For(h.conn())
		for _, tc := range []struct{ movedTo, want string }{{"Declined", "Done"}, {"Done", "Done"}} {
			r := h.request(h.account)
			h.drain()
			key := h.oneIssue(r.ID).Key
			if err := client.MoveToStatus(h.ctx, key, tc.movedTo); err != nil {
				t.Fatal(err)
			}
			modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, models.DecisionApprove, "on call"))
			h.drain()
			is := h.oneIssue(r.ID)
			if is.Status != tc.want || len(is.Comments) != 1 || !strings.Contains(commentText(is.Comments[0]), jira.EventMarker(lastEvent(h, r.ID))) {
				t.Fatalf("moved to %s in Jira: status %q, comments %+v", tc.movedTo, is.Status, is.Comments)
			}
			if st := h.reqState(r.ID).Issue.SyncState; st != models.SyncSynced {
				t.Fatalf("moved to %s in Jira: sync state %s", tc.movedTo, st)
			}
		}
	})
}

// The transition carrying the comment reaches Jira but its answer is lost:
// the retry finds the comment and neither moves nor comments again.
func TestSyncTransitionWithCommentAppliedButUnanswered(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		r := h.request(h.account)
		h.drain()
		h.sim.Inject(jirasim.Fault{Method: "POST", Path: "/transitions", DropAfterApply: true})
		modeltest.Must(h.store.Decide(h.ctx, h.approve, r.ID, models.DecisionApprove, "on call"))
		h.drain()
		is := h.oneIssue(r.ID)
		if is.Status != "Done" || len(is.Comments) != 1 {
			t.Fatalf("status %q, %d comments", is.Status, len(is.Comments))
		}
		if st := h.reqState(r.ID).Issue.SyncState; st != models.SyncSynced {
			t.Fatalf("sync state %s", st)
		}
	})
}

func lastEvent(h *harness, id int64) models.RequestEvent {
	evs := h.reqState(id).Events
	return evs[len(evs)-1]
}
