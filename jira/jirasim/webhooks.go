package jirasim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Changelog, webhooks and moves made by people (design.md §9):
//   - every status change is a changelog entry with its author
//     (GET /issue/{key}/changelog on Cloud, expand=changelog on both);
//   - Cloud: dynamic webhooks of the operator's app (POST/GET/DELETE
//     /rest/api/3/webhook, PUT /rest/api/3/webhook/refresh), 30-day expiry on
//     the simulator's clock, deliveries signed with an HS256 JWT made with the
//     app's client secret;
//   - Data Center: admin webhooks (AddWebhook) signed with X-Hub-Signature;
//   - MoveAs moves an issue as a given Jira user (tests, the demo's issue page);
//   - DropDeliveries loses deliveries, as when Jira cannot reach the app.

// WebhookLifetime is how long a dynamic webhook lives without a refresh.
const WebhookLifetime = 30 * 24 * time.Hour

// accessWebhook needs read:jira-work and manage:jira-webhook (Cloud only).
const accessWebhook access = 100

type historyEntry struct {
	id       string
	author   *simUser
	created  time.Time
	from, to Status
}

// dynamicWebhook is one registered dynamic webhook of the app.
type dynamicWebhook struct {
	id      int64
	url     string
	jql     string
	events  []string
	fields  []string
	expires time.Time
	keys    []string // projects the JQL selects
}

// adminWebhook is a Data Center admin webhook.
type adminWebhook struct{ url, secret string }

// webhookSet is an instance's webhooks; guarded by sim.mu.
type webhookSet struct {
	dynamic   []*dynamicWebhook
	nextID    int64
	admin     []adminWebhook
	drop      bool
	nextEntry int
	sent      int
	dropped   int
	failed    []obj // deliveries the receiver did not accept (Cloud's failed list)
}

// authorOf is a comment's author; nil means the consenting admin.
func authorOf(u *simUser, is *issue) User {
	if u == nil {
		if list := is.project.inst.users(); len(list) > 0 {
			return list[0].User
		}
		return User{}
	}
	return u.User
}

func (in *instance) webhookRoutes(h func(pattern string, acc access, fn func(*call) reply)) {
	h("GET /issue/{key}/changelog", accessRead, in.getChangelog)
	if in.flavor != flavorCloud {
		return
	}
	h("POST /webhook", accessWebhook, in.registerWebhooks)
	h("GET /webhook", accessWebhook, in.listWebhooks)
	h("DELETE /webhook", accessWebhook, in.deleteWebhooks)
	h("PUT /webhook/refresh", accessWebhook, in.refreshWebhooks)
	h("GET /webhook/failed", accessWebhook, in.failedWebhooks)
}

// recordStatusChange appends a changelog entry and notifies webhooks.
func (in *instance) recordStatusChange(is *issue, author *simUser, from, to Status, now time.Time) {
	if author == nil {
		author = in.users()[0]
	}
	in.hooks.nextEntry++
	e := &historyEntry{id: strconv.Itoa(10100 + in.hooks.nextEntry), author: author, created: now, from: from, to: to}
	is.history = append(is.history, e)
	in.notify(is, "issue_generic", author, e, now)
}

func (in *instance) notifyComment(is *issue, author *simUser, now time.Time) {
	if author == nil {
		author = in.users()[0]
	}
	in.notify(is, "issue_commented", author, nil, now)
}

func (in *instance) historyBean(e *historyEntry) obj {
	return obj{
		"id": e.id, "author": in.authorBean(e.author), "created": jiraTime(e.created),
		"items": []obj{{"field": "status", "fieldtype": "jira", "fieldId": "status",
			"from": e.from.ID, "fromString": e.from.Name, "to": e.to.ID, "toString": e.to.Name}},
	}
}

// changelogBean is the issue's changelog as expand=changelog embeds it.
func (in *instance) changelogBean(is *issue) obj {
	hs := []obj{}
	for _, e := range is.history {
		hs = append(hs, in.historyBean(e))
	}
	return obj{"startAt": 0, "maxResults": len(hs), "total": len(hs), "histories": hs}
}

