package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

const xssScript = `<script>alert("x")</script>`

// reqFixture is an app on a real store with an admin, an approver (bob),
// two requesters (alice, carol) and an account with two resources.
type reqFixture struct {
	*testApp
	t            *testing.T
	admin        models.User
	bob          models.User
	alice, carol models.User
	acc          models.CloudAccount
}

func newReqFixture(t *testing.T, store *models.Store) *reqFixture {
	t.Helper()
	app := newTestApp(t, store)
	f := &reqFixture{testApp: app, t: t}
	f.admin = modeltest.Must(store.CreateFirstAdmin(t.Context(), "127.0.0.1",
		models.NewUser{Email: "admin@example.com", Name: "Ada Admin", Password: testPassword}))
	f.bob = app.addUser("bob@example.com", models.RoleApprover)
	f.alice = app.addUser("alice@example.com", models.RoleRequester)
	f.carol = app.addUser("carol@example.com", models.RoleRequester)
	f.acc = f.account("Prod", "123456789012")
	return f
}

func (f *reqFixture) account(name, awsID string) models.CloudAccount {
	f.t.Helper()
	return modeltest.Must(f.store.CreateAccount(context.Background(), models.SystemActor, models.AccountInput{
		Provider: models.ProviderAWS, ExternalID: awsID, Name: name, MaxDurationMinutes: 240,
		Resources: []models.ResourceInput{{Name: "AdministratorAccess", Kind: "permission-set"}, {Name: "ReadOnly", Kind: "role"}},
	}))
}

func (f *reqFixture) request(by models.User, acc models.CloudAccount, justification string) models.AccessRequest {
	f.t.Helper()
	return modeltest.Must(f.store.CreateRequest(context.Background(), by, models.NewRequest{
		AccountID: acc.ID, Resources: []string{"ReadOnly"}, DurationMinutes: 60, Justification: justification,
	}, time.Hour))
}

func (f *reqFixture) count() int64 {
	f.t.Helper()
	return modeltest.Must(f.store.ListRequests(context.Background(), models.RequestQuery{})).Total
}

func (f *reqFixture) token(u models.User) string {
	plain, _ := f.addToken(u.ID)
	return plain
}

