package jira

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"privilege/models"
)

// Decisions from Jira (design.md §9), the reconcile side. A notice (webhook
// or poll) only queues a reconcile of the request whose task it names; the
// reconcile reads the issue and its changelog back through the API and
// handles every status change a person made to the project's approve or deny
// status that was not handled yet: applied as the linked Privilege user when
// that user may decide the request now, otherwise the task is moved back to
// the status it came from with a comment saying why. Changes made by the
// connected Jira user — Privilege's own account, which makes every move the
// syncer does — are never read as a person's decision.

// DecisionStore is what the reconcile needs for decisions from Jira.
type DecisionStore interface {
	JiraMoveHandled(ctx context.Context, integrationID int64, changelogID string) (bool, error)
	CheckJiraMove(ctx context.Context, m models.JiraMove) (models.User, models.JiraRefusal, error)
	ApplyJiraMove(ctx context.Context, m models.JiraMove, u models.User) (models.JiraRefusal, error)
	RecordJiraRefusal(ctx context.Context, m models.JiraMove, r models.JiraRefusal) error
}

// DefaultDecisionReason is the reason of a decision made in Jira without a comment.
const DefaultDecisionReason = "Decided in Jira"

// DecisionMetrics counts notices and decisions from Jira. A nil
// *DecisionMetrics records nothing.
type DecisionMetrics struct {
	notices   *prometheus.CounterVec
	decisions *prometheus.CounterVec
}

// NewDecisionMetrics registers the collectors with reg (nil: unregistered).
func NewDecisionMetrics(reg prometheus.Registerer) *DecisionMetrics {
	m := &DecisionMetrics{
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jira_notices_total", Help: "Notices of changed Jira tasks by source (webhook, poll) and result (queued, ignored, refused).",
		}, []string{"source", "result"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jira_decisions_total", Help: "Status changes made by people in Jira by result (applied, or why they were refused).",
		}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.notices, m.decisions)
	}
	return m
}

// Notice counts a notice from source with its result.
func (m *DecisionMetrics) Notice(source, result string) {
	if m != nil {
		m.notices.WithLabelValues(source, result).Inc()
	}
}

func (m *DecisionMetrics) decision(result string) {
	if m != nil {
		m.decisions.WithLabelValues(result).Inc()
	}
}

// selfCache remembers who the connected Jira user of an integration is,
// per connection (a reconnect may be another person).
type selfCache struct {
	mu  sync.Mutex
	ids map[string]string
}

func (c *selfCache) get(ctx context.Context, client *Client, in models.Integration) (string, error) {
	key := fmt.Sprintf("%d/%d", in.ID, in.ConnectedAt.UnixNano())
	c.mu.Lock()
	id, ok := c.ids[key]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	me, err := client.Myself(ctx)
	if err != nil {
		return "", err
	}
	id = me.AccountID
	if id == "" {
		id = me.Key
	}
	if id == "" {
		return "", errors.New("jira: the connected user has no account id")
	}
	c.mu.Lock()
	if c.ids == nil {
		c.ids = map[string]string{}
	}
	c.ids[key] = id
	c.mu.Unlock()
	return id, nil
}

