package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"privilege/internal/paths"
	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// Decisions from Jira through the whole process: the simulator delivers
// signed webhooks to the running server (or loses them, and the poller finds
// the change), the syncer reads the changelog and decides.

type decisionStack struct {
	sim     *jirasim.Sim
	site    *jirasim.Site
	app     *app
	base    string
	client  *http.Client
	fix     fixture
	bob     jirasim.User
	stop    func()
	secret  string // the Atlassian app's client secret
	hookURL string
}

// newDecisionStack starts the whole server on SQLite, or on PostgreSQL when
// d says so.
func newDecisionStack(tb testing.TB, pollInterval string, d ...models.Dialect) *decisionStack {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sim := jirasim.New(jirasim.Options{CloudRedirectURIs: []string{testenv.Callback}})
	site := testenv.AddAcme(sim)
	id, secret := sim.CloudClient()
	addr := freeAddr(tb)
	vars := map[string]string{
		"PRIVILEGE_ADDR": addr, "PRIVILEGE_BASE_URL": "http://" + addr, "PRIVILEGE_DATA_DIR": tb.TempDir(),
		"PRIVILEGE_SECRET_KEY": string(modeltest.TestKey), "PRIVILEGE_ATLASSIAN_AUTH_URL": sim.AuthURL(), "PRIVILEGE_ATLASSIAN_API_URL": sim.APIURL(),
		"PRIVILEGE_ATLASSIAN_CLIENT_ID": id, "PRIVILEGE_ATLASSIAN_CLIENT_SECRET": secret, "PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8",
		"PRIVILEGE_LOG_LEVEL": "error", "PRIVILEGE_JIRA_POLL_INTERVAL": pollInterval,
		"PRIVILEGE_REQUEST_RATE_LIMIT": "0", // BenchmarkJiraNoticeToDecision: one requester makes 40 requests at once
	}
	if len(d) > 0 && d[0] == models.DialectPostgres {
		vars["PRIVILEGE_DATABASE_URL"] = modeltest.PostgresSchemaURL(tb)
	}
	cfg, err := loadConfig(env(vars))
	if err != nil {
		tb.Fatal(err)
	}
	ready := make(chan *server, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, io.Discard, &serveOptions{onReady: func(s *server) { ready <- s }}) }()
	srv := <-ready
	a := srv.app
	s := &decisionStack{sim: sim, site: site, app: a, base: "http://" + addr, client: &http.Client{Timeout: 10 * time.Second}, secret: secret}
	s.stop = func() { cancel(); <-done; sim.Close() }
	tb.Cleanup(s.stop)
	waitHealthy(tb, s.base)
	s.fix = setUpFixture(tb, a.store, sim)
	store := a.store
	bob := modeltest.Must(store.UserByEmail(ctx, "bob@example.com"))
	s.bob = sim.AddCloudUser("Bob Approver", "bob.approver@example.com")
	modeltest.Must(store.LinkJiraIdentity(ctx, models.SystemActor, bob.ID, s.fix.integrationID, models.JiraIdentityInput{AccountID: s.bob.AccountID, DisplayName: s.bob.DisplayName}))
	link := modeltest.Must(store.ProjectLinkByKey(ctx, s.fix.integrationID, "OPS"))
	modeltest.Must(store.SetJiraDecisions(ctx, models.SystemActor, link.ID, models.JiraDecisionsInput{On: true, ApproveStatus: "Done", DenyStatus: "Declined"}))
	srv.jira.poller.RunOnce(ctx) // registers the webhook now rather than at the next tick
	hooks := site.Webhooks()
	if len(hooks) != 1 {
		tb.Fatalf("webhooks %+v", hooks)
	}
	s.hookURL = hooks[0].URL
	return s
}

// requestWithTask creates a request through the API and waits for its task.
func (s *decisionStack) requestWithTask(tb testing.TB) (int64, string) {
	tb.Helper()
	var out struct {
		ID int64 `json:"id"`
	}
	code, err := apiCall(s.client, "POST", s.base+"/api/v1/requests", s.fix.requester, map[string]any{
		"account_id": s.fix.accountID, "resources": []string{"ReadOnly"}, "duration_minutes": 60, "justification": "decided in Jira"}, &out)
	if err != nil || code != http.StatusCreated {
		tb.Fatalf("create: %d %v", code, err)
	}
	var key string
	waitFor(tb, 10*time.Second, "the task", func() bool {
		r := modeltest.Must(s.app.store.Request(context.Background(), out.ID))
		if r.Issue != nil && r.Issue.IssueKey != "" && r.Issue.SyncState == models.SyncSynced {
			key = r.Issue.IssueKey
			return true
		}
		return false
	})
	return out.ID, key
}