func TestRequestFormValidationKeepsValues(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		alice := f.signedIn("alice@example.com")
		rec := alice.post("/requests", url.Values{"account_id": {itoa(f.acc.ID)}, "resources": {"ReadOnly"},
			"duration_minutes": {"ninety"}, "justification": {"  "}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		doc := parseHTML(t, rec)
		for _, field := range []string{"duration_minutes", "justification"} {
			if doc.Find(`[data-testid="error-`+field+`"]`).Length() != 1 {
				t.Errorf("no error shown for %s", field)
			}
		}
		if v, _ := doc.Find(`input[name=duration_minutes]`).Attr("value"); v != "ninety" {
			t.Errorf("duration not kept: %q", v)
		}
		if _, ok := doc.Find(`input[name=resources][value=ReadOnly]`).Attr("checked"); !ok {
			t.Error("chosen resource not kept")
		}
		if _, ok := doc.Find(`input[name=resources][value=AdministratorAccess]`).Attr("checked"); ok {
			t.Error("unchosen resource ticked")
		}
		if v, _ := doc.Find(`select[name=account_id] option[selected]`).Attr("value"); v != itoa(f.acc.ID) {
			t.Errorf("account not kept: %q", v)
		}

		// Too long a justification and too long a duration: kept, refused.
		long := strings.Repeat("x", models.MaxJustificationLength+1)
		rec = alice.post("/requests", url.Values{"account_id": {itoa(f.acc.ID)}, "duration_minutes": {"999"}, "justification": {long}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		doc = parseHTML(t, rec)
		if doc.Find(`textarea[name=justification]`).Text() != long {
			t.Error("justification not kept")
		}
		for _, field := range []string{"resources", "duration_minutes", "justification"} {
			if doc.Find(`[data-testid="error-`+field+`"]`).Length() != 1 {
				t.Errorf("no error shown for %s", field)
			}
		}
		// No account at all.
		rec = alice.post("/requests", url.Values{"justification": {"why"}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if parseHTML(t, rec).Find(`[data-testid="error-account_id"]`).Length() != 1 {
			t.Error("no account error")
		}
		if n := f.count(); n != 0 {
			t.Fatalf("%d requests stored after invalid forms", n)
		}
	})
}

func TestRequestFormCreatesAndRedirects(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		alice := f.signedIn("alice@example.com")

		// Without JS: choosing the account by GET shows its resources and a default duration.
		doc := parseHTML(t, alice.get("/requests/new?account_id="+itoa(f.acc.ID)))
		if n := doc.Find(`[data-testid=resource-choice]`).Length(); n != 2 {
			t.Fatalf("%d resource checkboxes, want 2", n)
		}
		if v, _ := doc.Find(`input[name=duration_minutes]`).Attr("value"); v != "60" {
			t.Errorf("default duration %q", v)
		}
		if _, ok := doc.Find(`select[name=account_id]`).Attr("hx-get"); !ok {
			t.Error("account select does not load resources with htmx")
		}
		// The htmx fragment is the picker alone.
		frag := alice.get("/requests/new/resources?account_id=" + itoa(f.acc.ID))
		wantStatus(t, frag, http.StatusOK)
		if strings.Contains(frag.Body.String(), "<html") || !strings.Contains(frag.Body.String(), `id="resource-picker"`) {
			t.Errorf("fragment: %s", trim(frag.Body.String()))
		}

		rec := alice.post("/requests", url.Values{"account_id": {itoa(f.acc.ID)}, "resources": {"ReadOnly", "AdministratorAccess"},
			"duration_minutes": {"90"}, "justification": {"Deploy hotfix"}})
		wantRedirect(t, rec, "/requests/")
		page := alice.get(rec.Header().Get("Location"))
		wantStatus(t, page, http.StatusOK)
		doc = parseHTML(t, page)
		if !strings.Contains(doc.Find(`[data-testid=flash-success]`).Text(), "submitted") {
			t.Error("no success flash")
		}
		if doc.Find(`[data-testid=resources] li`).Length() != 2 || !strings.Contains(doc.Find(`[data-testid=duration]`).Text(), "90 min") {
			t.Error("request page misses resources or duration")
		}
		if doc.Find(`[data-testid=cancel]`).Length() != 1 || doc.Find(`[data-testid=decide-form]`).Length() != 0 {
			t.Error("requester should see Cancel and no decision form")
		}
		if !strings.Contains(doc.Find(`[data-testid=sync-state]`).Text(), "not tracked") {
			t.Errorf("sync state %q", doc.Find(`[data-testid=sync-state]`).Text())
		}
		list := parseHTML(t, alice.get("/requests"))
		if list.Find(`[data-testid=my-requests] [data-testid=request-row]`).Length() != 1 || list.Find(`[data-testid=queue]`).Length() != 0 {
			t.Error("my requests list wrong, or a requester sees the queue")
		}
	})
}

func TestRequesterCannotDecideOwnRequest(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		own := f.request(f.bob, f.acc, "approver asks for himself")
		bob := f.signedIn("bob@example.com")
		doc := parseHTML(t, bob.get(itoaPath(own.ID)))
		if doc.Find(`[data-testid=decide-form]`).Length() != 0 || doc.Find(`[data-testid=self-note]`).Length() != 1 {
			t.Error("own request offers a decision")
		}
		queue := parseHTML(t, bob.get("/requests"))
		if queue.Find(`[data-testid=queue] [data-testid=yours]`).Length() != 1 {
			t.Error("own request not flagged in the queue")
		}
		rec := bob.post(itoaPath(own.ID)+"/decide", url.Values{"decision": {"approve"}, "reason": {"me"}})
		wantStatus(t, rec, http.StatusForbidden)
		if !strings.Contains(rec.Body.String(), "cannot approve or deny your own request") {
			t.Errorf("no clear message: %s", trim(rec.Body.String()))
		}
		res := f.apiDo(http.MethodPost, "/api/v1/requests/"+itoa(own.ID)+"/approve", f.token(f.bob), `{"reason":"me"}`)
		wantAPIError(t, res, http.StatusForbidden, "self_approval")
		if r := modeltest.Must(store.Request(t.Context(), own.ID)); r.Status != models.RequestPending {
			t.Fatalf("status %s after self-approval attempts", r.Status)
		}
	})
}

