package jirasim

import "slices"

// Status category keys as Jira reports them (never the spec's fake examples).
const (
	CategoryNew           = "new"
	CategoryIndeterminate = "indeterminate"
	CategoryDone          = "done"
)

// Workflow is the set of statuses and transitions of a project. Every issue
// of the project starts in Initial.
type Workflow struct {
	Statuses    []Status
	Transitions []Transition
	Initial     string // status name
	// RefuseTransitionComment leaves the comment field off the transition
	// screens: a transition sent with update.comment is refused with 400
	// {"errors":{"comment":"Field 'comment' cannot be set. It is not on the
	// appropriate screen, or unknown."}} and nothing changes.
	RefuseTransitionComment bool
}

// Status is one workflow status. Category is CategoryNew, CategoryIndeterminate
// or CategoryDone. An empty ID is assigned when the project is added.
type Status struct {
	ID, Name, Category string
}

// Transition moves an issue to the status named To. From lists the status
// names it is available from; an empty From makes it a global transition,
// available from every status except To itself.
//
// Screen puts the resolution field on the transition screen: only then may a
// caller send fields.resolution (otherwise 400). Resolution is what the
// workflow's post-function sets when the target is a done status and no
// resolution was sent (default "Done"); moving to a non-done status clears the
// resolution.
type Transition struct {
	ID, Name   string
	From       []string
	To         string
	Screen     bool
	Resolution string
}

// available reports whether t can be taken from status.
func (t Transition) available(status string) bool {
	if len(t.From) == 0 {
		return status != t.To
	}
	return slices.Contains(t.From, status)
}

// SimpleWorkflow is To Do (new) → In Progress (indeterminate) → Done (done),
// plus Declined (done). Done is reachable from To Do and In Progress through
// "Done" (id 31), whose screen carries the resolution field. "Decline" (id 41)
// reaches Declined from To Do and In Progress, with no screen and the
// resolution "Won't Do". "Reopen" (id 51) goes back to To Do.
func SimpleWorkflow() Workflow {
	return Workflow{
		Initial: "To Do",
		Statuses: []Status{
			{ID: "10000", Name: "To Do", Category: CategoryNew},
			{ID: "3", Name: "In Progress", Category: CategoryIndeterminate},
			{ID: "10001", Name: "Done", Category: CategoryDone},
			{ID: "10002", Name: "Declined", Category: CategoryDone},
		},
		Transitions: []Transition{
			{ID: "21", Name: "Start Progress", From: []string{"To Do"}, To: "In Progress"},
			{ID: "31", Name: "Done", From: []string{"To Do", "In Progress"}, To: "Done", Screen: true},
			{ID: "41", Name: "Decline", From: []string{"To Do", "In Progress"}, To: "Declined", Resolution: "Won't Do"},
			{ID: "51", Name: "Reopen", From: []string{"Done", "Declined"}, To: "To Do"},
		},
	}
}

// TwoStepWorkflow is To Do → In Progress → Done with no direct path from To Do
// to Done and no resolution screen (a post-function sets "Done"). "Back to To
// Do" (id 41) is a global transition.
func TwoStepWorkflow() Workflow {
	return Workflow{
		Initial: "To Do",
		Statuses: []Status{
			{ID: "10000", Name: "To Do", Category: CategoryNew},
			{ID: "3", Name: "In Progress", Category: CategoryIndeterminate},
			{ID: "10001", Name: "Done", Category: CategoryDone},
		},
		Transitions: []Transition{
			{ID: "11", Name: "Start work", From: []string{"To Do"}, To: "In Progress"},
			{ID: "21", Name: "Finish", From: []string{"In Progress"}, To: "Done"},
			{ID: "41", Name: "Back to To Do", To: "To Do"},
		},
	}
}

// status returns the named status.
func (w *Workflow) status(name string) (Status, bool) {
	for _, s := range w.Statuses {
		if s.Name == name {
			return s, true
		}
	}
	return Status{}, false
}

// transition returns the transition with the given id.
func (w *Workflow) transition(id string) (Transition, bool) {
	for _, t := range w.Transitions {
		if t.ID == id {
			return t, true
		}
	}
	return Transition{}, false
}

// statusCategory is Jira's status category bean.
type statusCategory struct {
	ID                   int
	Key, ColorName, Name string
}

// categoryOf returns the real status category bean for key (ids and colours
// as Jira reports them; id 1 is "undefined").
func categoryOf(key string) statusCategory {
	switch key {
	case CategoryNew:
		return statusCategory{ID: 2, Key: CategoryNew, ColorName: "blue-gray", Name: "To Do"}
	case CategoryIndeterminate:
		return statusCategory{ID: 4, Key: CategoryIndeterminate, ColorName: "yellow", Name: "In Progress"}
	case CategoryDone:
		return statusCategory{ID: 3, Key: CategoryDone, ColorName: "green", Name: "Done"}
	}
	return statusCategory{ID: 1, Key: "undefined", ColorName: "medium-gray", Name: "No Category"}
}

// resolution is one of the instance's resolutions.
type resolution struct{ ID, Name, Description string }

// resolutions lists the standard resolutions.
func resolutions() []resolution {
	return []resolution{
		{"10000", "Done", "Work has been completed on this issue."},
		{"10001", "Won't Do", "This issue won't be actioned."},
		{"10002", "Duplicate", "The problem is a duplicate of an existing issue."},
		{"10003", "Cannot Reproduce", "All attempts at reproducing this issue failed."},
	}
}
