package jirasim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// People: the simulator's Jira users, who consents (the consent page's
// "Accept as …" buttons, one per user), the Atlassian identity endpoint /me (read:me), and the
// people on an issue (reporter, assignee, watchers) with Jira's validation
// and per-project permission switches.

// User is a Jira user. Cloud users are Atlassian accounts (AccountID), shared
// by every site; Data Center users belong to one instance (Key, Name).
type User struct {
	AccountID   string // Cloud
	Key, Name   string // Data Center
	DisplayName string
	Email       string
}

// ID is how REST refers to the user: the accountId on Cloud, the username on DC.
func (u User) ID() string {
	if u.AccountID != "" {
		return u.AccountID
	}
	return u.Name
}

type simUser struct {
	User
	inactive bool
}

// The consenting admin of every instance (the first user).
func defaultCloudUser() *simUser {
	return &simUser{User: User{AccountID: userAccountID, DisplayName: userDisplayName, Email: userEmail}}
}

func defaultDCUser() *simUser {
	return &simUser{User: User{Key: "JIRAUSER10000", Name: userName, DisplayName: userDisplayName, Email: userEmail}}
}

// Permission keys the simulator enforces per project (Jira's keys).
const (
	PermModifyReporter = "MODIFY_REPORTER"
	PermAssignIssues   = "ASSIGN_ISSUES"
	PermManageWatchers = "MANAGE_WATCHERS"
)

// permissionDef is a project permission mypermissions reports.
type permissionDef struct{ ID, Key, Name, Description string }

// permissionDefs are the project permissions mypermissions reports.
func permissionDefs() []permissionDef {
	return []permissionDef{
		{"10", "BROWSE_PROJECTS", "Browse Projects", "Ability to browse projects and the issues within them."},
		{"11", "CREATE_ISSUES", "Create Issues", "Ability to create issues."},
		{"12", "EDIT_ISSUES", "Edit Issues", "Ability to edit issues."},
		{"13", "ASSIGN_ISSUES", "Assign Issues", "Ability to assign issues to other people."},
		{"15", "ADD_COMMENTS", "Add Comments", "Ability to comment on issues."},
		{"17", "ASSIGNABLE_USER", "Assignable User", "Users with this permission may be assigned to issues."},
		{"30", "MODIFY_REPORTER", "Modify Reporter", "Ability to modify the reporter when creating or editing an issue."},
		{"32", "MANAGE_WATCHERS", "Manage Watchers", "Ability to manage the watchers of an issue."},
		{"46", "TRANSITION_ISSUES", "Transition Issues", "Ability to transition issues."},
	}
}

// AddCloudUser adds an Atlassian account that can sign in to the consent
// page and be reporter, assignee or watcher on every site.
func (s *Sim) AddCloudUser(displayName, email string) User {
	u := &simUser{User: User{AccountID: "712020:" + uuid.NewString(), DisplayName: displayName, Email: email}}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cloudUsers = append(s.cloudUsers, u)
	return u.User
}

// AddUser adds a user to the Data Center instance.
func (d *DataCenter) AddUser(name, displayName, email string) User {
	d.sim.mu.Lock()
	defer d.sim.mu.Unlock()
	u := &simUser{User: User{Key: fmt.Sprintf("JIRAUSER%d", 10000+len(d.inst.dcUsers)), Name: name, DisplayName: displayName, Email: email}}
	d.inst.dcUsers = append(d.inst.dcUsers, u)
	return u.User
}

// Users lists the Cloud users (the consenting admin first).
func (s *Sim) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return usersOf(s.cloudUsers)
}

// Users lists the instance's users (the consenting admin first).
func (d *DataCenter) Users() []User {
	d.sim.mu.Lock()
	defer d.sim.mu.Unlock()
	return usersOf(d.inst.dcUsers)
}

func usersOf(list []*simUser) []User {
	out := make([]User, len(list))
	for i, u := range list {
		out[i] = u.User
	}
	return out
}

// SetUserActive deactivates (or reactivates) a user, Cloud or DC, by
// account id or username.
func (s *Sim) SetUserActive(id string, active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lists := [][]*simUser{s.cloudUsers}
	for _, d := range s.dcs {
		lists = append(lists, d.inst.dcUsers)
	}
	for _, l := range lists {
		for _, u := range l {
			if u.AccountID == id || u.Name == id || u.Key == id {
				u.inactive = !active
			}
		}
	}
}

// pickUser finds the consenting user from the consent form ("" = the first).
func pickUser(list []*simUser, ref string) *simUser {
	if ref == "" && len(list) > 0 {
		return list[0]
	}
	for _, u := range list {
		if u.AccountID == ref || u.Name == ref || u.Key == ref || u.DisplayName == ref || u.Email == ref {
			return u
		}
	}
	return nil
}

// users are the instance's users: the Atlassian accounts on Cloud.
func (in *instance) users() []*simUser {
	if in.flavor == flavorCloud {
		return in.sim.cloudUsers
	}
	return in.dcUsers
}

