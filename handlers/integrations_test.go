package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

const testCallback = testOrigin + "/integrations/jira/callback"

// jiraEnv is an app wired to the Jira simulator through the guarded client.
type jiraEnv struct {
	t     *testing.T
	clock *testClock
	app   *testApp
	sim   *jirasim.Sim
	admin *client
}

// withAtlassianAt wires OAuth and clients for sim's Cloud app with the
// Atlassian authorization server and API gateway at url (a fake).
func withAtlassianAt(store *models.Store, sim *jirasim.Sim, url string) appOption {
	hc := testenv.HTTPClient(sim)
	cfg := testenv.OAuthConfig(sim, hc, testCallback)
	cfg.AuthURL, cfg.APIURL = url, url
	oauth := jira.NewOAuth(cfg)
	clients := jira.NewClients(oauth, store, hc)
	return func(_ *Config, d *Deps) { d.JiraOAuth, d.JiraClients = oauth, clients }
}

func newJiraEnvStore(t *testing.T, store *models.Store) *jiraEnv {
	t.Helper()
	sim := testenv.StartSim(t, jirasim.Options{CloudRedirectURIs: []string{testCallback}})
	clock := &testClock{}
	app := newTestApp(t, store, withJira(testenv.NewJira(sim, store, testCallback)), withClock(clock.now))
	modeltest.Must(store.CreateFirstAdmin(context.Background(), "127.0.0.1",
		models.NewUser{Email: "admin@example.com", Name: "Ada Admin", Password: testPassword}))
	return &jiraEnv{t: t, app: app, sim: sim, clock: clock, admin: app.signedIn("admin@example.com")}
}

func newJiraEnv(t *testing.T, d models.Dialect) *jiraEnv {
	return newJiraEnvStore(t, modeltest.NewStore(t, d))
}

func (e *jiraEnv) integrations() []models.Integration {
	e.t.Helper()
	return modeltest.Must(e.app.store.ListIntegrations(context.Background()))
}

// start posts the Integrate form and returns the authorize URL the
// hand-off page sends the browser to.
func (e *jiraEnv) start(form url.Values) string {
	e.t.Helper()
	rec := e.admin.post("/integrations/jira", form)
	wantRedirect(e.t, rec, "/integrations/jira/authorize")
	return e.handoff()
}

func (e *jiraEnv) handoff() string {
	e.t.Helper()
	rec := e.admin.get("/integrations/jira/authorize")
	wantStatus(e.t, rec, http.StatusOK)
	href, ok := parseHTML(e.t, rec).Find(`[data-testid=continue-to-jira]`).Attr("href")
	if !ok {
		e.t.Fatal("hand-off page has no link to Jira")
	}
	return href
}

// callback delivers Jira's redirect (its query) to the app.
func (e *jiraEnv) callback(loc *url.URL) *httptest.ResponseRecorder {
	return e.admin.get("/integrations/jira/callback?" + loc.RawQuery)
}

