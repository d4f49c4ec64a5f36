package jira

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"privilege/internal/paths"
	"privilege/models"
)

// Task templates (design.md §10): the summary and description of a project
// link's tasks, with named variables. One renderer serves the Manage page's
// preview and the create call, so the preview is what Jira receives.
//
// The language is small on purpose. Variables are {{name}}. In the
// description each line is a paragraph; a blank line is skipped; "### text"
// (1–6 #) is a heading; "* text" is a bullet item (consecutive items make one
// list), and "* {{resources}}" alone gives one item per resource; **text** is
// bold. Template text and variable values alike become plain text runs, which
// the Document renderers escape (wiki markup) or keep as text nodes (ADF):
// nothing a requester types can become markup. The approval link is
// appended when a template leaves it out; the summary is one line cut to 255
// characters.

// TemplateVar is a variable a template may use.
type TemplateVar struct {
	Name, Help string
}

// TemplateVars lists the variables, in the order the Manage page shows them.
func TemplateVars() []TemplateVar {
	return []TemplateVar{
		{"request_id", "the request's number"},
		{"requester", "the requester's name (their email when they have none)"},
		{"requester_email", "the requester's email"},
		{"account", "provider, account id and name, e.g. AWS account 123456789012 — Prod"},
		{"account_name", "the account's name"},
		{"account_provider", "AWS, Azure or GCP"},
		{"account_id", "the account's id at the provider"},
		{"resources", "the resources, comma-separated; alone on a \"* \" line, one item each"},
		{"duration", "the access duration, e.g. 2h"},
		{"justification", "the requester's justification"},
		{"approval_link", "a link to the approval page (appended when missing)"},
		{"approval_url", "the approval page's address as text"},
		{"expiry", "when the pending request expires (UTC)"},
	}
}

// DefaultSummaryTemplate and DefaultDescriptionTemplate reproduce the tasks
// Privilege created before templates existed.
const (
	DefaultSummaryTemplate     = "JIT access: {{requester_email}} → {{resources}} on {{account_provider}} {{account_id}} ({{account_name}}) for {{duration}}"
	DefaultDescriptionTemplate = "Just-in-time access request **#{{request_id}}** submitted by **{{requester_email}}**.\n" +
		"**Account: **{{account}}\n" +
		"### Requested resources\n" +
		"* {{resources}}\n" +
		"**Access duration: **{{duration}}\n" +
		"**Justification: **{{justification}}\n" +
		"Approve or deny: {{approval_link}}"
)

// TemplateError is an invalid template: the line (1-based) and what is wrong.
type TemplateError struct {
	Line     int
	Variable string // the variable at fault, if any
	Problem  string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Problem)
}

// Templates are a link's parsed summary and description templates.
type Templates struct {
	summary     []segment
	description []tline
}

type segKind int

const (
	segText segKind = iota
	segVar
)

// segment is literal text or a variable, bold or not.
type segment struct {
	kind segKind
	text string // literal text or variable name
	bold bool
}

type lineKind int

const (
	lineParagraph lineKind = iota
	lineHeading
	lineItem
)

type tline struct {
	kind  lineKind
	level int
	segs  []segment
}

// ParseTemplates checks and parses both templates; an empty template means
// the default. Errors name the field ("summary_template" or
// "description_template") in a *TemplateFieldError.
func ParseTemplates(summary, description string) (Templates, error) {
	var t Templates
	if strings.TrimSpace(summary) == "" {
		summary = DefaultSummaryTemplate
	}
	if strings.TrimSpace(description) == "" {
		description = DefaultDescriptionTemplate
	}
	var err error
	if t.summary, err = parseSummary(summary); err != nil {
		return Templates{}, &TemplateFieldError{Field: "summary_template", Err: err.(*TemplateError)}
	}
	if t.description, err = parseDescription(description); err != nil {
		return Templates{}, &TemplateFieldError{Field: "description_template", Err: err.(*TemplateError)}
	}
	return t, nil
}

