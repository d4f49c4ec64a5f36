package jira

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

const defaultCallTimeout = 15 * time.Second

// Clients builds and caches one Client per integration.
type Clients struct {
	oauth  *OAuth
	tokens *TokenManager
	http   *http.Client
	opts   clientOptions

	mu    sync.Mutex
	cache map[int64]*Client
}

type clientOptions struct {
	timeout   time.Duration
	metrics   *Metrics
	now       func() time.Time
	tokenOpts []TokenOption
}

// ClientOption configures Clients.
type ClientOption func(*clientOptions)

// WithMetrics records request, rate-limit and refresh counters.
func WithMetrics(m *Metrics) ClientOption { return func(o *clientOptions) { o.metrics = m } }

// WithNow sets the clock used to turn Retry-After dates into durations.
func WithNow(now func() time.Time) ClientOption { return func(o *clientOptions) { o.now = now } }

// WithTokenOptions passes options to the TokenManager Clients creates.
func WithTokenOptions(opts ...TokenOption) ClientOption {
	return func(o *clientOptions) { o.tokenOpts = append(o.tokenOpts, opts...) }
}

// NewClients returns a client factory. httpClient should come from
// NewHTTPClient; nil means the one in oauth's config.
func NewClients(oauth *OAuth, store TokenStore, httpClient *http.Client, opts ...ClientOption) *Clients {
	o := clientOptions{timeout: defaultCallTimeout, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if httpClient == nil {
		httpClient = oauth.cfg.HTTPClient
	}
	tokens := NewTokenManager(store, oauth, append([]TokenOption{WithTokenMetrics(o.metrics)}, o.tokenOpts...)...)
	return &Clients{oauth: oauth, tokens: tokens, http: httpClient, opts: o, cache: map[int64]*Client{}}
}

// Tokens is the TokenManager the clients use.
func (c *Clients) Tokens() *TokenManager { return c.tokens }

// For returns the client of conn's integration, cached while conn is unchanged.
func (c *Clients) For(conn Connection) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.cache[conn.IntegrationID]; ok && cl.conn == conn {
		return cl
	}
	cl := c.newClient(conn)
	c.cache[conn.IntegrationID] = cl
	return cl
}

// Forget drops the cached client of an integration (after reconnect or delete).
func (c *Clients) Forget(integrationID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, integrationID)
}

func (c *Clients) newClient(conn Connection) *Client {
	cl := &Client{conn: conn, http: c.http, tokens: c.tokens, opts: c.opts, moves: newMoveMemory(c.opts.now)}
	if conn.isCloud() {
		cl.apiBase = c.oauth.APIURL() + "/ex/jira/" + url.PathEscape(conn.CloudID) + "/rest/api/3"
		cl.browseBase = strings.TrimRight(conn.SiteURL, "/")
	} else {
		base := strings.TrimRight(conn.BaseURL, "/")
		cl.apiBase = base + "/rest/api/2"
		cl.browseBase = base
	}
	return cl
}

// Client talks to one Jira integration. Safe for concurrent use.
type Client struct {
	conn       Connection
	apiBase    string // .../rest/api/3 (Cloud) or .../rest/api/2 (DC)
	browseBase string
	http       *http.Client
	tokens     *TokenManager
	opts       clientOptions
	moves      *moveMemory // transitions and comment refusals per workflow (moves.go)
}

// Connection is the integration this client talks to.
func (c *Client) Connection() Connection { return c.conn }

// call describes one REST request.
type call struct {
	op     string // metrics label and error context, e.g. "create_issue"
	method string
	path   string // below apiBase, already escaped
	query  url.Values
	body   any
	out    any
	// readOnly marks a POST that changes nothing (search), so failures are
	// never ambiguous.
	readOnly bool
}

func (k call) idempotent() bool {
	return k.readOnly || k.method == http.MethodGet || k.method == http.MethodPut || k.method == http.MethodDelete
}

// do sends the call with a bearer token, refreshes once on 401 and retries
// once, and maps Jira's answer to the package's errors.
func (c *Client) do(ctx context.Context, k call) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.timeout)
	defer cancel()

	var body []byte
	if k.body != nil {
		var err error
		if body, err = json.Marshal(k.body); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	token, err := c.tokens.AccessToken(ctx, c.conn)
	if err != nil {
		return err
	}
	resp, err := c.send(ctx, k, body, token)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		drainClose(resp.Body)
		if token, err = c.tokens.ForceRefresh(ctx, c.conn, token); err != nil {
			return err
		}
		if resp, err = c.send(ctx, k, body, token); err != nil {
			return err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			drainClose(resp.Body)
			return ErrUnauthorized
		}
	}
	defer drainClose(resp.Body)
	return c.handle(resp, k)
}

