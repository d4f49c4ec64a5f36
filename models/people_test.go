package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// One Jira identity per user and integration, one user per Jira identity;
// a relink replaces; approvers who may watch exclude the requester and the
// disabled; disabling and disconnecting remove links; all audited.
func TestJiraIdentityRules(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		tok := models.OAuthToken{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}
		in := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "Acme", Deployment: models.DeploymentCloud, CloudID: "acme", SiteURL: "https://acme.atlassian.net", Token: tok}))
		other := modeltest.Must(s.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "Corp", Deployment: models.DeploymentDataCenter, BaseURL: "https://jira.corp.example", ClientID: "c", ClientSecret: "s", Token: tok}))
		mk := func(email string, role models.Role) models.User {
			return modeltest.Must(s.CreateUser(ctx, models.SystemActor, models.NewUser{Email: email, Password: "correct horse battery", Role: role}))
		}
		admin, bob, carol, alice := mk("admin@example.com", models.RoleAdmin), mk("bob@example.com", models.RoleApprover), mk("carol@example.com", models.RoleApprover), mk("alice@example.com", models.RoleRequester)
		actor := models.Actor{UserID: admin.ID, Email: admin.Email}
		link := func(u models.User, integ int64, account string) error {
			_, err := s.LinkJiraIdentity(ctx, actor, u.ID, integ, models.JiraIdentityInput{AccountID: account, DisplayName: u.Email})
			return err
		}
		modeltest.Must(0, link(alice, in.ID, "acc-alice"))
		modeltest.Must(0, link(bob, in.ID, "acc-bob"))
		modeltest.Must(0, link(carol, in.ID, "acc-carol"))
		modeltest.Must(0, link(bob, other.ID, "acc-alice")) // the same id on another integration is another person
		if err := link(carol, in.ID, "acc-bob"); !errors.Is(err, models.ErrJiraIdentityTaken) {
			t.Fatalf("taking bob's Jira account: %v", err)
		}
		modeltest.Must(0, link(alice, in.ID, "acc-alice-2")) // relink replaces
		if id := modeltest.Must(s.UserJiraIdentity(ctx, in.ID, alice.ID)); id.AccountID != "acc-alice-2" {
			t.Fatalf("after relink: %+v", id)
		}
		ids := modeltest.Must(s.ApproverJiraIdentities(ctx, in.ID, bob.ID))
		if len(ids) != 1 || ids[0].UserID != carol.ID {
			t.Fatalf("approvers for bob's request: %+v", ids)
		}
		modeltest.Must(0, s.SetUserDisabled(ctx, actor, carol.ID, true))
		if ids := modeltest.Must(s.ApproverJiraIdentities(ctx, in.ID, alice.ID)); len(ids) != 1 || ids[0].UserID != bob.ID {
			t.Fatalf("approvers after disabling carol: %+v", ids)
		}
		if _, err := s.UserJiraIdentity(ctx, in.ID, carol.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("disabled user's link: %v", err)
		}
		modeltest.Must(0, s.DisconnectIntegration(ctx, actor, in.ID))
		left := modeltest.Must(s.JiraIdentitiesOfUsers(ctx, []int64{alice.ID, bob.ID, carol.ID}))
		if len(left[alice.ID]) != 0 || len(left[bob.ID]) != 1 || left[bob.ID][0].IntegrationID != other.ID {
			t.Fatalf("after disconnect: %+v", left)
		}
		audit := modeltest.Must(s.ListAudit(ctx, models.PageQuery{Page: 1, PerPage: 100}))
		n := map[models.AuditAction]int{}
		for _, ev := range audit.Items {
			n[ev.Action]++
		}
		// linked: 5 successful links (the refused one is not); unlinked: the
		// relink's replacement is not an unlink, then carol (disabled), alice
		// and bob (disconnected).
		if n[models.AuditJiraLinked] != 5 || n[models.AuditJiraUnlinked] != 3 {
			t.Fatalf("audit: %d linked, %d unlinked", n[models.AuditJiraLinked], n[models.AuditJiraUnlinked])
		}
	})
}