// consent accepts or declines on the simulator's page.
func (e *jiraEnv) consent(authURL string, accept bool) *url.URL {
	e.t.Helper()
	loc, err := e.sim.Consent(authURL, accept, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return loc
}

// connectCloud runs the whole Cloud flow and returns the integration id.
func (e *jiraEnv) connectCloud(name string) int64 {
	e.t.Helper()
	rec := e.callback(e.consent(e.start(url.Values{"name": {name}}), true))
	return e.integrationFrom(rec)
}

func (e *jiraEnv) integrationFrom(rec *httptest.ResponseRecorder) int64 {
	e.t.Helper()
	wantRedirect(e.t, rec, "/integrations/")
	id, err := strconv.ParseInt(strings.TrimPrefix(rec.Header().Get("Location"), "/integrations/"), 10, 64)
	if err != nil {
		e.t.Fatalf("callback went to %q", rec.Header().Get("Location"))
	}
	return id
}

// flashAfter follows a redirect and returns the page's flash text.
func (e *jiraEnv) flashAfter(rec *httptest.ResponseRecorder, kind string) string {
	e.t.Helper()
	if rec.Code != http.StatusSeeOther {
		e.t.Fatalf("status %d, want 303\n%s", rec.Code, trim(rec.Body.String()))
	}
	page := e.admin.get(rec.Header().Get("Location"))
	return parseHTML(e.t, page).Find(`[data-testid=flash-` + kind + `]`).Text()
}

func TestJiraCloudAuthorizeRedirect(t *testing.T) {
	e := newJiraEnv(t, models.DialectSQLite)
	rec := e.admin.post("/integrations/jira", url.Values{"name": {"Jira Cloud"}})
	wantRedirect(t, rec, "/integrations/jira/authorize")
	page := e.admin.get("/integrations/jira/authorize")
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("hand-off CSP %q", csp)
	}
	u, err := url.Parse(e.handoff())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if !strings.HasPrefix(u.String(), e.sim.AuthURL()+"/authorize?") {
		t.Errorf("authorize URL %s", u)
	}
	for k, want := range map[string]string{"audience": "api.atlassian.com", "prompt": "consent", "response_type": "code", "redirect_uri": testCallback} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " offline_access ") || !strings.Contains(q.Get("scope"), "write:jira-work") {
		t.Errorf("scope %q", q.Get("scope"))
	}
	if len(q.Get("state")) < 40 {
		t.Errorf("state %q is too short", q.Get("state"))
	}
	if len(e.integrations()) != 0 {
		t.Error("something was stored before consent")
	}
}

func TestJiraDataCenterAuthorizeUsesPKCE(t *testing.T) {
	e := newJiraEnv(t, models.DialectSQLite)
	dc := e.sim.AddDataCenter("/jira")
	id, secret := dc.AddClient(testCallback, "WRITE")
	authURL := e.start(url.Values{"name": {"DC"}, "self_hosted": {"1"}, "base_url": {dc.BaseURL() + "/secure/Dashboard.jspa"}, "client_id": {id}, "client_secret": {secret}})
	u, _ := url.Parse(authURL)
	q := u.Query()
	if !strings.HasPrefix(authURL, dc.BaseURL()+"/rest/oauth2/latest/authorize?") {
		t.Errorf("authorize URL %s", authURL)
	}
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 || q.Get("scope") != "WRITE" || q.Get("state") == "" {
		t.Errorf("authorize query %v", q)
	}
	if strings.Contains(authURL, secret) {
		t.Error("the client secret is in the authorize URL")
	}
	id2 := e.integrationFrom(e.callback(e.consent(authURL, true)))
	in := modeltest.Must(e.app.store.Integration(context.Background(), id2))
	if in.Deployment != models.DeploymentDataCenter || in.BaseURL != dc.BaseURL() || in.Status != models.IntegrationConnected {
		t.Errorf("stored %+v", in)
	}
	if got := modeltest.Must(e.app.store.ClientSecret(in)); got != secret {
		t.Errorf("client secret %q", got)
	}
}

// A Jira that has an integration is refused on the form, before any consent.
func TestJiraDataCenterSecondIntegrationRefused(t *testing.T) {
	e := newJiraEnv(t, models.DialectSQLite)
	dc := e.sim.AddDataCenter("/jira")
	id, secret := dc.AddClient(testCallback, "WRITE")
	form := url.Values{"name": {"DC"}, "self_hosted": {"1"}, "base_url": {dc.BaseURL()}, "client_id": {id}, "client_secret": {secret}}
	e.integrationFrom(e.callback(e.consent(e.start(form), true)))
	form.Set("name", "DC again")
	form.Set("base_url", dc.BaseURL()+"/")
	rec := e.admin.post("/integrations/jira", form)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("second connect: %d, want 422", rec.Code)
	}
	if msg := parseHTML(t, rec).Find(`[data-testid=error-base_url]`).Text(); !strings.Contains(msg, "already connected as “DC”") {
		t.Errorf("base_url error %q", msg)
	}
	if n := len(e.integrations()); n != 1 {
		t.Errorf("%d integrations", n)
	}
}

