package jira

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"privilege/internal/paths"
	"privilege/models"
)

// The poller (design.md §9): per integration with "Approve and deny in Jira"
// on anywhere, every Interval, a JQL search for the product's issues updated
// since the last watermark (minus an overlap for search lag), in bounded
// pages; every issue found is queued for a reconcile, which reads it back.
// It also keeps Cloud's dynamic webhook registered, refreshed well before its
// 30-day expiry, re-registered when Jira lost it, and deleted when no
// project wants it any more.

// PollerStore is what the poller needs.
type PollerStore interface {
	ListIntegrations(ctx context.Context) ([]models.Integration, error)
	IntegrationSettings(ctx context.Context, id int64) (models.Integration, error)
	ClientSecret(in models.Integration) (string, error)
	DecisionProjectLinks(ctx context.Context, integrationID int64) ([]models.ProjectLink, error)
	ClaimPoll(ctx context.Context, id int64, interval time.Duration) (*time.Time, bool, error)
	SavePoll(ctx context.Context, id int64, watermark *time.Time, pollErr string) error
	EnqueueIssueCheck(ctx context.Context, integrationID int64, issue string) (bool, error)
	WebhookToken(ctx context.Context, id int64) (string, error)
	SaveWebhookState(ctx context.Context, id int64, st models.WebhookState) error
}

// PollerConfig tunes the poller; zero values take the defaults.
type PollerConfig struct {
	BaseURL       string        // PRIVILEGE_BASE_URL: the webhook URL is {BaseURL}/webhooks/jira/{token}
	Interval      time.Duration // PRIVILEGE_JIRA_POLL_INTERVAL (default 1m)
	Overlap       time.Duration // searched again behind the watermark, for search lag (default 2m)
	Pages         int           // pages of 50 issues per poll (default 4)
	RefreshBefore time.Duration // refresh a webhook expiring within this (default 25 days: daily for 30-day webhooks)
	VerifyEvery   time.Duration // how often Jira's webhook list is checked (default 1h)
	Now           func() time.Time
}

// DefaultPollInterval is how often each site is searched by default.
const DefaultPollInterval = time.Minute

