package jirasim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// flavor tells Cloud (REST v3, ADF) from Data Center (REST v2, wiki markup).
type flavor int

const (
	flavorCloud flavor = iota
	flavorDC
)

// Instance is what a Cloud site and a Data Center instance have in common:
// projects, issues and the search index.
type Instance interface {
	AddProject(key, name string, wf Workflow) *Project
	Project(key string) *Project
	Issues() []Issue
	Issue(key string) (Issue, bool)
	DeleteIssue(key string)
	SetSearchLag(n int)
}

// Issue is a snapshot of an issue. Description and comment bodies are ADF
// documents (map[string]any) on Cloud and wiki-markup strings on DC.
type Issue struct {
	ID, Key, ProjectKey, IssueType, Summary string
	Labels                                  []string
	Description                             any
	Status, StatusCategory, Resolution      string
	Comments                                []Comment
	History                                 []StatusChange
	Properties                              map[string]json.RawMessage
	Fields                                  map[string]any // custom fields sent on create, by field id (options by name, users by id)
	Reporter, Assignee                      User           // zero User: nobody
	Watchers                                []User
	Created, Updated                        time.Time
}

// HasLabel reports whether the issue carries label.
func (is Issue) HasLabel(label string) bool { return slices.Contains(is.Labels, label) }

// DescriptionLinks lists the link targets of a Cloud issue's ADF description
// (nil on Data Center, whose wiki markup carries links as text).
func (is Issue) DescriptionLinks() []string { return adfLinks(is.Description) }

func adfLinks(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if x["type"] == "link" {
			if attrs, ok := x["attrs"].(map[string]any); ok {
				if href, ok := attrs["href"].(string); ok {
					out = append(out, href)
				}
			}
		}
		for _, k := range []string{"content", "marks"} {
			out = append(out, adfLinks(x[k])...)
		}
	case []any:
		for _, e := range x {
			out = append(out, adfLinks(e)...)
		}
	}
	return out
}

// Comment is a snapshot of an issue comment.
type Comment struct {
	ID      string
	Body    any
	Created time.Time
	Author  User
}

// instance holds the state of one Cloud site or DC instance. All fields are
// guarded by sim.mu.
type instance struct {
	sim        *Sim
	flavor     flavor
	selfBase   string // base of "self" links: gateway/ex/jira/{cloudId} or the DC base URL
	browseBase string // human URL used for /browse links

	projects        []*Project
	nextProjectID   int
	issueTypeIDs    map[string]string
	nextIssueTypeID int
	nextOptionID    int // AddCreateField

	issues        []*issue
	byRef         map[string]*issue // upper-case key and numeric id → live issue
	nextIssueID   int
	nextCommentID int
	searchLag     int
	dcUsers       []*simUser // Data Center only; the first is the consenting admin
	hooks         webhookSet // webhooks.go

	mux http.Handler // REST routes, paths starting /rest/api/
}

func newInstance(s *Sim, f flavor) *instance {
	in := &instance{
		sim:             s,
		flavor:          f,
		nextProjectID:   10000,
		issueTypeIDs:    map[string]string{},
		byRef:           map[string]*issue{},
		nextIssueTypeID: 10001,
		nextIssueID:     10000,
		nextCommentID:   10000,
	}
	if f == flavorDC {
		// Data Center's standard issue type ids.
		in.issueTypeIDs = map[string]string{"Bug": "1", "New Feature": "2", "Task": "3", "Improvement": "4", "Sub-task": "5", "Epic": "10000", "Story": "10001"}
		in.nextIssueTypeID = 10100
		in.dcUsers = []*simUser{defaultDCUser()}
	}
	in.mux = in.routes()
	return in
}

// issue is the mutable state of one issue.
type issue struct {
	id          int
	key         string
	project     *Project
	issueType   issueType
	summary     string
	labels      []string
	description any
	status      string
	resolution  string
	comments    []*comment
	properties  map[string]json.RawMessage
	custom      map[string]any
	reporter    *simUser
	assignee    *simUser
	watchers    []*simUser
	created     time.Time
	updated     time.Time
	hiddenFor   int             // search calls that still miss this issue
	history     []*historyEntry // status changes, oldest first (webhooks.go)
}

