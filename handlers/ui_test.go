package handlers

import (
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// TestOriginBannerForAdminsOnly: an admin who opens the console at another
// origin than PRIVILEGE_BASE_URL is told what to set; others never see it.
func TestOriginBannerForAdminsOnly(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	app.addUser("bob@example.com", models.RoleApprover)
	get := func(c *client, host string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "http://"+host+"/requests", nil)
		return c.do(req)
	}
	admin, bob := app.signedIn("admin@example.com"), app.signedIn("bob@example.com")
	banner := parseHTML(t, get(admin, "127.0.0.1:8099")).Find(`[data-testid=origin-banner]`).Text()
	if !strings.Contains(banner, "configured for http://privilege.test") || !strings.Contains(banner, "PRIVILEGE_BASE_URL=http://127.0.0.1:8099") {
		t.Errorf("banner %q", banner)
	}
	for _, tc := range []struct {
		who  *client
		host string
	}{{admin, "privilege.test"}, {admin, "PRIVILEGE.test:80"}, {bob, "127.0.0.1:8099"}} {
		if n := parseHTML(t, get(tc.who, tc.host)).Find(`[data-testid=origin-banner]`).Length(); n != 0 {
			t.Errorf("banner shown at %s", tc.host)
		}
	}
}

func TestAuditFilterSortAndCSV(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		r := f.request(f.alice, f.acc, "=HYPERLINK(\"http://evil\")")
		bob := f.signedIn("bob@example.com")
		wantRedirect(t, bob.post("/requests/"+itoa(r.ID)+"/decide", url.Values{"decision": {"approve"}}), "/requests/")
		admin := f.signedIn("admin@example.com")

		doc := parseHTML(t, admin.get("/audit?action=request.approved"))
		rows := doc.Find(`[data-testid=audit-row]`)
		if rows.Length() != 1 || trim(rows.Find(`[data-testid=audit-actor]`).Text()) != "bob@example.com" {
			t.Fatalf("action filter: %d rows %q", rows.Length(), trim(rows.Text()))
		}
		if a := rows.Find(`[data-testid=audit-target] a`); trim(a.Text()) != "Request #"+itoa(r.ID) || a.AttrOr("href", "") != "/requests/"+itoa(r.ID) {
			t.Errorf("target %q → %q", a.Text(), a.AttrOr("href", ""))
		}
		if n := parseHTML(t, admin.get("/audit?actor=alice")).Find(`[data-testid=audit-row]`).Length(); n != 1 { // created the request
			t.Errorf("actor filter: %d rows, want 1", n)
		}
		if n := parseHTML(t, admin.get("/audit?target=account")).Find(`[data-testid=audit-row]`).Length(); n != 1 { // the fixture's account
			t.Errorf("target filter: %d rows, want 1", n)
		}
		if n := parseHTML(t, admin.get("/audit?to=2000-01-01")).Find(`[data-testid=audit-row]`).Length(); n != 0 {
			t.Errorf("date filter: %d rows, want 0", n)
		}
		rec := admin.get("/audit?from=yesterday")
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=error-from]`).Text(); msg == "" {
			t.Error("a bad date has no field error")
		}
		first := func(sort string) string {
			return trim(parseHTML(t, admin.get("/audit?sort="+sort)).Find(`[data-testid=audit-row] [data-testid=audit-actor]`).First().Text())
		}
		if got := first("actor"); got != "admin@example.com" {
			t.Errorf("sorted by actor, first is %q", got)
		}

		rec = admin.get("/audit.csv?actor=alice")
		wantStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("content type %q", ct)
		}
		recs, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("csv: %v %q", err, recs)
		}
		row := recs[1]
		if row[1] != "alice@example.com" || row[2] != "request.created" || row[3] != "Request #"+itoa(r.ID) || row[4] != "http://privilege.test/requests/"+itoa(r.ID) {
			t.Errorf("csv row %q", row)
		}
		wantStatus(t, f.signedIn("bob@example.com").get("/audit.csv"), http.StatusForbidden)
	})
}

// TestQueueDecidesInline: the queue shows justification and age; deny
// without a reason re-renders the queue with the error on that row;
// approve from the row comes back to the queue.
func TestQueueDecidesInline(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		r1, r2 := f.request(f.alice, f.acc, "INC-1 rotate keys"), f.request(f.carol, f.acc, "INC-2")
		bob := f.signedIn("bob@example.com")
		doc := parseHTML(t, bob.get("/requests"))
		row := doc.Find(`[data-testid=queue-row][data-request-id="` + itoa(r1.ID) + `"]`)
		if !strings.Contains(row.Find(`[data-testid=queue-justification]`).Text(), "INC-1 rotate keys") || trim(row.Find(`[data-testid=queue-age]`).Text()) == "" {
			t.Fatalf("queue row %q", trim(row.Text()))
		}
		if n := trim(doc.Find(`[data-testid=nav-pending]`).Text()); n != "2" {
			t.Errorf("nav pending count %q, want 2", n)
		}
		rec := bob.post("/requests/"+itoa(r1.ID)+"/decide", url.Values{"decision": {"deny"}, "from": {"queue"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		doc = parseHTML(t, rec)
		row = doc.Find(`[data-testid=queue-row][data-request-id="` + itoa(r1.ID) + `"]`)
		if msg := row.Find(`[data-testid=inline-error]`).Text(); !strings.Contains(msg, "reason") {
			t.Errorf("inline error %q", msg)
		}
		if _, focus := row.Find(`input[name=reason]`).Attr("autofocus"); !focus {
			t.Error("the reason with the error is not focused")
		}
		wantRedirect(t, bob.post("/requests/"+itoa(r2.ID)+"/decide", url.Values{"decision": {"approve"}, "from": {"queue"}}), "/requests")
		if got := modeltest.Must(store.Request(t.Context(), r2.ID)); got.Status != models.RequestApproved {
			t.Errorf("r2 is %s", got.Status)
		}
		if n := trim(parseHTML(t, bob.get("/requests")).Find(`[data-testid=nav-pending]`).Text()); n != "1" {
			t.Errorf("nav pending count %q after approving one, want 1", n)
		}
	})
}

// TestNotTrackedSaysSoWithALinkForAdmins: an account no project tracks is
// flagged when saved and listed, and its requests say why they have no task.
func TestNotTrackedSaysSoWithALinkForAdmins(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		admin := f.signedIn("admin@example.com")
		rec := admin.post("/accounts", url.Values{"provider": {"aws"}, "external_id": {"999999999999"}, "name": {"Lab"},
			"max_duration_minutes": {"60"}, "resource_name": {"ReadOnly"}, "resource_kind": {"role"}})
		wantRedirect(t, rec, "/accounts")
		doc := parseHTML(t, admin.get("/accounts"))
		if msg := doc.Find(`[data-testid=flash-info]`).Text(); !strings.Contains(msg, "not tracked in Jira") {
			t.Errorf("after saving: %q", msg)
		}
		if n := doc.Find(`[data-testid=not-tracked]`).Length(); n != 2 {
			t.Errorf("%d accounts flagged not tracked, want 2", n)
		}
		r := f.request(f.alice, f.acc, "why")
		page := parseHTML(t, admin.get("/requests/"+itoa(r.ID)))
		if h := page.Find(`[data-testid=sync-headline]`).Text(); !strings.Contains(h, "Not tracked in Jira: Prod is linked to no Jira project") {
			t.Errorf("headline %q", h)
		}
		if page.Find(`[data-testid=link-account-hint] a`).AttrOr("href", "") != "/integrations" {
			t.Error("admins get no link to link the account")
		}
		alicePage := parseHTML(t, f.signedIn("alice@example.com").get("/requests/"+itoa(r.ID)))
		if alicePage.Find(`[data-testid=link-account-hint]`).Length() != 0 {
			t.Error("a requester is offered the admin's link")
		}
		if _, polls := alicePage.Find(`#jira-task`).Attr("hx-get"); polls {
			t.Error("an untracked request polls for a task that never comes")
		}
	})
}