// TemplateFieldError says which template is invalid.
type TemplateFieldError struct {
	Field string
	Err   *TemplateError
}

func (e *TemplateFieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *TemplateFieldError) Unwrap() error { return e.Err }

func parseSummary(s string) ([]segment, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if strings.Contains(s, "\n") {
		return nil, &TemplateError{Line: 2, Problem: "the summary is one line"}
	}
	segs, err := parseLine(s, 1)
	if err != nil {
		return nil, err
	}
	for _, sg := range segs {
		if sg.bold {
			return nil, &TemplateError{Line: 1, Problem: "the summary is plain text: ** is not allowed"}
		}
	}
	return segs, nil
}

func parseDescription(s string) ([]tline, error) {
	var out []tline
	for i, raw := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		n := i + 1
		line := strings.TrimRight(raw, " \t")
		if strings.TrimSpace(line) == "" {
			continue
		}
		tl := tline{kind: lineParagraph}
		switch {
		case strings.HasPrefix(line, "#"):
			level := len(line) - len(strings.TrimLeft(line, "#"))
			if level > 6 || !strings.HasPrefix(line[level:], " ") {
				return nil, &TemplateError{Line: n, Problem: "a heading is 1 to 6 # then a space"}
			}
			tl.kind, tl.level, line = lineHeading, level, strings.TrimSpace(line[level:])
		case strings.HasPrefix(line, "* "):
			tl.kind, line = lineItem, strings.TrimSpace(line[2:])
		}
		segs, err := parseLine(line, n)
		if err != nil {
			return nil, err
		}
		tl.segs = segs
		out = append(out, tl)
	}
	if len(out) == 0 {
		return nil, &TemplateError{Line: 1, Problem: "the description is empty"}
	}
	return out, nil
}

// parseLine splits a line into literal text and {{variables}}, with **bold**.
func parseLine(line string, n int) ([]segment, error) {
	known := map[string]bool{}
	for _, v := range TemplateVars() {
		known[v.Name] = true
	}
	var segs []segment
	bold := false
	for line != "" {
		open, star := strings.Index(line, "{{"), strings.Index(line, "**")
		switch {
		case star >= 0 && (open < 0 || star < open):
			if star > 0 {
				segs = append(segs, segment{kind: segText, text: line[:star], bold: bold})
			}
			bold, line = !bold, line[star+2:]
		case open >= 0:
			if open > 0 {
				segs = append(segs, segment{kind: segText, text: line[:open], bold: bold})
			}
			end := strings.Index(line[open:], "}}")
			if end < 0 {
				return nil, &TemplateError{Line: n, Problem: "{{ is not closed by }}"}
			}
			name := strings.TrimSpace(line[open+2 : open+end])
			if !known[name] {
				return nil, &TemplateError{Line: n, Variable: name, Problem: fmt.Sprintf("unknown variable {{%s}}", name)}
			}
			segs = append(segs, segment{kind: segVar, text: name, bold: bold})
			line = line[open+end+2:]
		default:
			if strings.Contains(line, "}}") {
				return nil, &TemplateError{Line: n, Problem: "}} without {{"}
			}
			segs = append(segs, segment{kind: segText, text: line, bold: bold})
			line = ""
		}
	}
	if bold {
		return nil, &TemplateError{Line: n, Problem: "** is not closed"}
	}
	for _, sg := range segs {
		if sg.kind == segText && strings.Contains(sg.text, "}}") {
			return nil, &TemplateError{Line: n, Problem: "}} without {{"}
		}
	}
	return segs, nil
}

// TemplateData is what the variables stand for.
type TemplateData struct {
	Request models.AccessRequest
	BaseURL string
}

