package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

type transitionJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	IsAvailable *bool      `json:"isAvailable"`
	To          statusJSON `json:"to"`
	Fields      map[string]struct {
		AllowedValues []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"allowedValues"`
	} `json:"fields"`
}

// Transitions lists the transitions Jira offers from the current
// status, with their screen fields (expand=transitions.fields).
func (c *Client) Transitions(ctx context.Context, key string) ([]TransitionOption, error) {
	var raw struct {
		Transitions []transitionJSON `json:"transitions"`
	}
	path := "/issue/" + url.PathEscape(key) + "/transitions"
	q := url.Values{"expand": {"transitions.fields"}}
	if err := c.do(ctx, call{op: "transitions", method: http.MethodGet, path: path, query: q, out: &raw}); err != nil {
		return nil, fmt.Errorf("jira: list transitions of %s: %w", key, err)
	}
	return transitionOptions(raw.Transitions), nil
}

// transitionOptions keeps the available transitions of a Jira answer.
func transitionOptions(raw []transitionJSON) []TransitionOption {
	opts := make([]TransitionOption, 0, len(raw))
	for _, t := range raw {
		if t.IsAvailable != nil && !*t.IsAvailable {
			continue
		}
		o := TransitionOption{
			ID: t.ID, Name: t.Name,
			ToStatus: t.To.Name, ToStatusID: t.To.ID, ToCategory: t.To.StatusCategory.Key,
		}
		if res, ok := t.Fields["resolution"]; ok {
			o.HasResolution = true
			for _, v := range res.AllowedValues {
				o.Resolutions = append(o.Resolutions, v.Name)
			}
		}
		opts = append(opts, o)
	}
	return opts
}

// DoTransition performs a transition; resolution is sent only when not empty
// (send it only if the transition's screen has the field).
func (c *Client) DoTransition(ctx context.Context, key, transitionID, resolution string) error {
	return c.doTransition(ctx, key, transitionID, resolution, nil)
}

// MoveOption tunes MoveToStatus.
type MoveOption func(*moveConfig)

type moveConfig struct {
	denial   bool
	maxSteps int
}

// ForDenial prefers, when no target name is given, a done status named like
// Declined/Rejected/Won't Do/Cancelled, and denial-like resolutions.
func ForDenial() MoveOption { return func(m *moveConfig) { m.denial = true } }

var (
	denialStatusName = regexp.MustCompile(`(?i)declin|reject|won.?t|cancel|denied`)
	denyResolutions  = []string{"Won't Do", "Declined", "Rejected", "Cancelled", "Won't Fix"}
	doneResolutions  = []string{"Done", "Fixed", "Resolved", "Complete"}
)

const defaultMoveSteps = 5

// MoveToStatus moves the issue to the status named target (case-insensitive)
// or, when target is empty, to any done-category status, through whatever
// transitions the workflow offers. It walks multi-step paths, re-reading the
// transitions after every step, for at most 5 steps, and never visits a
// status twice. A resolution is sent only when the transition's screen has
// the field. It does nothing when the issue is already there; an
// unreachable target gives a *NoTransitionError (errors.Is ErrNoTransition).
func (c *Client) MoveToStatus(ctx context.Context, key, target string, opts ...MoveOption) error {
	cfg := moveConfig{maxSteps: defaultMoveSteps}
	for _, o := range opts {
		o(&cfg)
	}
	_, err := c.walk(ctx, Move{Key: key, Target: target, Denial: cfg.denial}, workflowKey{}, cfg, false)
	return err
}

func reached(s Status, target string) bool {
	if target == "" {
		return s.CategoryKey == CategoryDone
	}
	return strings.EqualFold(s.Name, target)
}

// pickTransition takes a transition straight to the target if there is one;
// otherwise a step to a status not yet visited, preferring "in progress"
// over "to do" over done statuses (a done status is often final).
func pickTransition(options []TransitionOption, target string, visited map[string]bool, cfg moveConfig) (TransitionOption, bool) {
	var direct []TransitionOption
	for _, o := range options {
		if reached(Status{Name: o.ToStatus, CategoryKey: o.ToCategory}, target) {
			direct = append(direct, o)
		}
	}
	if len(direct) > 0 {
		if target == "" && cfg.denial {
			for _, o := range direct {
				if denialStatusName.MatchString(o.ToStatus) {
					return o, true
				}
			}
		}
		if target == "" && !cfg.denial {
			for _, o := range direct {
				if !denialStatusName.MatchString(o.ToStatus) {
					return o, true
				}
			}
		}
		return direct[0], true
	}
	rank := map[string]int{CategoryIndeterminate: 0, CategoryNew: 1, CategoryDone: 2}
	var steps []TransitionOption
	for _, o := range options {
		if !visited[strings.ToLower(o.ToStatus)] {
			steps = append(steps, o)
		}
	}
	if len(steps) == 0 {
		return TransitionOption{}, false
	}
	slices.SortStableFunc(steps, func(a, b TransitionOption) int {
		return categoryRank(rank, a.ToCategory) - categoryRank(rank, b.ToCategory)
	})
	return steps[0], true
}

func categoryRank(rank map[string]int, key string) int {
	if r, ok := rank[key]; ok {
		return r
	}
	return 3
}

// pickResolution chooses a sensible resolution (denial-like ones first for a
// denial) among the resolutions the screen allows.
func pickResolution(allowed []string, cfg moveConfig) string {
	var prefs []string
	if cfg.denial {
		prefs = append(prefs, denyResolutions...)
	}
	prefs = append(prefs, doneResolutions...)
	if len(allowed) == 0 {
		return prefs[0]
	}
	for _, p := range prefs {
		for _, a := range allowed {
			if strings.EqualFold(p, a) {
				return a
			}
		}
	}
	return allowed[0]
}

func transitionNames(options []TransitionOption) []string {
	names := make([]string, 0, len(options))
	for _, o := range options {
		names = append(names, fmt.Sprintf("%s → %s", o.Name, o.ToStatus))
	}
	return names
}
