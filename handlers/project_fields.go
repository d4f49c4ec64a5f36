package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/views"
)

// Ticket shaping on a project's Manage page (design.md §10): a value for
// each field the issue type requires that Privilege cannot fill (offered
// from the create metadata's allowed values), optional values for the
// priority, components and fix versions on the create screen, and the
// summary and description templates with a live preview rendered by the
// renderer the syncer uses.

type shapingForm struct {
	summary, description string
	fields               map[string][]string // field id → what was chosen
	labels               string              // extra labels as typed
	dueDate              bool                // due date = when the pending request expires
}

const fieldPrefix = "field_"

func parseShapingForm(form url.Values) shapingForm {
	f := shapingForm{summary: form.Get("summary_template"), description: form.Get("description_template"), fields: map[string][]string{},
		labels: form.Get("extra_labels"), dueDate: form.Get("due_date") != ""}
	for k, vs := range form {
		if id, ok := strings.CutPrefix(k, fieldPrefix); ok {
			for _, v := range vs {
				if v = strings.TrimSpace(v); v != "" {
					f.fields[id] = append(f.fields[id], v)
				}
			}
		}
	}
	return f
}

func shapingFromLink(l models.ProjectLink) shapingForm {
	f := shapingForm{summary: l.SummaryTemplate, description: l.DescriptionTemplate, fields: map[string][]string{}, labels: l.ExtraLabels, dueDate: l.DueDateFromExpiry}
	for id, fv := range l.FieldValues {
		f.fields[id] = fv.Choice
	}
	return f
}