func (d TemplateData) value(name string) string {
	r := d.Request
	switch name {
	case "request_id":
		return strconv.FormatInt(r.ID, 10)
	case "requester":
		if r.Requester.Name != "" {
			return r.Requester.Name
		}
		return r.Requester.Email
	case "requester_email":
		return r.Requester.Email
	case "account":
		return fmt.Sprintf("%s %s %s — %s", r.Account.Provider.Label(), r.Account.Provider.IDLabel(), r.Account.ExternalID, r.Account.Name)
	case "account_name":
		return r.Account.Name
	case "account_provider":
		return r.Account.Provider.Label()
	case "account_id":
		return r.Account.ExternalID
	case "resources":
		return strings.Join(r.ResourceNames(), ", ")
	case "duration":
		return FormatDuration(r.DurationMinutes)
	case "justification":
		return r.Justification
	case "approval_link", "approval_url":
		return paths.RequestURL(d.BaseURL, r.ID)
	case "expiry":
		if r.PendingUntil.IsZero() {
			return ""
		}
		return r.PendingUntil.UTC().Format(time.RFC3339)
	}
	return ""
}

// Summary renders the summary: one line, at most 255 characters.
func (t Templates) Summary(d TemplateData) string {
	var b strings.Builder
	for _, sg := range t.summary {
		if sg.kind == segVar {
			b.WriteString(d.value(sg.text))
		} else {
			b.WriteString(sg.text)
		}
	}
	return cleanSummary(b.String())
}

// Description renders the description, with the approval link appended when
// the template has none.
func (t Templates) Description(d TemplateData) Document {
	var blocks []Block
	var items [][]Inline
	flush := func() {
		if len(items) > 0 {
			blocks = append(blocks, BulletList(items...))
			items = nil
		}
	}
	linked := false
	for _, tl := range t.description {
		if tl.kind == lineItem && len(tl.segs) == 1 && tl.segs[0].kind == segVar && tl.segs[0].text == "resources" {
			for _, res := range d.Request.Resources {
				items = append(items, Item(Code(res.Name), Text(" ("+res.Kind+")")))
			}
			continue
		}
		runs := t.runs(tl.segs, d, &linked)
		switch tl.kind {
		case lineItem:
			items = append(items, runs)
			continue
		case lineHeading:
			flush()
			blocks = append(blocks, Heading(tl.level, runs...))
		default:
			flush()
			blocks = append(blocks, Paragraph(runs...))
		}
	}
	flush()
	if !linked {
		blocks = append(blocks, Paragraph(Text("Approve or deny: "), Link("open the approval page", paths.RequestURL(d.BaseURL, d.Request.ID))))
	}
	return NewDocument(blocks...)
}

// runs turns segments into inline runs, merging neighbours of one style.
func (t Templates) runs(segs []segment, d TemplateData, linked *bool) []Inline {
	var runs []Inline
	add := func(text string, bold bool) {
		if text == "" {
			return
		}
		kind := inlineText
		if bold {
			kind = inlineStrong
		}
		if n := len(runs); n > 0 && runs[n-1].kind == kind {
			runs[n-1].text += text
			return
		}
		runs = append(runs, Inline{kind: kind, text: text})
	}
	for _, sg := range segs {
		switch {
		case sg.kind == segText:
			add(sg.text, sg.bold)
		case sg.text == "approval_link":
			*linked = true
			runs = append(runs, Link("open the approval page", d.value(sg.text)))
		case sg.text == "approval_url":
			// A link showing the address: as plain text it would be inert on
			// Data Center, where user text never autolinks (document.go).
			*linked = true
			u := d.value(sg.text)
			runs = append(runs, Link(u, u))
		default:
			add(d.value(sg.text), sg.bold)
		}
	}
	return runs
}

// OutlineRun is an inline run of a document, for display (the Manage
// page's preview renders it as HTML, escaped by the template engine).
type OutlineRun struct {
	Kind string // "text", "strong", "code" or "link"
	Text string // cleaned as both renderers clean it
	Href string // links only: the target both renderers would link ("" = shown as text)
}

// OutlineBlock is a block of a document, for display.
type OutlineBlock struct {
	Kind  string // "paragraph", "heading" or "list"
	Level int    // headings
	Runs  []OutlineRun
	Items [][]OutlineRun // lists
}

