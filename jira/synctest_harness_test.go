package jira_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

const redirectURL = "http://privilege.test/integrations/jira/callback"

// harness is a real store (SQLite or PostgreSQL), the Jira simulator, and a
// syncer driven step by step on one fake clock.
type harness struct {
	t       *testing.T
	ctx     context.Context
	clock   *jirasim.Clock
	sim     *jirasim.Sim
	store   *models.Store
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
	sim := jirasim.New(jirasim.Options{Now: clock.Now, CloudRedirectURIs: []string{redirectURL}})
	t.Cleanup(sim.Close)
	h := &harness{t: t, ctx: ctx, clock: clock, sim: sim}
	h.store = modeltest.NewStore(t, d, models.WithClock(clock.Now))
	hc := jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, RootCAs: sim.CertPool()})
	id, secret := sim.CloudClient()
	h.oauth = jira.NewOAuth(jira.OAuthConfig{AuthURL: sim.AuthURL(), APIURL: sim.APIURL(), CloudClientID: id, CloudClientSecret: secret, RedirectURL: redirectURL, HTTPClient: hc})
	h.clients = jira.NewClients(h.oauth, h.store, hc, jira.WithNow(clock.Now), jira.WithTokenOptions(jira.WithClock(clock.Now)))
	h.syncer = jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), h.store, h.clients, nil, jira.SyncerConfig{
		BaseURL: "https://privilege.example.com", Workers: 4, Now: clock.Now, AmbiguousGrace: 30 * time.Second,
	})
	mk := func(email string, role models.Role) models.User {
		return modeltest.Must(h.store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: email, Password: "correct horse battery", Role: role}))
	}
	h.admin, h.approve, h.alice = mk("admin@example.com", models.RoleAdmin), mk("bob@example.com", models.RoleApprover), mk("alice@example.com", models.RoleRequester)
	h.account = h.newAccount("123456789012", "Prod")
	if dep == models.DeploymentCloud {
		site := sim.AddCloudSite("acme")
		h.inst = site
		site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
		h.integ = h.connectCloud()
	} else {
		h.dc = sim.AddDataCenter("/jira")
		h.inst = h.dc
		h.dc.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
		h.dcID, h.dcSec = h.dc.AddClient(redirectURL, "WRITE")
		h.integ = h.connectDC()
	}
	h.link = h.linkProject("OPS", h.account.ID)
	return h
}

func (h *harness) newAccount(extID, name string) models.CloudAccount {
	return modeltest.Must(h.store.CreateAccount(h.ctx, models.SystemActor, models.AccountInput{
		Provider: models.ProviderAWS, ExternalID: extID, Name: name,
		Resources: []models.ResourceInput{{Name: "AdministratorAccess", Kind: "permission-set"}, {Name: "ReadOnly", Kind: "role"}},
	}))
}

func (h *harness) consentCode(authURL string) string {
	h.t.Helper()
	loc, err := h.sim.Consent(authURL, true, "")
	if err != nil {
		h.t.Fatal(err)
	}
	code := loc.Query().Get("code")
	if code == "" {
		h.t.Fatalf("no code in %s", loc)
	}
	return code
}

func (h *harness) cloudGrant() models.IntegrationGrant {
	tok, err := h.oauth.ExchangeCloud(h.ctx, h.consentCode(h.oauth.CloudAuthCodeURL("st")))
	if err != nil {
		h.t.Fatal(err)
	}
	sites, err := h.oauth.AccessibleResources(h.ctx, tok.AccessToken)
	if err != nil || len(sites) == 0 {
		h.t.Fatalf("sites %v %v", sites, err)
	}
	return models.IntegrationGrant{Name: "Acme", Deployment: models.DeploymentCloud, CloudID: sites[0].CloudID, SiteURL: sites[0].URL, Token: tok}
}

func (h *harness) connectCloud() models.Integration {
	return modeltest.Must(h.store.CreateIntegration(h.ctx, models.SystemActor, h.cloudGrant()))
}

func (h *harness) dcGrant() models.IntegrationGrant {
	v := jira.GenerateVerifier()
	tok, err := h.oauth.ExchangeDC(h.ctx, h.dc.BaseURL(), h.dcID, h.dcSec, h.consentCode(h.oauth.DCAuthCodeURL(h.dc.BaseURL(), h.dcID, "st", v)), v)
	if err != nil {
		h.t.Fatal(err)
	}
	return models.IntegrationGrant{Name: "Corp Jira", Deployment: models.DeploymentDataCenter, BaseURL: h.dc.BaseURL(), ClientID: h.dcID, ClientSecret: h.dcSec, Token: tok}
}

func (h *harness) connectDC() models.Integration {
	return modeltest.Must(h.store.CreateIntegration(h.ctx, models.SystemActor, h.dcGrant()))
}

func (h *harness) linkProject(key string, accountIDs ...int64) models.ProjectLink {
	types, err := h.clients.For(h.conn()).IssueTypes(h.ctx, key)
	if err != nil {
		h.t.Fatal(err)
	}
	var taskID string
	for _, it := range types {
		if it.Name == "Task" {
			taskID = it.ID
		}
	}
	return modeltest.Must(h.store.SaveProjectLink(h.ctx, models.SystemActor, models.ProjectLinkInput{
		IntegrationID: h.integ.ID, ProjectID: key, ProjectKey: key, ProjectName: key, IssueTypeID: taskID, IssueTypeName: "Task",
		Statuses: map[models.Outcome]string{models.OutcomeApproved: "Done", models.OutcomeDenied: "Declined"}, AccountIDs: accountIDs, MoveAccounts: true,
	}))
}

func (h *harness) conn() jira.Connection {
	in := modeltest.Must(h.store.Integration(h.ctx, h.integ.ID))
	secret := modeltest.Must(h.store.ClientSecret(in))
	return jira.NewConnection(in, secret)
}

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