func TestApproverDecidesOnceThenConflict(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		r := f.request(f.alice, f.acc, "on call")
		bob, admin := f.signedIn("bob@example.com"), f.signedIn("admin@example.com")
		if parseHTML(t, admin.get(itoaPath(r.ID))).Find(`[data-testid=decide-form]`).Length() != 1 {
			t.Fatal("admin sees no decision form")
		}
		// Deny needs a reason: 422, nothing decided, typed text kept.
		rec := bob.post(itoaPath(r.ID)+"/decide", url.Values{"decision": {"deny"}, "reason": {"  "}})
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if parseHTML(t, rec).Find(`[data-testid=error-reason]`).Length() != 1 {
			t.Error("no reason error")
		}
		wantRedirect(t, bob.post(itoaPath(r.ID)+"/decide", url.Values{"decision": {"approve"}, "reason": {"looks fine"}}), itoaPath(r.ID))
		doc := parseHTML(t, bob.get(itoaPath(r.ID)))
		if !strings.Contains(doc.Find(`[data-testid=decided-by]`).Text(), "bob@example.com") {
			t.Error("decided request does not show who decided")
		}
		if doc.Find(`[data-testid=event]`).Length() != 2 {
			t.Errorf("%d timeline events, want 2", doc.Find(`[data-testid=event]`).Length())
		}
		// The admin's page was loaded before: the second decision loses.
		rec = admin.post(itoaPath(r.ID)+"/decide", url.Values{"decision": {"deny"}, "reason": {"no"}})
		wantRedirect(t, rec, itoaPath(r.ID))
		flash := parseHTML(t, admin.get(itoaPath(r.ID))).Find(`[data-testid=flash-error]`).Text()
		if !strings.Contains(flash, "already decided by bob@example.com") {
			t.Errorf("flash %q", flash)
		}
		if parseHTML(t, admin.get(itoaPath(r.ID))).Find(`[data-testid=revoke]`).Length() != 1 {
			t.Error("admin sees no Revoke on approved access")
		}
		got := modeltest.Must(store.Request(t.Context(), r.ID))
		if got.Status != models.RequestApproved || got.DecidedBy == nil || got.DecidedBy.ID != f.bob.ID {
			t.Fatalf("status %s decided by %v", got.Status, got.DecidedBy)
		}
	})
}

func TestCancelAndVisibility(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		r := f.request(f.alice, f.acc, "mine")
		carol, bob, alice := f.signedIn("carol@example.com"), f.signedIn("bob@example.com"), f.signedIn("alice@example.com")
		wantStatus(t, carol.get(itoaPath(r.ID)), http.StatusForbidden)
		wantStatus(t, carol.post(itoaPath(r.ID)+"/cancel", nil), http.StatusForbidden)
		wantStatus(t, bob.post(itoaPath(r.ID)+"/cancel", nil), http.StatusForbidden)
		wantStatus(t, bob.get(itoaPath(r.ID)), http.StatusOK)
		wantStatus(t, carol.get("/requests/history"), http.StatusForbidden)
		wantStatus(t, carol.get("/requests/999999"), http.StatusNotFound)
		wantRedirect(t, alice.post(itoaPath(r.ID)+"/cancel", nil), itoaPath(r.ID))
		if got := modeltest.Must(store.Request(t.Context(), r.ID)); got.Status != models.RequestCancelled {
			t.Fatalf("status %s", got.Status)
		}
		// Cancelling again: a flash, not an error page.
		wantRedirect(t, alice.post(itoaPath(r.ID)+"/cancel", nil), itoaPath(r.ID))
	})
}

func TestRequestPagesEscapeUserText(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		evil := f.account(`<img src=x onerror=alert(1)>`, "210987654321")
		r := f.request(f.alice, evil, "need it "+xssScript)
		bob := f.signedIn("bob@example.com")
		wantRedirect(t, bob.post(itoaPath(r.ID)+"/decide", url.Values{"decision": {"deny"}, "reason": {"no " + xssScript}}), itoaPath(r.ID))
		alice := f.signedIn("alice@example.com")
		for _, page := range []struct {
			c    *client
			path string
		}{{alice, itoaPath(r.ID)}, {alice, "/requests"}, {bob, "/requests/history"}, {bob, itoaPath(r.ID)}} {
			body := page.c.get(page.path).Body.String()
			if strings.Contains(body, xssScript) || strings.Contains(body, "<img src=x") {
				t.Errorf("%s: user text rendered as HTML", page.path)
			}
			if !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
				t.Errorf("%s: escaped account name missing", page.path)
			}
		}
		body := alice.get(itoaPath(r.ID)).Body.String()
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("escaped justification/reason missing:\n%s", trim(body))
		}
	})
}

func TestRequestHistoryFilters(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		dev := f.account("Dev", "555566667777")
		a1 := f.request(f.alice, f.acc, "a1")
		f.request(f.alice, dev, "a2")
		f.request(f.carol, dev, "c1")
		modeltest.Must(store.Decide(t.Context(), f.bob, a1.ID, models.DecisionApprove, ""))
		bob := f.signedIn("bob@example.com")
		for _, tc := range []struct {
			query string
			want  int
		}{
			{"", 3},
			{"?status=approved", 1},
			{"?status=pending", 2},
			{"?account_id=" + itoa(dev.ID), 2},
			{"?requester=CAROL", 1},
			{"?requester=alice&account_id=" + itoa(dev.ID), 1},
			{"?status=denied", 0},
		} {
			doc := parseHTML(t, bob.get("/requests/history"+tc.query))
			if n := doc.Find(`[data-testid=request-row]`).Length(); n != tc.want {
				t.Errorf("history%s: %d rows, want %d", tc.query, n, tc.want)
			}
		}
		doc := parseHTML(t, bob.get("/requests"))
		if n := doc.Find(`[data-testid=queue] [data-testid=queue-row]`).Length(); n != 2 {
			t.Errorf("queue has %d rows, want the 2 pending", n)
		}
	})
}