// Outline exposes the document's structure, as the renderers see it.
func (d Document) Outline() []OutlineBlock {
	runs := func(in []Inline) []OutlineRun {
		out := make([]OutlineRun, 0, len(in))
		for _, r := range in {
			o := OutlineRun{Text: cleanText(r.text)}
			switch r.kind {
			case inlineStrong:
				o.Kind = "strong"
			case inlineCode:
				o.Kind = "code"
			case inlineLink:
				o.Kind, o.Href = "link", safeHref(r.href)
				if strings.TrimSpace(o.Text) == "" {
					o.Text = o.Href
				}
			default:
				o.Kind = "text"
			}
			out = append(out, o)
		}
		return out
	}
	var out []OutlineBlock
	for _, b := range d.Blocks {
		if b.isEmpty() {
			continue
		}
		switch b.kind {
		case blockHeading:
			out = append(out, OutlineBlock{Kind: "heading", Level: b.level, Runs: runs(b.inlines)})
		case blockBulletList:
			ob := OutlineBlock{Kind: "list"}
			for _, it := range b.items {
				ob.Items = append(ob.Items, runs(it))
			}
			out = append(out, ob)
		default:
			out = append(out, OutlineBlock{Kind: "paragraph", Runs: runs(b.inlines)})
		}
	}
	return out
}

// Task is what a request's task is created with (apart from people): the
// one place summary, description, labels and field values are made.
type Task struct {
	Summary     string
	Description Document
	Labels      []string
	DueDate     string      // YYYY-MM-DD, or "" for none
	Fields      []TaskField // the link's field values by id, then the due date
}

// TaskField is a create-screen field the task is created with.
type TaskField struct {
	ID    string
	Name  string          // as Jira names the field
	Label string          // the value for people
	Value json.RawMessage // the value as Jira takes it
}

// TaskOptions are a link's optional additions to its tasks.
type TaskOptions struct {
	ExtraLabels       []string           // checked by ParseExtraLabels
	DueDateFromExpiry bool               // due date = the day (UTC) the pending request expires
	FieldValues       models.FieldValues // required and optional fields' values (FieldValue)
}

// ShapeTask renders a request's task with a link's templates; the product
// and correlation labels are always there, before any extra label.
func ShapeTask(t Templates, r models.AccessRequest, baseURL string, o TaskOptions) Task {
	d := TemplateData{Request: r, BaseURL: baseURL}
	task := Task{Summary: t.Summary(d), Description: t.Description(d), Labels: []string{ProductLabel, CorrelationLabel(r.ID)}}
	for _, l := range o.ExtraLabels {
		if !slices.Contains(task.Labels, l) {
			task.Labels = append(task.Labels, l)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(o.FieldValues)) {
		fv := o.FieldValues[id]
		task.Fields = append(task.Fields, TaskField{ID: id, Name: fv.Name, Label: fv.Label, Value: fv.Value})
	}
	if o.DueDateFromExpiry && !r.PendingUntil.IsZero() {
		task.DueDate = r.PendingUntil.UTC().Format(time.DateOnly)
		due := json.RawMessage(strconv.Quote(task.DueDate)) // YYYY-MM-DD: a JSON string as is
		task.Fields = append(task.Fields, TaskField{ID: "duedate", Name: "Due date", Label: task.DueDate, Value: due})
	}
	return task
}

// ParseExtraLabels reads extra labels separated by spaces or commas. Jira
// labels have no spaces and at most 255 characters; the correlation prefix
// is Privilege's own.
func ParseExtraLabels(s string) ([]string, error) {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		if strings.HasPrefix(l, "privilege-request-") {
			return nil, fmt.Errorf("%w %q: privilege-request- labels find a request's task; choose another", ErrInvalidLabel, l)
		}
		if err := checkLabels([]string{l}); err != nil {
			return nil, err
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}
