package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Fewer calls per decision (design.md §10, issue 12): a task Privilege knows
// the status of is moved without reading it first, with the lifecycle comment
// carried by the transition's update.comment; the transitions a workflow
// offers from a status are cached for a short time; a workflow whose
// transition screens refuse the comment is remembered, and its comments are
// posted separately. Any refusal drops what was cached and falls back to
// reading the issue, as before.

// StatusAsCreated stands for "the status the task was created in": the
// initial status of its project and issue type, whose name Privilege does not
// need to know to reuse the transitions offered from it.
const StatusAsCreated = "@created"

const (
	transitionsTTL    = 5 * time.Minute
	commentRefusalTTL = time.Hour
)

// workflowKey names a workflow: a project and an issue type. The zero key
// (no project) disables caching.
type workflowKey struct{ project, issueType string }

func (w workflowKey) zero() bool { return w.project == "" }

type transitionsKey struct {
	wf     workflowKey
	status string // lower-cased status name, or StatusAsCreated
}

type cachedTransitions struct {
	options []TransitionOption
	expires time.Time
}

// moveMemory is what a client remembers about its site's workflows.
type moveMemory struct {
	now func() time.Time

	mu             sync.Mutex
	transitions    map[transitionsKey]cachedTransitions
	commentRefused map[workflowKey]time.Time // until when
	initial        map[workflowKey]cachedStatus
}

// cachedStatus is the status new tasks of a workflow start in.
type cachedStatus struct {
	name    string
	expires time.Time
}

func newMoveMemory(now func() time.Time) *moveMemory {
	return &moveMemory{now: now, transitions: map[transitionsKey]cachedTransitions{}, commentRefused: map[workflowKey]time.Time{},
		initial: map[workflowKey]cachedStatus{}}
}

func (m *moveMemory) key(wf workflowKey, status string) transitionsKey {
	if status != StatusAsCreated {
		status = strings.ToLower(status)
	}
	return transitionsKey{wf: wf, status: status}
}

func (m *moveMemory) get(wf workflowKey, status string) ([]TransitionOption, bool) {
	if wf.zero() || status == "" {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.transitions[m.key(wf, status)]
	if !ok || !m.now().Before(e.expires) {
		return nil, false
	}
	return e.options, true
}

func (m *moveMemory) put(wf workflowKey, status string, options []TransitionOption) {
	if wf.zero() || status == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if len(m.transitions) > 1000 { // bounded: drop what expired, then everything
		for k, e := range m.transitions {
			if !now.Before(e.expires) {
				delete(m.transitions, k)
			}
		}
		if len(m.transitions) > 1000 {
			clear(m.transitions)
		}
	}
	m.transitions[m.key(wf, status)] = cachedTransitions{options: options, expires: now.Add(transitionsTTL)}
}

// forget drops the transitions cached for a workflow (every status) and its
// initial status: Jira refused something, so the workflow may have changed.
func (m *moveMemory) forget(wf workflowKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.transitions {
		if k.wf == wf {
			delete(m.transitions, k)
		}
	}
	delete(m.initial, wf)
}

func (m *moveMemory) commentAllowed(wf workflowKey) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, refused := m.commentRefused[wf]
	return !refused || !m.now().Before(until)
}

func (m *moveMemory) refuseComment(wf workflowKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commentRefused[wf] = m.now().Add(commentRefusalTTL)
}

// InitialStatus is the name of the status the just-created issue key starts
// in, for the request page. The first task of a workflow (project and issue
// type) is read once, with the transitions it offers (expand=transitions),
// which seeds the cache Move walks from StatusAsCreated with: the read costs
// the decision's transitions call, not one more. Later tasks of the workflow
// cost nothing while the cache is fresh.
func (c *Client) InitialStatus(ctx context.Context, projectKey, issueTypeID, key string) (string, error) {
	wf := workflowKey{project: projectKey, issueType: issueTypeID}
	m := c.moves
	if !wf.zero() {
		m.mu.Lock()
		e, ok := m.initial[wf]
		m.mu.Unlock()
		if ok && m.now().Before(e.expires) {
			return e.name, nil
		}
	}
	var raw struct {
		issueJSON
		Transitions []transitionJSON `json:"transitions"`
	}
	q := url.Values{"fields": {"status"}, "expand": {"transitions.fields"}}
	if err := c.do(ctx, call{op: "get_issue", method: http.MethodGet, path: "/issue/" + url.PathEscape(key), query: q, out: &raw}); err != nil {
		return "", fmt.Errorf("jira: read issue %s: %w", key, err)
	}
	status := raw.Fields.Status.Name
	if !wf.zero() {
		m.put(wf, StatusAsCreated, transitionOptions(raw.Transitions))
		m.mu.Lock()
		m.initial[wf] = cachedStatus{name: status, expires: m.now().Add(transitionsTTL)}
		m.mu.Unlock()
	}
	return status, nil
}