// StatusChange is one entry of an issue's status history, as its page shows it.
type StatusChange struct {
	From, To, By string
	At           time.Time
}

type comment struct {
	id      string
	body    any
	created time.Time
	author  *simUser // nil: the consenting admin
}

// Project is a Jira project with its own workflow, issue types and required
// fields. Its methods are safe for concurrent use.
type Project struct {
	inst       *instance
	id         string
	key, name  string
	wf         Workflow
	issueTypes []issueType
	required   map[string][]requiredField // by issue type name; "" = every type
	nextNum    int
	noCreate   bool
	// Permissions of the connected users that tests switch off, and users
	// without the Assignable User permission (SetPermission, SetAssignable).
	denied       map[string]bool
	unassignable map[string]bool
}

type issueType struct {
	id, name string
	subtask  bool
}

// ID returns the project's numeric id.
func (p *Project) ID() string { return p.id }

// Key returns the project key.
func (p *Project) Key() string { return p.key }

// Name returns the project name.
func (p *Project) Name() string { return p.name }

// AddIssueType adds an issue type to the project (ids are shared per instance
// by name). Adding an existing name is a no-op.
func (p *Project) AddIssueType(name string, subtask bool) {
	p.inst.sim.mu.Lock()
	defer p.inst.sim.mu.Unlock()
	p.addIssueType(name, subtask)
}

func (p *Project) addIssueType(name string, subtask bool) {
	if _, ok := p.issueType(name); ok {
		return
	}
	p.issueTypes = append(p.issueTypes, issueType{id: p.inst.issueTypeID(name), name: name, subtask: subtask})
}

// RemoveIssueType removes an issue type (for example "Task") from the project.
func (p *Project) RemoveIssueType(name string) {
	p.inst.sim.mu.Lock()
	defer p.inst.sim.mu.Unlock()
	p.issueTypes = slices.DeleteFunc(p.issueTypes, func(t issueType) bool { return strings.EqualFold(t.name, name) })
}

// RequireField makes fieldID (for example "customfield_10050", a single-line
// text field called name) required on the create screen of issueType ("" for
// every type). Creating an issue without it answers 400 with errors[fieldID].
func (p *Project) RequireField(issueType, fieldID, name string) {
	p.inst.sim.mu.Lock()
	defer p.inst.sim.mu.Unlock()
	p.required[issueType] = append(p.required[issueType], requiredField{id: fieldID, name: name, kind: FieldText, required: true})
}

// SetCreatePermission controls whether the user may create issues in the
// project (project/search?action=create hides it, and create answers 400).
func (p *Project) SetCreatePermission(allowed bool) {
	p.inst.sim.mu.Lock()
	defer p.inst.sim.mu.Unlock()
	p.noCreate = !allowed
}

// issueType finds a type by id or (case-insensitive) name.
func (p *Project) issueType(idOrName string) (issueType, bool) {
	for _, t := range p.issueTypes {
		if t.id == idOrName || strings.EqualFold(t.name, idOrName) {
			return t, true
		}
	}
	return issueType{}, false
}

// requiredFields lists the custom required fields of a type.
func (p *Project) requiredFields(typeName string) []requiredField {
	return append(slices.Clone(p.required[""]), p.required[typeName]...)
}

func (in *instance) issueTypeID(name string) string {
	if id, ok := in.issueTypeIDs[name]; ok {
		return id
	}
	id := strconv.Itoa(in.nextIssueTypeID)
	in.nextIssueTypeID++
	in.issueTypeIDs[name] = id
	return id
}

// AddProject adds a project with the standard issue types Task, Bug, Story
// and Sub-task. Status ids left empty in wf are assigned.
func (in *instance) AddProject(key, name string, wf Workflow) *Project {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	wf = cloneWorkflow(wf)
	for i := range wf.Statuses {
		if wf.Statuses[i].ID == "" {
			wf.Statuses[i].ID = strconv.Itoa(20000 + i)
		}
	}
	if wf.Initial == "" && len(wf.Statuses) > 0 {
		wf.Initial = wf.Statuses[0].Name
	}
	p := &Project{
		inst:     in,
		id:       strconv.Itoa(in.nextProjectID),
		key:      key,
		name:     name,
		wf:       wf,
		required: map[string][]requiredField{},
	}
	in.nextProjectID++
	for _, t := range []string{"Task", "Bug", "Story"} {
		p.addIssueType(t, false)
	}
	p.addIssueType("Sub-task", true)
	in.projects = append(in.projects, p)
	return p
}