func (c *PollerConfig) defaults() {
	if c.Interval <= 0 {
		c.Interval = DefaultPollInterval
	}
	if c.Overlap <= 0 {
		c.Overlap = 2 * time.Minute
	}
	if c.Pages <= 0 {
		c.Pages = 4
	}
	if c.RefreshBefore <= 0 {
		c.RefreshBefore = 25 * 24 * time.Hour
	}
	if c.VerifyEvery <= 0 {
		c.VerifyEvery = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// WebhookScope is the Cloud scope dynamic webhooks need.
const WebhookScope = "manage:jira-webhook"

// ReconnectForDecisions is what an integration connected before the webhook
// scope shows.
const ReconnectForDecisions = "Reconnect to enable decisions from Jira"

// Poller polls Jira and keeps webhooks registered. Safe for concurrent use.
type Poller struct {
	log     *slog.Logger
	store   PollerStore
	clients *Clients
	metrics *DecisionMetrics
	cfg     PollerConfig

	mu       sync.Mutex
	verified map[int64]time.Time // per integration: when Jira's webhook list was last checked
}

// NewPoller builds a poller; Run starts it.
func NewPoller(log *slog.Logger, store PollerStore, clients *Clients, metrics *DecisionMetrics, cfg PollerConfig) *Poller {
	cfg.defaults()
	return &Poller{log: log, store: store, clients: clients, metrics: metrics, cfg: cfg, verified: map[int64]time.Time{}}
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	// Tick well within the interval, so a due poll is not late by a whole
	// interval; ClaimPoll lets one replica poll per interval.
	tick := time.NewTicker(min(max(p.cfg.Interval/5, time.Second), 15*time.Second))
	defer tick.Stop()
	for {
		p.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RunOnce polls every due integration and keeps their webhooks.
func (p *Poller) RunOnce(ctx context.Context) {
	integs, err := p.store.ListIntegrations(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Error("poller: list integrations", "err", err)
		}
		return
	}
	for _, in := range integs {
		if ctx.Err() != nil {
			return
		}
		if in.Status != models.IntegrationConnected {
			continue
		}
		links, err := p.store.DecisionProjectLinks(ctx, in.ID)
		if err != nil {
			p.log.Error("poller: list project links", "integration", in.ID, "err", err)
			continue
		}
		if in.Deployment == models.DeploymentCloud {
			if err := p.SyncWebhooks(ctx, in, links); err != nil {
				p.log.Warn("poller: webhooks", "integration", in.ID, "err", err)
			}
		}
		if len(links) == 0 {
			continue
		}
		if _, err := p.Poll(ctx, in); err != nil {
			p.log.Warn("poller: poll", "integration", in.ID, "err", err)
		}
	}
}

func (p *Poller) client(in models.Integration) (*Client, error) {
	secret, err := p.store.ClientSecret(in)
	if err != nil {
		return nil, fmt.Errorf("decrypt the client secret: %w", err)
	}
	return p.clients.For(NewConnection(in, secret)), nil
}

// Poll searches the issues of the integration's projects with decisions
// from Jira on, updated since its watermark, when
// its poll is due (one replica per interval), queues a reconcile of each,
// and returns how many requests were queued.
func (p *Poller) Poll(ctx context.Context, in models.Integration) (int, error) {
	links, err := p.store.DecisionProjectLinks(ctx, in.ID)
	if err != nil || len(links) == 0 {
		return 0, err
	}
	keys := make([]string, 0, len(links))
	for _, l := range links {
		keys = append(keys, l.ProjectKey)
	}
	watermark, claimed, err := p.store.ClaimPoll(ctx, in.ID, p.cfg.Interval)
	if err != nil || !claimed {
		return 0, err
	}
	start := p.cfg.Now()
	window := 24 * time.Hour // first poll: the last day
	if watermark != nil {
		window = start.Sub(*watermark) + p.cfg.Overlap
	}
	client, err := p.client(in)
	if err != nil {
		return 0, err
	}
	found, complete, err := client.SearchUpdatedSince(ctx, keys, window, p.cfg.Pages)
	if err != nil {
		if serr := p.store.SavePoll(ctx, in.ID, nil, err.Error()); serr != nil {
			p.log.Error("poller: save poll error", "err", serr)
		}
		return 0, err
	}
	queued := 0
	for _, f := range found {
		ok, err := p.store.EnqueueIssueCheck(ctx, in.ID, f.Key)
		if err != nil {
			return queued, err
		}
		if ok {
			queued++
			p.metrics.Notice("poll", "queued")
		}
	}
	// A partial window (more pages than allowed) resumes from the last
	// issue read; a complete one from when this poll started.
	next := start
	if !complete && len(found) > 0 && !found[len(found)-1].Updated.IsZero() {
		next = found[len(found)-1].Updated
	}
	if err := p.store.SavePoll(ctx, in.ID, &next, ""); err != nil {
		return queued, err
	}
	return queued, nil
}

// SyncWebhooks keeps the Cloud integration's dynamic webhook in line with
// its project links: registered (JQL on their projects, Jira allows no
// labels) while any has decisions on, refreshed well before it expires,
// re-registered when Jira lost it, deleted when none wants it.
func (p *Poller) SyncWebhooks(ctx context.Context, in models.Integration, links []models.ProjectLink) error {
	want := len(links) > 0
	stored := in.WebhookIDList()
	if want && !slices.Contains(strings.Fields(in.Scopes), WebhookScope) {
		if in.WebhookError != ReconnectForDecisions {
			return p.store.SaveWebhookState(ctx, in.ID, models.WebhookState{Error: ReconnectForDecisions})
		}
		return nil
	}
	if !want && len(stored) == 0 {
		if in.WebhookError != "" {
			return p.store.SaveWebhookState(ctx, in.ID, models.WebhookState{})
		}
		return nil
	}
	client, err := p.client(in)
	if err != nil {
		return err
	}
	ids := parseIDs(stored)
	if !want {
		if err := client.DeleteWebhooks(ctx, ids); err != nil && !errors.Is(err, ErrNotFound) {
			return p.saveWebhookError(ctx, in, err)
		}
		return p.store.SaveWebhookState(ctx, in.ID, models.WebhookState{})
	}
	keys := make([]string, 0, len(links))
	for _, l := range links {
		keys = append(keys, l.ProjectKey)
	}
	slices.Sort(keys)
	jql := "project IN (" + strings.Join(keys, ", ") + ")"
	now := p.cfg.Now()

	p.mu.Lock()
	verifyDue := now.Sub(p.verified[in.ID]) >= p.cfg.VerifyEvery
	p.mu.Unlock()
	lost := false
	if len(ids) > 0 && in.WebhookJQL == jql && verifyDue {
		live, err := client.ListWebhooks(ctx)
		if err != nil {
			return p.saveWebhookError(ctx, in, err)
		}
		for _, id := range ids {
			if !slices.ContainsFunc(live, func(w RegisteredWebhook) bool { return w.ID == id }) {
				lost = true
			}
		}
		p.mu.Lock()
		p.verified[in.ID] = now
		p.mu.Unlock()
	}
	switch {
	case len(ids) == 0 || in.WebhookJQL != jql || lost:
		if len(ids) > 0 {
			if err := client.DeleteWebhooks(ctx, ids); err != nil && !errors.Is(err, ErrNotFound) {
				return p.saveWebhookError(ctx, in, err)
			}
		}
		token, err := p.store.WebhookToken(ctx, in.ID)
		if err != nil {
			return err
		}
		id, err := client.RegisterWebhook(ctx, paths.JiraWebhookURL(p.cfg.BaseURL, token), jql)
		if err != nil {
			return p.saveWebhookError(ctx, in, err)
		}
		exp, err := client.RefreshWebhooks(ctx, []int64{id})
		if err != nil {
			// Registered: keep the id so it is not registered twice.
			return p.store.SaveWebhookState(ctx, in.ID, models.WebhookState{IDs: []string{strconv.FormatInt(id, 10)}, JQL: jql, Error: err.Error()})
		}
		p.log.Info("webhook registered", "integration", in.ID, "webhook", id, "expires", exp)
		return p.store.SaveWebhookState(ctx, in.ID, models.WebhookState{IDs: []string{strconv.FormatInt(id, 10)}, JQL: jql, ExpiresAt: &exp})
	case in.WebhookExpiresAt == nil || in.WebhookExpiresAt.Sub(now) < p.cfg.RefreshBefore:
		exp, err := client.RefreshWebhooks(ctx, ids)
		if err != nil {
			return p.saveWebhookError(ctx, in, err)
		}
		return p.store.SaveWebhookState(ctx, in.ID, models.WebhookState{IDs: stored, JQL: jql, ExpiresAt: &exp})
	}
	return nil
}

func (p *Poller) saveWebhookError(ctx context.Context, in models.Integration, cause error) error {
	st := models.WebhookState{IDs: in.WebhookIDList(), JQL: in.WebhookJQL, ExpiresAt: in.WebhookExpiresAt, Error: cause.Error()}
	var apiErr *APIError
	if errors.As(cause, &apiErr) && apiErr.Status == http.StatusForbidden {
		st.Error = ReconnectForDecisions + " (" + cause.Error() + ")"
	}
	if err := p.store.SaveWebhookState(ctx, in.ID, st); err != nil {
		return err
	}
	return cause
}

func parseIDs(ids []string) []int64 {
	out := make([]int64, 0, len(ids))
	for _, s := range ids {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			out = append(out, n)
		}
	}
	return out
}
