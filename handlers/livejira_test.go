package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// withJira wires the app to j's OAuth and clients.
func withJira(j *testenv.Jira) appOption {
	return func(_ *Config, d *Deps) { d.JiraOAuth, d.JiraClients = j.OAuth, j.Clients }
}

// liveJira is the product on one machine for browser tests: a SQLite store,
// the Jira simulator whose Cloud app calls back to the console, the
// console's Jira wiring, and the console's real HTTP server, whose address
// is known before it serves.
type liveJira struct {
	*testenv.Jira
	srv  *httptest.Server
	base string
}

func newLiveJira(t *testing.T) *liveJira {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	callback := base + "/integrations/jira/callback"
	sim := testenv.StartSim(t, jirasim.Options{CloudRedirectURIs: []string{callback}})
	return &liveJira{Jira: testenv.NewJira(sim, modeltest.NewStore(t, models.DialectSQLite), callback), srv: srv, base: base}
}

// serve starts the console.
func (l *liveJira) serve(t *testing.T) *testApp {
	t.Helper()
	app := newTestApp(t, l.Store, withBaseURL(l.base), withJira(l.Jira))
	l.srv.Config.Handler = app.e
	l.srv.Start()
	t.Cleanup(l.srv.Close)
	return app
}

// runSyncer runs a syncer woken by the store's outbox until the test ends.
func (l *liveJira) runSyncer(t *testing.T) {
	syncer := jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), l.Store, l.Clients, nil, jira.SyncerConfig{
		BaseURL: l.base, Workers: 2, PollInterval: 250 * time.Millisecond,
	})
	l.Store.OnEnqueue(syncer.Notify)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); syncer.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
}

// addPeople adds the first admin (admin@example.com), Bob (approver) and
// Alice (requester), all with the test password.
func (l *liveJira) addPeople(t *testing.T) (bob, alice models.User) {
	t.Helper()
	ctx := context.Background()
	modeltest.Must(l.Store.CreateFirstAdmin(ctx, "127.0.0.1", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	bob = modeltest.Must(l.Store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: "bob@example.com", Password: testPassword, Role: models.RoleApprover}))
	alice = modeltest.Must(l.Store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: "alice@example.com", Password: testPassword, Role: models.RoleRequester}))
	return bob, alice
}
