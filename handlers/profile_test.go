package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
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

// peopleEnv is a connected integration (Cloud or DC) with Jira users for
// alice (requester) and bob (approver).
type peopleEnv struct {
	*jiraEnv
	id                  int64
	site                *jirasim.Site // Cloud
	alice, bob          models.User
	aliceJira, bobJira  string // how the consent page knows them
	aliceID, bobAccount string // the Jira id the link must store
}

func newPeopleEnv(t *testing.T, store *models.Store, dc bool) *peopleEnv {
	e := &peopleEnv{jiraEnv: newJiraEnvStore(t, store)}
	e.alice = e.app.addUser("alice@example.com", models.RoleRequester)
	e.bob = e.app.addUser("bob@example.com", models.RoleApprover)
	if dc {
		d := e.sim.AddDataCenter("/jira")
		cid, secret := d.AddClient(testCallback, "WRITE")
		e.id = e.integrationFrom(e.callback(e.consent(e.start(url.Values{"name": {"Corp"}, "self_hosted": {"1"}, "base_url": {d.BaseURL()},
			"client_id": {cid}, "client_secret": {secret}}), true)))
		a, b := d.AddUser("alice", "Alice Jira", "alice@corp.example"), d.AddUser("bob", "Bob Jira", "bob@corp.example")
		e.aliceJira, e.bobJira, e.aliceID, e.bobAccount = a.Name, b.Name, a.Key, b.Key
	} else {
		e.site = e.sim.AddCloudSite("acme")
		e.id = e.connectCloud("Acme")
		a, b := e.sim.AddCloudUser("Alice Jira", "alice@acme.example"), e.sim.AddCloudUser("Bob Jira", "bob@acme.example")
		e.aliceJira, e.bobJira, e.aliceID, e.bobAccount = a.AccountID, b.AccountID, a.AccountID, b.AccountID
	}
	return e
}

// linkAs runs "Link Jira account" for c, consenting in Jira as jiraUser,
// and returns the callback's answer.
func (e *peopleEnv) linkAs(c *client, jiraUser string, accept bool) *http.Response {
	e.t.Helper()
	rec := c.post("/profile/jira/"+itoa(e.id)+"/link", nil)
	wantRedirect(e.t, rec, "/integrations/jira/authorize")
	page := c.get("/integrations/jira/authorize")
	wantStatus(e.t, page, http.StatusOK)
	href, _ := parseHTML(e.t, page).Find(`[data-testid=continue-to-jira]`).Attr("href")
	loc, err := e.sim.ConsentAs(href, accept, "", jiraUser)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.get("/integrations/jira/callback?" + loc.RawQuery).Result()
}

func (e *peopleEnv) flash(c *client, res *http.Response, kind string) string {
	e.t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/profile" {
		e.t.Fatalf("callback: %d → %q, want 303 → /profile", res.StatusCode, res.Header.Get("Location"))
	}
	return parseHTML(e.t, c.get("/profile")).Find(`[data-testid=flash-` + kind + `]`).Text()
}

func (e *peopleEnv) links(u models.User) []models.JiraIdentity {
	return modeltest.Must(e.app.store.JiraIdentitiesOfUsers(context.Background(), []int64{u.ID}))[u.ID]
}