// TestProjectLinkRefusalsAndNotices: a link tracking no account is refused;
// a workflow without a Declined-like status is pointed out.
func TestProjectLinkRefusalsAndNotices(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		e := newJiraEnvStore(t, store)
		site := e.sim.AddCloudSite("acme")
		site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
		site.AddProject("ENG", "Engineering", jirasim.TwoStepWorkflow())
		e.app.addAccount("Production", "111111111111")
		id := e.connectCloud("Acme")
		path := "/integrations/" + itoa(id) + "/projects/OPS"
		doc := parseHTML(t, e.admin.get(path))
		typ := doc.Find(`select[name=issue_type] option[selected]`).AttrOr("value", "")
		rec := e.admin.post(path, url.Values{"issue_type": {typ}, "status_approved": {"Done"}, "status_denied": {"Declined"}, "status_cancelled": {"Declined"}, "status_expired": {"Declined"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if msg := parseHTML(t, rec).Find(`[data-testid=error-accounts]`).Text(); !strings.Contains(msg, "at least one account") {
			t.Errorf("zero accounts: %q", msg)
		}
		if _, err := store.ProjectLinkByKey(t.Context(), id, "OPS"); err == nil {
			t.Error("a link tracking no account was saved")
		}
		if strings.Contains(doc.Find(`[data-testid=workflow-notice]`).Text(), "Declined-like") {
			t.Error("OPS has Declined, yet the notice says it has none")
		}
		eng := parseHTML(t, e.admin.get("/integrations/"+itoa(id)+"/projects/ENG"))
		if msg := eng.Find(`[data-testid=workflow-notice]`).Text(); !strings.Contains(msg, "no Declined-like done status") || !strings.Contains(msg, "“Done”") {
			t.Errorf("ENG notice %q", msg)
		}
	})
}

// TestListsSortByColumn: accounts, users and the request history sort by
// the column clicked, and reverse on a second click; unknown keys fall back.
func TestListsSortByColumn(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		zeta := f.account("Zeta", "222222222222")
		f.request(f.alice, zeta, "one")
		f.request(f.carol, f.acc, "two")
		admin := f.signedIn("admin@example.com")
		col := func(path, sel string) []string {
			var out []string
			parseHTML(t, admin.get(path)).Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, trim(s.Text())) })
			return out
		}
		firstCells := func(path, rowSel string, n int) []string {
			return col(path, rowSel+" td:nth-child("+itoa(int64(n))+")")
		}
		for _, tc := range []struct {
			path, rowSel string
			cell         int
			want         []string
		}{
			{"/accounts", "[data-testid=account-row]", 1, []string{"Prod", "Zeta"}},
			{"/accounts?sort=-name", "[data-testid=account-row]", 1, []string{"Zeta", "Prod"}},
			{"/accounts?sort=nope", "[data-testid=account-row]", 1, []string{"Prod", "Zeta"}},
			{"/users?sort=-email", "[data-testid=user-row]", 1, []string{"carol@example.com", "bob@example.com", "alice@example.com", "admin@example.com"}},
			{"/requests/history?sort=account", "[data-testid=request-row]", 3, []string{"Prod", "Zeta"}},
			{"/requests/history?sort=-account", "[data-testid=request-row]", 3, []string{"Zeta", "Prod"}},
			{"/requests/history?sort=requester", "[data-testid=request-row]", 2, []string{"alice@example.com", "carol@example.com"}},
		} {
			got := firstCells(tc.path, tc.rowSel, tc.cell)
			for i := range got {
				got[i] = strings.Fields(got[i])[0]
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("%s: %v, want %v", tc.path, got, tc.want)
			}
		}
		if href := parseHTML(t, admin.get("/accounts?q=e")).Find(`[data-testid=sort-name]`).AttrOr("href", ""); href != "/accounts?q=e&sort=-name" {
			t.Errorf("name header links to %q", href)
		}
	})
}

