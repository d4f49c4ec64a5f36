package views

import (
	"strconv"
	"strings"
	"time"

	"privilege/models"
)

// RequestStatusBadge maps a request status to its badge.
func RequestStatusBadge(s models.RequestStatus) Badge {
	switch s {
	case models.RequestPending:
		return Badge{"pending", ToneWarn}
	case models.RequestApproved:
		return Badge{"approved", ToneOK}
	case models.RequestDenied:
		return Badge{"denied", ToneError}
	case models.RequestRevoked:
		return Badge{"revoked", ToneError}
	}
	return Badge{string(s), ToneNeutral} // cancelled, expired, ended
}

// SyncStateBadge maps the sync state of a request's Jira task to its badge.
func SyncStateBadge(s models.SyncState) Badge {
	switch s {
	case models.SyncPending:
		return Badge{"pending", ToneInfo}
	case models.SyncSynced:
		return Badge{"synced", ToneOK}
	case models.SyncFailed:
		return Badge{"failed", ToneError}
	case models.SyncParked:
		return Badge{"parked", ToneWarn}
	case models.SyncDetached:
		return Badge{"detached", ToneNeutral}
	}
	return Badge{"not tracked", ToneNeutral}
}

// RequestRow is one line of a request list.
type RequestRow struct {
	ID        int64
	Requester string
	Account   string
	Provider  models.Provider
	Resources []string
	Minutes   int
	Status    Badge
	Sync      Badge
	IssueKey  string
	CreatedAt time.Time
	Yours     bool // the viewer asked for it: someone else must decide
	// The queue's extras.
	Justification string
	IssueURL      string
	Tracker       *Tracker // where its task lives or will; nil: not tracked
}

// ShowProvider reports whether the provider is worth adding after the
// account name ("Production (AWS)" already says it).
func (r RequestRow) ShowProvider() bool {
	return !strings.Contains(strings.ToLower(r.Account), strings.ToLower(r.Provider.Label()))
}