// getChangelog is GET /issue/{key}/changelog: a PageBeanChangelog, oldest
// first (Cloud; DC 10.3 has no such path and answers 404 like Jira).
func (in *instance) getChangelog(c *call) reply {
	if in.flavor != flavorCloud {
		return errorReply(http.StatusNotFound, "null for uri: "+c.r.URL.Path)
	}
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	start, size, valid := pageParams(c, 100, 100)
	if !valid {
		return errorReply(http.StatusBadRequest, "startAt and maxResults must be non-negative numbers.")
	}
	items := []obj{}
	for _, e := range is.history {
		items = append(items, in.historyBean(e))
	}
	end := min(start+size, len(items))
	page := []obj{}
	if start < len(items) {
		page = items[start:end]
	}
	return ok(obj{
		"self":    in.restBase() + "/issue/" + is.key + "/changelog?startAt=" + strconv.Itoa(start) + "&maxResults=" + strconv.Itoa(size),
		"startAt": start, "maxResults": size, "total": len(items), "isLast": end >= len(items), "values": page,
	})
}

// ----- moves by people -----

// MoveAs moves the issue to the status named toStatus through a transition
// available from its current status, as the Jira user u (by account id, DC
// username or key), with an optional comment given on the transition — as a
// person does in Jira's issue view. Webhooks are notified.
func (in *instance) MoveAs(key, toStatus string, u User, comment string) error {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	is := in.issue(key)
	if is == nil {
		return fmt.Errorf("jirasim: no issue %s", key)
	}
	author := pickUser(in.users(), u.ID())
	if author == nil && u.Key != "" {
		author = pickUser(in.users(), u.Key)
	}
	if author == nil {
		return fmt.Errorf("jirasim: no Jira user %q", u.ID())
	}
	for _, t := range is.project.wf.Transitions {
		if !strings.EqualFold(t.To, toStatus) || !t.available(is.status) {
			continue
		}
		var comments []any
		if strings.TrimSpace(comment) != "" {
			comments = append(comments, in.textBody(comment))
		}
		in.applyTransition(is, t, "", author, comments, in.sim.now())
		return nil
	}
	return fmt.Errorf("jirasim: %s cannot move from %q to %q", key, is.status, toStatus)
}

// CommentAs adds a comment as the Jira user u.
func (in *instance) CommentAs(key string, u User, text string) error {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	is := in.issue(key)
	author := pickUser(in.users(), u.ID())
	if is == nil || author == nil {
		return fmt.Errorf("jirasim: no issue %s or user %q", key, u.ID())
	}
	in.appendComment(is, in.textBody(text), in.sim.now()).author = author
	in.notifyComment(is, author, in.sim.now())
	return nil
}

// textBody is plain text as a comment body: ADF on Cloud, a string on DC.
func (in *instance) textBody(text string) any {
	if in.flavor == flavorDC {
		return text
	}
	return map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": text}}},
	}}
}

// MoveAs moves an issue of the site as a Jira user; see instance.MoveAs.
func (site *Site) MoveAs(key, toStatus string, u User, comment string) error {
	return site.inst.MoveAs(key, toStatus, u, comment)
}

// CommentAs comments on an issue of the site as a Jira user.
func (site *Site) CommentAs(key string, u User, text string) error {
	return site.inst.CommentAs(key, u, text)
}

// MoveAs moves an issue of the instance as a Jira user; see instance.MoveAs.
func (d *DataCenter) MoveAs(key, toStatus string, u User, comment string) error {
	return d.inst.MoveAs(key, toStatus, u, comment)
}

// CommentAs comments on an issue of the instance as a Jira user.
func (d *DataCenter) CommentAs(key string, u User, text string) error {
	return d.inst.CommentAs(key, u, text)
}

// ----- Cloud dynamic webhooks -----

var (
	jqlProjectEq = regexp.MustCompile(`(?i)^project\s*=\s*"?([A-Za-z][A-Za-z0-9_]*)"?$`)
	jqlProjectIn = regexp.MustCompile(`(?i)^project\s+in\s*\(([^)]*)\)$`)
	whJQLClause  = regexp.MustCompile(`^\s*([A-Za-z.\[\]]+)`)
)

