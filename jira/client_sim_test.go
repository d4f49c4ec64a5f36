package jira

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"privilege/jira/jirasim"
	"privilege/models"
)

const simRedirect = "https://privilege.example/integrations/jira/callback"

func newSim(t *testing.T) (*jirasim.Sim, *OAuth) {
	t.Helper()
	sim := jirasim.New(jirasim.Options{CloudTLS: true, CloudRedirectURIs: []string{simRedirect}})
	t.Cleanup(sim.Close)
	hc := NewHTTPClient(OutboundConfig{AllowCIDRs: loopbackOnly(), RootCAs: sim.CertPool(), Timeout: 10 * time.Second})
	id, secret := sim.CloudClient()
	oauth := NewOAuth(OAuthConfig{
		AuthURL: sim.AuthURL(), APIURL: sim.APIURL(),
		CloudClientID: id, CloudClientSecret: secret, RedirectURL: simRedirect, HTTPClient: hc,
	})
	return sim, oauth
}

func consentCode(t *testing.T, sim *jirasim.Sim, authURL, site string) string {
	t.Helper()
	loc, err := sim.Consent(authURL, true, site)
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("state") != "state-1" || loc.Query().Get("code") == "" {
		t.Fatalf("callback = %s", loc)
	}
	return loc.Query().Get("code")
}

func TestSimCloudLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, oauth := newSim(t)
	site := sim.AddCloudSite("acme")
	site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())

	tok, err := oauth.ExchangeCloud(ctx, consentCode(t, sim, oauth.CloudAuthCodeURL("state-1"), "acme"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || CheckWriteScope(models.DeploymentCloud, tok.Scope) != nil {
		t.Fatalf("token = refresh %t scope %q", tok.RefreshToken != "", tok.Scope)
	}
	sites, err := oauth.AccessibleResources(ctx, tok.AccessToken)
	if err != nil || len(sites) != 1 || sites[0].CloudID != site.CloudID || CheckSiteWriteScope(sites[0]) != nil {
		t.Fatalf("sites = %+v, err %v", sites, err)
	}

	store := newMemStore(tok)
	conn := Connection{IntegrationID: 1, Deployment: models.DeploymentCloud, CloudID: sites[0].CloudID, SiteURL: sites[0].URL}
	c := NewClients(oauth, store, nil).For(conn)

	projects, err := c.ListProjects(ctx)
	if err != nil || !slices.ContainsFunc(projects, func(p Project) bool { return p.Key == "OPS" }) {
		t.Fatalf("projects = %v, err %v", projects, err)
	}
	types, err := c.IssueTypes(ctx, "OPS")
	if err != nil {
		t.Fatal(err)
	}
	task := slices.IndexFunc(types, func(it IssueType) bool { return it.Name == "Task" })
	if task < 0 {
		t.Fatalf("no Task in %v", types)
	}
	if _, err := c.IssueTypeFields(ctx, "OPS", types[task].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Statuses(ctx, "OPS"); err != nil {
		t.Fatal(err)
	}

	hostileDoc := NewDocument(Paragraph(Text("<script>{code}[x|javascript:alert(1)]\n\n")), sampleDoc().Blocks[0])
	ref, err := c.CreateIssue(ctx, IssueInput{
		ProjectKey: "OPS", IssueTypeID: types[task].ID, Summary: "JIT access for alice",
		Description: hostileDoc, Labels: []string{"privilege-jit", "privilege-request-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ref.URL != site.BrowseURL(ref.Key) {
		t.Fatalf("browse URL = %q, want %q", ref.URL, site.BrowseURL(ref.Key))
	}
	found, err := c.FindIssuesByLabel(ctx, "OPS", "privilege-request-1", []string{ref.ID})
	if err != nil || len(found) != 1 || found[0].Key != ref.Key {
		t.Fatalf("found = %v, err %v", found, err)
	}
	if err := c.AddComment(ctx, ref.Key, NewDocument(Paragraph(Strong("Approved"), Text(" by bob: because")))); err != nil {
		t.Fatal(err)
	}
	if err := c.MoveToStatus(ctx, ref.Key, ""); err != nil {
		t.Fatal(err)
	}
	issue, ok := site.Issue(ref.Key)
	if !ok || issue.Status != "Done" || issue.Resolution != "Done" || len(issue.Comments) != 1 {
		t.Fatalf("issue = %+v", issue)
	}

	// An expired access token: Jira answers 401, the client refreshes once.
	before := sim.Stats().TokenRefreshes
	sim.Inject(jirasim.Fault{Path: "/myself", Status: 401})
	if _, err := c.Myself(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sim.Stats().TokenRefreshes - before; got != 1 {
		t.Fatalf("refreshes = %d", got)
	}
	if store.token().RefreshToken == tok.RefreshToken {
		t.Fatal("rotated refresh token was not stored")
	}

	sim.Inject(jirasim.Fault{Method: "POST", Path: "/rest/api/3/issue", Status: 429, RetryAfter: 3})
	_, err = c.CreateIssue(ctx, IssueInput{ProjectKey: "OPS", IssueTypeID: types[task].ID, Summary: "x"})
	if d, ok := RetryAfter(err); !ok || d != 3*time.Second {
		t.Fatalf("429: err = %v", err)
	}

	sim.Inject(jirasim.Fault{Method: "POST", Path: "/rest/api/3/issue", DropAfterApply: true})
	_, err = c.CreateIssue(ctx, IssueInput{ProjectKey: "OPS", IssueTypeID: types[task].ID, Summary: "dropped", Labels: []string{"privilege-request-2"}})
	if !IsAmbiguous(err) {
		t.Fatalf("dropped create: err = %v, want ambiguous", err)
	}
	found, err = c.FindIssuesByLabel(ctx, "OPS", "privilege-request-2", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dropped create found by label right away: %d (search may lag)", len(found))

	if _, err := c.GetIssue(ctx, "OPS-999"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing issue: err = %v", err)
	}
}

func TestSimDataCenterLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, oauth := newSim(t)
	dc := sim.AddDataCenter("/jira")
	dc.AddProject("OPS", "Operations", jirasim.TwoStepWorkflow())
	clientID, secret := dc.AddClient(simRedirect)

	base, err := ValidateBaseURL(dc.BaseURL() + "/secure/Dashboard.jspa")
	if err != nil {
		t.Fatal(err)
	}
	info, err := oauth.ProbeServerInfo(ctx, base)
	if err != nil || info.DeploymentType == "Cloud" {
		t.Fatalf("server info = %+v, err %v", info, err)
	}
	if _, err := oauth.ProbeServerInfo(ctx, sim.AuthURL()); !errors.Is(err, ErrNotJira) {
		t.Fatalf("probing a non-Jira: err = %v", err)
	}

	verifier := GenerateVerifier()
	code := consentCode(t, sim, oauth.DCAuthCodeURL(base, clientID, "state-1", verifier), "")
	if _, err := oauth.ExchangeDC(ctx, base, clientID, secret, code, "wrong-verifier-"+verifier); err == nil {
		t.Fatal("a wrong PKCE verifier must fail")
	}
	code = consentCode(t, sim, oauth.DCAuthCodeURL(base, clientID, "state-1", verifier), "")
	tok, err := oauth.ExchangeDC(ctx, base, clientID, secret, code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckWriteScope(models.DeploymentDataCenter, tok.Scope); err != nil {
		t.Fatal(err)
	}

	tok.Expiry = time.Now().Add(-time.Minute) // force a refresh on first use
	store := newMemStore(tok)
	conn := Connection{IntegrationID: 2, Deployment: models.DeploymentDataCenter, BaseURL: base, ClientID: clientID, ClientSecret: secret}
	c := NewClients(oauth, store, nil).For(conn)

	projects, err := c.ListProjects(ctx)
	if err != nil || len(projects) != 1 {
		t.Fatalf("projects = %v, err %v", projects, err)
	}
	if store.token().AccessToken == tok.AccessToken {
		t.Fatal("expired token was not refreshed")
	}
	types, err := c.IssueTypes(ctx, "OPS")
	if err != nil || len(types) == 0 {
		t.Fatalf("types = %v, err %v", types, err)
	}
	ref, err := c.CreateIssue(ctx, IssueInput{ProjectKey: "OPS", IssueTypeID: types[0].ID, Summary: "JIT", Description: sampleDoc(), Labels: []string{"privilege-request-9"}})
	if err != nil {
		t.Fatal(err)
	}
	if ref.URL != dc.BrowseURL(ref.Key) {
		t.Fatalf("URL = %q", ref.URL)
	}
	if err := c.AddComment(ctx, ref.Key, NewDocument(Paragraph(Text("Denied: {code}*x*")))); err != nil {
		t.Fatal(err)
	}
	if err := c.MoveToStatus(ctx, ref.Key, "Done"); err != nil {
		t.Fatal(err)
	}
	issue, _ := dc.Issue(ref.Key)
	if issue.Status != "Done" {
		t.Fatalf("status = %q", issue.Status)
	}
	found, err := c.FindIssuesByLabel(ctx, "OPS", "privilege-request-9", nil)
	if err != nil || len(found) != 1 {
		t.Fatalf("found = %v, err %v", found, err)
	}
}

// TestMoveGivesUpAtTheStepLimitNamingTheStatuses: a workflow whose only way
// to Done is seven transitions long (the simulator offers one step at a time)
// stops after the console's five steps with an error that names every status
// it went through and what to do, not "no way to move".
func TestMoveGivesUpAtTheStepLimitNamingTheStatuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim, oauth := newSim(t)
	site := sim.AddCloudSite("acme")
	long := jirasim.Workflow{Initial: "To Do", Statuses: []jirasim.Status{{Name: "To Do", Category: jirasim.CategoryNew}}}
	prev := "To Do"
	for _, st := range []string{"Triage", "Review", "Security review", "Manager review", "Provisioning", "Verification", "Done"} {
		cat := jirasim.CategoryIndeterminate
		if st == "Done" {
			cat = jirasim.CategoryDone
		}
		long.Statuses = append(long.Statuses, jirasim.Status{Name: st, Category: cat})
		long.Transitions = append(long.Transitions, jirasim.Transition{ID: fmt.Sprint(len(long.Transitions) + 11), Name: "To " + st, From: []string{prev}, To: st})
		prev = st
	}
	site.AddProject("OPS", "Operations", long)
	tok, err := oauth.ExchangeCloud(ctx, consentCode(t, sim, oauth.CloudAuthCodeURL("state-1"), "acme"))
	if err != nil {
		t.Fatal(err)
	}
	c := NewClients(oauth, newMemStore(tok), nil).For(Connection{IntegrationID: 1, Deployment: models.DeploymentCloud, CloudID: site.CloudID, SiteURL: site.URL})
	types, err := c.IssueTypes(ctx, "OPS")
	if err != nil || len(types) == 0 {
		t.Fatalf("types %v %v", types, err)
	}
	ref, err := c.CreateIssue(ctx, IssueInput{ProjectKey: "OPS", IssueTypeID: types[0].ID, Summary: "JIT", Description: sampleDoc(), Labels: []string{"privilege-request-1"}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.MoveToStatus(ctx, ref.Key, "Done")
	var nt *NoTransitionError
	if !errors.Is(err, ErrNoTransition) || !errors.As(err, &nt) {
		t.Fatalf("err = %v", err)
	}
	want := `gave up moving ` + ref.Key + ` to status "Done" after 5 transitions ("To Do" → "Triage" → "Review" → "Security review" → "Manager review" → "Provisioning")`
	if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "no way to move") || !strings.Contains(err.Error(), "project link") {
		t.Fatalf("message:\n%s\nwant it to start with\n%s", err, want)
	}
	if is, _ := site.Issue(ref.Key); is.Status != "Provisioning" {
		t.Fatalf("the issue is in %q after the steps", is.Status)
	}
}