func (c *Client) send(ctx context.Context, k call, body []byte, token string) (*http.Response, error) {
	u := c.apiBase + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteHeaders: func() { sent.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), k.method, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body == nil {
		req.Body, req.ContentLength, req.GetBody = http.NoBody, 0, nil
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	// DC: without this, XSRF checks can reject writes from non-browsers.
	req.Header.Set("X-Atlassian-Token", "no-check")
	resp, err := c.http.Do(req)
	if err != nil {
		c.opts.metrics.request(k.op, 0)
		if errors.Is(err, ErrForbiddenAddress) {
			return nil, redactURLError(err)
		}
		return nil, &TransportError{Op: k.op, Err: redactURLError(err), sent: sent.Load(), idempotent: k.idempotent()}
	}
	c.opts.metrics.request(k.op, resp.StatusCode)
	return resp, nil
}

// errorCollection is Jira's error body; message covers gateway bodies.
type errorCollection struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
	Message       string            `json:"message"`
}

func (c *Client) handle(resp *http.Response, k call) error {
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		if k.out == nil || status == http.StatusNoContent {
			return nil
		}
		return decodeJSON(resp, k.out)
	}
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		e := &RateLimitError{
			Status:     status,
			RetryAfter: parseRetryAfter(resp.Header, c.opts.now()),
			Reason:     resp.Header.Get("RateLimit-Reason"),
			ambiguous:  status == http.StatusServiceUnavailable && !k.idempotent(),
		}
		c.opts.metrics.rateLimit(e.Reason)
		return e
	case status >= 500:
		ec := readErrorCollection(resp)
		return &ServerError{Status: status, Messages: ec.messages(), ambiguous: !k.idempotent()}
	default:
		ec := readErrorCollection(resp)
		return &APIError{Status: status, Messages: ec.messages(), Fields: ec.Errors}
	}
}

// messages are Jira's error messages, or the gateway's single message
// (api.atlassian.com answers {"code":…,"message":…}).
func (ec errorCollection) messages() []string {
	if len(ec.ErrorMessages) == 0 && len(ec.Errors) == 0 && ec.Message != "" {
		return []string{ec.Message}
	}
	return ec.ErrorMessages
}

// readErrorCollection parses an ErrorCollection, or returns an empty one
// for bodies of another shape (HTML from a proxy, gateway JSON).
func readErrorCollection(resp *http.Response) errorCollection {
	var ec errorCollection
	body, err := readLimited(resp.Body)
	if err != nil || json.Unmarshal(body, &ec) != nil {
		return errorCollection{}
	}
	trimmed := ec.ErrorMessages[:0]
	for _, m := range ec.ErrorMessages {
		if m = strings.TrimSpace(m); m != "" {
			trimmed = append(trimmed, truncateRunes(m, 500))
		}
	}
	ec.ErrorMessages = trimmed
	for k, v := range ec.Errors {
		ec.Errors[k] = truncateRunes(v, 500)
	}
	if len(ec.Errors) == 0 {
		ec.Errors = nil
	}
	ec.Message = truncateRunes(ec.Message, 500)
	return ec
}

// parseRetryAfter reads Retry-After (seconds or an HTTP date), falling back
// to X-RateLimit-Reset (ISO-8601). Zero when neither says anything usable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil {
			return time.Duration(max(secs, 0)) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05.000Z0700", "2006-01-02T15:04Z07:00"} {
			if t, err := time.Parse(layout, v); err == nil {
				return max(t.Sub(now), 0)
			}
		}
	}
	return 0
}

// ----- endpoints -----

// ServerInfo returns /serverInfo through the authenticated API.
func (c *Client) ServerInfo(ctx context.Context) (ServerInfo, error) {
	var info ServerInfo
	if err := c.do(ctx, call{op: "server_info", method: http.MethodGet, path: "/serverInfo", out: &info}); err != nil {
		return ServerInfo{}, fmt.Errorf("jira: read server info: %w", err)
	}
	return info, nil
}

// Myself returns the connected Jira user.
func (c *Client) Myself(ctx context.Context) (User, error) {
	var u User
	if err := c.do(ctx, call{op: "myself", method: http.MethodGet, path: "/myself", out: &u}); err != nil {
		return User{}, fmt.Errorf("jira: read connected user: %w", err)
	}
	return u, nil
}

// maxPages bounds every pagination loop against a misbehaving server.
const maxPages = 500