// Move asks Client.Move to bring a task to a status and say why.
type Move struct {
	Key         string // the issue
	ProjectKey  string // with IssueTypeID, the workflow (caches are per workflow; "" = no cache)
	IssueTypeID string
	// Known is the status Privilege believes the issue is in: a status
	// name, StatusAsCreated, or "" (unknown: read the issue first).
	Known  string
	Target string // status name; "" = any done status
	Denial bool   // prefer denial-like done statuses and resolutions
	// Comment, when not empty, is carried by the final transition where the
	// workflow allows it; Marker is a text the comment contains, used to
	// check whether an ambiguous attempt already posted it.
	Comment Document
	Marker  string
}

// Moved is what Move achieved.
type Moved struct {
	Status    string // the status the issue is now in (its name)
	Commented bool   // the comment is on the issue (sent with a transition, or found)
}

// Move brings the issue to m.Target. With a known status it walks from
// there, with transitions from the cache (or read once), without reading the
// issue; a refusal of that guess (Cloud 400/409, Data Center 500 for a
// transition not valid from the real status, or no way on from the guessed
// status) drops the workflow's cache and falls back to reading the issue and
// walking from its real status, as MoveToStatus does. Nothing is moved when
// the issue is already in the target status.
func (c *Client) Move(ctx context.Context, m Move) (Moved, error) {
	cfg := moveConfig{maxSteps: defaultMoveSteps, denial: m.Denial}
	wf := workflowKey{project: m.ProjectKey, issueType: m.IssueTypeID}
	ambiguous := false
	if m.Known != "" && (m.Known == StatusAsCreated || !reached(Status{Name: m.Known}, m.Target)) {
		moved, err := c.walkFrom(ctx, m, wf, cfg, Status{Name: m.Known}, false, false)
		if err == nil {
			return moved, nil
		}
		if !staleGuess(err) && !errors.Is(err, ErrNoTransition) {
			return Moved{}, err
		}
		c.moves.forget(wf)
		var se *ServerError
		ambiguous = errors.As(err, &se)
	}
	return c.walk(ctx, m, wf, cfg, ambiguous)
}

// walk reads the issue's status and walks from it. After an ambiguous
// attempt, an issue found already there has its comment looked for before
// anyone posts it again.
func (c *Client) walk(ctx context.Context, m Move, wf workflowKey, cfg moveConfig, ambiguous bool) (Moved, error) {
	issue, err := c.GetIssue(ctx, m.Key)
	if err != nil {
		return Moved{}, err
	}
	return c.walkFrom(ctx, m, wf, cfg, Status{Name: issue.Status, CategoryKey: issue.StatusCategory}, ambiguous, true)
}

