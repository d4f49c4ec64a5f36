package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"privilege/models"
)

// People in Jira (design.md §8): proving who a user is in Jira (a consent
// whose tokens are thrown away), and the reporter, assignee and watchers of
// a task.

// Scopes of the identity consent: Cloud's User Identity API scope (the
// operator's app must list it), and DC's READ, which lets /myself answer.
const (
	CloudIdentityScopes = "read:me"
	DCIdentityScopes    = "READ"
)

// Identity is a Jira user proven by their consent. AccountID is the Cloud
// accountId or the Data Center user key; Name is the DC username.
type Identity struct {
	AccountID   string
	Name        string
	DisplayName string
}

// CloudIdentityAuthCodeURL is the Atlassian consent page asking only read:me.
func (o *OAuth) CloudIdentityAuthCodeURL(state string) string {
	cfg := o.cloudConfig()
	cfg.Scopes = strings.Fields(CloudIdentityScopes)
	return cfg.AuthCodeURL(state,
		oauth2.SetAuthURLParam("audience", "api.atlassian.com"),
		oauth2.SetAuthURLParam("prompt", "consent"),
	)
}

// DCIdentityAuthCodeURL is the Jira DC consent page asking READ, with PKCE S256.
func (o *OAuth) DCIdentityAuthCodeURL(baseURL, clientID, state, verifier string) string {
	cfg := o.dcConfig(baseURL, clientID, "")
	cfg.Scopes = strings.Fields(DCIdentityScopes)
	return cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// CloudIdentity trades the code for a token, asks {api}/me who consented,
// and forgets the token.
func (o *OAuth) CloudIdentity(ctx context.Context, code string) (Identity, error) {
	tok, err := o.ExchangeCloud(ctx, code)
	if err != nil {
		return Identity{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, oauthTimeout)
	defer cancel()
	var me struct {
		AccountID string `json:"account_id"`
		Name      string `json:"name"`
		Nickname  string `json:"nickname"`
	}
	if err := getJSON(ctx, o.cfg.HTTPClient, o.cfg.APIURL+"/me", tok.AccessToken, &me); err != nil {
		return Identity{}, fmt.Errorf("jira: read the Atlassian account (/me): %w", err)
	}
	if me.AccountID == "" {
		return Identity{}, errors.New("jira: read the Atlassian account (/me): the answer has no account_id")
	}
	return Identity{AccountID: me.AccountID, DisplayName: firstNonEmpty(me.Name, me.Nickname, me.AccountID)}, nil
}

// DCIdentity trades the code (and PKCE verifier) for a token, asks
// /rest/api/2/myself who consented, and forgets the token.
func (o *OAuth) DCIdentity(ctx context.Context, baseURL, clientID, clientSecret, code, verifier string) (Identity, error) {
	tok, err := o.ExchangeDC(ctx, baseURL, clientID, clientSecret, code, verifier)
	if err != nil {
		return Identity{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, oauthTimeout)
	defer cancel()
	var me User
	if err := getJSON(ctx, o.cfg.HTTPClient, strings.TrimRight(baseURL, "/")+"/rest/api/2/myself", tok.AccessToken, &me); err != nil {
		return Identity{}, fmt.Errorf("jira: read the Jira user (/myself): %w", err)
	}
	if me.Key == "" || me.Name == "" {
		return Identity{}, errors.New("jira: read the Jira user (/myself): the answer has no key or name")
	}
	return Identity{AccountID: me.Key, Name: me.Name, DisplayName: firstNonEmpty(me.DisplayName, me.Name)}, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Person is a user on a task: Cloud refers to accountId, DC to the username.
type Person struct {
	AccountID   string
	Name        string
	DisplayName string
}

// PersonOf is the Person of a linked identity.
func PersonOf(id models.JiraIdentity) *Person {
	return &Person{AccountID: id.AccountID, Name: id.Name, DisplayName: id.DisplayName}
}

// ref is the user reference REST takes: {"accountId"} on Cloud, {"name"} on DC.
func (c *Client) ref(p *Person) map[string]string {
	if c.conn.isCloud() {
		return map[string]string{"accountId": p.AccountID}
	}
	return map[string]string{"name": p.Name}
}

func (c *Client) userID(p *Person) string {
	if c.conn.isCloud() {
		return p.AccountID
	}
	return p.Name
}

// AssignIssue sets the issue's assignee (PUT /issue/{key}/assignee).
func (c *Client) AssignIssue(ctx context.Context, key string, p *Person) error {
	err := c.do(ctx, call{op: "assign_issue", method: http.MethodPut, path: "/issue/" + url.PathEscape(key) + "/assignee", body: c.ref(p)})
	if err != nil {
		return fmt.Errorf("jira: assign %s to %s: %w", key, p.DisplayName, err)
	}
	return nil
}

// AddWatcher adds a watcher (POST /issue/{key}/watchers, a JSON string
// body); adding one who already watches changes nothing.
func (c *Client) AddWatcher(ctx context.Context, key string, p *Person) error {
	err := c.do(ctx, call{op: "add_watcher", method: http.MethodPost, path: "/issue/" + url.PathEscape(key) + "/watchers", body: c.userID(p)})
	if err != nil {
		return fmt.Errorf("jira: add %s as a watcher of %s: %w", p.DisplayName, key, err)
	}
	return nil
}

// MyPermissions reports which of keys the connected user holds in a project
// (GET /mypermissions).
func (c *Client) MyPermissions(ctx context.Context, projectKey string, keys []string) (map[string]bool, error) {
	var out struct {
		Permissions map[string]struct {
			HavePermission bool `json:"havePermission"`
		} `json:"permissions"`
	}
	q := url.Values{"projectKey": {projectKey}, "permissions": {strings.Join(keys, ",")}}
	if err := c.do(ctx, call{op: "my_permissions", method: http.MethodGet, path: "/mypermissions", query: q, out: &out}); err != nil {
		return nil, fmt.Errorf("jira: read permissions in %s: %w", projectKey, err)
	}
	have := map[string]bool{}
	for _, k := range keys {
		have[k] = out.Permissions[k].HavePermission
	}
	return have, nil
}

// FieldRefusal is Jira's 400 message for one field of a create, if that is
// what it refused.
func FieldRefusal(err error, field string) (string, bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ae.Fields[field] != "" {
		return ae.Fields[field], true
	}
	return "", false
}

// Refusal is Jira's definite "no" to a people call (assign, watch): a 4xx
// other than rate limiting, a 401 that a fresh token did not cure (Data
// Center answers 401 to a missing permission there), or a missing user.
func Refusal(err error) (string, bool) {
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		msg := strings.Join(ae.Messages, " ")
		for _, v := range ae.Fields {
			msg = strings.TrimSpace(msg + " " + v)
		}
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d", ae.Status)
		}
		return msg, true
	case errors.Is(err, ErrUnauthorized):
		return "HTTP 401: Jira says the connected user may not do this", true
	case errors.Is(err, ErrNotFound):
		return "HTTP 404: the issue or the user was not found", true
	}
	return "", false
}