// ListProjects returns every project the user can create issues in (all pages).
func (c *Client) ListProjects(ctx context.Context) ([]Project, error) {
	if !c.conn.isCloud() {
		var projects []Project
		err := c.do(ctx, call{op: "list_projects", method: http.MethodGet, path: "/project", out: &projects})
		if err != nil {
			return nil, fmt.Errorf("jira: list projects: %w", err)
		}
		return projects, nil
	}
	var all []Project
	startAt := 0
	for range maxPages {
		var page struct {
			Values []Project `json:"values"`
			IsLast bool      `json:"isLast"`
		}
		q := url.Values{
			"startAt":    {strconv.Itoa(startAt)},
			"maxResults": {"100"},
			"action":     {"create"},
			"orderBy":    {"key"},
		}
		err := c.do(ctx, call{op: "list_projects", method: http.MethodGet, path: "/project/search", query: q, out: &page})
		if err != nil {
			return nil, fmt.Errorf("jira: list projects (from %d): %w", startAt, err)
		}
		all = append(all, page.Values...)
		if page.IsLast || len(page.Values) == 0 {
			return all, nil
		}
		startAt += len(page.Values)
	}
	return nil, fmt.Errorf("jira: list projects: more than %d pages", maxPages)
}

// createMetaPage covers Cloud (issueTypes / fields) and DC (values) pages.
type createMetaPage[T any] struct {
	IssueTypes []T   `json:"issueTypes"`
	Fields     []T   `json:"fields"`
	Values     []T   `json:"values"`
	StartAt    int   `json:"startAt"`
	Total      *int  `json:"total"`
	IsLast     *bool `json:"isLast"`
}

func (p createMetaPage[T]) items() []T {
	switch {
	case len(p.IssueTypes) > 0:
		return p.IssueTypes
	case len(p.Fields) > 0:
		return p.Fields
	}
	return p.Values
}

func (p createMetaPage[T]) last(seen int) bool {
	if p.IsLast != nil {
		return *p.IsLast
	}
	if p.Total != nil {
		return seen >= *p.Total
	}
	return true
}

// fetchCreateMeta walks every page of a createmeta endpoint.
func fetchCreateMeta[T any](ctx context.Context, c *Client, op, path string) ([]T, error) {
	var all []T
	for range maxPages {
		var page createMetaPage[T]
		q := url.Values{"startAt": {strconv.Itoa(len(all))}, "maxResults": {"50"}}
		if err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, query: q, out: &page}); err != nil {
			return nil, err
		}
		items := page.items()
		all = append(all, items...)
		if len(items) == 0 || page.last(len(all)) {
			return all, nil
		}
	}
	return nil, fmt.Errorf("more than %d pages", maxPages)
}

// IssueTypes lists the issue types that can be created in a project.
func (c *Client) IssueTypes(ctx context.Context, projectKey string) ([]IssueType, error) {
	path := "/issue/createmeta/" + url.PathEscape(projectKey) + "/issuetypes"
	types, err := fetchCreateMeta[IssueType](ctx, c, "issue_types", path)
	if err != nil {
		return nil, fmt.Errorf("jira: list issue types of %s: %w", projectKey, err)
	}
	return types, nil
}

type createMetaField struct {
	FieldID         string      `json:"fieldId"`
	Key             string      `json:"key"`
	Name            string      `json:"name"`
	Required        bool        `json:"required"`
	HasDefaultValue bool        `json:"hasDefaultValue"`
	Schema          FieldSchema `json:"schema"`
	// Allowed values: custom options carry "value", components, priorities
	// and versions "name"; other types carry objects this ignores.
	AllowedValues []struct {
		ID    string `json:"id"`
		Value string `json:"value"`
		Name  string `json:"name"`
	} `json:"allowedValues"`
}

// IssueTypeFields lists the create-screen fields of an issue type in a project.
func (c *Client) IssueTypeFields(ctx context.Context, projectKey, issueTypeID string) ([]Field, error) {
	path := "/issue/createmeta/" + url.PathEscape(projectKey) + "/issuetypes/" + url.PathEscape(issueTypeID)
	raw, err := fetchCreateMeta[createMetaField](ctx, c, "issue_type_fields", path)
	if err != nil {
		return nil, fmt.Errorf("jira: list fields of issue type %s in %s: %w", issueTypeID, projectKey, err)
	}
	fields := make([]Field, 0, len(raw))
	for _, f := range raw {
		id := f.FieldID
		if id == "" {
			id = f.Key
		}
		fl := Field{ID: id, Name: f.Name, Required: f.Required, HasDefault: f.HasDefaultValue, Schema: f.Schema}
		for _, a := range f.AllowedValues {
			if a.ID != "" {
				fl.AllowedValues = append(fl.AllowedValues, FieldOption{ID: a.ID, Name: cmp.Or(a.Value, a.Name, a.ID)})
			}
		}
		fields = append(fields, fl)
	}
	return fields, nil
}

