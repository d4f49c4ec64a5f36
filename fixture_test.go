package main

import (
	"context"
	"testing"

	"privilege/internal/testenv"
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
	j := testenv.NewJira(sim, store, testenv.Callback)
	integ := j.ConnectCloud(tb, "Acme")
	f.integrationID = integ.ID
	j.LinkProject(tb, integ.ID, "OPS", "Operations", []int64{acc.ID})
	return f
}