func TestRequestsAPI(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		f := newReqFixture(t, store)
		alice, carol, bob := f.token(f.alice), f.token(f.carol), f.token(f.bob)
		body := `{"account_id":` + itoa(f.acc.ID) + `,"resources":["ReadOnly"],"duration_minutes":30,"justification":"debug prod"}`

		rec := f.apiDo(http.MethodPost, "/api/v1/requests", alice, body)
		wantStatus(t, rec, http.StatusCreated)
		var created apiRequest
		decodeBody(t, rec.Body.String(), &created)
		if created.Status != "pending" || created.ApprovalURL != testOrigin+"/requests/"+itoa(created.ID) ||
			created.Jira.SyncState != "not_tracked" || created.Requester.Email != "alice@example.com" {
			t.Fatalf("created %+v", created)
		}
		path := "/api/v1/requests/" + itoa(created.ID)

		wantAPIError(t, f.apiDo(http.MethodPost, "/api/v1/requests", alice, `{"account_id":1,"extra":true}`), http.StatusBadRequest, "bad_request")
		fields := wantAPIError(t, f.apiDo(http.MethodPost, "/api/v1/requests", alice, `{"account_id":`+itoa(f.acc.ID)+`,"resources":["Nope"],"duration_minutes":1}`),
			http.StatusUnprocessableEntity, "validation_failed")
		for _, k := range []string{"resources", "duration_minutes", "justification"} {
			if fields[k] == "" {
				t.Errorf("no field error for %s: %v", k, fields)
			}
		}

		wantStatus(t, f.apiDo(http.MethodGet, path, alice, ""), http.StatusOK)
		wantAPIError(t, f.apiDo(http.MethodGet, path, carol, ""), http.StatusNotFound, "not_found")
		wantAPIError(t, f.apiDo(http.MethodPost, path+"/cancel", carol, ""), http.StatusNotFound, "not_found")
		wantAPIError(t, f.apiDo(http.MethodPost, path+"/cancel", bob, ""), http.StatusForbidden, "forbidden")
		wantAPIError(t, f.apiDo(http.MethodPost, path+"/approve", alice, ""), http.StatusForbidden, "forbidden")
		wantAPIError(t, f.apiDo(http.MethodPost, path+"/deny", bob, `{"reason":""}`), http.StatusUnprocessableEntity, "validation_failed")
		wantAPIError(t, f.apiDo(http.MethodPost, path+"/approve", bob, `{"why":"x"}`), http.StatusBadRequest, "bad_request")

		rec = f.apiDo(http.MethodPost, path+"/approve", bob, `{"reason":"ok"}`)
		wantStatus(t, rec, http.StatusOK)
		var got apiRequest
		decodeBody(t, rec.Body.String(), &got)
		if got.Status != "approved" || got.DecidedBy == nil || got.DecidedBy.Email != "bob@example.com" || got.DecisionReason != "ok" || len(got.Events) != 2 {
			t.Fatalf("approved %+v", got)
		}
		wantAPIError(t, f.apiDo(http.MethodPost, path+"/deny", f.token(f.admin), `{"reason":"late"}`), http.StatusConflict, "already_decided")
		wantAPIError(t, f.apiDo(http.MethodPost, path+"/cancel", alice, ""), http.StatusConflict, "already_decided")

		// Deny and cancel happy paths on fresh requests.
		r2 := f.request(f.alice, f.acc, "second")
		rec = f.apiDo(http.MethodPost, "/api/v1/requests/"+itoa(r2.ID)+"/deny", bob, `{"reason":"not now"}`)
		wantStatus(t, rec, http.StatusOK)
		decodeBody(t, rec.Body.String(), &got)
		if got.Status != "denied" {
			t.Fatalf("denied %+v", got)
		}
		r3 := f.request(f.alice, f.acc, "third")
		rec = f.apiDo(http.MethodPost, "/api/v1/requests/"+itoa(r3.ID)+"/cancel", alice, `{"reason":"done already"}`)
		wantStatus(t, rec, http.StatusOK)
		decodeBody(t, rec.Body.String(), &got)
		if got.Status != "cancelled" {
			t.Fatalf("cancelled %+v", got)
		}
		wantAPIError(t, f.apiDo(http.MethodGet, "/api/v1/requests/0", bob, ""), http.StatusNotFound, "not_found")
	})
}

func decodeBody(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %s: %v", trim(s), err)
	}
}

func itoaPath(id int64) string { return "/requests/" + itoa(id) }
