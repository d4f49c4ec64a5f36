package jirasim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// access is the permission a REST route needs.
type access int

const (
	accessNone  access = iota // any authenticated caller (DC serverInfo: anyone)
	accessRead                // read:jira-work / READ
	accessWrite               // write:jira-work / WRITE
	accessUser                // read:jira-user / READ
)

// call is one REST request, handled with sim.mu held.
type call struct {
	r    *http.Request
	body []byte
	now  time.Time

	// Parsed before sim.mu is taken (prepare), so that decoding and the ADF
	// schema check, which need no simulator state, do not serialize calls.
	prepared bool
	parsed   map[string]any
	parseErr error
	adf      adfChecks
}

// prepare decodes a JSON body and, on Cloud, checks every ADF document in it
// against the schema; it runs before sim.mu is taken.
func (c *call) prepare(v *adfValidator, flavor flavor) {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return
	}
	c.prepared = true
	c.parsed, c.parseErr = decodeObject(c.body)
	if c.parseErr == nil && flavor == flavorCloud {
		c.adf = v.checkAll(c.parsed)
	}
}

// decode parses the body into a JSON object.
func (c *call) decode() (map[string]any, error) {
	if c.prepared {
		return c.parsed, c.parseErr
	}
	return decodeObject(c.body)
}

func decodeObject(body []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("request body is not a JSON object")
	}
	return m, nil
}