func TestJiraLinkFromProfile(t *testing.T) {
	for _, dc := range []bool{false, true} {
		name := map[bool]string{false: "cloud", true: "datacenter"}[dc]
		t.Run(name, func(t *testing.T) {
			modeltest.Stores(t, func(t *testing.T, store *models.Store) {
				e := newPeopleEnv(t, store, dc)
				alice, bob := e.app.signedIn("alice@example.com"), e.app.signedIn("bob@example.com")

				// The consent asks only for identity: read:me on Cloud, READ on DC.
				wantRedirect(t, alice.post("/profile/jira/"+itoa(e.id)+"/link", nil), "/integrations/jira/authorize")
				href, _ := parseHTML(t, alice.get("/integrations/jira/authorize")).Find(`[data-testid=continue-to-jira]`).Attr("href")
				u, _ := url.Parse(href)
				if want := map[bool]string{false: "read:me", true: "READ"}[dc]; u.Query().Get("scope") != want {
					t.Fatalf("identity consent asks scope %q, want %q", u.Query().Get("scope"), want)
				}
				if dc && u.Query().Get("code_challenge_method") != "S256" {
					t.Fatal("DC identity consent without PKCE")
				}

				// Declining stores nothing.
				if msg := e.flash(alice, e.linkAs(alice, e.aliceJira, false), "error"); !strings.Contains(msg, "declined") {
					t.Fatalf("decline flash %q", msg)
				}
				if n := len(e.links(e.alice)); n != 0 {
					t.Fatalf("%d links after declining", n)
				}

				// Link.
				if msg := e.flash(alice, e.linkAs(alice, e.aliceJira, true), "success"); !strings.Contains(msg, "Alice Jira") {
					t.Fatalf("link flash %q", msg)
				}
				got := e.links(e.alice)
				if len(got) != 1 || got[0].AccountID != e.aliceID || got[0].DisplayName != "Alice Jira" || got[0].IntegrationID != e.id {
					t.Fatalf("links %+v", got)
				}
				if txt := parseHTML(t, alice.get("/profile")).Find(`[data-testid=jira-identity]`).Text(); !strings.Contains(txt, "Alice Jira") {
					t.Fatalf("profile shows %q", txt)
				}

				// Another user consenting as Alice's Jira account is refused.
				if msg := e.flash(bob, e.linkAs(bob, e.aliceJira, true), "error"); !strings.Contains(msg, "already linked to another Privilege user") {
					t.Fatalf("relink flash %q", msg)
				}
				if len(e.links(e.bob)) != 0 || len(e.links(e.alice)) != 1 {
					t.Fatal("a refused relink changed the links")
				}

				// A forged state links nothing.
				wantRedirect(t, bob.post("/profile/jira/"+itoa(e.id)+"/link", nil), "/integrations/jira/authorize")
				res := bob.get("/integrations/jira/callback?code=x&state=" + strings.Repeat("A", 43)).Result()
				if msg := e.flash(bob, res, "error"); !strings.Contains(msg, "Nothing was saved") {
					t.Fatalf("forged state flash %q", msg)
				}

				// Unlink, then link again.
				if msg := e.flash(alice, alice.post("/profile/jira-links/"+itoa(got[0].ID)+"/unlink", nil).Result(), "success"); !strings.Contains(msg, "unlinked") {
					t.Fatalf("unlink flash %q", msg)
				}
				if len(e.links(e.alice)) != 0 {
					t.Fatal("still linked after unlink")
				}
				// Bob may not unlink Alice's link through his profile.
				e.flash(alice, e.linkAs(alice, e.aliceJira, true), "success")
				aliceLink := e.links(e.alice)[0]
				wantStatus(t, bob.post("/profile/jira-links/"+itoa(aliceLink.ID)+"/unlink", nil), http.StatusNotFound)

				// Admins see every link on the Users page and can remove one.
				users := parseHTML(t, e.admin.get("/users"))
				if txt := users.Find(`[data-testid=user-jira-link]`).Text(); !strings.Contains(txt, "Alice Jira") {
					t.Fatalf("users page links %q", txt)
				}
				wantRedirect(t, e.admin.post("/users/"+itoa(e.alice.ID)+"/jira-links/"+itoa(aliceLink.ID)+"/remove", nil), "/users")
				if len(e.links(e.alice)) != 0 {
					t.Fatal("admin removal left the link")
				}

				// Disabling a user removes their links.
				e.flash(bob, e.linkAs(bob, e.bobJira, true), "success")
				wantRedirect(t, e.admin.post("/users/"+itoa(e.bob.ID)+"/disable", nil), "/users")
				if len(e.links(e.bob)) != 0 {
					t.Fatal("disabled user keeps a Jira link")
				}

				// Disconnecting the integration removes its links.
				e.flash(alice, e.linkAs(alice, e.aliceJira, true), "success")
				modeltest.Must(0, store.DisconnectIntegration(context.Background(), models.SystemActor, e.id))
				if len(e.links(e.alice)) != 0 {
					t.Fatal("links survive the integration's disconnection")
				}

				// Every link and unlink is audited.
				audit := modeltest.Must(store.ListAudit(context.Background(), models.PageQuery{Page: 1, PerPage: 100}))
				counts := map[models.AuditAction]int{}
				for _, ev := range audit.Items {
					counts[ev.Action]++
				}
				if counts[models.AuditJiraLinked] != 4 || counts[models.AuditJiraUnlinked] != 4 {
					t.Fatalf("audit: %d linked, %d unlinked; want 4 and 4", counts[models.AuditJiraLinked], counts[models.AuditJiraUnlinked])
				}
			})
		})
	}
}

// The consent callback is shared: a requester cannot finish an admin's
// connection flow, and one who lands there without a flow goes to their profile.
func TestJiraConnectStaysAdminOnly(t *testing.T) {
	e := newJiraEnv(t, models.DialectSQLite)
	e.app.addUser("rita@example.com", models.RoleRequester)
	rita := e.app.signedIn("rita@example.com")
	wantStatus(t, rita.post("/integrations/jira", url.Values{"name": {"Mine"}}), http.StatusForbidden)
	wantRedirect(t, rita.get("/integrations/jira/authorize"), "/profile")
	wantRedirect(t, rita.get("/integrations/jira/callback?code=x&state=y"), "/profile")
}