// walkFrom takes transitions (cached per status) from current until the
// target, at most defaultMoveSteps, never visiting a status twice; the
// comment rides on the final transition. read says current was read from
// Jira: a refusal from a cached list is then retried once with a fresh list.
func (c *Client) walkFrom(ctx context.Context, m Move, wf workflowKey, cfg moveConfig, current Status, ambiguous, read bool) (Moved, error) {
	visited := map[string]bool{}
	var path []string // the statuses walked through, for the step-limit error
	if current.Name != StatusAsCreated {
		visited[strings.ToLower(current.Name)] = true
		path = append(path, current.Name)
	}
	if read && reached(current, m.Target) {
		moved := Moved{Status: current.Name}
		if ambiguous && m.Marker != "" && !m.Comment.IsEmpty() {
			var err error
			if moved.Commented, err = c.HasComment(ctx, m.Key, m.Marker); err != nil {
				return Moved{}, err
			}
		}
		return moved, nil
	}
	retried := false
	for step := 0; ; step++ {
		options, cached, err := c.transitionsFrom(ctx, m.Key, wf, current.Name)
		if err != nil {
			return Moved{}, err
		}
		next, ok := pickTransition(options, m.Target, visited, cfg)
		if !ok {
			c.moves.forget(wf)
			return Moved{}, &NoTransitionError{Issue: m.Key, Target: m.Target, Current: current.Name, Offered: transitionNames(options)}
		}
		if step >= cfg.maxSteps {
			c.moves.forget(wf)
			return Moved{}, &NoTransitionError{Issue: m.Key, Target: m.Target, Current: current.Name, Offered: transitionNames(options), Path: path}
		}
		final := reached(Status{Name: next.ToStatus, CategoryKey: next.ToCategory}, m.Target)
		var comment Document
		if final {
			comment = m.Comment
		}
		commented, err := c.transition(ctx, m.Key, wf, next, cfg, comment)
		if err != nil {
			c.moves.forget(wf)
			if read && cached && !retried && staleGuess(err) {
				retried = true // the cached list was stale: read it again
				step--
				continue
			}
			return Moved{}, err
		}
		current = Status{Name: next.ToStatus, CategoryKey: next.ToCategory}
		visited[strings.ToLower(current.Name)] = true
		path = append(path, current.Name)
		if final {
			return Moved{Status: current.Name, Commented: commented}, nil
		}
	}
}

// transitionsFrom lists the transitions offered from status, from the cache
// when fresh; cached reports which.
func (c *Client) transitionsFrom(ctx context.Context, key string, wf workflowKey, status string) ([]TransitionOption, bool, error) {
	if options, ok := c.moves.get(wf, status); ok {
		return options, true, nil
	}
	options, err := c.Transitions(ctx, key)
	if err != nil {
		return nil, false, err
	}
	c.moves.put(wf, status, options)
	return options, false, nil
}

// transition performs next, with the comment in update.comment unless the
// workflow is known to refuse it; a refusal of the comment alone is
// remembered and the transition sent again without it (commented=false).
func (c *Client) transition(ctx context.Context, key string, wf workflowKey, next TransitionOption, cfg moveConfig, comment Document) (bool, error) {
	resolution := ""
	if next.HasResolution {
		resolution = pickResolution(next.Resolutions, cfg)
	}
	withComment := !comment.IsEmpty() && (wf.zero() || c.moves.commentAllowed(wf))
	if !withComment {
		return false, c.doTransition(ctx, key, next.ID, resolution, nil)
	}
	err := c.doTransition(ctx, key, next.ID, resolution, &comment)
	if !commentRefused(err) {
		return err == nil, err
	}
	if !wf.zero() {
		c.moves.refuseComment(wf)
	}
	return false, c.doTransition(ctx, key, next.ID, resolution, nil)
}

// doTransition is POST /issue/{key}/transitions with an optional resolution
// and comment (update.comment: ADF on Cloud, wiki markup on Data Center).
func (c *Client) doTransition(ctx context.Context, key, transitionID, resolution string, comment *Document) error {
	body := map[string]any{"transition": map[string]string{"id": transitionID}}
	if resolution != "" {
		body["fields"] = map[string]any{"resolution": map[string]string{"name": resolution}}
	}
	if comment != nil {
		body["update"] = map[string]any{"comment": []any{map[string]any{"add": map[string]any{"body": c.description(*comment)}}}}
	}
	path := "/issue/" + url.PathEscape(key) + "/transitions"
	if err := c.do(ctx, call{op: "do_transition", method: http.MethodPost, path: path, body: body}); err != nil {
		return fmt.Errorf("jira: transition %s (transition %s): %w", key, transitionID, err)
	}
	return nil
}

// commentRefused: Jira refused the comment field of a transition (it is not
// on the transition's screen), nothing else.
func commentRefused(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		return false
	}
	_, ok := ae.Fields["comment"]
	return ok && len(ae.Fields) == 1
}

// staleGuess: Jira refused a transition chosen from a guessed status or a
// cached list (Cloud 400 or 409; Data Center answers 500 to a transition id
// not valid from the issue's status).
func staleGuess(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status == http.StatusBadRequest || ae.Status == http.StatusConflict
	}
	var se *ServerError
	return errors.As(err, &se) && se.Status == http.StatusInternalServerError
}