type statusJSON struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

func (s statusJSON) status() Status {
	return Status{ID: s.ID, Name: s.Name, CategoryKey: s.StatusCategory.Key}
}

// Statuses lists the workflow statuses of each issue type of a project.
func (c *Client) Statuses(ctx context.Context, projectKey string) ([]IssueTypeStatuses, error) {
	var raw []struct {
		ID       string       `json:"id"`
		Name     string       `json:"name"`
		Statuses []statusJSON `json:"statuses"`
	}
	path := "/project/" + url.PathEscape(projectKey) + "/statuses"
	if err := c.do(ctx, call{op: "statuses", method: http.MethodGet, path: path, out: &raw}); err != nil {
		return nil, fmt.Errorf("jira: list statuses of %s: %w", projectKey, err)
	}
	out := make([]IssueTypeStatuses, 0, len(raw))
	for _, it := range raw {
		its := IssueTypeStatuses{IssueTypeID: it.ID, IssueTypeName: it.Name}
		for _, s := range it.Statuses {
			its.Statuses = append(its.Statuses, s.status())
		}
		out = append(out, its)
	}
	return out, nil
}

// maxSummaryRunes is Jira's summary limit.
const maxSummaryRunes = 255

// cleanSummary folds newlines (Jira rejects them in a summary) and cuts the
// text to 255 characters without splitting a character.
func cleanSummary(s string) string {
	s = strings.Join(strings.Fields(cleanText(s)), " ")
	return truncateRunes(s, maxSummaryRunes)
}

// description renders a document for this deployment: ADF on Cloud, wiki on DC.
func (c *Client) description(d Document) any {
	if c.conn.isCloud() {
		return d.ADF()
	}
	return d.Wiki()
}

// ErrInvalidLabel: a label Jira would reject (empty, spaces, too long).
var ErrInvalidLabel = errors.New("invalid Jira label")

func checkLabels(labels []string) error {
	for _, l := range labels {
		if l == "" || strings.ContainsFunc(l, func(r rune) bool { return r == ' ' || r < 0x20 || r == 0x7f }) || utf8.RuneCountInString(l) > 255 {
			return fmt.Errorf("%w %q: labels must be 1–255 characters without spaces", ErrInvalidLabel, l)
		}
	}
	return nil
}

func (c *Client) browseURL(key string) string {
	if c.browseBase == "" {
		return ""
	}
	return c.browseBase + "/browse/" + url.PathEscape(key)
}

// CreateIssue creates an issue and returns its id, key and browse URL.
// A failure for which IsAmbiguous is true may still have created the issue:
// search its correlation label before creating again.
func (c *Client) CreateIssue(ctx context.Context, in IssueInput) (IssueRef, error) {
	if err := checkLabels(in.Labels); err != nil {
		return IssueRef{}, fmt.Errorf("jira: create issue in %s: %w", in.ProjectKey, err)
	}
	fields := map[string]any{
		"project":   map[string]string{"key": in.ProjectKey},
		"issuetype": map[string]string{"id": in.IssueTypeID},
		"summary":   cleanSummary(in.Summary),
	}
	if len(in.Labels) > 0 {
		fields["labels"] = in.Labels
	}
	if !in.Description.IsEmpty() {
		fields["description"] = c.description(in.Description)
	}
	if in.Reporter != nil {
		fields["reporter"] = c.ref(in.Reporter)
	}
	if in.Assignee != nil {
		fields["assignee"] = c.ref(in.Assignee)
	}
	for id, v := range in.Fields {
		if _, builtIn := fields[id]; !builtIn {
			fields[id] = v
		}
	}
	var created struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	err := c.do(ctx, call{op: "create_issue", method: http.MethodPost, path: "/issue", body: map[string]any{"fields": fields}, out: &created})
	if err != nil {
		return IssueRef{}, fmt.Errorf("jira: create issue in %s: %w", in.ProjectKey, err)
	}
	return IssueRef{ID: created.ID, Key: created.Key, URL: c.browseURL(created.Key)}, nil
}

type issueJSON struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Summary string     `json:"summary"`
		Status  statusJSON `json:"status"`
		Labels  []string   `json:"labels"`
	} `json:"fields"`
}

func (c *Client) issueState(i issueJSON) IssueState {
	return IssueState{
		IssueRef:       IssueRef{ID: i.ID, Key: i.Key, URL: c.browseURL(i.Key)},
		Summary:        i.Fields.Summary,
		Status:         i.Fields.Status.Name,
		StatusCategory: i.Fields.Status.StatusCategory.Key,
		Labels:         i.Fields.Labels,
	}
}

