package main

import (
	"crypto/x509"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"privilege/internal/paths"
	"privilege/jira"
)

// syncPollInterval is how often the syncer looks for work written by other
// replicas; work written by this process wakes it at once.
const syncPollInterval = 2 * time.Second

// jiraStack is the Jira side of the process: guarded HTTP client, OAuth,
// per-integration clients and the syncer.
type jiraStack struct {
	oauth   *jira.OAuth
	clients *jira.Clients
	syncer  *jira.Syncer
	poller  *jira.Poller // decisions from Jira: polling and Cloud webhooks
	notices *jira.DecisionMetrics
}

// newJiraStack wires the outbound client (SSRF guard at connect time, then
// per-site pacing honouring Retry-After), OAuth, clients and the syncer, and
// lets the store wake the syncer after every commit that wrote a sync job.
func newJiraStack(cfg Config, a *app, logger *slog.Logger, reg prometheus.Registerer, roots *x509.CertPool) *jiraStack {
	hc := jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: cfg.OutboundAllowCIDRs, RootCAs: roots})
	limit, burst := rate.Inf, 1
	if cfg.JiraRateLimit > 0 {
		limit, burst = rate.Limit(cfg.JiraRateLimit), max(1, int(cfg.JiraRateLimit))
	}
	metrics := jira.NewMetrics(reg)
	hc.Transport = jira.NewPacer(limit, burst, jira.PacerMetrics(metrics)).Wrap(hc.Transport)
	oauth := jira.NewOAuth(jira.OAuthConfig{
		AuthURL: cfg.AtlassianAuthURL, APIURL: cfg.AtlassianAPIURL,
		CloudClientID: cfg.AtlassianClientID, CloudClientSecret: cfg.AtlassianSecret,
		RedirectURL: paths.Absolute(cfg.BaseURL.String(), paths.JiraCallback), HTTPClient: hc,
	})
	clients := jira.NewClients(oauth, a.store, hc, jira.WithMetrics(metrics))
	decisions := jira.NewDecisionMetrics(reg)
	syncer := jira.NewSyncer(logger, a.store, clients, jira.NewSyncMetrics(reg, a.store.SyncStats), jira.SyncerConfig{
		BaseURL: cfg.BaseURL.String(), PollInterval: syncPollInterval, Decisions: decisions,
	})
	a.store.OnEnqueue(syncer.Notify)
	poller := jira.NewPoller(logger, a.store, clients, decisions, jira.PollerConfig{BaseURL: cfg.BaseURL.String(), Interval: cfg.JiraPollInterval})
	return &jiraStack{oauth: oauth, clients: clients, syncer: syncer, poller: poller, notices: decisions}
}
