package jira

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the Jira client's Prometheus collectors. A nil *Metrics is
// valid and records nothing.
type Metrics struct {
	requests    *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	resends     *prometheus.CounterVec
	refreshes   *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them with reg (if reg is
// not nil). Registering twice with the same registry reuses the collectors
// already there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jira_requests_total",
			Help: "Requests to Jira by operation and HTTP status (\"error\" when no answer came).",
		}, []string{"op", "status"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jira_rate_limited_total",
			Help: "Jira answers with 429 or 503, by RateLimit-Reason.",
		}, []string{"reason"}),
		resends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jira_paced_resends_total",
			Help: "Calls the pacer sent again itself after waiting out a 429 or 503 (also counted in jira_rate_limited_total), by the status that was waited out.",
		}, []string{"status"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "oauth_refresh_total",
			Help: "OAuth token refresh attempts by result.",
		}, []string{"result"}),
	}
	if reg != nil {
		m.requests = register(reg, m.requests)
		m.rateLimited = register(reg, m.rateLimited)
		m.resends = register(reg, m.resends)
		m.refreshes = register(reg, m.refreshes)
	}
	return m
}

func register(reg prometheus.Registerer, c *prometheus.CounterVec) *prometheus.CounterVec {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		// A clashing, differently-shaped collector: count locally, unexported.
		return c
	}
	return c
}

// Refresh results for oauth_refresh_total.
const (
	refreshSuccess   = "success"
	refreshReconnect = "reconnect_required"
	refreshError     = "error"
	refreshWaited    = "waited_for_other_process"
)

func (m *Metrics) request(op string, status int) {
	if m == nil {
		return
	}
	label := "error"
	if status > 0 {
		label = strconv.Itoa(status)
	}
	m.requests.WithLabelValues(op, label).Inc()
}

func (m *Metrics) rateLimit(reason string) {
	if m == nil {
		return
	}
	if reason == "" {
		reason = "unspecified"
	}
	m.rateLimited.WithLabelValues(reason).Inc()
}

// pacedResend counts a limited answer the pacer absorbed by sending the
// call again: the caller never sees it, so the client cannot count it.
func (m *Metrics) pacedResend(status int, reason string) {
	if m == nil {
		return
	}
	m.rateLimit(reason)
	m.resends.WithLabelValues(strconv.Itoa(status)).Inc()
}

func (m *Metrics) refresh(result string) {
	if m == nil {
		return
	}
	m.refreshes.WithLabelValues(result).Inc()
}
