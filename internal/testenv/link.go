package testenv

import (
	"context"
	"testing"

	"privilege/jira"
	"privilege/models"
	"privilege/models/modeltest"
)

// TaskType picks the issue type "Task" of project key, as Jira lists it.
func TaskType(tb testing.TB, client *jira.Client, key string) jira.IssueType {
	tb.Helper()
	types, err := client.IssueTypes(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	for _, it := range types {
		if it.Name == "Task" {
			return it
		}
	}
	tb.Fatalf("%s has no issue type Task among %v", key, types)
	return jira.IssueType{}
}

// LinkInput links project key (named name) of the integration to the
// accounts with issue type it: approved moves the task to Done, denied to
// Declined.
func LinkInput(integrationID int64, key, name string, it jira.IssueType, accountIDs ...int64) models.ProjectLinkInput {
	return models.ProjectLinkInput{IntegrationID: integrationID, ProjectID: key, ProjectKey: key, ProjectName: name,
		IssueTypeID: it.ID, IssueTypeName: it.Name, AccountIDs: accountIDs,
		Statuses: map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined"}}
}

// LinkProject saves LinkInput for the project's Task type, read from Jira;
// opts adjust the input before it is saved.
func (j *Jira) LinkProject(tb testing.TB, integrationID int64, key, name string, accountIDs []int64, opts ...func(*models.ProjectLinkInput)) models.ProjectLink {
	tb.Helper()
	in := LinkInput(integrationID, key, name, TaskType(tb, j.Client(tb, integrationID), key), accountIDs...)
	for _, o := range opts {
		o(&in)
	}
	return modeltest.Must(j.Store.SaveProjectLink(context.Background(), models.SystemActor, in))
}
