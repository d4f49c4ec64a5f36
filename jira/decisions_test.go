package jira_test

import (
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// Decisions from Jira (design.md §9), end to end on the simulator: a person
// moves the task, a notice names the issue, the reconcile reads the
// changelog back and decides — or moves the task back and says why.

type mover interface {
	MoveAs(key, toStatus string, u jirasim.User, comment string) error
	CommentAs(key string, u jirasim.User, text string) error
}

// enableDecisions turns "Approve and deny in Jira" on: Done approves,
// Declined denies (the same statuses Privilege maps the outcomes to).
func (h *harness) enableDecisions() {
	h.t.Helper()
	h.link = modeltest.Must(h.store.SetJiraDecisions(h.ctx, models.SystemActor, h.link.ID, models.JiraDecisionsInput{
		On: true, ApproveStatus: "Done", DenyStatus: "Declined", Statuses: []string{"To Do", "In Progress", "Done", "Declined"},
		ReachableFromInitial: []string{"In Progress", "Done", "Declined"},
	}))
}

// moveAs moves the task as a Jira user and delivers the notice (what the
// webhook receiver does with a verified delivery).
func (h *harness) moveAs(key, status string, u jirasim.User, comment string) {
	h.t.Helper()
	if err := h.inst.(mover).MoveAs(key, status, u, comment); err != nil {
		h.t.Fatal(err)
	}
	h.notice(key)
}

func (h *harness) notice(key string) {
	h.t.Helper()
	if queued, err := h.store.EnqueueIssueCheck(h.ctx, h.integ.ID, key); err != nil || !queued {
		h.t.Fatalf("notice for %s: queued %v, %v", key, queued, err)
	}
}

// privilegeComments are the task's comments not written by person.
func privilegeComments(is jirasim.Issue, person jirasim.User) []string {
	var out []string
	for _, c := range is.Comments {
		if c.Author.ID() != person.ID() {
			out = append(out, commentText(c))
		}
	}
	return out
}

func (h *harness) auditHas(action models.AuditAction, needle string) bool {
	page := modeltest.Must(h.store.ListAudit(h.ctx, models.PageQuery{Page: 1, PerPage: 100}))
	for _, ev := range page.Items {
		if ev.Action == action && strings.Contains(ev.Detail, needle) {
			return true
		}
	}
	return false
}

func TestDecisionFromJiraApprovesAsTheLinkedApprover(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		bob := h.linkJira(h.approve, "Bob Approver")
		h.enableDecisions()
		r := h.request(h.account)
		h.drain()
		key := h.oneIssue(r.ID).Key
		h.clock.Advance(time.Minute)
		h.moveAs(key, "Done", bob, "Looks right, on call this week")
		h.drain()

		got := h.reqState(r.ID)
		if got.Status != models.RequestApproved || got.DecidedByID == nil || *got.DecidedByID != h.approve.ID || got.DecisionReason != "Looks right, on call this week" {
			t.Fatalf("request %s by %v reason %q", got.Status, got.DecidedByID, got.DecisionReason)
		}
		last := got.Events[len(got.Events)-1]
		if last.Kind != models.EventApproved || last.Via != models.ViaJira {
			t.Fatalf("last event %+v", last)
		}
		if !h.auditHas(models.AuditRequestApproved, "approved via Jira by bob@example.com (Jira: Bob Approver, "+bob.Key) && !h.auditHas(models.AuditRequestApproved, "approved via Jira by bob@example.com (Jira: Bob Approver, "+bob.AccountID) {
			t.Fatal("no audit line naming the Jira identity")
		}
		is := h.oneIssue(r.ID)
		ours := privilegeComments(is, bob)
		if is.Status != "Done" || len(ours) != 1 || !strings.Contains(ours[0], "Approved by bob@example.com") || !strings.Contains(ours[0], "Decided in Jira") {
			t.Fatalf("task %s, Privilege comments %q", is.Status, ours)
		}

		// A second notice for the same move changes nothing.
		h.notice(key)
		h.drain()
		if is := h.oneIssue(r.ID); len(privilegeComments(is, bob)) != 1 || is.Status != "Done" {
			t.Fatalf("second notice: %s %q", is.Status, privilegeComments(is, bob))
		}
	})
}

func TestDecisionFromJiraDeniesWithTheReasonGiven(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		bob := h.linkJira(h.approve, "Bob Approver")
		h.enableDecisions()
		r := h.request(h.account)
		h.drain()
		key := h.oneIssue(r.ID).Key
		// The reason is the person's latest comment when the move has none.
		if err := h.inst.(mover).CommentAs(key, bob, "Not without a change ticket"); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(time.Minute)
		h.moveAs(key, "Declined", bob, "")
		h.drain()
		got := h.reqState(r.ID)
		if got.Status != models.RequestDenied || got.DecisionReason != "Not without a change ticket" {
			t.Fatalf("request %s reason %q", got.Status, got.DecisionReason)
		}
		is := h.oneIssue(r.ID)
		ours := privilegeComments(is, bob)
		if is.Status != "Declined" || len(ours) != 1 || !strings.Contains(ours[0], "Denied by bob@example.com") || !strings.Contains(ours[0], "Not without a change ticket") {
			t.Fatalf("task %s, comments %q", is.Status, ours)
		}
	})
}