// GetIssue reads an issue's status and labels. ErrNotFound means missing or
// not visible to the connected user.
func (c *Client) GetIssue(ctx context.Context, key string) (IssueState, error) {
	var raw issueJSON
	q := url.Values{"fields": {"summary,status,labels"}}
	if err := c.do(ctx, call{op: "get_issue", method: http.MethodGet, path: "/issue/" + url.PathEscape(key), query: q, out: &raw}); err != nil {
		return IssueState{}, fmt.Errorf("jira: read issue %s: %w", key, err)
	}
	return c.issueState(raw), nil
}

// AddComment adds a comment (ADF on Cloud, wiki markup on DC).
func (c *Client) AddComment(ctx context.Context, key string, body Document) error {
	path := "/issue/" + url.PathEscape(key) + "/comment"
	if err := c.do(ctx, call{op: "add_comment", method: http.MethodPost, path: path, body: map[string]any{"body": c.description(body)}}); err != nil {
		return fmt.Errorf("jira: comment on %s: %w", key, err)
	}
	return nil
}

// JQLString quotes s as a JQL string literal.
func JQLString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// maxReconcile is Jira's limit on reconcileIssues.
const maxReconcile = 50

// FindIssuesByLabel finds the issues of a project carrying label, newest
// first. reconcileIDs (issue ids just created) make Cloud's eventually
// consistent search include them.
func (c *Client) FindIssuesByLabel(ctx context.Context, projectKey, label string, reconcileIDs []string) ([]IssueRef, error) {
	jql := "project = " + JQLString(projectKey) + " AND labels = " + JQLString(label) + " ORDER BY created DESC"
	var (
		issues []issueJSON
		err    error
	)
	if c.conn.isCloud() {
		issues, err = c.searchCloud(ctx, jql, reconcileIDs)
	} else {
		issues, err = c.searchDC(ctx, jql)
	}
	if err != nil {
		return nil, fmt.Errorf("jira: search %s for label %s: %w", projectKey, label, err)
	}
	refs := make([]IssueRef, 0, len(issues))
	for _, i := range issues {
		refs = append(refs, IssueRef{ID: i.ID, Key: i.Key, URL: c.browseURL(i.Key)})
	}
	return refs, nil
}

var searchFields = []string{"summary", "status", "labels"}

func (c *Client) searchCloud(ctx context.Context, jql string, reconcileIDs []string) ([]issueJSON, error) {
	reconcile := make([]int64, 0, len(reconcileIDs))
	for _, id := range reconcileIDs {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("reconcile issue id %q is not numeric", id)
		}
		if len(reconcile) < maxReconcile {
			reconcile = append(reconcile, n)
		}
	}
	var all []issueJSON
	token := ""
	for range maxPages {
		body := map[string]any{"jql": jql, "fields": searchFields, "maxResults": 50}
		if len(reconcile) > 0 {
			body["reconcileIssues"] = reconcile
		}
		if token != "" {
			body["nextPageToken"] = token
		}
		var page struct {
			Issues        []issueJSON `json:"issues"`
			NextPageToken string      `json:"nextPageToken"`
			IsLast        *bool       `json:"isLast"`
		}
		if err := c.do(ctx, call{op: "search", method: http.MethodPost, path: "/search/jql", body: body, out: &page, readOnly: true}); err != nil {
			return nil, err
		}
		all = append(all, page.Issues...)
		if page.NextPageToken == "" || page.NextPageToken == token || (page.IsLast != nil && *page.IsLast) {
			return all, nil
		}
		token = page.NextPageToken
	}
	return nil, fmt.Errorf("more than %d pages", maxPages)
}

func (c *Client) searchDC(ctx context.Context, jql string) ([]issueJSON, error) {
	var all []issueJSON
	for range maxPages {
		q := url.Values{
			"jql":        {jql},
			"fields":     {strings.Join(searchFields, ",")},
			"startAt":    {strconv.Itoa(len(all))},
			"maxResults": {"50"},
		}
		var page struct {
			Issues []issueJSON `json:"issues"`
			Total  int         `json:"total"`
		}
		if err := c.do(ctx, call{op: "search", method: http.MethodGet, path: "/search", query: q, out: &page}); err != nil {
			return nil, err
		}
		all = append(all, page.Issues...)
		if len(page.Issues) == 0 || len(all) >= page.Total {
			return all, nil
		}
	}
	return nil, fmt.Errorf("more than %d pages", maxPages)
}
