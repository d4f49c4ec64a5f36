package testenv

import (
	"context"
	"net/http"
	"testing"

	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// Jira is the console's side of one simulator over one store: the guarded
// HTTP client, OAuth for the simulator's Cloud app, and the per-integration
// clients. OAuth and Clients share HTTP, so a transport wrapped later (a
// pacer) applies to both.
type Jira struct {
	Sim     *jirasim.Sim
	Store   *models.Store
	HTTP    *http.Client
	OAuth   *jira.OAuth
	Clients *jira.Clients
}

// NewJira wires the console to sim over store, calling back to redirect;
// opts go to the clients (a fake clock, metrics).
func NewJira(sim *jirasim.Sim, store *models.Store, redirect string, opts ...jira.ClientOption) *Jira {
	hc := HTTPClient(sim)
	oauth := jira.NewOAuth(OAuthConfig(sim, hc, redirect))
	return &Jira{Sim: sim, Store: store, HTTP: hc, OAuth: oauth, Clients: jira.NewClients(oauth, store, hc, opts...)}
}

// ConsentCode accepts on the simulator's consent page for authURL (as its
// first user, for its first site) and returns the authorization code.
func ConsentCode(tb testing.TB, sim *jirasim.Sim, authURL string) string {
	tb.Helper()
	loc, err := sim.Consent(authURL, true, "")
	if err != nil {
		tb.Fatal(err)
	}
	code := loc.Query().Get("code")
	if code == "" {
		tb.Fatalf("no code in %s", loc)
	}
	return code
}

// CloudGrant is what a Cloud consent yields for the first site the grant
// covers, to be stored as the integration name.
func (j *Jira) CloudGrant(tb testing.TB, name string) models.IntegrationGrant {
	tb.Helper()
	ctx := context.Background()
	tok, err := j.OAuth.ExchangeCloud(ctx, ConsentCode(tb, j.Sim, j.OAuth.CloudAuthCodeURL("st")))
	if err != nil {
		tb.Fatal(err)
	}
	sites, err := j.OAuth.AccessibleResources(ctx, tok.AccessToken)
	if err != nil || len(sites) == 0 {
		tb.Fatalf("sites %v %v", sites, err)
	}
	return models.IntegrationGrant{Name: name, Deployment: models.DeploymentCloud, CloudID: sites[0].CloudID, SiteURL: sites[0].URL, Token: tok}
}

// DCGrant is what a Data Center consent (PKCE) yields for the incoming link
// clientID/secret of dc, to be stored as the integration name.
func (j *Jira) DCGrant(tb testing.TB, dc *jirasim.DataCenter, clientID, secret, name string) models.IntegrationGrant {
	tb.Helper()
	v := jira.GenerateVerifier()
	code := ConsentCode(tb, j.Sim, j.OAuth.DCAuthCodeURL(dc.BaseURL(), clientID, "st", v))
	tok, err := j.OAuth.ExchangeDC(context.Background(), dc.BaseURL(), clientID, secret, code, v)
	if err != nil {
		tb.Fatal(err)
	}
	return models.IntegrationGrant{Name: name, Deployment: models.DeploymentDataCenter, BaseURL: dc.BaseURL(), ClientID: clientID, ClientSecret: secret, Token: tok}
}

// ConnectCloud stores the integration a Cloud consent yields.
func (j *Jira) ConnectCloud(tb testing.TB, name string) models.Integration {
	tb.Helper()
	return modeltest.Must(j.Store.CreateIntegration(context.Background(), models.SystemActor, j.CloudGrant(tb, name)))
}

// ConnectDC stores the integration a Data Center consent yields.
func (j *Jira) ConnectDC(tb testing.TB, dc *jirasim.DataCenter, clientID, secret, name string) models.Integration {
	tb.Helper()
	return modeltest.Must(j.Store.CreateIntegration(context.Background(), models.SystemActor, j.DCGrant(tb, dc, clientID, secret, name)))
}

// Conn describes the stored integration for the client, its client secret
// unsealed.
func (j *Jira) Conn(tb testing.TB, integrationID int64) jira.Connection {
	tb.Helper()
	in := modeltest.Must(j.Store.Integration(context.Background(), integrationID))
	return jira.NewConnection(in, modeltest.Must(j.Store.ClientSecret(in)))
}

// Client is the Jira client of the stored integration.
func (j *Jira) Client(tb testing.TB, integrationID int64) *jira.Client {
	tb.Helper()
	return j.Clients.For(j.Conn(tb, integrationID))
}