func TestDecisionFromJiraRefusedMovesBackAndSaysWhy(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.linkJira(h.approve, "Bob Approver")
		alice := h.linkJira(h.alice, "Alice Requester")
		carolUser := modeltest.Must(h.store.CreateUser(h.ctx, models.SystemActor, models.NewUser{Email: "carol@example.com", Password: "correct horse battery", Role: models.RoleRequester}))
		carol := h.linkJira(carolUser, "Carol Requester")
		var stranger jirasim.User
		if h.dc == nil {
			stranger = h.sim.AddCloudUser("Sam Stranger", "sam@example.com")
		} else {
			stranger = h.dc.AddUser("sam", "Sam Stranger", "sam@example.com")
		}
		h.enableDecisions()
		for _, tc := range []struct {
			name   string
			who    jirasim.User
			status string
			want   models.JiraRefusal
		}{
			{"own request", alice, "Done", models.RefusalOwnRequest},
			{"not linked", stranger, "Done", models.RefusalNotLinked},
			{"requester role", carol, "Declined", models.RefusalNotApprover},
		} {
			r := h.request(h.account)
			h.drain()
			key := h.oneIssue(r.ID).Key
			h.clock.Advance(time.Minute)
			h.moveAs(key, tc.status, tc.who, "please")
			h.drain()
			if got := h.reqState(r.ID); got.Status != models.RequestPending {
				t.Fatalf("%s: request %s", tc.name, got.Status)
			}
			is := h.oneIssue(r.ID)
			ours := privilegeComments(is, tc.who)
			if is.Status != "To Do" || len(ours) != 1 || !strings.Contains(ours[0], tc.want.Explain()) || !strings.Contains(ours[0], "moved back to To Do") {
				t.Fatalf("%s: task %s, comments %q", tc.name, is.Status, ours)
			}
			if !h.auditHas(models.AuditJiraDecisionRefused, tc.want.Explain()) {
				t.Fatalf("%s: refusal not audited", tc.name)
			}
		}

		// Expired before the move was read: nothing decided, moved back,
		// then the expiry reaches the task.
		bob := jirasim.User{}
		for _, u := range h.usersOfInstance() {
			if u.DisplayName == "Bob Approver" {
				bob = u
			}
		}
		r := h.request(h.account)
		h.drain()
		key := h.oneIssue(r.ID).Key
		h.clock.Advance(2 * time.Hour)
		modeltest.Must(h.store.ExpireDue(h.ctx, 10))
		h.moveAs(key, "Done", bob, "late")
		h.drain()
		if got := h.reqState(r.ID); got.Status != models.RequestExpired {
			t.Fatalf("expired request became %s", got.Status)
		}
		ours := privilegeComments(h.oneIssue(r.ID), bob)
		if !strings.Contains(strings.Join(ours, "|"), models.RefusalExpired.Explain()) {
			t.Fatalf("comments %q", ours)
		}
	})
}

func (h *harness) usersOfInstance() []jirasim.User {
	if h.dc != nil {
		return h.dc.Users()
	}
	return h.sim.Users()
}

// A console decision and a Jira one at once: the first committed wins, the
// task ends in the winner's status, one comment per decision.
func TestDecisionConsoleAndJiraAtOnceOneWins(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		bob := h.linkJira(h.approve, "Bob Approver")
		h.enableDecisions()
		r := h.request(h.account)
		h.drain()
		key := h.oneIssue(r.ID).Key
		h.clock.Advance(time.Minute)
		// The admin denies in the console; before the syncer runs, Bob
		// approves in Jira.
		modeltest.Must(h.store.Decide(h.ctx, h.admin, r.ID, models.DecisionDeny, "no change ticket"))
		h.moveAs(key, "Done", bob, "fine by me")
		h.drain()
		got := h.reqState(r.ID)
		if got.Status != models.RequestDenied || *got.DecidedByID != h.admin.ID {
			t.Fatalf("request %s by %v", got.Status, got.DecidedByID)
		}
		is := h.oneIssue(r.ID)
		ours := privilegeComments(is, bob)
		joined := strings.Join(ours, "|")
		if is.Status != "Declined" || len(ours) != 2 || !strings.Contains(joined, models.RefusalDecided.Explain()) || !strings.Contains(joined, "Denied by admin@example.com") {
			t.Fatalf("task %s, comments %q", is.Status, ours)
		}
	})
}

