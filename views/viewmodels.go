// Package views holds the console's templ components and the view models
// that handlers fill. Templates do no I/O: everything they show arrives in a
// view model, including the CSRF token and the signed-in user.
package views

//go:generate go tool templ generate

import (
	"net/url"
	"strconv"
	"strings"

	"privilege/internal/paths"
	"privilege/models"
)

// FlashKind is the kind of a one-time message shown on the next page.
type FlashKind string

// Flash kinds.
const (
	FlashSuccess FlashKind = "success"
	FlashError   FlashKind = "error"
	FlashInfo    FlashKind = "info"
)

// Valid reports whether k is a known kind.
func (k FlashKind) Valid() bool { return k == FlashSuccess || k == FlashError || k == FlashInfo }

// Flash is a one-time message.
type Flash struct {
	Kind    FlashKind `json:"k"`
	Message string    `json:"m"`
}

// NavItem names an entry of the main navigation.
type NavItem string

// Navigation entries.
const (
	NavNone         NavItem = ""
	NavRequests     NavItem = "requests"
	NavIntegrations NavItem = "integrations"
	NavAccounts     NavItem = "accounts"
	NavUsers        NavItem = "users"
	NavAudit        NavItem = "audit"
	NavTokens       NavItem = "tokens"
)

type navLink struct {
	Item      NavItem
	Label     string
	Href      string
	AdminOnly bool
}

// navLinks is the main navigation, in order.
func navLinks() []navLink {
	return []navLink{
		{NavRequests, "Requests", paths.Requests, false},
		{NavIntegrations, "Integrations", paths.Integrations, true},
		{NavAccounts, "Accounts", paths.Accounts, true},
		{NavUsers, "Users", paths.Users, true},
		{NavAudit, "Audit", paths.Audit, true},
		{NavTokens, "API tokens", paths.Tokens, false},
	}
}

// PageMeta is what every full page needs: the shell's data.
type PageMeta struct {
	Title        string
	User         *models.User // nil when signed out
	CSRFToken    string
	Flashes      []Flash
	Active       NavItem
	RequestID    string
	AssetVersion string
	// Origin is set for admins browsing from an origin other than
	// PRIVILEGE_BASE_URL (OAuth callbacks and Jira links would go elsewhere).
	Origin *OriginMismatch
	// PendingDecisions is how many requests wait for this approver (nav badge).
	PendingDecisions int64
}

// OriginMismatch is the origin a browser used beside the configured base URL.
type OriginMismatch struct {
	Seen    string // e.g. http://127.0.0.1:8099
	BaseURL string // PRIVILEGE_BASE_URL
}

// IsAdmin reports whether the signed-in user is an admin.
func (m PageMeta) IsAdmin() bool { return m.User != nil && m.User.Role == models.RoleAdmin }

func (m PageMeta) asset(path string) string {
	if m.AssetVersion == "" {
		return path
	}
	return path + "?v=" + m.AssetVersion
}

func (m PageMeta) visible(l navLink) bool {
	return m.User != nil && (!l.AdminOnly || m.IsAdmin())
}

// FormErrors maps a field name to its message.
type FormErrors map[string]string

// Has reports whether field has an error.
func (e FormErrors) Has(field string) bool { _, ok := e[field]; return ok }

// Get returns the field's message.
func (e FormErrors) Get(field string) string { return e[field] }

// Pager describes the pagination links under a list.
type Pager struct {
	Page    int
	Pages   int
	Total   int64
	PrevURL string // empty on the first page
	NextURL string // empty on the last page
}

// FieldProps describes one labelled input.
type FieldProps struct {
	Label        string
	Name         string
	Type         string // text when empty
	Value        string
	Error        string
	Hint         string
	Autocomplete string
	Required     bool
	Autofocus    bool
}

func (f FieldProps) inputType() string {
	if f.Type == "" {
		return "text"
	}
	return f.Type
}

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// SelectProps describes one labelled select.
type SelectProps struct {
	Label   string
	Name    string
	Options []Option
	Error   string
}

