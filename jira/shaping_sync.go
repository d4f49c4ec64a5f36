package jira

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"privilege/models"
)

// shapeIssue builds the task of a request from its project link: the
// templates' summary and description, the correlation labels (always), and
// the link's field values (required and optional) and due date.
func (s *Syncer) shapeIssue(t target, r models.AccessRequest) (IssueInput, result, bool) {
	tm, err := ParseTemplates(t.link.SummaryTemplate, t.link.DescriptionTemplate)
	if err != nil {
		return IssueInput{}, result{kind: resultFail, note: "The task template of " + t.key + " is invalid (" + err.Error() + "); fix it on the project's Manage page, then Retry."}, false
	}
	extra, err := ParseExtraLabels(t.link.ExtraLabels)
	if err != nil {
		return IssueInput{}, result{kind: resultFail, note: "The extra labels of " + t.key + " are invalid (" + err.Error() + "); fix them on the project's Manage page, then Retry."}, false
	}
	task := ShapeTask(tm, r, s.cfg.BaseURL, TaskOptions{ExtraLabels: extra, DueDateFromExpiry: t.link.DueDateFromExpiry, FieldValues: t.link.FieldValues})
	in := IssueInput{ProjectKey: t.key, IssueTypeID: t.link.IssueTypeID, Summary: task.Summary, Description: task.Description, Labels: task.Labels,
		Fields: make(map[string]json.RawMessage, len(task.Fields))}
	for _, f := range task.Fields {
		in.Fields[f.ID] = f.Value
	}
	return in, result{}, true
}

// fieldRefused recognises Jira refusing a field of the create (a value no
// longer allowed, a newly required field): the job fails with Jira's message
// naming the field, and the link notes it for the integration page.
func (s *Syncer) fieldRefused(ctx context.Context, t target, err error) (string, bool) {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || len(ae.Fields) == 0 {
		return "", false
	}
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(ae.Fields)) {
		if id == "reporter" || id == "assignee" || id == "labels" || id == "summary" || id == "description" {
			return "", false // not a field the admin chose a value for
		}
		name := id
		if fv, ok := t.link.FieldValues[id]; ok && fv.Name != "" {
			name = fv.Name + " (" + id + ")"
		}
		parts = append(parts, "“"+name+"”: "+ae.Fields[id])
	}
	msg := "Jira refused the task's fields in " + t.key + ": " + strings.Join(parts, "; ") +
		". Choose a value Jira allows on the project's Manage page, then Retry."
	s.noteFields(ctx, t, msg)
	return msg, true
}

func (s *Syncer) noteFields(ctx context.Context, t target, problem string) {
	if err := s.store.RecordFieldsProblem(ctx, t.link.ID, problem); err != nil {
		s.log.Warn("record refused field", "project", t.key, "err", err)
	}
}