// The project's Manage page offers the people options, says which Jira
// permission each needs and whether the connected user has it, and saves
// them; the integration page lists what Jira refused.
func TestJiraProjectPeopleOptions(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newPeopleEnv(t, store, false)
		ops := e.site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
		acc := e.app.addAccount("Production", "111111111111")
		bob := e.app.signedIn("bob@example.com")
		e.flash(bob, e.linkAs(bob, e.bobJira, true), "success")
		path := "/integrations/" + itoa(e.id) + "/projects/OPS"

		doc := parseHTML(t, e.admin.get(path))
		for _, k := range []string{"MODIFY_REPORTER", "ASSIGN_ISSUES", "MANAGE_WATCHERS"} {
			if txt := doc.Find(`[data-testid=permission-` + k + `]`).Text(); !strings.Contains(txt, "granted") {
				t.Errorf("%s: %q", k, txt)
			}
		}
		if doc.Find(`select[name=assignee_user] option`).FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "Bob Jira" }).Length() != 1 {
			t.Fatal("the linked approver is not offered as fixed assignee")
		}

		ops.SetPermission(jirasim.PermModifyReporter, false)
		doc = parseHTML(t, e.admin.get(path))
		if txt := doc.Find(`[data-testid=permission-MODIFY_REPORTER]`).Text(); !strings.Contains(txt, "missing") {
			t.Errorf("MODIFY_REPORTER after removal: %q", txt)
		}
		if txt := doc.Find(`[data-testid=workflow-notice]`).Text(); !strings.Contains(txt, "Modify Reporter") {
			t.Errorf("notices %q", txt)
		}

		typ, _ := doc.Find(`select[name=issue_type] option[selected]`).Attr("value")
		form := url.Values{"account": {itoa(acc.ID)}, "issue_type": {typ}, "status_approved": {"Done"}, "status_denied": {"Declined"},
			"status_cancelled": {"Declined"}, "status_expired": {"Declined"}, "assignee_mode": {"fixed"}, "assignee_user": {itoa(e.alice.ID)}, "add_watchers": {"1"}}
		rec := e.admin.post(path, form)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=error-assignee_user]`).Text(); !strings.Contains(msg, "linked their Jira account") {
			t.Fatalf("unlinked fixed assignee: %q", msg)
		}
		form.Set("assignee_user", itoa(e.bob.ID))
		wantRedirect(t, e.admin.post(path, form), path)
		link := modeltest.Must(store.ProjectLinkByKey(context.Background(), e.id, "OPS"))
		if link.AssigneeMode != models.AssigneeFixed || link.AssigneeUserID == nil || *link.AssigneeUserID != e.bob.ID || !link.AddWatchers {
			t.Fatalf("saved %+v", link)
		}
		if v, _ := parseHTML(t, e.admin.get(path)).Find(`select[name=assignee_mode] option[selected]`).Attr("value"); v != "fixed" {
			t.Fatalf("assignee mode after reload %q", v)
		}

		modeltest.Must(0, store.RecordPeopleProblem(context.Background(), link.ID, models.PartReporter, "Jira refused Alice as reporter: Modify Reporter"))
		if txt := parseHTML(t, e.admin.get("/integrations/"+itoa(e.id))).Find(`[data-testid=people-problem-reporter]`).Text(); !strings.Contains(txt, "OPS") || !strings.Contains(txt, "Modify Reporter") {
			t.Fatalf("integration page problem %q", txt)
		}
	})
}

// End to end: Jira refuses the linked requester as reporter (no Modify
// Reporter); the syncer still creates exactly one task, and the
// integration page says what is missing.
func TestJiraRefusedReporterShownOnIntegrationPage(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newPeopleEnv(t, store, false)
		ops := e.site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
		acc := e.app.addAccount("Production", "111111111111")
		alice := e.app.signedIn("alice@example.com")
		e.flash(alice, e.linkAs(alice, e.aliceJira, true), "success")
		path := "/integrations/" + itoa(e.id) + "/projects/OPS"
		typ, _ := parseHTML(t, e.admin.get(path)).Find(`select[name=issue_type] option[selected]`).Attr("value")
		wantRedirect(t, e.admin.post(path, url.Values{"account": {itoa(acc.ID)}, "issue_type": {typ}, "status_approved": {"Done"},
			"status_denied": {"Declined"}, "status_cancelled": {"Declined"}, "status_expired": {"Declined"}}), path)
		ops.SetPermission(jirasim.PermModifyReporter, false)

		ctx := context.Background()
		req := modeltest.Must(store.CreateRequest(ctx, e.alice, models.NewRequest{AccountID: acc.ID, Resources: []string{"ReadOnly"},
			DurationMinutes: 60, Justification: "INC-9"}, time.Hour))
		clients := testenv.NewJira(e.sim, store, testCallback).Clients
		syncer := jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, clients, nil, jira.SyncerConfig{BaseURL: testOrigin})
		if _, err := syncer.ProcessOnce(ctx); err != nil {
			t.Fatal(err)
		}
		var issues []jirasim.Issue
		for _, is := range e.site.Issues() {
			if is.HasLabel(jira.CorrelationLabel(req.ID)) {
				issues = append(issues, is)
			}
		}
		if len(issues) != 1 || issues[0].Reporter.AccountID == e.aliceID {
			t.Fatalf("issues %+v, want one, not reported by the requester", issues)
		}
		txt := parseHTML(t, e.admin.get("/integrations/"+itoa(e.id))).Find(`[data-testid=people-problem-reporter]`).Text()
		if !strings.Contains(txt, "OPS") || !strings.Contains(txt, "Modify Reporter") || !strings.Contains(txt, "Alice Jira") {
			t.Fatalf("integration page: %q", txt)
		}
	})
}