// userRef finds the user a REST body names: {"accountId"} on Cloud,
// {"name"} (or {"key"}) on DC. ref is the value named, for messages.
func (in *instance) userRef(v any) (u *simUser, ref string) {
	if in.flavor == flavorCloud {
		ref = refValue(v, "accountId")
	} else {
		ref = refValue(v, "name", "key")
	}
	if ref == "" {
		return nil, ""
	}
	for _, cand := range in.users() {
		if (in.flavor == flavorCloud && cand.AccountID == ref) || (in.flavor == flavorDC && (cand.Name == ref || cand.Key == ref)) {
			return cand, ref
		}
	}
	return nil, ref
}

// callerKey carries the token's user to instance routes.
type callerKey struct{}

func withCaller(ctx context.Context, u *simUser) context.Context {
	return context.WithValue(ctx, callerKey{}, u)
}

// caller is the user the request's token belongs to (the first user when unknown).
func (in *instance) caller(c *call) *simUser {
	if u, found := c.r.Context().Value(callerKey{}).(*simUser); found && u != nil {
		return u
	}
	if list := in.users(); len(list) > 0 {
		return list[0]
	}
	return nil
}

// SetPermission grants or takes away one of the connected users' project
// permissions (PermModifyReporter, PermAssignIssues, PermManageWatchers), as a
// Jira admin would in the project's permission scheme. All are granted by default.
func (p *Project) SetPermission(key string, granted bool) {
	p.inst.sim.mu.Lock()
	defer p.inst.sim.mu.Unlock()
	if p.denied == nil {
		p.denied = map[string]bool{}
	}
	p.denied[key] = !granted
}

// SetAssignable controls whether a user (account id or username) holds the
// project's Assignable User permission. Every user does by default.
func (p *Project) SetAssignable(userID string, assignable bool) {
	p.inst.sim.mu.Lock()
	defer p.inst.sim.mu.Unlock()
	if p.unassignable == nil {
		p.unassignable = map[string]bool{}
	}
	p.unassignable[userID] = !assignable
}

// has reports whether the connected users hold a project permission. s.mu must be held.
func (p *Project) has(key string) bool {
	if key == "CREATE_ISSUES" {
		return !p.noCreate
	}
	return !p.denied[key]
}

func (p *Project) assignable(u *simUser) bool {
	return u != nil && !u.inactive && !p.unassignable[u.ID()]
}

// permissionDenied is Jira's answer to a missing permission: 403 on Cloud,
// 401 on Data Center (as the DC 10.3 spec documents for assign and watchers).
func (in *instance) permissionDenied(msg string) reply {
	if in.flavor == flavorCloud {
		return errorReply(http.StatusForbidden, msg)
	}
	return errorReply(http.StatusUnauthorized, msg)
}

// validatePeople checks the reporter and assignee fields of a create.
func (in *instance) validatePeople(p *Project, fields map[string]any, caller *simUser, errs map[string]string) (reporter, assignee *simUser) {
	reporter = caller
	if v, has := fields["reporter"]; has && v != nil {
		u, _ := in.userRef(v)
		switch {
		case !p.has(PermModifyReporter):
			errs["reporter"] = msgNotOnScreen("reporter")
		case u == nil || u.inactive:
			errs["reporter"] = "The reporter specified is not a user."
		default:
			reporter = u
		}
	}
	if v, has := fields["assignee"]; has {
		u, ref := in.userRef(v)
		switch {
		case !p.has(PermAssignIssues):
			errs["assignee"] = msgNotOnScreen("assignee")
		case v == nil:
		case u == nil:
			errs["assignee"] = "User '" + ref + "' does not exist."
		case !p.assignable(u):
			errs["assignee"] = "User '" + ref + "' cannot be assigned issues."
		default:
			assignee = u
		}
	}
	return reporter, assignee
}

// assignIssue is PUT /issue/{key}/assignee. 204.
func (in *instance) assignIssue(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	var body map[string]any
	if err := json.Unmarshal(c.body, &body); err != nil || body == nil {
		return errorReply(http.StatusBadRequest, "The request body must be a user.")
	}
	if !is.project.has(PermAssignIssues) {
		return in.permissionDenied("You do not have permission to assign issues.")
	}
	key := "accountId"
	if in.flavor == flavorDC {
		key = "name"
	}
	if v, has := body[key]; has && v == nil { // {"accountId": null} unassigns
		is.assignee, is.updated = nil, c.now
		return reply{status: http.StatusNoContent}
	}
	u, ref := in.userRef(body)
	switch {
	case ref == "":
		return errorReply(http.StatusBadRequest, "'"+key+"' must be given.")
	case u == nil && in.flavor == flavorDC:
		return errorReply(http.StatusNotFound, "User '"+ref+"' does not exist.")
	case u == nil:
		return errorReply(http.StatusBadRequest, "User '"+ref+"' does not exist.")
	case !is.project.assignable(u):
		return fieldErrors(http.StatusBadRequest, map[string]string{"assignee": "User '" + ref + "' cannot be assigned issues."})
	}
	is.assignee, is.updated = u, c.now
	return reply{status: http.StatusNoContent}
}

