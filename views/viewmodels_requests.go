package views

import (
	"strconv"
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

// SyncOf is the sync state of a request ("not tracked" without a link).
func SyncOf(r models.AccessRequest) models.SyncState {
	if r.Issue == nil || r.Issue.SyncState == "" {
		return models.SyncNotTracked
	}
	return r.Issue.SyncState
}

// RequestURL is the approval page of a request.
func RequestURL(id int64) string { return "/requests/" + strconv.FormatInt(id, 10) }

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
}

// NewRequestRow fills a row; viewerID marks the viewer's own requests.
func NewRequestRow(r models.AccessRequest, viewerID int64) RequestRow {
	row := RequestRow{ID: r.ID, Requester: r.Requester.Email, Account: r.Account.Name, Provider: r.Account.Provider,
		Resources: r.ResourceNames(), Minutes: r.DurationMinutes, Status: RequestStatusBadge(r.Status),
		Sync: SyncStateBadge(SyncOf(r)), CreatedAt: r.CreatedAt, Yours: r.RequesterID == viewerID}
	if r.Issue != nil {
		row.IssueKey = r.Issue.IssueKey
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
		opts = append(opts, Option{Value: id, Label: a.Name + " (" + a.Provider.Label() + " " + a.ExternalID + ")", Selected: id == selected})
	}
	return opts
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
	p := RequestDetailPage{Meta: meta, Request: r, Status: RequestStatusBadge(r.Status), Sync: SyncStateBadge(SyncOf(r)),
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
		p.Events = append(p.Events, EventRow{Kind: ev.Kind, Actor: actor, Reason: ev.Reason, At: ev.At, Via: ev.Via})
	}
	pending := r.Status == models.RequestPending
	p.CanDecide = pending && viewer.Role.CanApprove() && !p.IsRequester
	p.CanCancel = pending && p.IsRequester
	p.CanRevoke = r.Status == models.RequestApproved && viewer.Role == models.RoleAdmin
	s := SyncOf(r)
	p.CanRetry = viewer.Role == models.RoleAdmin && (s == models.SyncFailed || s == models.SyncParked)
	return p
}

// Minutes formats a duration in minutes, with hours when round.
func Minutes(n int) string {
	switch {
	case n >= 60 && n%60 == 0:
		return strconv.Itoa(n) + " min (" + strconv.Itoa(n/60) + " h)"
	}
	return strconv.Itoa(n) + " min"
}
