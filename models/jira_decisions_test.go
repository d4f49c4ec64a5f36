package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// "Approve and deny in Jira": the statuses are checked; a notice queues one
// reconcile (not while one is due, again while one runs); the DC webhook
// secret is sealed and rotates.
func TestJiraDecisionSettingsAndNotices(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		tok := models.OAuthToken{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}
		in := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "Acme", Deployment: models.DeploymentCloud, CloudID: "acme", SiteURL: "https://acme.atlassian.net", Token: tok}))
		acc := modeltest.Must(s.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: "123456789012", Name: "Prod",
			Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))
		link := modeltest.Must(s.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{IntegrationID: in.ID, ProjectID: "1", ProjectKey: "OPS", ProjectName: "Ops",
			IssueTypeID: "3", IssueTypeName: "Task", AccountIDs: []int64{acc.ID},
			Statuses: map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined", models.OutcomeCancelled: "Cancelled", models.OutcomeExpired: "Declined"}}))
		statuses := []string{"To Do", "Done", "Declined", "Cancelled", "Approved"}
		for name, tc := range map[string]struct {
			in    models.JiraDecisionsInput
			field string
		}{
			"missing":           {models.JiraDecisionsInput{On: true, Statuses: statuses}, "jira_approve_status"},
			"same":              {models.JiraDecisionsInput{On: true, ApproveStatus: "Approved", DenyStatus: "Approved", Statuses: statuses}, "jira_deny_status"},
			"unknown":           {models.JiraDecisionsInput{On: true, ApproveStatus: "Yes", DenyStatus: "Declined", Statuses: statuses}, "jira_approve_status"},
			"unreachable":       {models.JiraDecisionsInput{On: true, ApproveStatus: "Approved", DenyStatus: "Declined", Statuses: statuses, ReachableFromInitial: []string{"Declined"}}, "jira_approve_status"},
			"collides (cancel)": {models.JiraDecisionsInput{On: true, ApproveStatus: "Cancelled", DenyStatus: "Declined", Statuses: statuses}, "jira_approve_status"},
			"collides (deny)":   {models.JiraDecisionsInput{On: true, ApproveStatus: "Declined", DenyStatus: "Done", Statuses: statuses}, "jira_approve_status"},
		} {
			_, err := s.SetJiraDecisions(ctx, models.SystemActor, link.ID, tc.in)
			var ve *models.ValidationError
			if !errors.As(err, &ve) || ve.Fields[tc.field] == "" {
				t.Errorf("%s: %v, want an error on %s", name, err, tc.field)
			}
		}
		if l := modeltest.Must(s.ProjectLink(ctx, link.ID)); l.DecideInJira {
			t.Fatal("a refused setting was saved")
		}
		on := modeltest.Must(s.SetJiraDecisions(ctx, models.SystemActor, link.ID, models.JiraDecisionsInput{On: true, ApproveStatus: "Approved", DenyStatus: "Declined", Statuses: statuses, ReachableFromInitial: []string{"Approved", "Declined"}}))
		if !on.DecideInJira || on.DecideInJiraSince == nil || len(modeltest.Must(s.DecisionProjectLinks(ctx, in.ID))) != 1 {
			t.Fatalf("saved %+v", on)
		}

		// Notices: unknown issues are ignored; a due job is not doubled.
		if queued := modeltest.Must(s.EnqueueIssueCheck(ctx, in.ID, "OPS-404")); queued {
			t.Fatal("an unknown issue was queued")
		}
		// Jira shows a task before the job creating it records its key: a
		// notice naming an unknown issue while a task is being created (its
		// job running) re-runs that request after it, so a person's move in
		// that window is read.
		alice := modeltest.Must(s.CreateUser(ctx, models.SystemActor, models.NewUser{Email: "alice@example.com", Password: "correct horse battery", Role: models.RoleRequester}))
		req := modeltest.Must(s.CreateRequest(ctx, alice, models.NewRequest{AccountID: acc.ID, Resources: []string{"ReadOnly"}, DurationMinutes: 60, Justification: "INC-1"}, time.Hour))
		if queued := modeltest.Must(s.EnqueueIssueCheck(ctx, in.ID, "OPS-7")); queued {
			t.Fatal("an unknown issue was queued while no task was being created")
		}
		jobs := modeltest.Must(s.ClaimJobs(ctx, "test", 10, time.Minute))
		if len(jobs) != 1 || jobs[0].RequestID != req.ID {
			t.Fatalf("claimed %+v, want the request's create job", jobs)
		}
		if queued := modeltest.Must(s.EnqueueIssueCheck(ctx, in.ID, "OPS-7")); !queued {
			t.Fatal("a notice for the task being created was dropped")
		}
		if st := modeltest.Must(s.SyncStats(ctx)); st.Backlog != 2 {
			t.Fatalf("backlog %d, want the running create job and one re-run", st.Backlog)
		}

		// Data Center secret: made once, sealed, rotated.
		dc := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "Corp", Deployment: models.DeploymentDataCenter, BaseURL: "https://jira.corp.example", ClientID: "c", ClientSecret: "s", Token: tok}))
		first := modeltest.Must(s.WebhookSecret(ctx, dc.ID))
		if again := modeltest.Must(s.WebhookSecret(ctx, dc.ID)); again != first || len(first) < 32 {
			t.Fatalf("secret %q then %q", first, again)
		}
		if settings := modeltest.Must(s.IntegrationSettings(ctx, dc.ID)); settings.WebhookSecretEnc == first {
			t.Fatal("the secret is stored in clear")
		}
		rotated := modeltest.Must(s.RotateWebhookSecret(ctx, models.SystemActor, dc.ID))
		if rotated == first || modeltest.Must(s.WebhookSecret(ctx, dc.ID)) != rotated {
			t.Fatal("rotation did not replace the secret")
		}
		if cloudSecret := modeltest.Must(s.WebhookSecret(ctx, in.ID)); cloudSecret != "" {
			t.Fatal("a Cloud integration got a DC secret")
		}
		tokA := modeltest.Must(s.WebhookToken(ctx, in.ID))
		if tokB := modeltest.Must(s.WebhookToken(ctx, in.ID)); tokA != tokB || len(tokA) < 32 {
			t.Fatalf("token %q then %q", tokA, tokB)
		}
		if found := modeltest.Must(s.IntegrationByWebhookToken(ctx, tokA)); found.ID != in.ID {
			t.Fatalf("token names integration %d", found.ID)
		}
		if _, err := s.IntegrationByWebhookToken(ctx, "nope"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
	})
}