// TestJiraCallbackRejects: forged, replayed and expired states, and a
// declined consent, end on Integrations with a message and store nothing.
func TestJiraCallbackRejects(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newJiraEnvStore(t, store)
		e.sim.AddCloudSite("acme")

		t.Run("declined", func(t *testing.T) {
			rec := e.callback(e.consent(e.start(url.Values{"name": {"Declined"}}), false))
			wantRedirect(t, rec, "/integrations")
			if msg := e.flashAfter(rec, "error"); !strings.Contains(msg, "Jira access was declined; nothing was saved") {
				t.Errorf("flash %q", msg)
			}
		})
		t.Run("forged state", func(t *testing.T) {
			loc := e.consent(e.start(url.Values{"name": {"Forged"}}), true)
			q := loc.Query()
			q.Set("state", strings.Repeat("A", 43))
			loc.RawQuery = q.Encode()
			if msg := e.flashAfter(e.callback(loc), "error"); !strings.Contains(msg, "Nothing was saved") {
				t.Errorf("flash %q", msg)
			}
		})
		t.Run("no flow in this browser", func(t *testing.T) {
			loc := e.consent(e.start(url.Values{"name": {"Other browser"}}), true)
			other := e.app.signedIn("admin@example.com")
			rec := other.get("/integrations/jira/callback?" + loc.RawQuery)
			wantRedirect(t, rec, "/integrations")
		})
		t.Run("replayed state", func(t *testing.T) {
			loc := e.consent(e.start(url.Values{"name": {"Replayed"}}), true)
			first := e.callback(loc)
			wantRedirect(t, first, "/integrations/")
			n := len(e.integrations())
			if msg := e.flashAfter(e.callback(loc), "error"); !strings.Contains(msg, "already used") {
				t.Errorf("replay flash %q", msg)
			}
			if len(e.integrations()) != n {
				t.Error("a replayed callback stored an integration")
			}
			modeltest.Must(0, store.DisconnectIntegration(context.Background(), models.SystemActor, e.integrationFrom(first)))
		})
		t.Run("expired state", func(t *testing.T) {
			loc := e.consent(e.start(url.Values{"name": {"Expired"}}), true)
			e.clock.advance(11 * time.Minute)
			t.Cleanup(func() { e.clock.advance(-11 * time.Minute) })
			if msg := e.flashAfter(e.callback(loc), "error"); !strings.Contains(msg, "expired") {
				t.Errorf("flash %q", msg)
			}
		})
		if n := len(e.integrations()); n != 0 {
			t.Errorf("%d integrations stored, want 0", n)
		}
	})
}