// readDecisions handles the people's moves of the request's task; decided
// reports whether it decided the request (the decision's own job follows).
func (s *Syncer) readDecisions(ctx context.Context, client *Client, t target, key string, r models.AccessRequest) (decided bool, err error) {
	if t.link == nil || !t.link.DecideInJira || key == "" || s.decisionStore == nil {
		return false, nil
	}
	self, err := s.jiraSelf.get(ctx, client, t.integ)
	if err != nil {
		return false, err
	}
	h, err := client.IssueHistory(ctx, key)
	if err != nil {
		return false, err
	}
	for i, ch := range h.Changes {
		if ch.AuthorID == self || ch.AuthorID == "" {
			continue
		}
		if since := t.link.DecideInJiraSince; since != nil && ch.Created.Before(*since) {
			continue
		}
		var d models.Decision
		switch {
		case strings.EqualFold(ch.To, t.link.JiraApproveStatus):
			d = models.DecisionApprove
		case strings.EqualFold(ch.To, t.link.JiraDenyStatus):
			d = models.DecisionDeny
		default:
			continue
		}
		handled, err := s.decisionStore.JiraMoveHandled(ctx, t.integ.ID, ch.ID)
		if err != nil || handled {
			if err != nil {
				return decided, err
			}
			continue
		}
		m := models.JiraMove{IntegrationID: t.integ.ID, RequestID: r.ID, ChangelogID: ch.ID, AuthorID: ch.AuthorID, AuthorName: ch.AuthorDisplay, Decision: d}
		u, refusal, err := s.decisionStore.CheckJiraMove(ctx, m)
		if err != nil {
			return decided, err
		}
		if refusal == models.RefusalNone {
			if m.Reason, err = s.decisionReason(ctx, client, key, ch); err != nil {
				return decided, err
			}
			if refusal, err = s.decisionStore.ApplyJiraMove(ctx, m, u); err != nil {
				return decided, err
			}
			if refusal == models.RefusalNone {
				s.log.Info("decision from Jira applied", "access_request_id", r.ID, "issue", key, "decision", d, "jira_user", ch.AuthorID)
				s.cfg.Decisions.decision("applied")
				decided = true
				continue
			}
		}
		// The latest move, still where the person put it, is undone: back to
		// where it came from while the request waits, or to the status of the
		// request's outcome once it has one (the winner's status).
		latest := i == len(h.Changes)-1 && strings.EqualFold(h.Status, ch.To)
		back := moveTarget{status: ch.From, back: true}
		if refusal == models.RefusalDecided || refusal == models.RefusalExpired {
			fresh, err := s.store.LoadSyncWork(ctx, r.ID)
			if err != nil {
				return decided, err
			}
			back = outcomeTarget(t, fresh.Request, ch.From)
		}
		if err := s.refuseMove(ctx, client, key, ch, d, refusal, latest, back); err != nil {
			return decided, err
		}
		if err := s.decisionStore.RecordJiraRefusal(ctx, m, refusal); err != nil {
			return decided, err
		}
		s.log.Info("decision from Jira refused", "access_request_id", r.ID, "issue", key, "jira_user", ch.AuthorID, "why", refusal)
		s.cfg.Decisions.decision(string(refusal))
	}
	return decided, nil
}

// decisionReason is the comment the person gave with the move, else their
// latest comment, else DefaultDecisionReason.
func (s *Syncer) decisionReason(ctx context.Context, client *Client, key string, ch StatusChange) (string, error) {
	comments, err := client.Comments(ctx, key)
	if err != nil {
		return "", err
	}
	for _, cm := range comments { // newest first
		if cm.AuthorID == ch.AuthorID && cm.Text != "" && !cm.Created.After(ch.Created) {
			return cm.Text, nil
		}
	}
	for _, cm := range comments {
		if cm.AuthorID == ch.AuthorID && cm.Text != "" {
			return cm.Text, nil
		}
	}
	return DefaultDecisionReason, nil
}

// moveMarker ends a refusal comment, so a retried refusal comments once.
func moveMarker(ch StatusChange) string { return "Privilege Jira move " + ch.ID + "." }

// moveTarget is where a refused move's task goes.
type moveTarget struct {
	status string // "" with !back: any done status
	denial bool
	back   bool // back to the status the person moved it from
}

// outcomeTarget is the status of the request's latest outcome.
func outcomeTarget(t target, r models.AccessRequest, from string) moveTarget {
	var o models.Outcome
	for _, ev := range r.Events {
		if oc := ev.Kind.Outcome(); oc != "" {
			o = oc
		}
	}
	if o == "" || t.link == nil {
		return moveTarget{status: from, back: true}
	}
	return moveTarget{status: t.link.StatusFor(o), denial: o != models.OutcomeApproved}
}

func (s *Syncer) refuseMove(ctx context.Context, client *Client, key string, ch StatusChange, d models.Decision, r models.JiraRefusal, latest bool, to moveTarget) error {
	moveBack := latest && (!to.back || ch.From != "")
	if moveBack {
		var opts []MoveOption
		if to.denial {
			opts = append(opts, ForDenial())
		}
		if err := client.MoveToStatus(ctx, key, to.status, opts...); err != nil && !errors.Is(err, ErrNoTransition) {
			return err
		}
	}
	posted, err := client.HasComment(ctx, key, moveMarker(ch))
	if err != nil || posted {
		return err
	}
	verb := "approve"
	if d == models.DecisionDeny {
		verb = "deny"
	}
	line := fmt.Sprintf("%s moved this task to %s, which does not %s the request: %s.", nameOr(ch.AuthorDisplay, ch.AuthorID), ch.To, verb, r.Explain())
	blocks := []Block{Paragraph(Text(line))}
	switch {
	case moveBack && to.back:
		blocks = append(blocks, Paragraph(Text("The task was moved back to "+ch.From+".")))
	case moveBack:
		blocks = append(blocks, Paragraph(Text("The task was moved to the status of the request's outcome.")))
	}
	blocks = append(blocks, Paragraph(Text(moveMarker(ch))))
	return client.AddComment(ctx, key, NewDocument(blocks...))
}

func nameOr(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