// webhookJQLProjects checks a jqlFilter against the subset Jira allows for
// dynamic webhooks and returns the projects it selects. Only project = and
// project IN are supported by the simulator; other allowed clauses and any
// unsupported one (labels, …) give Jira's message.
func webhookJQLProjects(jql string) ([]string, string) {
	jql = strings.TrimSpace(jql)
	if m := jqlProjectEq.FindStringSubmatch(jql); m != nil {
		return []string{strings.ToUpper(m[1])}, ""
	}
	if m := jqlProjectIn.FindStringSubmatch(jql); m != nil {
		var keys []string
		for _, k := range strings.Split(m[1], ",") {
			if k = strings.Trim(strings.TrimSpace(k), `"`); k != "" {
				keys = append(keys, strings.ToUpper(k))
			}
		}
		if len(keys) > 0 {
			return keys, ""
		}
	}
	clause := "jql"
	if m := whJQLClause.FindStringSubmatch(jql); m != nil {
		clause = m[1]
	}
	return nil, "The clause " + clause + " is unsupported"
}

func (in *instance) purgeExpired(now time.Time) {
	in.hooks.dynamic = slices.DeleteFunc(in.hooks.dynamic, func(w *dynamicWebhook) bool { return !now.Before(w.expires) })
}

// registerWebhooks is POST /webhook: one result per webhook, in order.
func (in *instance) registerWebhooks(c *call) reply {
	var body struct {
		URL      string `json:"url"`
		Webhooks []struct {
			Events         []string `json:"events"`
			JQLFilter      string   `json:"jqlFilter"`
			FieldIDsFilter []string `json:"fieldIdsFilter"`
		} `json:"webhooks"`
	}
	if err := json.Unmarshal(c.body, &body); err != nil || body.URL == "" || body.Webhooks == nil {
		return errorReply(http.StatusBadRequest, "Invalid request payload: url and webhooks are required.")
	}
	in.purgeExpired(c.now)
	for _, w := range in.hooks.dynamic {
		if w.url != body.URL {
			return errorReply(http.StatusBadRequest, "Only a single URL per app is allowed to be registered.")
		}
	}
	results := []obj{}
	for _, wd := range body.Webhooks {
		keys, msg := webhookJQLProjects(wd.JQLFilter)
		var errs []string
		if msg != "" {
			errs = append(errs, msg)
		}
		if len(wd.Events) == 0 {
			errs = append(errs, "At least one event is required.")
		}
		for _, e := range wd.Events {
			if !slices.Contains([]string{"jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created", "comment_updated", "comment_deleted", "issue_property_set", "issue_property_deleted"}, e) {
				errs = append(errs, "Unsupported event: "+e)
			}
		}
		if len(errs) > 0 {
			results = append(results, obj{"errors": errs})
			continue
		}
		in.hooks.nextID++
		id := 1000 + in.hooks.nextID - 1
		in.hooks.dynamic = append(in.hooks.dynamic, &dynamicWebhook{id: id, url: body.URL, jql: wd.JQLFilter, events: wd.Events,
			fields: wd.FieldIDsFilter, expires: c.now.Add(WebhookLifetime), keys: keys})
		results = append(results, obj{"createdWebhookId": id})
	}
	return ok(obj{"webhookRegistrationResult": results})
}

func (in *instance) listWebhooks(c *call) reply {
	start, size, valid := pageParams(c, 100, 100)
	if !valid {
		return errorReply(http.StatusBadRequest, "startAt and maxResults must be non-negative numbers.")
	}
	in.purgeExpired(c.now)
	all := []obj{}
	for _, w := range in.hooks.dynamic {
		b := obj{"id": w.id, "url": w.url, "jqlFilter": w.jql, "events": w.events, "expirationDate": w.expires.UnixMilli()}
		if len(w.fields) > 0 {
			b["fieldIdsFilter"] = w.fields
		}
		all = append(all, b)
	}
	end := min(start+size, len(all))
	page := []obj{}
	if start < len(all) {
		page = all[start:end]
	}
	return ok(obj{"self": in.restBase() + "/webhook", "startAt": start, "maxResults": size, "total": len(all), "isLast": end >= len(all), "values": page})
}

func webhookIDs(c *call) ([]int64, bool) {
	var body struct {
		WebhookIDs []int64 `json:"webhookIds"`
	}
	if err := json.Unmarshal(c.body, &body); err != nil || len(body.WebhookIDs) == 0 {
		return nil, false
	}
	return body.WebhookIDs, true
}