// EmptyStateProps tells a user what to do when a list is empty.
type EmptyStateProps struct {
	Title      string
	Message    string
	ActionHref string // optional
	ActionText string
}

// Badge is a label with a tone; BadgeFor* helpers map typed enums to badges
// in one place (later: request status, sync state).
type Badge struct {
	Label string
	Tone  BadgeTone
}

// BadgeTone is the colour family of a badge.
type BadgeTone string

// Badge tones.
const (
	ToneNeutral BadgeTone = "neutral"
	ToneOK      BadgeTone = "ok"
	ToneWarn    BadgeTone = "warn"
	ToneError   BadgeTone = "err"
	ToneInfo    BadgeTone = "info"
)

// RoleBadge maps a role to its badge.
func RoleBadge(r models.Role) Badge {
	switch r {
	case models.RoleAdmin:
		return Badge{"admin", ToneInfo}
	case models.RoleApprover:
		return Badge{"approver", ToneOK}
	}
	return Badge{string(r), ToneNeutral}
}

// UserStateBadge shows whether a user may sign in.
func UserStateBadge(u models.User) Badge {
	if u.Disabled {
		return Badge{"disabled", ToneError}
	}
	return Badge{"active", ToneOK}
}

// TokenStateBadge shows whether a token still works.
func TokenStateBadge(t models.APIToken) Badge {
	if t.Revoked() {
		return Badge{"revoked", ToneError}
	}
	return Badge{"active", ToneOK}
}

// ProviderBadge shows a cloud provider.
func ProviderBadge(p models.Provider) Badge { return Badge{p.Label(), ToneNeutral} }

// LoginPage is the sign-in form.
type LoginPage struct {
	Meta    PageMeta
	Email   string
	Next    string
	Message string // a form-level error, e.g. wrong password
	// SSOName is the single sign-on provider's name ("" without SSO).
	SSOName string
	// PasswordForm shows the email and password form (PRIVILEGE_LOCAL_LOGIN is not off).
	PasswordForm bool
	// AdminsOnly: the password form is for break-glass admins only.
	AdminsOnly bool
}

// SetupPage creates the first admin.
type SetupPage struct {
	Meta   PageMeta
	Email  string
	Name   string
	Errors FormErrors
}

// AccountsPage lists cloud accounts.
type AccountsPage struct {
	Meta     PageMeta
	Accounts []models.CloudAccount
	Query    string
	Pager    Pager
	Trackers map[int64]*Tracker // by account id; absent: not tracked in Jira
	Sort     SortState
}

// ResourceRow is one name+kind row of the account form.
type ResourceRow struct {
	Name string
	Kind string
}

// AccountForm creates (ID 0) or edits an account. Values are kept as typed.
type AccountForm struct {
	Meta               PageMeta
	ID                 int64
	Provider           string
	ExternalID         string
	Name               string
	MaxDurationMinutes string
	Resources          []ResourceRow
	Errors             FormErrors
	Tracker            *Tracker // editing: the Jira project tracking it; nil: not tracked
}

// IsNew reports whether the form creates an account.
func (f AccountForm) IsNew() bool { return f.ID == 0 }

// Action is where the form posts.
func (f AccountForm) Action() string {
	if f.IsNew() {
		return paths.Accounts
	}
	return paths.Account(f.ID)
}

// ResourceError is the message of resource row i.
func (f AccountForm) ResourceError(i int) string { return f.Errors.Get("resources." + strconv.Itoa(i)) }

func (f AccountForm) providerOptions() []Option {
	opts := make([]Option, 0, len(models.Providers))
	for _, p := range models.Providers {
		opts = append(opts, Option{Value: string(p), Label: p.Label(), Selected: string(p) == f.Provider})
	}
	return opts
}

// AccountDeletePage confirms a deletion.
type AccountDeletePage struct {
	Meta    PageMeta
	Account models.CloudAccount
}

// UsersPage lists users.
type UsersPage struct {
	Meta  PageMeta
	Users []models.User
	Pager Pager
	// JiraLinks are each user's linked Jira accounts, by user id.
	JiraLinks map[int64][]UserJiraLink
	Sort      SortState
}

