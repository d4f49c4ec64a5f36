package main

import (
	"context"
	"testing"

	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// fixture is what the whole-process tests and benchmarks set up through the
// store, as an admin would through the console: a requester and an approver
// with API tokens, an account, and a Cloud integration (consent given on the
// simulator's page) whose project OPS tracks the account.
type fixture struct {
	requester, approver string // API tokens
	accountID           int64
	integrationID       int64
}

func setUpFixture(tb testing.TB, store *models.Store, sim *jirasim.Sim) fixture {
	tb.Helper()
	ctx := context.Background()
	mk := func(email string, role models.Role) string {
		u := modeltest.Must(store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: email, Password: "correct horse battery", Role: role}))
		tok, _, err := store.CreateAPIToken(ctx, models.SystemActor, u.ID, "tests")
		if err != nil {
			tb.Fatal(err)
		}
		return tok
	}
	f := fixture{requester: mk("alice@example.com", models.RoleRequester), approver: mk("bob@example.com", models.RoleApprover)}
	acc := modeltest.Must(store.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: "123456789012", Name: "Prod",
		Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))
	f.accountID = acc.ID
	id, secret := sim.CloudClient()
	hc := jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: loopback()})
	oauth := jira.NewOAuth(jira.OAuthConfig{AuthURL: sim.AuthURL(), APIURL: sim.APIURL(), CloudClientID: id, CloudClientSecret: secret,
		RedirectURL: simCallback, HTTPClient: hc})
	loc, err := sim.Consent(oauth.CloudAuthCodeURL("s"), true, "")
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := oauth.ExchangeCloud(ctx, loc.Query().Get("code"))
	if err != nil {
		tb.Fatal(err)
	}
	sites, err := oauth.AccessibleResources(ctx, tok.AccessToken)
	if err != nil {
		tb.Fatal(err)
	}
	integ := modeltest.Must(store.CreateIntegration(ctx, models.SystemActor, models.IntegrationGrant{Name: "Acme", Deployment: models.DeploymentCloud, CloudID: sites[0].CloudID, SiteURL: sites[0].URL, Token: tok}))
	f.integrationID = integ.ID
	types, err := jira.NewClients(oauth, store, hc).For(jira.NewConnection(integ, "")).IssueTypes(ctx, "OPS")
	if err != nil || len(types) == 0 {
		tb.Fatalf("issue types: %v %v", types, err)
	}
	modeltest.Must(store.SaveProjectLink(ctx, models.SystemActor, models.ProjectLinkInput{IntegrationID: integ.ID, ProjectID: "OPS", ProjectKey: "OPS", ProjectName: "Operations",
		IssueTypeID: types[0].ID, IssueTypeName: types[0].Name, Statuses: map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined"}, AccountIDs: []int64{acc.ID}}))
	return f
}

// simCallback is the callback registered on the simulator's 3LO app for tests
// that give consent through the store rather than a browser.
const simCallback = "http://privilege.test/integrations/jira/callback"