func (in *instance) deleteWebhooks(c *call) reply {
	ids, valid := webhookIDs(c)
	if !valid {
		return errorReply(http.StatusBadRequest, "webhookIds must not be empty.")
	}
	in.hooks.dynamic = slices.DeleteFunc(in.hooks.dynamic, func(w *dynamicWebhook) bool { return slices.Contains(ids, w.id) })
	return reply{status: http.StatusAccepted}
}

// refreshWebhooks is PUT /webhook/refresh: extends the app's listed webhooks
// (unknown or expired ids are ignored) and returns the new expiry in epoch ms.
func (in *instance) refreshWebhooks(c *call) reply {
	ids, valid := webhookIDs(c)
	if !valid {
		return errorReply(http.StatusBadRequest, "webhookIds must not be empty.")
	}
	in.purgeExpired(c.now)
	exp := c.now.Add(WebhookLifetime)
	for _, w := range in.hooks.dynamic {
		if slices.Contains(ids, w.id) {
			w.expires = exp
		}
	}
	return ok(obj{"expirationDate": exp.UnixMilli()})
}

func (in *instance) failedWebhooks(c *call) reply {
	size, valid := queryInt(c, "maxResults", 100)
	if !valid {
		return errorReply(http.StatusBadRequest, "maxResults must be a number.")
	}
	vals := in.hooks.failed
	if len(vals) > size {
		vals = vals[:size]
	}
	return ok(obj{"values": append([]obj{}, vals...), "maxResults": size})
}

// ExpireWebhooks drops every dynamic webhook as Jira does after 30 days
// without a refresh (tests; Advance past the expiry does the same).
func (site *Site) ExpireWebhooks() {
	site.inst.sim.mu.Lock()
	defer site.inst.sim.mu.Unlock()
	site.inst.hooks.dynamic = nil
}

// Webhook describes a registered dynamic webhook.
type Webhook struct {
	ID        int64
	URL, JQL  string
	ExpiresAt time.Time
}

// Webhooks lists the site's live dynamic webhooks.
func (site *Site) Webhooks() []Webhook {
	site.inst.sim.mu.Lock()
	defer site.inst.sim.mu.Unlock()
	site.inst.purgeExpired(site.inst.sim.now())
	var out []Webhook
	for _, w := range site.inst.hooks.dynamic {
		out = append(out, Webhook{ID: w.id, URL: w.url, JQL: w.jql, ExpiresAt: w.expires})
	}
	return out
}

// DropDeliveries loses (true) or sends (false) the site's webhook deliveries.
func (site *Site) DropDeliveries(drop bool) { site.inst.dropDeliveries(drop) }

// DropDeliveries loses (true) or sends (false) the instance's deliveries.
func (d *DataCenter) DropDeliveries(drop bool) { d.inst.dropDeliveries(drop) }

func (in *instance) dropDeliveries(drop bool) {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	in.hooks.drop = drop
}

// AddWebhook registers a Data Center admin webhook for jira:issue_updated on
// every issue (an admin's System > WebHooks); a non-empty secret signs each
// delivery with X-Hub-Signature.
func (d *DataCenter) AddWebhook(url, secret string) {
	d.sim.mu.Lock()
	defer d.sim.mu.Unlock()
	d.inst.hooks.admin = append(d.inst.hooks.admin, adminWebhook{url: url, secret: secret})
}

// DeliveryStats counts an instance's webhook deliveries.
type DeliveryStats struct{ Sent, Dropped, Failed int }

// Deliveries counts the site's webhook deliveries.
func (site *Site) Deliveries() DeliveryStats { return site.inst.deliveries() }

// Deliveries counts the instance's webhook deliveries.
func (d *DataCenter) Deliveries() DeliveryStats { return d.inst.deliveries() }

func (in *instance) deliveries() DeliveryStats {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	return DeliveryStats{Sent: in.hooks.sent, Dropped: in.hooks.dropped, Failed: len(in.hooks.failed)}
}

// ----- deliveries -----

type delivery struct {
	url, secret string
	cloud       bool
	body        []byte
	id          string
	now         time.Time
}