// routes builds the REST handler of an instance. createmeta has its own mux
// because its patterns overlap issue/{key}/properties/{prop}.
func (in *instance) routes() http.Handler {
	mux, meta := http.NewServeMux(), http.NewServeMux()
	v := in.version()
	h := func(pattern string, acc access, fn func(*call) reply) {
		method, path, _ := strings.Cut(pattern, " ")
		target := mux
		if strings.HasPrefix(path, "/issue/createmeta/") {
			target = meta
		}
		target.HandleFunc(method+" /rest/api/"+v+path, in.handler(acc, fn))
	}
	h("GET /serverInfo", accessNone, in.serverInfo)
	h("GET /myself", accessUser, in.myself)
	if in.flavor == flavorCloud {
		h("GET /project/search", accessRead, in.searchProjects)
		h("GET /search/jql", accessRead, in.searchJQL)
		h("POST /search/jql", accessRead, in.searchJQL)
		gone := func(*call) reply {
			return errorReply(http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
		}
		for _, p := range []string{"/rest/api/3/search", "/rest/api/2/search"} {
			mux.HandleFunc(p, in.handler(accessNone, gone))
		}
	} else {
		h("GET /project", accessRead, in.listProjects)
		h("GET /search", accessRead, in.searchOffset)
		h("POST /search", accessRead, in.searchOffset)
	}
	h("GET /project/{project}", accessRead, in.getProject)
	h("GET /project/{project}/statuses", accessRead, in.projectStatuses)
	h("GET /issue/createmeta/{project}/issuetypes", accessRead, in.createMetaTypes)
	h("GET /issue/createmeta/{project}/issuetypes/{type}", accessRead, in.createMetaFields)
	h("POST /issue", accessWrite, in.createIssue)
	h("GET /issue/{key}", accessRead, in.getIssue)
	h("PUT /issue/{key}", accessWrite, in.editIssue)
	h("GET /issue/{key}/transitions", accessRead, in.getTransitions)
	h("POST /issue/{key}/transitions", accessWrite, in.doTransition)
	h("GET /issue/{key}/comment", accessRead, in.listComments)
	h("POST /issue/{key}/comment", accessWrite, in.addComment)
	h("GET /issue/{key}/properties/{prop}", accessRead, in.getProperty)
	h("PUT /issue/{key}/properties/{prop}", accessWrite, in.setProperty)
	h("DELETE /issue/{key}/properties/{prop}", accessWrite, in.deleteProperty)
	h("PUT /issue/{key}/assignee", accessWrite, in.assignIssue)
	h("GET /issue/{key}/watchers", accessRead, in.getWatchers)
	h("POST /issue/{key}/watchers", accessWrite, in.addWatcher)
	h("GET /mypermissions", accessRead, in.myPermissions)
	in.webhookRoutes(h)
	mux.HandleFunc("/", in.handler(accessNone, func(c *call) reply {
		return errorReply(http.StatusNotFound, "null for uri: "+c.r.URL.Path)
	}))
	meta.Handle("/", mux)
	metaPrefix := "/rest/api/" + v + "/issue/createmeta/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, metaPrefix) {
			meta.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// handler checks scopes, reads the body, then runs fn under sim.mu.
func (in *instance) handler(acc access, fn func(*call) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !in.permits(scopesFrom(r.Context()), acc) {
			if in.flavor == flavorCloud {
				writeJSON(w, http.StatusForbidden, gatewayError{Code: 403, Message: "Unauthorized; scope does not match"})
			} else {
				writeReply(w, errorReply(http.StatusForbidden, "The OAuth 2.0 access token's scope does not allow this operation."))
			}
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
		if err != nil {
			writeReply(w, errorReply(http.StatusRequestEntityTooLarge, err.Error()))
			return
		}
		c := &call{r: r, body: body}
		c.prepare(in.sim.adf, in.flavor)
		in.sim.mu.Lock()
		c.now = in.sim.now()
		rep := fn(c)
		in.sim.mu.Unlock()
		writeReply(w, rep)
	}
}

// permits maps access levels to Cloud classic scopes or DC scopes (where
// WRITE implies READ, ADMIN implies WRITE, and so on).
func (in *instance) permits(scopes []string, acc access) bool {
	if acc == accessNone {
		return true
	}
	if in.flavor == flavorCloud {
		if acc == accessWebhook {
			return slices.Contains(scopes, "read:jira-work") && slices.Contains(scopes, "manage:jira-webhook")
		}
		need := map[access]string{accessRead: "read:jira-work", accessWrite: "write:jira-work", accessUser: "read:jira-user"}[acc]
		return slices.Contains(scopes, need)
	}
	minLevel := 0 // READ
	if acc == accessWrite {
		minLevel = 1
	}
	for _, sc := range scopes {
		if slices.Index(dcScopes(), sc) >= minLevel {
			return true
		}
	}
	return false
}

func (in *instance) version() string {
	if in.flavor == flavorCloud {
		return "3"
	}
	return "2"
}

// restBase is the self-link base for REST resources.
func (in *instance) restBase() string { return in.selfBase + "/rest/api/" + in.version() }

// jiraTime formats like Jira: 2026-01-05T09:00:00.000+0000.
func jiraTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.000-0700") }

func (in *instance) serverInfo(c *call) reply {
	if in.flavor == flavorCloud {
		return ok(obj{
			"baseUrl": in.browseBase, "displayUrl": in.browseBase, "version": "1001.0.0-SNAPSHOT",
			"versionNumbers": []int{1001, 0, 0}, "deploymentType": "Cloud", "buildNumber": 100292,
			"buildDate": "2026-01-01T00:00:00.000Z", "serverTime": c.now.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			"scmInfo": "57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71", "serverTitle": "Jira", "serverTimeZone": "Etc/UTC",
		})
	}
	return ok(obj{
		"baseUrl": in.selfBase, "version": "10.3.24", "versionNumbers": []int{10, 3, 24},
		"deploymentType": "DataCenter", "buildNumber": 10030024, "buildDate": "2025-11-20T00:00:00.000+0000",
		"serverTime": jiraTime(c.now), "scmInfo": "4a1d7c1f2b3e", "serverTitle": "Jira",
	})
}

// user identity of the consenting admin.
const (
	userAccountID   = "5b10a2844c20165700ede21g"
	userDisplayName = "Ada Admin"
	userEmail       = "ada.admin@example.com"
	userName        = "ada.admin"
)

func (in *instance) avatarURLs(kind, id string) obj {
	base := in.browseBase + "/secure/" + kind + "avatar?avatarId=" + id + "&size="
	return obj{"48x48": base + "large", "24x24": base + "small", "16x16": base + "xsmall", "32x32": base + "medium"}
}

func (in *instance) userBean(u *simUser) obj {
	if in.flavor == flavorCloud {
		return obj{
			"self": in.restBase() + "/user?accountId=" + u.AccountID, "accountId": u.AccountID,
			"accountType": "atlassian", "emailAddress": u.Email, "displayName": u.DisplayName,
			"active": !u.inactive, "timeZone": "Etc/UTC", "locale": "en_US", "avatarUrls": in.avatarURLs("user", "10122"),
		}
	}
	return obj{
		"self": in.restBase() + "/user?username=" + u.Name, "key": u.Key, "name": u.Name,
		"emailAddress": u.Email, "displayName": u.DisplayName, "active": !u.inactive, "timeZone": "Etc/UTC",
		"locale": "en_US", "avatarUrls": in.avatarURLs("user", "10122"),
	}
}

func (in *instance) myself(c *call) reply { return ok(in.userBean(in.caller(c))) }

// authorBean is a user as embedded in comments and issues (Cloud's
// UserDetails has no locale); nil means the consenting admin.
func (in *instance) authorBean(u *simUser) obj {
	if u == nil {
		u = in.users()[0]
	}
	b := in.userBean(u)
	delete(b, "locale")
	return b
}

func (in *instance) projectBean(p *Project) obj {
	b := obj{
		"self": in.restBase() + "/project/" + p.id, "id": p.id, "key": p.key, "name": p.name,
		"avatarUrls": in.avatarURLs("project", p.id), "projectTypeKey": "software",
	}
	if in.flavor == flavorCloud {
		b["simplified"] = false
		b["style"] = "classic"
		b["isPrivate"] = false
	} else {
		b["archived"] = false
	}
	return b
}

// queryInt parses an integer query parameter with a default.
func queryInt(c *call, name string, def int) (int, bool) {
	raw := c.r.URL.Query().Get(name)
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	return n, err == nil && n >= 0
}

// searchProjects is Cloud GET /project/search: startAt, maxResults (default
// 50, max 100), query (key/name substring), action=create, orderBy key.
func (in *instance) searchProjects(c *call) reply {
	q := c.r.URL.Query()
	startAt, ok1 := queryInt(c, "startAt", 0)
	maxResults, ok2 := queryInt(c, "maxResults", 50)
	if !ok1 || !ok2 {
		return errorReply(http.StatusBadRequest, "startAt and maxResults must be non-negative integers.")
	}
	maxResults = min(maxResults, 100)
	needle := strings.ToLower(q.Get("query"))
	var matched []*Project
	for _, p := range in.projects {
		if needle != "" && !strings.Contains(strings.ToLower(p.key), needle) && !strings.Contains(strings.ToLower(p.name), needle) {
			continue
		}
		if q.Get("action") == "create" && p.noCreate {
			continue
		}
		matched = append(matched, p)
	}
	switch q.Get("orderBy") {
	case "name", "+name":
		slices.SortStableFunc(matched, func(a, b *Project) int { return strings.Compare(a.name, b.name) })
	case "-name":
		slices.SortStableFunc(matched, func(a, b *Project) int { return strings.Compare(b.name, a.name) })
	case "-key":
		slices.SortStableFunc(matched, func(a, b *Project) int { return strings.Compare(b.key, a.key) })
	default: // key
		slices.SortStableFunc(matched, func(a, b *Project) int { return strings.Compare(a.key, b.key) })
	}
	values := []obj{}
	for i := startAt; i < len(matched) && len(values) < maxResults; i++ {
		values = append(values, in.projectBean(matched[i]))
	}
	page := func(start int) string {
		u := *c.r.URL
		qq := u.Query()
		qq.Set("startAt", strconv.Itoa(start))
		qq.Set("maxResults", strconv.Itoa(maxResults))
		return in.restBase() + "/project/search?" + qq.Encode()
	}
	isLast := startAt+len(values) >= len(matched)
	out := obj{
		"self": page(startAt), "maxResults": maxResults, "startAt": startAt,
		"total": len(matched), "isLast": isLast, "values": values,
	}
	if !isLast {
		out["nextPage"] = page(startAt + len(values))
	}
	return ok(out)
}

// listProjects is DC GET /project: a plain, unpaginated array.
func (in *instance) listProjects(*call) reply {
	out := []obj{}
	for _, p := range in.projects {
		out = append(out, in.projectBean(p))
	}
	return ok(out)
}

func (in *instance) getProject(c *call) reply {
	p := in.project(c.r.PathValue("project"))
	if p == nil {
		return errorReply(http.StatusNotFound, "No project could be found with key '"+c.r.PathValue("project")+"'.")
	}
	b := in.projectBean(p)
	var types []obj
	for _, t := range p.issueTypes {
		types = append(types, in.issueTypeBean(t))
	}
	b["issueTypes"] = types
	return ok(b)
}

func (in *instance) statusBean(st Status) obj {
	cat := categoryOf(st.Category)
	return obj{
		"self": in.restBase() + "/status/" + st.ID, "description": "", "iconUrl": in.browseBase + "/images/icons/statuses/generic.png",
		"name": st.Name, "id": st.ID,
		"statusCategory": obj{
			"self": in.restBase() + "/statuscategory/" + strconv.Itoa(cat.ID), "id": cat.ID, "key": cat.Key,
			"colorName": cat.ColorName, "name": cat.Name,
		},
	}
}

func (in *instance) issueTypeBean(t issueType) obj {
	b := obj{
		"self": in.restBase() + "/issuetype/" + t.id, "id": t.id, "name": t.name, "subtask": t.subtask,
		"description": "A " + strings.ToLower(t.name) + ".", "iconUrl": in.browseBase + "/images/icons/issuetypes/" + strings.ToLower(t.name) + ".png",
	}
	if in.flavor == flavorCloud {
		level := 0
		if t.subtask {
			level = -1
		}
		b["hierarchyLevel"] = level
	}
	return b
}

// projectStatuses is GET /project/{p}/statuses: every issue type with every
// workflow status.
func (in *instance) projectStatuses(c *call) reply {
	p := in.project(c.r.PathValue("project"))
	if p == nil {
		return errorReply(http.StatusNotFound, "No project could be found with key '"+c.r.PathValue("project")+"'.")
	}
	out := []obj{}
	for _, t := range p.issueTypes {
		var sts []obj
		for _, st := range p.wf.Statuses {
			b := in.statusBean(st)
			b["untranslatedName"] = st.Name
			sts = append(sts, b)
		}
		out = append(out, obj{"self": in.restBase() + "/issuetype/" + t.id, "id": t.id, "name": t.name, "subtask": t.subtask, "statuses": sts})
	}
	return ok(out)
}

// pageParams reads startAt/maxResults with a cap.
func pageParams(c *call, def, limit int) (start, size int, valid bool) {
	start, ok1 := queryInt(c, "startAt", 0)
	size, ok2 := queryInt(c, "maxResults", def)
	return start, min(size, limit), ok1 && ok2
}

// pageOf slices items and wraps them like Jira: Cloud under key, DC under
// "values" with isLast.
func (in *instance) pageOf(key string, items []obj, start, size int) obj {
	page := []obj{}
	for i := start; i < len(items) && len(page) < size; i++ {
		page = append(page, items[i])
	}
	if in.flavor == flavorDC {
		key = "values"
	}
	out := obj{key: page, "startAt": start, "maxResults": size, "total": len(items)}
	if in.flavor == flavorDC {
		out["isLast"] = start+len(page) >= len(items)
	}
	return out
}

func (in *instance) createMetaTypes(c *call) reply {
	p := in.project(c.r.PathValue("project"))
	if p == nil {
		return errorReply(http.StatusNotFound, "No project could be found with key '"+c.r.PathValue("project")+"'.")
	}
	start, size, valid := pageParams(c, 50, 200)
	if !valid {
		return errorReply(http.StatusBadRequest, "startAt and maxResults must be non-negative integers.")
	}
	var items []obj
	for _, t := range p.issueTypes {
		items = append(items, in.issueTypeBean(t))
	}
	return ok(in.pageOf("issueTypes", items, start, size))
}

// fieldMeta is one createmeta field.
func fieldMeta(id, name string, required, hasDefault bool, schema obj, ops []string, allowed []obj) obj {
	b := obj{"fieldId": id, "key": id, "name": name, "required": required, "hasDefaultValue": hasDefault, "schema": schema, "operations": ops}
	if allowed != nil {
		b["allowedValues"] = allowed
	}
	return b
}

func (in *instance) createMetaFields(c *call) reply {
	p := in.project(c.r.PathValue("project"))
	if p == nil {
		return errorReply(http.StatusNotFound, "No project could be found with key '"+c.r.PathValue("project")+"'.")
	}
	t, found := p.issueType(c.r.PathValue("type"))
	if !found || t.id != c.r.PathValue("type") {
		return errorReply(http.StatusNotFound, "Issue type with id '"+c.r.PathValue("type")+"' does not exist or is not valid for this project.")
	}
	start, size, valid := pageParams(c, 50, 200)
	if !valid {
		return errorReply(http.StatusBadRequest, "startAt and maxResults must be non-negative integers.")
	}
	set := []string{"set"}
	items := []obj{
		fieldMeta("summary", "Summary", true, false, obj{"type": "string", "system": "summary"}, set, nil),
		fieldMeta("issuetype", "Issue Type", true, false, obj{"type": "issuetype", "system": "issuetype"}, nil, []obj{in.issueTypeBean(t)}),
		fieldMeta("project", "Project", true, false, obj{"type": "project", "system": "project"}, set, []obj{in.projectBean(p)}),
		fieldMeta("description", "Description", false, false, obj{"type": "string", "system": "description"}, set, nil),
		fieldMeta("labels", "Labels", false, false, obj{"type": "array", "items": "string", "system": "labels"}, []string{"add", "set", "remove"}, nil),
		fieldMeta("reporter", "Reporter", true, true, obj{"type": "user", "system": "reporter"}, set, nil),
	}
	items[1]["operations"] = []string{}
	for _, f := range p.requiredFields(t.name) {
		items = append(items, in.fieldMetaOf(f))
	}
	return ok(in.pageOf("fields", items, start, size))
}