// UserForm creates a user.
type UserForm struct {
	Meta   PageMeta
	Email  string
	Name   string
	Role   string
	Errors FormErrors
}

func (f UserForm) roleOptions() []Option {
	opts := make([]Option, 0, len(models.Roles))
	for _, r := range models.Roles {
		opts = append(opts, Option{Value: string(r), Label: string(r), Selected: string(r) == f.Role})
	}
	return opts
}

// TokensPage lists API tokens.
type TokensPage struct {
	Meta   PageMeta
	Tokens []models.APIToken
	Pager  Pager
}

// TokenForm creates an API token for the signed-in user.
type TokenForm struct {
	Meta   PageMeta
	Name   string
	Errors FormErrors
}

// TokenCreatedPage shows a new token's plaintext, once.
type TokenCreatedPage struct {
	Meta      PageMeta
	Plaintext string
	Token     models.APIToken
}

// AuditPage lists audit events.
type AuditPage struct {
	Meta    PageMeta
	Events  []models.AuditEvent
	Targets map[string]models.AuditTarget // by models.AuditTargetKey
	Pager   Pager
	Filter  AuditFilter
	Errors  FormErrors
}

// Target is an event's target in words ("" when it has none).
func (p AuditPage) Target(ev models.AuditEvent) models.AuditTarget {
	return p.Targets[models.AuditTargetKey(ev)]
}

// AuditTargetPath is where the console shows an audit target, or "" when it
// is gone or has no page of its own.
func AuditTargetPath(t models.AuditTarget) string {
	if t.Gone {
		return ""
	}
	switch t.Type {
	case "account":
		return paths.AccountEdit(t.ID)
	case "user":
		return paths.Users
	case "token":
		return paths.Tokens
	case "integration":
		return paths.Integration(t.ID)
	case "project_link":
		return paths.ProjectLink(t.IntegrationID, t.ProjectKey)
	case "request":
		return paths.Request(t.ID)
	}
	return ""
}

// AuditFilter is the audit log's filter form, as typed.
type AuditFilter struct {
	Actor, Action, Target, From, To, Sort string
}

// Values is the filter as query parameters (empty ones left out).
func (f AuditFilter) Values() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "action": f.Action, "target": f.Target, "from": f.From, "to": f.To, "sort": f.Sort} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// Filtered reports whether any filter is set.
func (f AuditFilter) Filtered() bool {
	return f.Actor != "" || f.Action != "" || f.Target != "" || f.From != "" || f.To != ""
}

// ExportURL downloads the filtered log as CSV.
func (f AuditFilter) ExportURL() string {
	q := f.Values()
	q.Del("sort")
	return paths.WithQuery(paths.AuditCSV, q)
}

// SortURL sorts by s, keeping the filters.
func (f AuditFilter) SortURL(s string) string {
	q := f.Values()
	q.Del("sort")
	if s != "" {
		q.Set("sort", s)
	}
	return paths.WithQuery(paths.Audit, q)
}

func (f AuditFilter) actionOptions() []Option {
	opts := []Option{{Value: "", Label: "Any action"}}
	for _, a := range models.AuditActions {
		opts = append(opts, Option{Value: string(a), Label: AuditActionLabel(a), Selected: string(a) == f.Action})
	}
	return opts
}

// AuditActionLabel is an action in words: "request.approved" → "Request approved".
func AuditActionLabel(a models.AuditAction) string {
	s := strings.NewReplacer(".", " ", "_", " ").Replace(string(a))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ErrorPage is shown for 4xx/5xx answers to browser requests.
type ErrorPage struct {
	Meta    PageMeta
	Status  int
	Title   string
	Message string
}

// ConfirmPage confirms a destructive action.
type ConfirmPage struct {
	Meta           PageMeta
	Title          string
	Consequences   []string
	Action         string // where the form posts
	Button         string
	Back           string
	BackLabel      string
	ReasonName     string // empty: no reason field
	ReasonLabel    string
	ReasonRequired bool
	Reason         string
	Errors         FormErrors
}