// notify sends jira:issue_updated to every webhook that selects the issue.
// Called under sim.mu; the HTTP calls run outside it.
func (in *instance) notify(is *issue, eventType string, author *simUser, e *historyEntry, now time.Time) {
	payload := obj{
		"timestamp": now.UnixMilli(), "webhookEvent": "jira:issue_updated", "issue_event_type_name": eventType,
		"user": in.authorBean(author),
		"issue": obj{"id": strconv.Itoa(is.id), "key": is.key, "self": in.restBase() + "/issue/" + strconv.Itoa(is.id),
			"fields": obj{"status": in.statusBean(is.statusBean()), "labels": append([]string{}, is.labels...)}},
	}
	if e != nil {
		b := in.historyBean(e)
		delete(b, "author")
		delete(b, "created")
		payload["changelog"] = b
	}
	var out []delivery
	if in.flavor == flavorCloud {
		in.purgeExpired(now)
		var matched []int64
		url := ""
		for _, w := range in.hooks.dynamic {
			// fieldIdsFilter: only updates whose changelog has one of the fields.
			changed := len(w.fields) == 0 || (e != nil && slices.Contains(w.fields, "status"))
			if changed && slices.Contains(w.events, "jira:issue_updated") && slices.Contains(w.keys, is.project.key) {
				matched, url = append(matched, w.id), w.url
			}
		}
		if len(matched) > 0 {
			payload["matchedWebhookIds"] = matched
			out = append(out, delivery{url: url, secret: in.sim.opts.CloudClientSecret, cloud: true})
		}
	} else {
		for _, w := range in.hooks.admin {
			out = append(out, delivery{url: w.url, secret: w.secret})
		}
	}
	if len(out) == 0 {
		return
	}
	if in.hooks.drop {
		in.hooks.dropped += len(out)
		return
	}
	body, _ := json.Marshal(payload)
	for _, d := range out {
		d.body, d.id, d.now = body, uuid.NewString(), now
		in.hooks.sent++
		go in.deliver(d)
	}
}

func (in *instance) deliver(d delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, err := postDelivery(ctx, d)
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	if err != nil || status >= 300 {
		msg := fmt.Sprintf("status %d", status)
		if err != nil {
			msg = err.Error()
		}
		in.hooks.failed = append(in.hooks.failed, obj{"id": d.id, "body": string(d.body), "url": d.url, "failureTime": d.now.UnixMilli(), "error": msg})
		in.sim.logf("webhook delivery to %s failed: %s", d.url, msg)
	}
}

func postDelivery(ctx context.Context, d delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Atlassian-Webhook-Identifier", d.id)
	req.Header.Set("X-Atlassian-Webhook-Retry", "0")
	req.Header.Set("X-Atlassian-Webhook-Flow", "Primary")
	if d.cloud {
		req.Header.Set("Authorization", "Bearer "+WebhookJWT(d.secret, d.now, d.now.Add(3*time.Minute)))
	} else if d.secret != "" {
		req.Header.Set("X-Hub-Signature", HubSignature(d.secret, d.body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// WebhookJWT is the Bearer token of a Cloud dynamic-webhook delivery: HS256
// over {"iat","exp"} (seconds) with the app's client secret.
func WebhookJWT(secret string, iat, exp time.Time) string {
	return SignJWT("HS256", secret, map[string]any{"iat": iat.Unix(), "exp": exp.Unix()})
}

// SignJWT signs claims with HMAC-SHA256 under the header alg (tests forge
// tokens with another alg or secret through it).
func SignJWT(alg, secret string, claims map[string]any) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	c, _ := json.Marshal(claims)
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	if alg == "none" {
		return signing + "."
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

// HubSignature is a Data Center admin webhook's X-Hub-Signature header.
func HubSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ----- the issue page's "move as" form -----

// browse serves /browse/{key} (the issue page plus a form to move the issue
// as any Jira user of the instance, as that person would in Jira) and
// POST /browse/{key}/move (as, to, comment), which redirects back.
func (in *instance) browse(w http.ResponseWriter, r *http.Request, rest string) {
	key, action, _ := strings.Cut(rest, "/")
	if r.Method == http.MethodPost && action == "move" {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in.sim.mu.Lock()
		as := pickUser(in.users(), r.PostForm.Get("as"))
		in.sim.mu.Unlock()
		if as == nil {
			http.Error(w, "no such Jira user", http.StatusBadRequest)
			return
		}
		if err := in.MoveAs(key, r.PostForm.Get("to"), as.User, r.PostForm.Get("comment")); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		http.Redirect(w, r, "../"+key, http.StatusSeeOther)
		return
	}
	if action != "" {
		http.NotFound(w, r)
		return
	}
	in.serveBrowse(w, r, key)
}