// TestAccountEditNamesItsTracker: the edit page says which integration and
// project track the account, or that none does.
func TestAccountEditNamesItsTracker(t *testing.T) {
	e := newJiraEnv(t, models.DialectSQLite)
	e.sim.AddCloudSite("acme").AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
	prod, lab := e.app.addAccount("Production", "111111111111"), e.app.addAccount("Lab", "222222222222")
	id := e.connectCloud("Acme")
	path := "/integrations/" + itoa(id) + "/projects/OPS"
	typ := parseHTML(t, e.admin.get(path)).Find(`select[name=issue_type] option[selected]`).AttrOr("value", "")
	wantRedirect(t, e.admin.post(path, url.Values{"account": {itoa(prod.ID)}, "issue_type": {typ}, "status_approved": {"Done"},
		"status_denied": {"Declined"}, "status_cancelled": {"Declined"}, "status_expired": {"Declined"}}), path)
	if got := trim(parseHTML(t, e.admin.get("/accounts/"+itoa(prod.ID)+"/edit")).Find(`[data-testid=account-tracking]`).Text()); !strings.Contains(got, "Acme · OPS (Operations)") {
		t.Errorf("Production: %q", got)
	}
	if got := trim(parseHTML(t, e.admin.get("/accounts/"+itoa(lab.ID)+"/edit")).Find(`[data-testid=account-tracking]`).Text()); !strings.Contains(got, "Not tracked in Jira") {
		t.Errorf("Lab: %q", got)
	}
	if got := trim(parseHTML(t, e.admin.get("/accounts")).Find(`[data-testid=account-row]`).First().Find(`[data-testid=account-tracker]`).Text()); !strings.HasPrefix(got, "not tracked") || !strings.Contains(got, "link to a project") {
		t.Errorf("Lab in the list: %q", got)
	}
}

// TestDurationPresetKeepsTypedValues: a preset button re-renders the form
// with that duration and everything typed so far (no script needed).
func TestDurationPresetKeepsTypedValues(t *testing.T) {
	f := newReqFixture(t, modeltest.NewStore(t, models.DialectSQLite))
	alice := f.signedIn("alice@example.com")
	doc := parseHTML(t, alice.get("/requests/new?"+url.Values{"account_id": {itoa(f.acc.ID)}, "resources": {"ReadOnly"},
		"duration_minutes": {"60"}, "justification": {"INC-3"}, "preset": {"240"}}.Encode()))
	if v := doc.Find(`#duration_minutes`).AttrOr("value", ""); v != "240" {
		t.Errorf("duration %q after the 4 h preset", v)
	}
	if trim(doc.Find(`#justification`).Text()) != "INC-3" || doc.Find(`input[name=resources][value=ReadOnly][checked]`).Length() != 1 {
		t.Error("the preset lost typed values")
	}
	if doc.Find(`[data-testid=duration-presets] button`).Length() != 3 {
		t.Error("presets 1 h, 4 h, 8 h missing")
	}
}