// Age is how long ago the request was made, as "5 min", "3 h" or "2 d".
func (r RequestRow) Age(now time.Time) string {
	d := now.Sub(r.CreatedAt)
	switch {
	case d < time.Hour:
		return strconv.Itoa(max(int(d.Minutes()), 0)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " d"
}

// NewRequestRow fills a row; viewerID marks the viewer's own requests.
func NewRequestRow(r models.AccessRequest, viewerID int64) RequestRow {
	row := RequestRow{ID: r.ID, Requester: r.Requester.Email, Account: r.Account.Name, Provider: r.Account.Provider,
		Resources: r.ResourceNames(), Minutes: r.DurationMinutes, Status: RequestStatusBadge(r.Status),
		Sync: SyncStateBadge(r.SyncState()), CreatedAt: r.CreatedAt, Yours: r.RequesterID == viewerID, Justification: r.Justification}
	if r.Issue != nil {
		row.IssueKey, row.IssueURL = r.Issue.IssueKey, r.Issue.IssueURL
	}
	return row
}

// RequestRows fills the rows of a list.
func RequestRows(rs []models.AccessRequest, viewerID int64) []RequestRow {
	out := make([]RequestRow, 0, len(rs))
	for _, r := range rs {
		out = append(out, NewRequestRow(r, viewerID))
	}
	return out
}

// RequestsIndexPage is /requests: the viewer's requests and, for approvers,
// the queue of pending requests.
type RequestsIndexPage struct {
	Meta       PageMeta
	Mine       []RequestRow
	MinePager  Pager
	CanApprove bool
	Queue      []RequestRow
	QueuePager Pager
	Now        time.Time // for the queue's ages
	// An inline decision that failed validation: its row, reason and error.
	DecideID     int64
	DecideReason string
	DecideError  string
}

func (p RequestsIndexPage) reasonFor(id int64) string {
	if p.DecideID == id {
		return p.DecideReason
	}
	return ""
}

// RequestHistoryPage is /requests/history: every request, filtered.
type RequestHistoryPage struct {
	Meta      PageMeta
	Rows      []RequestRow
	Pager     Pager
	Status    string
	AccountID string
	Requester string
	Accounts  []models.CloudAccount
	Sort      SortState
}

func (p RequestHistoryPage) statusOptions() []Option {
	opts := []Option{{Value: "", Label: "Any status"}}
	for _, s := range models.RequestStatuses {
		opts = append(opts, Option{Value: string(s), Label: string(s), Selected: string(s) == p.Status})
	}
	return opts
}

func (p RequestHistoryPage) accountOptions() []Option {
	return accountOptions(p.Accounts, p.AccountID, "Any account")
}

// Filtered reports whether any filter is set.
func (p RequestHistoryPage) Filtered() bool {
	return p.Status != "" || p.AccountID != "" || p.Requester != ""
}

func accountOptions(accs []models.CloudAccount, selected, none string) []Option {
	opts := []Option{{Value: "", Label: none}}
	for _, a := range accs {
		id := strconv.FormatInt(a.ID, 10)
		opts = append(opts, Option{Value: id, Label: accountLabel(a), Selected: id == selected})
	}
	return opts
}

// accountLabel is "Production (AWS) · 123456789012": the provider is not
// repeated when the name already says it.
func accountLabel(a models.CloudAccount) string {
	name := a.Name
	if p := a.Provider.Label(); !strings.Contains(strings.ToLower(name), strings.ToLower(p)) {
		name += " (" + p + ")"
	}
	return name + " · " + a.ExternalID
}

// ResourceChoice is one checkbox of the request form.
type ResourceChoice struct {
	Name    string
	Kind    string
	Checked bool
}

// RequestForm is the "Request access" form. Values are kept as typed.
type RequestForm struct {
	Meta          PageMeta
	Accounts      []models.CloudAccount
	AccountID     string
	Account       *models.CloudAccount // the chosen account, with resources
	Resources     []ResourceChoice
	Duration      string
	Justification string
	Errors        FormErrors
}

func (f RequestForm) accountOptions() []Option {
	return accountOptions(f.Accounts, f.AccountID, "Choose an account…")
}

// DurationPreset is a one-click duration beside the free field.
type DurationPreset struct {
	Minutes int
	Label   string
}

func durationPresets() []DurationPreset {
	return []DurationPreset{{60, "1 h"}, {240, "4 h"}, {480, "8 h"}}
}

// MaxDuration is the chosen account's maximum, in minutes.
func (f RequestForm) MaxDuration() int {
	if f.Account == nil {
		return models.DefaultMaxDurationMinutes
	}
	return f.Account.MaxDurationMinutes
}

func (f RequestForm) durationHint() string {
	if f.Account == nil {
		return "Choose an account to see its maximum."
	}
	return "Between 5 and " + strconv.Itoa(f.MaxDuration()) + " minutes for this account."
}

// EventRow is one entry of a request's timeline.
type EventRow struct {
	Kind   models.EventKind
	Actor  string
	Reason string
	At     time.Time
	Via    string // models.ViaJira: decided by moving the Jira task
}

// RequestDetailPage is the approval page, /requests/{id}.
type RequestDetailPage struct {
	Meta      PageMeta
	Request   models.AccessRequest
	Status    Badge
	Sync      Badge
	Link      models.JiraIssueLink // zero when not tracked
	Jira      JiraTaskBox
	Events    []EventRow
	DecidedBy string // email of who decided, when decided
	// What the viewer may do.
	IsRequester bool // the viewer asked for it: they may not decide it
	CanDecide   bool
	CanCancel   bool
	CanRevoke   bool
	CanRetry    bool
	// The decision form, kept after a validation error.
	Reason string
	Errors FormErrors
}

// NewRequestDetailPage fills the approval page for viewer.
func NewRequestDetailPage(meta PageMeta, r models.AccessRequest, viewer models.User) RequestDetailPage {
	p := RequestDetailPage{Meta: meta, Request: r, Status: RequestStatusBadge(r.Status), Sync: SyncStateBadge(r.SyncState()),
		IsRequester: r.RequesterID == viewer.ID}
	if r.Issue != nil {
		p.Link = *r.Issue
	}
	if r.DecidedBy != nil {
		p.DecidedBy = r.DecidedBy.Email
	}
	for _, ev := range r.Events {
		actor := ev.ActorEmail
		if actor == "" {
			actor = "Privilege"
		}
		if ev.APITokenID != nil {
			actor += " (API token #" + strconv.FormatInt(*ev.APITokenID, 10) + ")"
		}
		p.Events = append(p.Events, EventRow{Kind: ev.Kind, Actor: actor, Reason: ev.Reason, At: ev.At, Via: ev.Via})
	}
	pending := r.Status == models.RequestPending
	p.CanDecide = pending && viewer.Role.CanApprove() && !p.IsRequester
	p.CanCancel = pending && p.IsRequester
	p.CanRevoke = r.Status == models.RequestApproved && viewer.Role == models.RoleAdmin
	s := r.SyncState()
	p.CanRetry = viewer.Role == models.RoleAdmin && (s == models.SyncFailed || s == models.SyncParked)
	p.Jira = NewJiraTaskBox(r, viewer, meta.CSRFToken, nil)
	return p
}

// SyncErrorFor is what viewer may read of a failed sync. Jira's messages
// can name internal hosts and addresses (a Data Center behind the
// firewall), so only admins, who run the integration, get them; everyone
// else gets a plain sentence for the state. Empty when nothing failed.
func SyncErrorFor(l models.JiraIssueLink, viewer models.User) string {
	switch {
	case l.LastError == "":
		return ""
	case viewer.Role == models.RoleAdmin:
		return l.LastError
	}
	switch l.SyncState {
	case models.SyncFailed:
		return "Jira did not accept the update of this task. An admin can see why and retry it."
	case models.SyncParked:
		return "The Jira connection needs an admin to reconnect it; the task catches up then."
	case models.SyncPending:
		return "Jira could not be reached yet; Privilege keeps trying."
	}
	return "The Jira task could not be updated. An admin can see why."
}

// NewJiraTaskBox fills the Jira box of request r for viewer; tracker is
// where its task lives (or will be created), nil when unknown.
func NewJiraTaskBox(r models.AccessRequest, viewer models.User, csrf string, tracker *Tracker) JiraTaskBox {
	s := r.SyncState()
	b := JiraTaskBox{RequestID: r.ID, Account: r.Account.Name, State: s, Tracker: tracker, IsAdmin: viewer.Role == models.RoleAdmin,
		CanRetry: viewer.Role == models.RoleAdmin && (s == models.SyncFailed || s == models.SyncParked), CSRFToken: csrf}
	if r.Issue != nil {
		b.Error = SyncErrorFor(*r.Issue, viewer)
	}
	if r.Issue != nil {
		b.Link = *r.Issue
	}
	return b
}

// Minutes formats a duration in minutes, with hours when round.
func Minutes(n int) string {
	switch {
	case n >= 60 && n%60 == 0:
		return strconv.Itoa(n) + " min (" + strconv.Itoa(n/60) + " h)"
	}
	return strconv.Itoa(n) + " min"
}

// EventLabel is a timeline entry in words.
func EventLabel(k models.EventKind) string {
	switch k {
	case models.EventCreated:
		return "Requested"
	case models.EventApproved:
		return "Approved"
	case models.EventDenied:
		return "Denied"
	case models.EventCancelled:
		return "Cancelled by the requester"
	case models.EventExpired:
		return "Expired: nobody decided in time"
	case models.EventEnded:
		return "Access ended"
	case models.EventRevoked:
		return "Access revoked"
	}
	return string(k)
}