func (s *decisionStack) status(id int64) models.RequestStatus {
	return modeltest.Must(s.app.store.Request(context.Background(), id)).Status
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

func (s *decisionStack) deliver(tb testing.TB, body []byte, auth string) int {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, s.hookURL, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestDecisionFromJiraByWebhookEndToEnd(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) { webhookEndToEnd(t, d) })
	}
}

func webhookEndToEnd(t *testing.T, d models.Dialect) {
	s := newDecisionStack(t, "1h", d) // no poll during the test: the webhook does it
	id, key := s.requestWithTask(t)
	if err := s.site.MoveAs(key, "Done", s.bob, "on call, fine"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "approval via the webhook", func() bool { return s.status(id) == models.RequestApproved })
	if d := s.site.Deliveries(); d.Sent != 1 || d.Failed != 0 {
		t.Fatalf("deliveries %+v", d)
	}
	r := modeltest.Must(s.app.store.Request(context.Background(), id))
	if r.DecisionReason != "on call, fine" || r.Events[len(r.Events)-1].Via != models.ViaJira {
		t.Fatalf("reason %q events %+v", r.DecisionReason, r.Events)
	}

	// Deliveries that fail verification: 401, and nothing is queued.
	id2, key2 := s.requestWithTask(t)
	body := []byte(fmt.Sprintf(`{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":%q}}`, key2))
	now := time.Now()
	for name, auth := range map[string]string{
		"unsigned":  "",
		"forged":    "Bearer " + jirasim.WebhookJWT("not-the-secret", now, now.Add(time.Minute)),
		"wrong app": "Bearer " + jirasim.WebhookJWT("privilege-other-app-secret", now, now.Add(time.Minute)),
		"expired":   "Bearer " + jirasim.WebhookJWT(s.secret, now.Add(-10*time.Minute), now.Add(-5*time.Minute)),
		"alg none":  "Bearer " + jirasim.SignJWT("none", s.secret, map[string]any{"exp": now.Add(time.Minute).Unix()}),
		"alg HS512": "Bearer " + jirasim.SignJWT("HS512", s.secret, map[string]any{"exp": now.Add(time.Minute).Unix()}),
		"no exp":    "Bearer " + jirasim.SignJWT("HS256", s.secret, map[string]any{"iat": now.Unix()}),
		"basic":     "Basic Ym9iOnNlY3JldA==",
	} {
		if code := s.deliver(t, body, auth); code != http.StatusUnauthorized {
			t.Errorf("%s delivery: %d, want 401", name, code)
		}
	}
	if st := modeltest.Must(s.app.store.SyncStats(context.Background())); st.Backlog != 0 {
		t.Fatalf("a refused delivery queued work: backlog %d", st.Backlog)
	}
	// The same body, signed with the app's secret, is accepted.
	if code := s.deliver(t, body, "Bearer "+jirasim.WebhookJWT(s.secret, now, now.Add(time.Minute))); code != http.StatusAccepted {
		t.Fatalf("signed delivery: %d", code)
	}
	// A wrong URL token is refused too.
	good := s.hookURL
	s.hookURL = strings.TrimRight(good, "0123456789abcdef") + "x"
	if code := s.deliver(t, body, "Bearer "+jirasim.WebhookJWT(s.secret, now, now.Add(time.Minute))); code != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", code)
	}
	if s.status(id2) != models.RequestPending {
		t.Fatal("a notice decided something by itself")
	}
	// The counters say so too.
	resp, err := s.client.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`jira_notices_total{result="refused",source="webhook"} 9`,
		`jira_notices_total{result="queued",source="webhook"} 2`,
		`jira_decisions_total{result="applied"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestDecisionFromJiraDroppedDeliveryAppliedByPolling(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) { droppedDelivery(t, d) })
	}
}

func droppedDelivery(t *testing.T, d models.Dialect) {
	s := newDecisionStack(t, "5s", d)
	s.site.DropDeliveries(true)
	id, key := s.requestWithTask(t)
	if err := s.site.MoveAs(key, "Declined", s.bob, "no ticket"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "denial found by polling", func() bool { return s.status(id) == models.RequestDenied })
	if d := s.site.Deliveries(); d.Sent != 0 || d.Dropped != 1 {
		t.Fatalf("deliveries %+v", d)
	}
}

// The Data Center path: an admin webhook with the URL and secret the console
// shows, verified by X-Hub-Signature; a rotated secret refuses the old one.
func TestDecisionFromJiraDataCenterWebhookEndToEnd(t *testing.T) {
	for _, d := range []models.Dialect{models.DialectSQLite, models.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) { dcWebhookEndToEnd(t, d) })
	}
}

func dcWebhookEndToEnd(t *testing.T, d models.Dialect) {
	ctx, cancel := context.WithCancel(context.Background())
	sim := jirasim.New(jirasim.Options{})
	dc := sim.AddDataCenter("/jira")
	dc.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
	dcID, dcSecret := dc.AddClient(testenv.Callback, "WRITE")
	addr := freeAddr(t)
	vars := map[string]string{
		"PRIVILEGE_ADDR": addr, "PRIVILEGE_BASE_URL": "http://" + addr, "PRIVILEGE_DATA_DIR": t.TempDir(),
		"PRIVILEGE_SECRET_KEY": string(modeltest.TestKey), "PRIVILEGE_OUTBOUND_ALLOW_CIDRS": "127.0.0.0/8",
		"PRIVILEGE_LOG_LEVEL": "error", "PRIVILEGE_JIRA_POLL_INTERVAL": "1h",
	}
	if d == models.DialectPostgres {
		vars["PRIVILEGE_DATABASE_URL"] = modeltest.PostgresSchemaURL(t)
	}
	cfg, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan *server, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, io.Discard, &serveOptions{rootCAs: sim.CertPool(), onReady: func(s *server) { ready <- s }})
	}()
	a := (<-ready).app
	t.Cleanup(func() { cancel(); <-done; sim.Close() })
	base := "http://" + addr
	waitHealthy(t, base)
	store := a.store

	mk := func(email string, role models.Role) (models.User, string) {
		u := modeltest.Must(store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: email, Password: "correct horse battery", Role: role}))
		tok, _, err := store.CreateAPIToken(ctx, models.SystemActor, u.ID, "tests")
		if err != nil {
			t.Fatal(err)
		}
		return u, tok
	}
	_, requester := mk("alice@example.com", models.RoleRequester)
	bob, _ := mk("bob@example.com", models.RoleApprover)
	acc := modeltest.Must(store.CreateAccount(ctx, models.SystemActor, models.AccountInput{Provider: models.ProviderAWS, ExternalID: "123456789012", Name: "Prod",
		Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}}}))
	integ := testenv.NewJira(sim, store, testenv.Callback).ConnectDC(t, dc, dcID, dcSecret, "Corp")
	link := modeltest.Must(store.SaveProjectLink(ctx, models.SystemActor, testenv.LinkInput(integ.ID, "OPS", "Operations", jira.IssueType{ID: "3", Name: "Task"}, acc.ID)))
	jbob := dc.AddUser("bob", "Bob Approver", "bob.approver@example.com")
	modeltest.Must(store.LinkJiraIdentity(ctx, models.SystemActor, bob.ID, integ.ID, models.JiraIdentityInput{AccountID: jbob.Key, Name: jbob.Name, DisplayName: jbob.DisplayName}))
	modeltest.Must(store.SetJiraDecisions(ctx, models.SystemActor, link.ID, models.JiraDecisionsInput{On: true, ApproveStatus: "Done", DenyStatus: "Declined"}))

	// What the integration page shows, entered by a Jira admin.
	secret := modeltest.Must(store.WebhookSecret(ctx, integ.ID))
	hookURL := paths.JiraWebhookURL(base, modeltest.Must(store.WebhookToken(ctx, integ.ID)))
	dc.AddWebhook(hookURL, secret)

	s := &decisionStack{app: a, base: base, client: &http.Client{Timeout: 10 * time.Second}, fix: fixture{requester: requester, accountID: acc.ID}}
	id, key := s.requestWithTask(t)
	if err := dc.MoveAs(key, "Declined", jbob, "no change ticket"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "denial via the DC webhook", func() bool { return s.status(id) == models.RequestDenied })

	// A forged signature: 401.
	body := []byte(fmt.Sprintf(`{"webhookEvent":"jira:issue_updated","issue":{"key":%q}}`, key))
	s.hookURL = hookURL
	for name, sig := range map[string]string{"unsigned": "", "forged": jirasim.HubSignature("guess", body), "not hex": "sha256=zz"} {
		req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(body))
		if sig != "" {
			req.Header.Set("X-Hub-Signature", sig)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, resp.StatusCode)
		}
	}

	// Rotated in the console, not yet in Jira: Jira's deliveries are refused.
	modeltest.Must(store.RotateWebhookSecret(ctx, models.SystemActor, integ.ID))
	id2, key2 := s.requestWithTask(t)
	if err := dc.MoveAs(key2, "Done", jbob, "ok"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the refused delivery", func() bool { return dc.Deliveries().Failed == 1 })
	if s.status(id2) != models.RequestPending {
		t.Fatal("a delivery signed with the old secret decided")
	}
}