// Moves by the connected Jira user (Privilege's own account) are never a
// person's decision.
func TestDecisionOwnTransitionsAreNotDecisions(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.enableDecisions()
		r := h.request(h.account)
		h.drain()
		key := h.oneIssue(r.ID).Key
		self := h.usersOfInstance()[0]
		h.moveAs(key, "Done", self, "")
		h.drain()
		if got := h.reqState(r.ID); got.Status != models.RequestPending {
			t.Fatalf("request %s", got.Status)
		}
		if is := h.oneIssue(r.ID); is.Status != "Done" || len(is.Comments) != 0 {
			t.Fatalf("task %s comments %d", is.Status, len(is.Comments))
		}
	})
}

func (h *harness) poller() *jira.Poller {
	return jira.NewPoller(slog.New(slog.NewTextHandler(io.Discard, nil)), h.store, h.clients, nil, jira.PollerConfig{
		BaseURL: "https://privilege.example.com", Interval: time.Minute, Now: h.clock.Now,
	})
}

// No notice arrives (deliveries lost): the poll finds the updated task.
func TestDecisionMissedNoticeIsFoundByPolling(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		bob := h.linkJira(h.approve, "Bob Approver")
		h.enableDecisions()
		r := h.request(h.account)
		h.drain()
		p := h.poller()
		integ := modeltest.Must(h.store.IntegrationSettings(h.ctx, h.integ.ID))
		modeltest.Must(p.Poll(h.ctx, integ)) // the first poll sets the watermark
		h.drain()
		h.clock.Advance(30 * time.Second)
		if err := h.inst.(mover).MoveAs(h.oneIssue(r.ID).Key, "Done", bob, "ok"); err != nil {
			t.Fatal(err)
		}
		if n := modeltest.Must(p.Poll(h.ctx, integ)); n != 0 {
			t.Fatalf("a poll before its interval queued %d", n)
		}
		h.clock.Advance(time.Minute)
		if n := modeltest.Must(p.Poll(h.ctx, integ)); n != 1 {
			t.Fatalf("poll queued %d, want 1", n)
		}
		h.drain()
		if got := h.reqState(r.ID); got.Status != models.RequestApproved {
			t.Fatalf("request %s", got.Status)
		}
	})
}

// The Cloud webhook: registered on the linked projects, refreshed before it
// expires, registered again when Jira lost it, deleted when no project wants it.
func TestDecisionWebhookKeptAlive(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			h := newHarness(t, d, models.DeploymentCloud)
			site := h.inst.(*jirasim.Site)
			p := h.poller()
			sync := func() models.Integration {
				t.Helper()
				in := modeltest.Must(h.store.IntegrationSettings(h.ctx, h.integ.ID))
				links := modeltest.Must(h.store.DecisionProjectLinks(h.ctx, in.ID))
				if err := p.SyncWebhooks(h.ctx, in, links); err != nil {
					t.Fatal(err)
				}
				return modeltest.Must(h.store.IntegrationSettings(h.ctx, h.integ.ID))
			}
			if in := sync(); in.WebhookIDs != "" || len(site.Webhooks()) != 0 {
				t.Fatalf("webhook without decisions: %q", in.WebhookIDs)
			}
			h.enableDecisions()
			in := sync()
			hooks := site.Webhooks()
			if len(hooks) != 1 || in.WebhookIDs == "" || hooks[0].JQL != "project IN (OPS)" || !strings.HasPrefix(hooks[0].URL, "https://privilege.example.com/webhooks/jira/") {
				t.Fatalf("registered %+v, state %q", hooks, in.WebhookIDs)
			}
			if in.WebhookExpiresAt == nil || !in.WebhookExpiresAt.Equal(hooks[0].ExpiresAt) {
				t.Fatalf("expiry %v vs Jira %v", in.WebhookExpiresAt, hooks[0].ExpiresAt)
			}
			// Six days later (24 left): refreshed, well before the expiry.
			h.clock.Advance(6 * 24 * time.Hour)
			in = sync()
			if want := h.clock.Now().Add(jirasim.WebhookLifetime); !site.Webhooks()[0].ExpiresAt.Equal(want) || !in.WebhookExpiresAt.Equal(want) {
				t.Fatalf("not refreshed: Jira %v, ours %v", site.Webhooks()[0].ExpiresAt, in.WebhookExpiresAt)
			}
			// Jira lost it: found on the next check and registered again.
			site.ExpireWebhooks()
			h.clock.Advance(2 * time.Hour)
			in = sync()
			if hooks := site.Webhooks(); len(hooks) != 1 || in.WebhookIDs != itoa(hooks[0].ID) {
				t.Fatalf("not registered again: %+v, ours %q", hooks, in.WebhookIDs)
			}
			// The option goes: the webhook goes.
			modeltest.Must(h.store.SetJiraDecisions(h.ctx, models.SystemActor, h.link.ID, models.JiraDecisionsInput{}))
			if in := sync(); len(site.Webhooks()) != 0 || in.WebhookIDs != "" {
				t.Fatalf("not deleted: %+v, ours %q", site.Webhooks(), in.WebhookIDs)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
