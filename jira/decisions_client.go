package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Reading what people did in Jira (design.md §9): the changelog with its
// authors, comments with theirs, searches by update time, and (Cloud) the
// app's dynamic webhooks.

// StatusChange is one status change of an issue, from its changelog.
type StatusChange struct {
	ID            string
	AuthorID      string // Cloud accountId; Data Center user key
	AuthorDisplay string
	Created       time.Time
	From, To      string // status names
}

// IssueHistory is an issue's state and its status changes, oldest first.
type IssueHistory struct {
	IssueState
	Changes []StatusChange
}

type changelogJSON struct {
	ID      string   `json:"id"`
	Author  userJSON `json:"author"`
	Created string   `json:"created"`
	Items   []struct {
		Field      string `json:"field"`
		FieldID    string `json:"fieldId"`
		FromString string `json:"fromString"`
		ToString   string `json:"toString"`
	} `json:"items"`
}

type userJSON struct {
	AccountID   string `json:"accountId"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// id is how a Privilege identity names the user: the Cloud accountId or the
// Data Center user key.
func (u userJSON) id() string {
	if u.AccountID != "" {
		return u.AccountID
	}
	return u.Key
}

// jiraTimeLayouts are the timestamp layouts Jira uses.
var jiraTimeLayouts = []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05.000Z07:00", time.RFC3339Nano}

func parseJiraTime(s string) time.Time {
	for _, l := range jiraTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func statusChanges(entries []changelogJSON) []StatusChange {
	var out []StatusChange
	for _, e := range entries {
		for _, it := range e.Items {
			if it.FieldID == "status" || (it.FieldID == "" && strings.EqualFold(it.Field, "status")) {
				out = append(out, StatusChange{ID: e.ID, AuthorID: e.Author.id(), AuthorDisplay: e.Author.DisplayName,
					Created: parseJiraTime(e.Created), From: it.FromString, To: it.ToString})
			}
		}
	}
	return out
}

// maxHistory is how many changelog entries are read (the latest ones).
const maxHistory = 100

// IssueHistory reads the issue's status and its status changes. Cloud pages
// GET /issue/{key}/changelog (the latest 100 entries); Data Center reads the
// issue with expand=changelog.
func (c *Client) IssueHistory(ctx context.Context, key string) (IssueHistory, error) {
	var raw struct {
		issueJSON
		Changelog struct {
			Histories []changelogJSON `json:"histories"`
		} `json:"changelog"`
	}
	q := url.Values{"fields": {"summary,status,labels"}}
	if !c.conn.isCloud() {
		q.Set("expand", "changelog")
	}
	path := "/issue/" + url.PathEscape(key)
	if err := c.do(ctx, call{op: "get_issue", method: http.MethodGet, path: path, query: q, out: &raw}); err != nil {
		return IssueHistory{}, fmt.Errorf("jira: read issue %s: %w", key, err)
	}
	h := IssueHistory{IssueState: c.issueState(raw.issueJSON)}
	if !c.conn.isCloud() {
		h.Changes = statusChanges(raw.Changelog.Histories)
		return h, nil
	}
	page, err := c.changelogPage(ctx, key, 0)
	if err != nil {
		return IssueHistory{}, err
	}
	if page.Total > len(page.Values) && page.Total > maxHistory {
		if page, err = c.changelogPage(ctx, key, page.Total-maxHistory); err != nil {
			return IssueHistory{}, err
		}
	}
	h.Changes = statusChanges(page.Values)
	return h, nil
}

type changelogPage struct {
	Values []changelogJSON `json:"values"`
	Total  int             `json:"total"`
}

func (c *Client) changelogPage(ctx context.Context, key string, startAt int) (changelogPage, error) {
	var page changelogPage
	q := url.Values{"startAt": {strconv.Itoa(startAt)}, "maxResults": {strconv.Itoa(maxHistory)}}
	path := "/issue/" + url.PathEscape(key) + "/changelog"
	if err := c.do(ctx, call{op: "changelog", method: http.MethodGet, path: path, query: q, out: &page}); err != nil {
		return page, fmt.Errorf("jira: read changelog of %s: %w", key, err)
	}
	return page, nil
}

// CommentInfo is a comment's author, time and plain text.
type CommentInfo struct {
	AuthorID string
	Created  time.Time
	Text     string
}

// Comments reads the issue's latest 100 comments, newest first.
func (c *Client) Comments(ctx context.Context, key string) ([]CommentInfo, error) {
	var page struct {
		Comments []struct {
			Author  userJSON        `json:"author"`
			Created string          `json:"created"`
			Body    json.RawMessage `json:"body"`
		} `json:"comments"`
	}
	q := url.Values{"orderBy": {"-created"}, "maxResults": {"100"}}
	if err := c.do(ctx, call{op: "list_comments", method: http.MethodGet, path: "/issue/" + url.PathEscape(key) + "/comment", query: q, out: &page}); err != nil {
		return nil, fmt.Errorf("jira: read comments of %s: %w", key, err)
	}
	out := make([]CommentInfo, 0, len(page.Comments))
	for _, cm := range page.Comments {
		out = append(out, CommentInfo{AuthorID: cm.Author.id(), Created: parseJiraTime(cm.Created), Text: bodyText(cm.Body)})
	}
	// Newest first, whatever order the server used.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Created.After(out[j-1].Created); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// bodyText is a comment body as plain text: a wiki-markup string as is, an
// ADF document's text nodes joined (paragraphs by newlines).
func bodyText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if t, ok := x["text"].(string); ok && x["type"] == "text" {
				b.WriteString(t)
			}
			walk(x["content"])
			if x["type"] == "paragraph" || x["type"] == "heading" {
				b.WriteString("\n")
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	return strings.TrimSpace(b.String())
}

// UpdatedIssue is an issue found by SearchUpdatedSince.
type UpdatedIssue struct {
	Key     string
	Updated time.Time
}

type updatedJSON struct {
	Key    string `json:"key"`
	Fields struct {
		Updated string `json:"updated"`
	} `json:"fields"`
}

// SearchUpdatedSince finds the product's issues of the projects updated within the last
// window (JQL relative time, so the user's time zone does not matter), least
// recently updated first, reading at most pages pages of 50; complete is
// false when more remained.
func (c *Client) SearchUpdatedSince(ctx context.Context, projectKeys []string, window time.Duration, pages int) (found []UpdatedIssue, complete bool, err error) {
	minutes := max(int((window+time.Minute-1)/time.Minute), 1)
	quoted := make([]string, 0, len(projectKeys))
	for _, k := range projectKeys {
		quoted = append(quoted, JQLString(k))
	}
	jql := "project IN (" + strings.Join(quoted, ", ") + ") AND labels = " + JQLString(ProductLabel) +
		" AND updated >= " + JQLString("-"+strconv.Itoa(minutes)+"m") + " ORDER BY updated ASC"
	var issues []updatedJSON
	if c.conn.isCloud() {
		issues, complete, err = c.searchCloudPages(ctx, jql, pages)
	} else {
		issues, complete, err = c.searchDCPages(ctx, jql, pages)
	}
	if err != nil {
		return nil, false, fmt.Errorf("jira: search recently updated issues: %w", err)
	}
	for _, i := range issues {
		found = append(found, UpdatedIssue{Key: i.Key, Updated: parseJiraTime(i.Fields.Updated)})
	}
	return found, complete, nil
}

func (c *Client) searchCloudPages(ctx context.Context, jql string, pages int) ([]updatedJSON, bool, error) {
	var all []updatedJSON
	token := ""
	for range pages {
		body := map[string]any{"jql": jql, "fields": []string{"updated"}, "maxResults": 50}
		if token != "" {
			body["nextPageToken"] = token
		}
		var page struct {
			Issues        []updatedJSON `json:"issues"`
			NextPageToken string        `json:"nextPageToken"`
		}
		if err := c.do(ctx, call{op: "search", method: http.MethodPost, path: "/search/jql", body: body, out: &page, readOnly: true}); err != nil {
			return nil, false, err
		}
		all = append(all, page.Issues...)
		if page.NextPageToken == "" || page.NextPageToken == token {
			return all, true, nil
		}
		token = page.NextPageToken
	}
	return all, false, nil
}

func (c *Client) searchDCPages(ctx context.Context, jql string, pages int) ([]updatedJSON, bool, error) {
	var all []updatedJSON
	for range pages {
		q := url.Values{"jql": {jql}, "fields": {"updated"}, "startAt": {strconv.Itoa(len(all))}, "maxResults": {"50"}}
		var page struct {
			Issues []updatedJSON `json:"issues"`
			Total  int           `json:"total"`
		}
		if err := c.do(ctx, call{op: "search", method: http.MethodGet, path: "/search", query: q, out: &page}); err != nil {
			return nil, false, err
		}
		all = append(all, page.Issues...)
		if len(page.Issues) == 0 || len(all) >= page.Total {
			return all, true, nil
		}
	}
	return all, false, nil
}

// ----- Cloud dynamic webhooks -----

// RegisteredWebhook is one of the app's dynamic webhooks on the site.
type RegisteredWebhook struct {
	ID        int64
	JQL       string
	ExpiresAt time.Time
}

// RegisterWebhook registers jira:issue_updated deliveries to target for the
// issues jql selects (Jira's restricted subset: no labels). Jira refusing the
// filter is an *APIError with its message.
func (c *Client) RegisterWebhook(ctx context.Context, target, jql string) (int64, error) {
	body := map[string]any{"url": target, "webhooks": []map[string]any{{
		"events": []string{"jira:issue_updated"}, "jqlFilter": jql, "fieldIdsFilter": []string{"status"},
	}}}
	var out struct {
		Results []struct {
			ID     int64    `json:"createdWebhookId"`
			Errors []string `json:"errors"`
		} `json:"webhookRegistrationResult"`
	}
	if err := c.do(ctx, call{op: "register_webhook", method: http.MethodPost, path: "/webhook", body: body, out: &out}); err != nil {
		return 0, fmt.Errorf("jira: register webhook: %w", err)
	}
	if len(out.Results) != 1 || out.Results[0].ID == 0 {
		msg := "no webhook id in Jira's answer"
		if len(out.Results) == 1 && len(out.Results[0].Errors) > 0 {
			msg = strings.Join(out.Results[0].Errors, "; ")
		}
		return 0, fmt.Errorf("jira: register webhook: %w", &APIError{Status: http.StatusBadRequest, Messages: []string{msg}})
	}
	return out.Results[0].ID, nil
}

// ListWebhooks lists the app's live dynamic webhooks on the site.
func (c *Client) ListWebhooks(ctx context.Context) ([]RegisteredWebhook, error) {
	var all []RegisteredWebhook
	for range maxPages {
		var page struct {
			Values []struct {
				ID             int64  `json:"id"`
				JQLFilter      string `json:"jqlFilter"`
				ExpirationDate int64  `json:"expirationDate"`
			} `json:"values"`
			IsLast bool `json:"isLast"`
		}
		q := url.Values{"startAt": {strconv.Itoa(len(all))}, "maxResults": {"100"}}
		if err := c.do(ctx, call{op: "list_webhooks", method: http.MethodGet, path: "/webhook", query: q, out: &page}); err != nil {
			return nil, fmt.Errorf("jira: list webhooks: %w", err)
		}
		for _, v := range page.Values {
			all = append(all, RegisteredWebhook{ID: v.ID, JQL: v.JQLFilter, ExpiresAt: time.UnixMilli(v.ExpirationDate).UTC()})
		}
		if page.IsLast || len(page.Values) == 0 {
			return all, nil
		}
	}
	return nil, fmt.Errorf("jira: list webhooks: more than %d pages", maxPages)
}

// RefreshWebhooks extends the webhooks' life and returns their new expiry.
func (c *Client) RefreshWebhooks(ctx context.Context, ids []int64) (time.Time, error) {
	var out struct {
		ExpirationDate int64 `json:"expirationDate"`
	}
	if err := c.do(ctx, call{op: "refresh_webhooks", method: http.MethodPut, path: "/webhook/refresh", body: map[string]any{"webhookIds": ids}, out: &out}); err != nil {
		return time.Time{}, fmt.Errorf("jira: refresh webhooks: %w", err)
	}
	return time.UnixMilli(out.ExpirationDate).UTC(), nil
}

// DeleteWebhooks removes the webhooks.
func (c *Client) DeleteWebhooks(ctx context.Context, ids []int64) error {
	if err := c.do(ctx, call{op: "delete_webhooks", method: http.MethodDelete, path: "/webhook", body: map[string]any{"webhookIds": ids}}); err != nil {
		return fmt.Errorf("jira: delete webhooks: %w", err)
	}
	return nil
}
