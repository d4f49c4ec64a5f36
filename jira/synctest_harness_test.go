package jira_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// harness is a real store (SQLite or PostgreSQL), the Jira simulator, and a
// syncer driven step by step on one fake clock.
type harness struct {
	t       *testing.T
	ctx     context.Context
	clock   *jirasim.Clock
	sim     *jirasim.Sim
	store   *models.Store
	env     *testenv.Jira
	oauth   *jira.OAuth
	clients *jira.Clients
	syncer  *jira.Syncer
	inst    jirasim.Instance
	integ   models.Integration
	link    models.ProjectLink
	admin   models.User
	approve models.User
	alice   models.User
	account models.CloudAccount
	dc      *jirasim.DataCenter
	dcID    string
	dcSec   string
}

func newHarness(t *testing.T, d models.Dialect, dep models.Deployment) *harness {
	t.Helper()
	ctx := context.Background()
	clock := jirasim.NewClock(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	sim := testenv.StartSim(t, jirasim.Options{Now: clock.Now, CloudRedirectURIs: []string{testenv.Callback}})
	h := &harness{t: t, ctx: ctx, clock: clock, sim: sim}
	h.store = modeltest.NewStore(t, d, models.WithClock(clock.Now))
	h.useEnv(testenv.NewJira(sim, h.store, testenv.Callback, jira.WithNow(clock.Now), jira.WithTokenOptions(jira.WithClock(clock.Now))))
	h.syncer = jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), h.store, h.clients, nil, jira.SyncerConfig{
		BaseURL: "https://privilege.example.com", Workers: 4, Now: clock.Now, AmbiguousGrace: 30 * time.Second,
	})
	mk := func(email string, role models.Role) models.User {
		return modeltest.Must(h.store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: email, Password: "correct horse battery", Role: role}))
	}
	h.admin, h.approve, h.alice = mk("admin@example.com", models.RoleAdmin), mk("bob@example.com", models.RoleApprover), mk("alice@example.com", models.RoleRequester)
	h.account = h.newAccount("123456789012", "Prod")
	if dep == models.DeploymentCloud {
		h.inst = testenv.AddAcme(sim)
		h.integ = h.env.ConnectCloud(t, "Acme")
	} else {
		h.dc = sim.AddDataCenter("/jira")
		h.inst = h.dc
		h.dc.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
		h.dcID, h.dcSec = h.dc.AddClient(testenv.Callback, "WRITE")
		h.integ = h.env.ConnectDC(t, h.dc, h.dcID, h.dcSec, "Corp Jira")
	}
	h.link = h.linkProject("OPS", h.account.ID)
	return h
}

// newCloudHarness is a harness without syncer or fake clock, for tests that
// run their own syncers on the real clock: Alice, the account Prod, and
// site's OPS connected on store and tracking Prod.
func newCloudHarness(t *testing.T, store *models.Store, sim *jirasim.Sim, site *jirasim.Site) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), sim: sim, store: store, inst: site}
	h.useEnv(testenv.NewJira(sim, store, testenv.Callback))
	h.alice = modeltest.Must(store.CreateUser(h.ctx, models.SystemActor, models.NewUser{Email: "alice@example.com", Password: "correct horse battery", Role: models.RoleRequester}))
	h.account = h.newAccount("123456789012", "Prod")
	h.integ = h.env.ConnectCloud(t, "Acme")
	h.link = h.linkProject("OPS", h.account.ID)
	return h
}

func (h *harness) useEnv(env *testenv.Jira) {
	h.env, h.oauth, h.clients = env, env.OAuth, env.Clients
}

func (h *harness) newAccount(extID, name string) models.CloudAccount {
	return modeltest.Must(h.store.CreateAccount(h.ctx, models.SystemActor, models.AccountInput{
		Provider: models.ProviderAWS, ExternalID: extID, Name: name,
		Resources: []models.ResourceInput{{Name: "AdministratorAccess", Kind: "permission-set"}, {Name: "ReadOnly", Kind: "role"}},
	}))
}

