package views

// Ticket shaping on a project's Manage page (design.md §10): values for the
// fields the issue type requires, the task templates and their preview.

// ProjectShaping is the Manage page's required fields and templates.
type ProjectShaping struct {
	Fields []RequiredField
	// OptionalFields are the priority, components and fix versions when on
	// the create screen but not required: tasks carry them when chosen.
	OptionalFields []RequiredField
	Summary        string // the summary template as edited
	Description    string // the description template as edited
	Vars           []TemplateVar
	PreviewURL     string
	ExtraLabels    string // as typed
	// The due date (when the pending request expires) is offered only when
	// the field is on the create screen.
	DueDateOffered, DueDate bool
	Preview                 TaskPreview
}

// RequiredField is the input of one field the issue type requires (or, in
// OptionalFields, one it offers).
type RequiredField struct {
	ID      string // Jira field id
	Name    string
	Input   string // select, multiselect, text, number, date, user
	Options []Option
	Value   string // text, number and date inputs
	Missing bool   // no value yet
}

// FieldName is the form name of the field's input.
func (f RequiredField) FieldName() string { return "field_" + f.ID }

// Multiple reports whether several values may be chosen.
func (f RequiredField) Multiple() bool { return f.Input == "multiselect" }

// HTMLType is the type of a text-like input.
func (f RequiredField) HTMLType() string {
	switch f.Input {
	case "number":
		return "number"
	case "date":
		return "date"
	}
	return "text"
}

// IsSelect reports whether the field is offered as a select.
func (f RequiredField) IsSelect() bool {
	return f.Input == "select" || f.Input == "multiselect" || f.Input == "user"
}

// TemplateVar is a variable templates may use.
type TemplateVar struct{ Name, Help string }

// Token is how a template writes the variable.
func (v TemplateVar) Token() string { return "{{" + v.Name + "}}" }

// TaskPreview is the task as Jira will receive it.
type TaskPreview struct {
	Source   string // "sample data" or which pending request
	Error    string // an invalid template: nothing to preview
	Summary  string
	Labels   []string
	Fields   []PreviewField
	Blocks   []PreviewBlock
	Body     string // the description exactly as sent: ADF JSON or wiki markup
	BodyKind string
}

// PreviewField is a required field's value on the task.
type PreviewField struct{ Name, Value string }

// PreviewBlock is a paragraph, heading or list of the description.
type PreviewBlock struct {
	Kind  string // paragraph, heading, list
	Level int
	Runs  []PreviewRun
	Items [][]PreviewRun
}

// PreviewRun is a run of text: text, strong, code or link.
type PreviewRun struct{ Kind, Text, Href string }