// addWatcher is POST /issue/{key}/watchers with a JSON string body (the
// account id on Cloud, the username on DC; DC also takes ?userName=). 204.
func (in *instance) addWatcher(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	var ref string
	if len(strings.TrimSpace(string(c.body))) > 0 {
		if err := json.Unmarshal(c.body, &ref); err != nil {
			return errorReply(http.StatusBadRequest, "The request body must be a JSON string.")
		}
	}
	if ref == "" && in.flavor == flavorDC {
		ref = c.r.URL.Query().Get("userName")
	}
	if ref == "" {
		return errorReply(http.StatusBadRequest, "accountId must be given.")
	}
	key := "accountId"
	if in.flavor == flavorDC {
		key = "name"
	}
	u, _ := in.userRef(map[string]any{key: ref})
	me := in.caller(c)
	switch {
	case u != me && !is.project.has(PermManageWatchers):
		return in.permissionDenied("You do not have the permission to manage the watcher list.")
	case u == nil || u.inactive:
		return errorReply(http.StatusNotFound, "The user \""+ref+"\" does not exist or cannot view the issue.")
	}
	if !slices.Contains(is.watchers, u) {
		is.watchers = append(is.watchers, u)
	}
	return reply{status: http.StatusNoContent}
}

// getWatchers is GET /issue/{key}/watchers.
func (in *instance) getWatchers(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	list := []obj{}
	for _, u := range is.watchers {
		b := in.userBean(u)
		delete(b, "locale")
		delete(b, "timeZone")
		list = append(list, b)
	}
	return ok(obj{"self": in.restBase() + "/issue/" + is.key + "/watchers", "isWatching": slices.Contains(is.watchers, in.caller(c)),
		"watchCount": len(is.watchers), "watchers": list})
}

// myPermissions is GET /mypermissions. Cloud requires ?permissions=; DC
// reports every permission when it is absent.
func (in *instance) myPermissions(c *call) reply {
	q := c.r.URL.Query()
	var want []string
	for _, k := range strings.Split(q.Get("permissions"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			want = append(want, k)
		}
	}
	if len(want) == 0 && in.flavor == flavorCloud {
		return errorReply(http.StatusBadRequest, "The permissions query parameter is required.")
	}
	var p *Project
	if ref := q.Get("projectKey") + q.Get("projectId"); ref != "" {
		if p = in.project(ref); p == nil {
			return errorReply(http.StatusNotFound, "No project could be found with key '"+ref+"'.")
		}
	}
	for _, k := range want {
		if !slices.ContainsFunc(permissionDefs(), func(d permissionDef) bool { return d.Key == k }) {
			return errorReply(http.StatusBadRequest, "Invalid permission key: "+k)
		}
	}
	me := in.caller(c)
	out := obj{}
	for _, d := range permissionDefs() {
		if len(want) > 0 && !slices.Contains(want, d.Key) {
			continue
		}
		have := true
		if p != nil {
			have = p.has(d.Key)
			if d.Key == "ASSIGNABLE_USER" {
				have = p.assignable(me)
			}
		}
		out[d.Key] = obj{"id": d.ID, "key": d.Key, "name": d.Name, "type": "PROJECT", "description": d.Description, "havePermission": have}
	}
	return ok(obj{"permissions": out})
}

// me is the Atlassian identity endpoint GET {api}/me (scope read:me).
func (s *Sim) me(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, gatewayError{Code: 405, Message: "Method Not Allowed"})
		return
	}
	s.mu.Lock()
	at, valid := s.bearer(r, nil, s.now())
	var u *simUser
	scoped := false
	if valid {
		u, scoped = at.g.user, slices.Contains(at.g.scopes, "read:me")
	}
	s.mu.Unlock()
	switch {
	case !valid || u == nil:
		writeJSON(w, http.StatusUnauthorized, gatewayError{Code: 401, Message: "Unauthorized"})
	case !scoped:
		writeJSON(w, http.StatusForbidden, gatewayError{Code: 403, Message: "Unauthorized; scope does not match"})
	default:
		nick, _, _ := strings.Cut(u.Email, "@")
		writeJSON(w, http.StatusOK, obj{
			"account_type": "atlassian", "account_id": u.AccountID, "email": u.Email, "name": u.DisplayName,
			"picture":        "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/default.png",
			"account_status": map[bool]string{true: "inactive", false: "active"}[u.inactive], "nickname": nick,
			"zoneinfo": "Etc/UTC", "locale": "en-US", "extended_profile": obj{},
		})
	}
}

// jiraScoped reports whether a Cloud consent asks for Jira itself (and so
// covers sites), not only the user's identity.
func jiraScoped(scopes []string) bool {
	return slices.ContainsFunc(scopes, func(sc string) bool { return sc != "read:me" && sc != "offline_access" })
}