// cloudGrant and dcGrant are a new consent for the harness's Jira (a reconnect).
func (h *harness) cloudGrant() models.IntegrationGrant { return h.env.CloudGrant(h.t, "Acme") }

func (h *harness) dcGrant() models.IntegrationGrant {
	return h.env.DCGrant(h.t, h.dc, h.dcID, h.dcSec, "Corp Jira")
}

// linkProject links key (named after itself) to the accounts, moving them
// from any other link.
func (h *harness) linkProject(key string, accountIDs ...int64) models.ProjectLink {
	return h.env.LinkProject(h.t, h.integ.ID, key, key, accountIDs, func(in *models.ProjectLinkInput) { in.MoveAccounts = true })
}

func (h *harness) conn() jira.Connection { return h.env.Conn(h.t, h.integ.ID) }

func (h *harness) request(acc models.CloudAccount, resources ...string) models.AccessRequest {
	h.t.Helper()
	if len(resources) == 0 {
		resources = []string{"AdministratorAccess", "ReadOnly"}
	}
	return modeltest.Must(h.store.CreateRequest(h.ctx, h.alice, models.NewRequest{
		AccountID: acc.ID, Resources: resources, DurationMinutes: 120, Justification: "Incident INC-42: <script>alert(1)</script> {code}",
	}, time.Hour))
}

// drain runs the syncer until no job is due, advancing the clock to the next
// retry when only future jobs remain. It fails after a bounded number of turns.
// Each turn first expires what is due, as the server's lifecycle ticker
// (lifecycle.go) does beside the syncer.
func (h *harness) drain() {
	h.t.Helper()
	for turn := 0; turn < 500; turn++ {
		if _, err := h.store.ExpireDue(h.ctx, 500); err != nil {
			h.t.Fatal(err)
		}
		n, err := h.syncer.ProcessOnce(h.ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		if n > 0 {
			continue
		}
		st := modeltest.Must(h.store.SyncStats(h.ctx))
		if st.Backlog == 0 {
			return
		}
		h.clock.Advance(30 * time.Second)
	}
	h.t.Fatal("syncer did not settle in 500 turns")
}

func (h *harness) reqState(id int64) models.AccessRequest {
	return modeltest.Must(h.store.Request(h.ctx, id))
}

// issuesFor returns the issues carrying the request's correlation label.
func (h *harness) issuesFor(id int64) []jirasim.Issue {
	var out []jirasim.Issue
	for _, is := range h.inst.Issues() {
		if is.HasLabel(jira.CorrelationLabel(id)) {
			out = append(out, is)
		}
	}
	return out
}

func (h *harness) oneIssue(id int64) jirasim.Issue {
	h.t.Helper()
	is := h.issuesFor(id)
	if len(is) != 1 {
		h.t.Fatalf("request %d has %d issues, want exactly 1", id, len(is))
	}
	return is[0]
}

func commentText(c jirasim.Comment) string {
	if s, ok := c.Body.(string); ok {
		return s
	}
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if t, ok := x["text"].(string); ok {
				b.WriteString(t)
			}
			walk(x["content"])
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(c.Body)
	return b.String()
}

func descriptionText(is jirasim.Issue) string {
	if s, ok := is.Description.(string); ok { // wiki markup: drop escapes
		return strings.ReplaceAll(s, `\`, "")
	}
	return commentText(jirasim.Comment{Body: is.Description}) + fmt.Sprint(is.DescriptionLinks())
}

// each runs fn for Cloud and Data Center, on SQLite and PostgreSQL.
func each(t *testing.T, fn func(t *testing.T, h *harness)) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		for _, dep := range []models.Deployment{models.DeploymentCloud, models.DeploymentDataCenter} {
			t.Run(string(d)+"/"+string(dep), func(t *testing.T) { fn(t, newHarness(t, d, dep)) })
		}
	}
}