func TestJiraDataCenterBaseURLChecks(t *testing.T) {
	e := newJiraEnv(t, models.DialectSQLite)
	dc := e.sim.AddDataCenter("/jira")
	id, secret := dc.AddClient(testCallback, "WRITE")
	cases := []struct{ name, base, want string }{
		{"plain http", "http://jira.example.com", "https://"},
		{"metadata address", "https://169.254.169.254", "link-local"},
		{"not Jira", dc.BaseURL() + "/elsewhere", "not like Jira"},
		{"empty", "", "Base URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.admin.post("/integrations/jira", url.Values{"name": {"DC"}, "self_hosted": {"1"}, "base_url": {c.base}, "client_id": {id}, "client_secret": {secret}})
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			msg := parseHTML(t, rec).Find(`[data-testid=error-base_url]`).Text()
			if !strings.Contains(msg, c.want) {
				t.Errorf("base_url error %q, want it to mention %q", msg, c.want)
			}
		})
	}
	rec := e.admin.post("/integrations/jira", url.Values{"name": {""}, "self_hosted": {"1"}, "base_url": {dc.BaseURL()}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	doc := parseHTML(t, rec)
	for _, f := range []string{"name", "client_id", "client_secret"} {
		if doc.Find(`[data-testid=error-`+f+`]`).Length() == 0 {
			t.Errorf("no error on %s", f)
		}
	}
	if len(e.integrations()) != 0 {
		t.Error("an integration was stored")
	}
}

func TestJiraCloudNeedsClientID(t *testing.T) {
	store := modeltest.NewStore(t, models.DialectSQLite)
	oauth := jira.NewOAuth(jira.OAuthConfig{AuthURL: "https://auth.atlassian.com", RedirectURL: testCallback})
	app := newTestApp(t, store, func(_ *Config, d *Deps) { d.JiraOAuth = oauth })
	modeltest.Must(store.CreateFirstAdmin(context.Background(), "127.0.0.1", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	admin := app.signedIn("admin@example.com")
	if !strings.Contains(admin.get("/integrations/jira/new").Body.String(), "PRIVILEGE_ATLASSIAN_CLIENT_ID") {
		t.Error("the form does not tell the operator to set PRIVILEGE_ATLASSIAN_CLIENT_ID")
	}
	rec := admin.post("/integrations/jira", url.Values{"name": {"Cloud"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if !strings.Contains(parseHTML(t, rec).Find(`[data-testid=error-form]`).Text(), "PRIVILEGE_ATLASSIAN_CLIENT_ID") {
		t.Error("no form error about the missing client id")
	}
}

// fakeAtlassian answers the token and accessible-resources endpoints with
// the given scope and sites (the simulator grants one site per consent).
func fakeAtlassian(t *testing.T, scope string, sites []jira.Site) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "fake-access", "refresh_token": "fake-refresh", "expires_in": 3600, "token_type": "bearer", "scope": scope})
	})
	mux.HandleFunc("GET /oauth/token/accessible-resources", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(sites)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func newFakeCloudEnv(t *testing.T, scope string, sites []jira.Site) *jiraEnv {
	t.Helper()
	store := modeltest.NewStore(t, models.DialectSQLite)
	sim := testenv.StartSim(t, jirasim.Options{})
	fake := fakeAtlassian(t, scope, sites)
	app := newTestApp(t, store, withAtlassianAt(store, sim, fake.URL))
	modeltest.Must(store.CreateFirstAdmin(context.Background(), "127.0.0.1", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	return &jiraEnv{t: t, app: app, sim: sim, admin: app.signedIn("admin@example.com")}
}

// fakeCallback is Atlassian's redirect with a code for the flow in progress.
func (e *jiraEnv) fakeCallback(name string) *httptest.ResponseRecorder {
	u, _ := url.Parse(e.start(url.Values{"name": {name}}))
	return e.admin.get("/integrations/jira/callback?code=fake-code&state=" + url.QueryEscape(u.Query().Get("state")))
}

func TestJiraTokenWithoutWriteScope(t *testing.T) {
	e := newFakeCloudEnv(t, "read:jira-work offline_access", []jira.Site{{CloudID: "c1", URL: "https://a.example", Name: "a", Scopes: []string{"read:jira-work"}}})
	if msg := e.flashAfter(e.fakeCallback("Read only"), "error"); !strings.Contains(msg, "read access only") {
		t.Errorf("flash %q", msg)
	}
	if len(e.integrations()) != 0 {
		t.Error("an integration was stored")
	}
}

func TestJiraSitePicker(t *testing.T) {
	w := []string{"read:jira-work", "write:jira-work"}
	e := newFakeCloudEnv(t, "read:jira-work write:jira-work offline_access", []jira.Site{
		{CloudID: "cloud-acme", URL: "https://acme.example", Name: "acme", Scopes: w},
		{CloudID: "cloud-globex", URL: "https://globex.example", Name: "globex", Scopes: w},
	})
	rec := e.fakeCallback("Two sites")
	wantStatus(t, rec, http.StatusOK)
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("the site picker may be cached")
	}
	doc := parseHTML(t, rec)
	if doc.Find(`[data-testid=site-picker] input[name=site]`).Length() != 2 {
		t.Fatalf("site picker:\n%s", trim(rec.Body.String()))
	}
	if strings.Contains(rec.Body.String(), "fake-access") || strings.Contains(rec.Body.String(), "fake-refresh") {
		t.Error("a token is in the page in plaintext")
	}
	if len(e.integrations()) != 0 {
		t.Fatal("stored before the site was chosen")
	}
	grant, _ := doc.Find(`input[name=grant]`).Attr("value")
	form := url.Values{"grant": {grant}, "site": {"cloud-globex"}}
	id := e.integrationFrom(e.admin.post("/integrations/jira/site", form))
	in := modeltest.Must(e.app.store.Integration(context.Background(), id))
	if in.CloudID != "cloud-globex" || in.SiteURL != "https://globex.example" {
		t.Errorf("stored site %q %q", in.CloudID, in.SiteURL)
	}
	if msg := e.flashAfter(e.admin.post("/integrations/jira/site", form), "error"); !strings.Contains(msg, "expired or was already used") {
		t.Errorf("replayed pick: %q", msg)
	}
	if len(e.integrations()) != 1 {
		t.Error("a replayed pick stored another integration")
	}
}

func TestJiraProjectListIsComplete(t *testing.T) {
	e := newJiraEnv(t, models.DialectSQLite)
	site := e.sim.AddCloudSite("globex")
	for i := 1; i <= 125; i++ {
		site.AddProject("G"+strconv.Itoa(1000+i), "Globex team "+strconv.Itoa(i), jirasim.SimpleWorkflow())
	}
	id := e.connectCloud("Globex")
	doc := parseHTML(t, e.admin.get("/integrations/"+itoa(id)))
	if n, count := doc.Find(`[data-testid=project-row]`).Length(), trim(doc.Find(`[data-testid=project-count]`).Text()); n != 50 || count != "125 of 125 projects" {
		t.Fatalf("%d projects listed (%q), want the first 50 of 125", n, count)
	}
	doc = parseHTML(t, e.admin.get("/integrations/"+itoa(id)+"?page=3"))
	if n := doc.Find(`[data-testid=project-row]`).Length(); n != 25 || doc.Find(`[data-testid=project-row]`).First().AttrOr("data-key", "") != "G1101" {
		t.Fatalf("page 3 lists %d projects from %s, want 25 from G1101", n, doc.Find(`[data-testid=project-row]`).First().AttrOr("data-key", ""))
	}
	doc = parseHTML(t, e.admin.get("/integrations/"+itoa(id)+"?linked=1"))
	if n := doc.Find(`[data-testid=project-row]`).Length(); n != 0 {
		t.Errorf("linked only lists %d projects, want none (nothing is linked)", n)
	}
	doc = parseHTML(t, e.admin.get("/integrations/"+itoa(id)+"?q=team+12"))
	if n := doc.Find(`[data-testid=project-row]`).Length(); n != 7 { // 12, 120–125
		t.Errorf("search listed %d projects, want 7", n)
	}
	// An unknown key is refused, not saved silently.
	rec := e.admin.post("/integrations/"+itoa(id)+"/project-keys", url.Values{"project_keys": {"g1001, NOPE"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown key: status %d, want 422", rec.Code)
	}
	if msg := parseHTML(t, rec).Find(`[data-testid=error-project_keys]`).Text(); !strings.Contains(msg, "NOPE is not a project") {
		t.Errorf("unknown key error %q", msg)
	}
	doc = parseHTML(t, e.admin.get("/integrations/"+itoa(id)))
	if n := doc.Find(`[data-testid=project-row]`).Length(); n != 50 {
		t.Errorf("after a refused restriction %d projects listed, want 50 (unrestricted)", n)
	}
	wantRedirect(t, e.admin.post("/integrations/"+itoa(id)+"/project-keys", url.Values{"project_keys": {"g1001, G1002"}}), "/integrations/")
	doc = parseHTML(t, e.admin.get("/integrations/"+itoa(id)))
	if n := doc.Find(`[data-testid=project-row]`).Length(); n != 2 {
		t.Errorf("restricted list has %d projects, want 2", n)
	}
}

func TestJiraProjectManage(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newJiraEnvStore(t, store)
		site := e.sim.AddCloudSite("acme")
		site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
		site.AddProject("SEC", "Security", jirasim.SimpleWorkflow())
		prod, stage := e.app.addAccount("Production", "111111111111"), e.app.addAccount("Staging", "222222222222")
		e.app.addAccount("Sandbox", "333333333333")
		id := e.connectCloud("Acme")
		path := "/integrations/" + itoa(id) + "/projects/OPS"

		doc := parseHTML(t, e.admin.get(path))
		if doc.Find(`[data-testid=account-choice]`).Length() != 3 || doc.Find(`[data-testid=workflow-problem]`).Length() != 0 {
			t.Fatalf("project page:\n%s", trim(e.admin.get(path).Body.String()))
		}
		typ, _ := doc.Find(`select[name=issue_type] option[selected]`).Attr("value")
		if label := doc.Find(`select[name=issue_type] option[selected]`).Text(); label != "Task" {
			t.Errorf("default issue type %q", label)
		}
		if v, _ := doc.Find(`select[name=status_denied] option[selected]`).Attr("value"); v != "Declined" {
			t.Errorf("default denied status %q", v)
		}
		if v, _ := doc.Find(`select[name=status_approved] option[selected]`).Attr("value"); v != "Done" {
			t.Errorf("default approved status %q", v)
		}
		form := url.Values{"account": {itoa(prod.ID), itoa(stage.ID)}, "issue_type": {typ},
			"status_approved": {"Done"}, "status_denied": {"Declined"}, "status_cancelled": {"Declined"}, "status_expired": {"Declined"}}
		rec := e.admin.post(path, form)
		wantRedirect(t, rec, path)
		doc = parseHTML(t, e.admin.get(path))
		checked := map[string]bool{}
		doc.Find(`[data-testid=account-choice]`).Each(func(_ int, s *goquery.Selection) {
			if _, ok := s.Find(`input[checked]`).Attr("value"); ok {
				checked[strings.TrimSpace(strings.Fields(s.Text())[0])] = true
			}
		})
		if !checked["Production"] || !checked["Staging"] || checked["Sandbox"] {
			t.Errorf("checked after reload: %v", checked)
		}
		list := parseHTML(t, e.admin.get("/integrations/"+itoa(id)))
		if txt := list.Find(`[data-testid=project-row][data-key=OPS]`).Text(); !strings.Contains(txt, "2 account(s)") {
			t.Errorf("OPS row %q", txt)
		}

		// Moving Staging to SEC must be explicit.
		sec := "/integrations/" + itoa(id) + "/projects/SEC"
		form.Set("account", itoa(stage.ID))
		rec = e.admin.post(sec, form)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=error-accounts]`).Text(); !strings.Contains(msg, "Move accounts tracked elsewhere") {
			t.Errorf("move error %q", msg)
		}
		if !strings.Contains(parseHTML(t, e.admin.get(sec)).Find(`[data-testid=elsewhere]`).Text(), "tracked in Acme · OPS (Operations)") {
			t.Error("SEC page does not say Staging is tracked in Acme's OPS")
		}
		form.Set("move_accounts", "1")
		wantRedirect(t, e.admin.post(sec, form), sec)
		link := modeltest.Must(store.ProjectLinkByKey(context.Background(), id, "OPS"))
		if len(link.Accounts) != 1 || link.Accounts[0].ID != prod.ID {
			t.Errorf("OPS accounts after move: %+v", link.Accounts)
		}
		wantRedirect(t, e.admin.post(sec+"/unlink", nil), "/integrations/")
		if _, err := store.ProjectLinkByKey(context.Background(), id, "SEC"); err == nil {
			t.Error("SEC is still linked")
		}
	})
}

func TestJiraWorkflowCheck(t *testing.T) {
	e := newJiraEnv(t, models.DialectSQLite)
	site := e.sim.AddCloudSite("acme")
	hr := site.AddProject("HR", "People", jirasim.SimpleWorkflow())
	hr.RemoveIssueType("Task")
	hr.AddIssueType("Request", false)
	fin := site.AddProject("FIN", "Finance", jirasim.SimpleWorkflow())
	fin.AddCreateField("Task", jirasim.CreateField{ID: "customfield_10050", Name: "Cost center", Kind: jirasim.FieldCascading, Required: true, Options: []string{"EU"}})
	acc := e.app.addAccount("Production", "111111111111")
	id := e.connectCloud("Acme")

	doc := parseHTML(t, e.admin.get("/integrations/"+itoa(id)+"/projects/HR"))
	if msg := doc.Find(`[data-testid=workflow-notice]`).Text(); !strings.Contains(msg, "This project has no issue type “Task”") {
		t.Errorf("HR notice %q", msg)
	}

	fp := "/integrations/" + itoa(id) + "/projects/FIN"
	doc = parseHTML(t, e.admin.get(fp))
	msg := doc.Find(`[data-testid=workflow-problem]`).Text()
	if !strings.Contains(msg, "Cost center (customfield_10050)") {
		t.Errorf("FIN problem %q", msg)
	}
	if _, disabled := doc.Find(`[data-testid=update-project]`).Attr("disabled"); !disabled {
		t.Error("Update is enabled despite a blocking problem")
	}
	typ, _ := doc.Find(`select[name=issue_type] option[selected]`).Attr("value")
	rec := e.admin.post(fp, url.Values{"account": {itoa(acc.ID)}, "issue_type": {typ}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if _, err := e.app.store.ProjectLinkByKey(context.Background(), id, "FIN"); err == nil {
		t.Error("FIN was linked despite the required field")
	}
}

func TestJiraReconnectKeepsLinks(t *testing.T) {
	e := newJiraEnv(t, models.DialectPostgres)
	site := e.sim.AddCloudSite("acme")
	site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
	acc := e.app.addAccount("Production", "111111111111")
	id := e.connectCloud("Acme")
	path := "/integrations/" + itoa(id) + "/projects/OPS"
	typ, _ := parseHTML(t, e.admin.get(path)).Find(`select[name=issue_type] option[selected]`).Attr("value")
	wantRedirect(t, e.admin.post(path, url.Values{"account": {itoa(acc.ID)}, "issue_type": {typ}}), path)

	ctx := context.Background()
	if err := e.app.store.MarkReconnectRequired(ctx, id, "invalid_grant"); err != nil {
		t.Fatal(err)
	}
	e.sim.RevokeGrants()
	doc := parseHTML(t, e.admin.get("/integrations/"+itoa(id)))
	if doc.Find(`[data-testid=jira-error]`).Length() == 0 || doc.Find(`[data-testid=reconnect]`).Length() == 0 {
		t.Fatalf("reconnect-required page:\n%s", trim(e.admin.get("/integrations/"+itoa(id)).Body.String()))
	}
	rec := e.admin.post("/integrations/"+itoa(id)+"/reconnect", nil)
	wantRedirect(t, rec, "/integrations/jira/authorize")
	got := e.integrationFrom(e.callback(e.consent(e.handoff(), true)))
	if got != id {
		t.Fatalf("reconnect went to integration %d, want %d", got, id)
	}
	in := modeltest.Must(e.app.store.Integration(ctx, id))
	link := modeltest.Must(e.app.store.ProjectLinkByKey(ctx, id, "OPS"))
	if in.Status != models.IntegrationConnected || len(link.Accounts) != 1 || len(e.integrations()) != 1 {
		t.Errorf("after reconnect: status %s, %d linked accounts, %d integrations", in.Status, len(link.Accounts), len(e.integrations()))
	}
	doc = parseHTML(t, e.admin.get("/integrations/"+itoa(id)))
	if doc.Find(`[data-testid=jira-error]`).Length() != 0 || doc.Find(`[data-testid=project-row]`).Length() != 1 {
		t.Errorf("after reconnect the page still fails:\n%s", trim(e.admin.get("/integrations/"+itoa(id)).Body.String()))
	}
}

// TestJiraSecretsNotInPlaintextOnDisk connects Cloud and DC on a SQLite
// file, then reads the raw bytes of the database and its WAL.
func TestJiraSecretsNotInPlaintextOnDisk(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "privilege.db")
	db, err := models.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sealer := modeltest.Must(models.NewSealer([][]byte{modeltest.TestKey}))
	store := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
	e := newJiraEnvStore(t, store)
	e.sim.AddCloudSite("acme").AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
	e.connectCloud("Acme")
	dc := e.sim.AddDataCenter("/jira")
	cid, secret := dc.AddClient(testCallback, "WRITE")
	e.integrationFrom(e.callback(e.consent(e.start(url.Values{"name": {"DC"}, "self_hosted": {"1"}, "base_url": {dc.BaseURL()}, "client_id": {cid}, "client_secret": {secret}}), true)))

	var secrets []string
	for _, in := range e.integrations() {
		tok := modeltest.Must(store.IntegrationToken(ctx, in.ID))
		if tok.AccessToken == "" || tok.RefreshToken == "" {
			t.Fatalf("integration %d has no tokens", in.ID)
		}
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
	}
	secrets = append(secrets, secret)
	var raw []byte
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if len(raw) == 0 {
		t.Fatal("read nothing from the database files")
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("secret %.12s… is in the SQLite file in plaintext", s)
		}
	}
}

// A Jira admin recreated the Data Center incoming link: Reconnect takes the
// new client id and secret, keeps the integration and its links, and the
// stored credentials are replaced.
func TestJiraDataCenterReconnectWithNewCredentials(t *testing.T) {
	e := newJiraEnv(t, models.DialectSQLite)
	dc := e.sim.AddDataCenter("/jira")
	dc.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
	oldID, oldSecret := dc.AddClient(testCallback, "WRITE")
	id := e.integrationFrom(e.callback(e.consent(e.start(url.Values{"name": {"Corp"}, "self_hosted": {"1"}, "base_url": {dc.BaseURL()},
		"client_id": {oldID}, "client_secret": {oldSecret}}), true)))
	ctx := context.Background()
	if err := e.app.store.MarkReconnectRequired(ctx, id, "invalid_client"); err != nil {
		t.Fatal(err)
	}
	doc := parseHTML(t, e.admin.get("/integrations?tab=configured"))
	if doc.Find(`[data-testid=new-credentials] input[name=client_secret]`).Length() != 1 {
		t.Fatal("no field for new Data Center credentials next to Reconnect")
	}
	reconnect := "/integrations/" + itoa(id) + "/reconnect"
	if msg := e.flashAfter(e.admin.post(reconnect, url.Values{"client_secret": {"only-a-secret"}}), "error"); !strings.Contains(msg, "both") {
		t.Fatalf("half the credentials: flash %q", msg)
	}
	newID, newSecret := dc.AddClient(testCallback, "WRITE")
	wantRedirect(t, e.admin.post(reconnect, url.Values{"client_id": {newID}, "client_secret": {newSecret}}), "/integrations/jira/authorize")
	authorize := e.handoff()
	if !strings.Contains(authorize, "client_id="+url.QueryEscape(newID)) {
		t.Fatalf("authorize URL does not use the new client id: %s", authorize)
	}
	if got := e.integrationFrom(e.callback(e.consent(authorize, true))); got != id {
		t.Fatalf("reconnect went to integration %d, want %d", got, id)
	}
	in := modeltest.Must(e.app.store.Integration(ctx, id))
	if in.Status != models.IntegrationConnected || in.ClientID != newID || modeltest.Must(e.app.store.ClientSecret(in)) != newSecret {
		t.Fatalf("after reconnect: status %s, client %s", in.Status, in.ClientID)
	}
	if len(e.integrations()) != 1 {
		t.Fatal("reconnect created a second integration")
	}
}