// templateText is what the Manage page shows: the default when none is saved.
func templateText(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

// savedTemplate is what is saved: "" when the text is the default, so a
// later change of the defaults reaches links that never customised them.
func savedTemplate(s, def string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == strings.TrimSpace(def) {
		return ""
	}
	return s
}

// applyShaping fills the required and optional fields and templates
// sections and what "Update" saves. A required field without a value is a field error on
// submit (and a hint on the page); an invalid template is refused with its
// line and variable.
func (h *handler) applyShaping(ctx context.Context, page *views.ProjectPage, input *models.ProjectLinkInput, in models.Integration, link models.ProjectLink, f jira.WorkflowReport, form shapingForm) error {
	s := views.ProjectShaping{
		Summary:     templateText(form.summary, jira.DefaultSummaryTemplate),
		Description: templateText(form.description, jira.DefaultDescriptionTemplate),
		PreviewURL:  paths.ProjectLinkPreview(page.IntegrationID, page.ProjectKey),
	}
	for _, v := range jira.TemplateVars() {
		s.Vars = append(s.Vars, views.TemplateVar{Name: v.Name, Help: v.Help})
	}
	input.SummaryTemplate = savedTemplate(form.summary, jira.DefaultSummaryTemplate)
	input.DescriptionTemplate = savedTemplate(form.description, jira.DefaultDescriptionTemplate)
	if _, err := jira.ParseTemplates(input.SummaryTemplate, input.DescriptionTemplate); err != nil {
		var fe *jira.TemplateFieldError
		if !errors.As(err, &fe) {
			return err
		}
		page.Errors[fe.Field] = "Line " + strconv.Itoa(fe.Err.Line) + ": " + fe.Err.Problem + "."
	}
	s.ExtraLabels = form.labels
	if labels, err := jira.ParseExtraLabels(form.labels); err != nil {
		page.Errors["extra_labels"] = strings.TrimPrefix(err.Error(), jira.ErrInvalidLabel.Error()+" ") + "."
	} else {
		input.ExtraLabels = strings.Join(labels, " ")
	}
	// The due date only where the field is on the create screen.
	s.DueDateOffered = f.OnCreateScreen("duedate")
	s.DueDate = form.dueDate && s.DueDateOffered
	input.DueDateFromExpiry = s.DueDate
	if form.dueDate && !s.DueDateOffered && f.Chosen.ID != "" {
		page.Notices = append(page.Notices, "The due date is not on the create screen of “"+f.Chosen.Name+"”, so tasks get none.")
	}
	if f.Chosen.ID != "" {
		if err := h.applyFieldValues(ctx, page, input, &s, in, f, form); err != nil {
			return err
		}
	}
	if link.FieldsProblem != "" && link.FieldValues.Equal(input.FieldValues) {
		page.Notices = append(page.Notices, link.FieldsProblem)
	}
	s.Preview = h.taskPreview(ctx, in, link, input, nil)
	page.Shaping = s
	return nil
}

// applyFieldValues fills the required and optional fields sections and the
// values "Update" saves: each required field needs a value, an optional one
// (priority, components, fix versions) is sent only when chosen.
func (h *handler) applyFieldValues(ctx context.Context, page *views.ProjectPage, input *models.ProjectLinkInput, s *views.ProjectShaping, in models.Integration, f jira.WorkflowReport, form shapingForm) error {
	required, optional := f.RequiredFields(), f.OptionalFields()
	if len(required)+len(optional) == 0 {
		return nil
	}
	cl, err := h.jiraClient(in)
	if err != nil {
		return err
	}
	ids, err := h.store.IntegrationJiraIdentities(ctx, in.ID)
	if err != nil {
		return err
	}
	input.FieldValues = models.FieldValues{}
	var missing []string
	for _, fl := range required {
		rf, person := fieldChoice(fl, form.fields[fl.ID], ids)
		rf.Missing = len(form.fields[fl.ID]) == 0
		s.Fields = append(s.Fields, rf)
		if rf.Missing {
			missing = append(missing, fl.Name)
			page.Errors[rf.FieldName()] = "Jira requires “" + fl.Name + "”: choose its value."
			continue
		}
		if err := setFieldValue(cl, page, input, fl, form.fields[fl.ID], person); err != nil {
			return err
		}
	}
	for _, fl := range optional {
		rf, person := fieldChoice(fl, form.fields[fl.ID], ids)
		s.OptionalFields = append(s.OptionalFields, rf)
		if len(form.fields[fl.ID]) == 0 {
			continue
		}
		if err := setFieldValue(cl, page, input, fl, form.fields[fl.ID], person); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		page.Notices = append(page.Notices, fmt.Sprintf("“%s” requires %s: choose the value tasks get under Required fields, then Update.", f.Chosen.Name, strings.Join(missing, ", ")))
	}
	return nil
}

// fieldChoice is a field's input with what was chosen, and for a user field
// the linked person chosen.
func fieldChoice(fl jira.Field, chosen []string, ids []models.JiraIdentity) (views.RequiredField, *jira.Person) {
	kind := fl.Input()
	rf := views.RequiredField{ID: fl.ID, Name: fl.Name, Input: string(kind)}
	if len(chosen) > 0 {
		rf.Value = chosen[0]
	}
	var person *jira.Person
	switch kind {
	case jira.InputUser:
		for _, id := range ids {
			uid := strconv.FormatInt(id.UserID, 10)
			rf.Options = append(rf.Options, views.Option{Value: uid, Label: id.DisplayName, Selected: slices.Contains(chosen, uid)})
			if slices.Contains(chosen, uid) {
				person = jira.PersonOf(id)
			}
		}
	case jira.InputSelect, jira.InputMultiSelect:
		for _, o := range fl.AllowedValues {
			rf.Options = append(rf.Options, views.Option{Value: o.ID, Label: o.Name, Selected: slices.Contains(chosen, o.ID)})
		}
	}
	return rf, person
}

// setFieldValue saves the chosen value, or says on the page why Jira would
// not take it.
func setFieldValue(cl *jira.Client, page *views.ProjectPage, input *models.ProjectLinkInput, fl jira.Field, chosen []string, person *jira.Person) error {
	fv, err := cl.FieldValue(fl, chosen, person)
	if errors.Is(err, jira.ErrFieldValue) {
		page.Errors[fieldPrefix+fl.ID] = "“" + fl.Name + "”: " + strings.TrimPrefix(err.Error(), jira.ErrFieldValue.Error()+": ") + "."
		return nil
	}
	if err != nil {
		return err
	}
	input.FieldValues[fl.ID] = fv
	return nil
}

// previewProject is the htmx preview: the task the submitted templates give
// (POST, the templates in the form), with the newest pending request of the
// project or sample data.
func (h *handler) previewProject(c echo.Context) error {
	in, _, link, err := h.projectParams(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return newProblem(codeBadRequest, "The form could not be read.")
	}
	sf := parseShapingForm(form)
	input := models.ProjectLinkInput{
		SummaryTemplate:     savedTemplate(sf.summary, jira.DefaultSummaryTemplate),
		DescriptionTemplate: savedTemplate(sf.description, jira.DefaultDescriptionTemplate),
		FieldValues:         link.FieldValues, ExtraLabels: sf.labels, DueDateFromExpiry: sf.dueDate,
	}
	status := http.StatusOK
	p := h.taskPreview(c.Request().Context(), in, link, &input, &status)
	return render(c, status, views.TaskPreviewBox(p))
}

// taskPreview renders the task as the syncer would create it.
func (h *handler) taskPreview(ctx context.Context, in models.Integration, link models.ProjectLink, input *models.ProjectLinkInput, status *int) views.TaskPreview {
	r, source := samplePreviewRequest(h.cfg.Now()), "sample data"
	if link.ID != 0 {
		if real, err := h.store.NewestPendingRequestOfLink(ctx, link.ID); err == nil {
			r, source = real, fmt.Sprintf("pending request #%d", real.ID)
		}
	}
	p := views.TaskPreview{Source: source}
	tm, err := jira.ParseTemplates(input.SummaryTemplate, input.DescriptionTemplate)
	if err != nil {
		var fe *jira.TemplateFieldError
		if errors.As(err, &fe) {
			name := map[string]string{"summary_template": "Summary template", "description_template": "Description template"}[fe.Field]
			p.Error = fmt.Sprintf("%s, line %d: %s.", name, fe.Err.Line, fe.Err.Problem)
		} else {
			p.Error = err.Error()
		}
		if status != nil {
			*status = http.StatusUnprocessableEntity
		}
		return p
	}
	extra, err := jira.ParseExtraLabels(input.ExtraLabels)
	if err != nil {
		p.Error = "Extra labels: " + strings.TrimPrefix(err.Error(), jira.ErrInvalidLabel.Error()+" ") + "."
		if status != nil {
			*status = http.StatusUnprocessableEntity
		}
		return p
	}
	task := jira.ShapeTask(tm, r, h.cfg.BaseURL.String(), jira.TaskOptions{ExtraLabels: extra, DueDateFromExpiry: input.DueDateFromExpiry, FieldValues: input.FieldValues})
	p.Summary, p.Labels = task.Summary, task.Labels
	for _, f := range task.Fields {
		p.Fields = append(p.Fields, views.PreviewField{Name: f.Name, Value: f.Label})
	}
	for _, b := range task.Description.Outline() {
		p.Blocks = append(p.Blocks, views.PreviewBlock{Kind: b.Kind, Level: b.Level, Runs: previewRuns(b.Runs), Items: previewItems(b.Items)})
	}
	if in.Deployment == models.DeploymentCloud {
		raw, _ := json.MarshalIndent(task.Description.ADF(), "", "  ")
		p.Body, p.BodyKind = string(raw), "ADF, Jira Cloud"
	} else {
		p.Body, p.BodyKind = task.Description.Wiki(), "wiki markup, Jira Data Center"
	}
	return p
}

func previewRuns(runs []jira.OutlineRun) []views.PreviewRun {
	out := make([]views.PreviewRun, 0, len(runs))
	for _, r := range runs {
		out = append(out, views.PreviewRun{Kind: r.Kind, Text: r.Text, Href: r.Href})
	}
	return out
}

func previewItems(items [][]jira.OutlineRun) [][]views.PreviewRun {
	var out [][]views.PreviewRun
	for _, it := range items {
		out = append(out, previewRuns(it))
	}
	return out
}

// samplePreviewRequest stands in for a request when the project has no
// pending one.
func samplePreviewRequest(now time.Time) models.AccessRequest {
	return models.AccessRequest{
		ID: 1234, Status: models.RequestPending, DurationMinutes: 120, Justification: "Incident INC-42: restart the payment workers.",
		Requester:    models.User{Email: "alex@example.com", Name: "Alex Example"},
		Account:      models.CloudAccount{Provider: models.ProviderAWS, ExternalID: "123456789012", Name: "Production"},
		Resources:    []models.RequestResource{{Name: "AdministratorAccess", Kind: "permission set"}, {Name: "ReadOnlyAccess", Kind: "permission set"}},
		PendingUntil: now.Add(time.Hour).Truncate(time.Minute),
	}
}