func cloneWorkflow(wf Workflow) Workflow {
	out := Workflow{Initial: wf.Initial, Statuses: slices.Clone(wf.Statuses), RefuseTransitionComment: wf.RefuseTransitionComment}
	for _, t := range wf.Transitions {
		t.From = slices.Clone(t.From)
		out.Transitions = append(out.Transitions, t)
	}
	return out
}

// Project returns the project with the given key, or nil.
func (in *instance) Project(key string) *Project {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	return in.project(key)
}

// project finds a project by key (case-insensitive) or id.
func (in *instance) project(keyOrID string) *Project {
	for _, p := range in.projects {
		if strings.EqualFold(p.key, keyOrID) || p.id == keyOrID {
			return p
		}
	}
	return nil
}

// Issues returns a snapshot of every live issue in creation order.
func (in *instance) Issues() []Issue {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	out := make([]Issue, 0, len(in.issues))
	for _, is := range in.issues {
		out = append(out, is.snapshot())
	}
	return out
}

// Issue returns a snapshot of the issue with the given key or id.
func (in *instance) Issue(key string) (Issue, bool) {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	is := in.issue(key)
	if is == nil {
		return Issue{}, false
	}
	return is.snapshot(), true
}

// DeleteIssue deletes an issue; later requests for it answer 404.
func (in *instance) DeleteIssue(key string) {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	if is := in.issue(key); is != nil {
		delete(in.byRef, strings.ToUpper(is.key))
		delete(in.byRef, strconv.Itoa(is.id))
		in.issues = slices.DeleteFunc(in.issues, func(x *issue) bool { return x == is })
	}
}

// SetSearchLag makes every issue created from now on invisible to the next n
// search calls on this instance (unless passed in reconcileIssues on Cloud).
func (in *instance) SetSearchLag(n int) {
	in.sim.mu.Lock()
	defer in.sim.mu.Unlock()
	in.searchLag = max(n, 0)
}

// issue finds a live issue by key (case-insensitive) or numeric id.
func (in *instance) issue(idOrKey string) *issue {
	return in.byRef[strings.ToUpper(idOrKey)]
}

func (is *issue) statusBean() Status {
	st, _ := is.project.wf.status(is.status)
	return st
}

func (is *issue) snapshot() Issue {
	out := Issue{
		ID:             strconv.Itoa(is.id),
		Key:            is.key,
		ProjectKey:     is.project.key,
		IssueType:      is.issueType.name,
		Summary:        is.summary,
		Labels:         slices.Clone(is.labels),
		Description:    cloneJSON(is.description),
		Status:         is.status,
		StatusCategory: is.statusBean().Category,
		Resolution:     is.resolution,
		Created:        is.created,
		Updated:        is.updated,
	}
	if is.reporter != nil {
		out.Reporter = is.reporter.User
	}
	if is.assignee != nil {
		out.Assignee = is.assignee.User
	}
	for _, u := range is.watchers {
		out.Watchers = append(out.Watchers, u.User)
	}
	for _, e := range is.history {
		by := ""
		if e.author != nil {
			by = e.author.DisplayName
		}
		out.History = append(out.History, StatusChange{From: e.from.Name, To: e.to.Name, By: by, At: e.created})
	}
	for _, c := range is.comments {
		out.Comments = append(out.Comments, Comment{ID: c.id, Body: cloneJSON(c.body), Created: c.created, Author: authorOf(c.author, is)})
	}
	if len(is.properties) > 0 {
		out.Properties = map[string]json.RawMessage{}
		for k, v := range is.properties {
			out.Properties[k] = slices.Clone(v)
		}
	}
	if len(is.custom) > 0 {
		out.Fields, _ = cloneJSON(is.custom).(map[string]any)
	}
	return out
}

// cloneJSON deep-copies a value decoded from JSON.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}
