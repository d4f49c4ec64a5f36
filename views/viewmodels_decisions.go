package views

import "time"

// Decisions from Jira (design.md §9): the project link's "Approve and deny in
// Jira" form and the integration's notice channels.

// ProjectDecisions is the "Approve and deny in Jira" form of a linked project.
type ProjectDecisions struct {
	Action         string // where the form posts
	On             bool
	ApproveOptions []Option
	DenyOptions    []Option
	// Reachability says how the statuses were checked against the status new
	// tasks start in ("" when it could not be).
	Reachability string
}

// IntegrationDecisions is the integration page's panel: how Jira's notices
// reach Privilege and whether they do.
type IntegrationDecisions struct {
	DataCenter    bool
	InUse         bool   // some project link has decisions on
	WebhookURL    string // DC: for a Jira admin to enter
	WebhookSecret string // DC: the shared secret
	RotateAction  string
	// Cloud: the dynamic webhook.
	WebhookIDs       string
	WebhookExpiresAt *time.Time
	WebhookError     string
	NeedsReconnect   bool
	// Polling.
	PollInterval  time.Duration
	PollWatermark *time.Time
	PollError     string
}
