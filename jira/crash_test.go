package jira_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"privilege/internal/testenv"
	"privilege/jira"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/models/modeltest"
)

// The crash test re-runs this test binary as a child process that only runs
// the syncer and the expiry sweep, configured through these variables.
const (
	childEnv       = "PRIVILEGE_SYNC_CHILD"
	childDBEnv     = "PRIVILEGE_SYNC_CHILD_DB"
	childAuthEnv   = "PRIVILEGE_SYNC_CHILD_AUTH_URL"
	childAPIEnv    = "PRIVILEGE_SYNC_CHILD_API_URL"
	childClientEnv = "PRIVILEGE_SYNC_CHILD_CLIENT"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runSyncChild())
	}
	os.Exit(m.Run())
}

// runSyncChild is a syncer process: it works until SIGTERM (or SIGKILL).
func runSyncChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	db, err := models.OpenSQLite(ctx, os.Getenv(childDBEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	sealer, _ := models.NewSealer([][]byte{modeltest.TestKey})
	store := models.NewStore(db, sealer)
	hc := jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: testenv.Loopback(), Timeout: 5 * time.Second})
	hc.Transport = jira.NewPacer(rate.Inf, 1).Wrap(hc.Transport)
	var id, secret string
	fmt.Sscanf(os.Getenv(childClientEnv), "%s %s", &id, &secret)
	oauth := jira.NewOAuth(jira.OAuthConfig{AuthURL: os.Getenv(childAuthEnv), APIURL: os.Getenv(childAPIEnv), CloudClientID: id, CloudClientSecret: secret, RedirectURL: testenv.Callback, HTTPClient: hc})
	clients := jira.NewClients(oauth, store, hc)
	syncer := jira.NewSyncer(slog.New(slog.NewTextHandler(io.Discard, nil)), store, clients, nil, jira.SyncerConfig{
		BaseURL: "https://privilege.example.com", Workers: 8, PollInterval: 50 * time.Millisecond, Lease: 2 * time.Second,
		JobTimeout: 1500 * time.Millisecond, AmbiguousGrace: 500 * time.Millisecond,
		BackoffBase: 50 * time.Millisecond, BackoffCap: 500 * time.Millisecond, MaxAttempts: 1000,
	})
	go expireLoop(ctx, store, 200*time.Millisecond)
	syncer.Run(ctx)
	return 0
}

// expireLoop is the child's stand-in for the server's lifecycle ticker
// (lifecycle.go in package main): it expires due requests every interval.
func expireLoop(ctx context.Context, store *models.Store, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if _, err := store.ExpireDue(ctx, 500); err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "expire requests:", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// TestCrashedSyncersLoseNothing kills syncer processes with SIGKILL, again and
// again, during a burst of 300 requests with random decisions. After a final
// clean run, Jira holds exactly one issue per request, each in its request's
// final state.
func TestCrashedSyncersLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	const total = 300
	ctx := context.Background()
	sim := testenv.StartSim(t, jirasim.Options{CloudRedirectURIs: []string{testenv.Callback}})
	site := testenv.AddAcme(sim)

	dbPath := filepath.Join(t.TempDir(), "crash.db")
	db, err := models.OpenSQLite(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	sealer, _ := models.NewSealer([][]byte{modeltest.TestKey})
	store := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
	h := newCloudHarness(t, store, sim, site)
	h.approve = modeltest.Must(store.CreateUser(ctx, models.SystemActor, models.NewUser{Email: "bob@example.com", Password: "correct horse battery", Role: models.RoleApprover}))
	id, secret := sim.CloudClient()

	childEnvVars := append(os.Environ(), childEnv+"=1", childDBEnv+"="+dbPath, childAuthEnv+"="+sim.AuthURL(),
		childAPIEnv+"="+sim.APIURL(), childClientEnv+"="+id+" "+secret)
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = childEnvVars
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	// Decisions from Jira too: Bob, a linked approver, moves tasks in Jira
	// while the syncers die; each move is noticed (as a webhook would).
	bobJira := sim.AddCloudUser("Bob Approver", "bob.jira@example.com")
	modeltest.Must(store.LinkJiraIdentity(ctx, models.SystemActor, h.approve.ID, h.integ.ID, models.JiraIdentityInput{AccountID: bobJira.AccountID, DisplayName: bobJira.DisplayName}))
	h.link = modeltest.Must(store.SetJiraDecisions(ctx, models.SystemActor, h.link.ID, models.JiraDecisionsInput{On: true, ApproveStatus: "Done", DenyStatus: "Declined"}))
	stopMover := make(chan struct{})
	moverDone := make(chan int)
	go func() {
		rng := rand.New(rand.NewPCG(5, 6))
		moved := 0
		for moved < 40 {
			select {
			case <-stopMover:
				moverDone <- moved
				return
			case <-time.After(15 * time.Millisecond): // spread the moves over the kills
			}
			var todo []string
			for _, is := range site.Issues() {
				if is.Status == "To Do" {
					todo = append(todo, is.Key)
				}
			}
			if len(todo) == 0 {
				continue
			}
			key := todo[rng.IntN(len(todo))]
			to := []string{"Done", "Declined"}[rng.IntN(2)]
			if site.MoveAs(key, to, bobJira, "from Jira") == nil {
				moved++
				_, _ = store.EnqueueIssueCheck(ctx, h.integ.ID, key)
			}
		}
		<-stopMover
		moverDone <- moved
	}()

	// The burst: requests and random decisions written while children die.
	burstDone := make(chan []int64)
	go func() {
		rng := rand.New(rand.NewPCG(1, 2))
		var ids []int64
		for i := 0; i < total; i++ {
			pendingFor := time.Hour
			if rng.IntN(10) == 0 {
				pendingFor = time.Second // will expire
			}
			r, err := store.CreateRequest(ctx, h.alice, models.NewRequest{AccountID: h.account.ID, Resources: []string{"ReadOnly"}, DurationMinutes: 60, Justification: fmt.Sprint("burst ", i)}, pendingFor)
			if err != nil {
				panic(err)
			}
			ids = append(ids, r.ID)
			if i%3 == 0 && i > 0 { // decide an earlier one
				prev := ids[rng.IntN(len(ids))]
				switch rng.IntN(3) {
				case 0:
					_, _ = store.Decide(ctx, h.approve, prev, models.DecisionApprove, "ok")
				case 1:
					_, _ = store.Decide(ctx, h.approve, prev, models.DecisionDeny, "no")
				case 2:
					_, _ = store.Cancel(ctx, h.alice, prev, "")
				}
			}
			if i%20 == 0 {
				time.Sleep(20 * time.Millisecond) // spread the burst over the kills
			}
		}
		burstDone <- ids
	}()

	rng := rand.New(rand.NewPCG(3, 4))
	kills := 0
	var ids []int64
	for ids == nil {
		cmd := start()
		select {
		case ids = <-burstDone:
		case <-time.After(time.Duration(50+rng.IntN(250)) * time.Millisecond):
		}
		_ = cmd.Process.Kill() // SIGKILL
		_ = cmd.Wait()
		kills++
	}
	for i := 0; i < 6; i++ { // more crashes while the backlog drains and Bob moves tasks
		cmd := start()
		<-time.After(time.Duration(800+rng.IntN(1200)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		kills++
	}
	close(stopMover)
	if moved := <-moverDone; moved < 5 {
		t.Fatalf("only %d tasks were moved in Jira during the crashes", moved)
	} else {
		t.Logf("%d tasks moved in Jira by a linked approver during the crashes", moved)
	}
	t.Logf("%d syncer processes killed with SIGKILL", kills)

	// Final clean run until every job settled and every short request expired.
	final := start()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st := modeltest.Must(store.SyncStats(ctx))
		pend := modeltest.Must(store.ListRequests(ctx, models.RequestQuery{Status: models.RequestPending}))
		expiring := 0
		for _, r := range pend.Items {
			if r.PendingUntil.Before(time.Now().Add(time.Minute)) {
				expiring++
			}
		}
		if st.Backlog == 0 && expiring == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog %d, %d requests still to expire after the final run", st.Backlog, expiring)
		}
		time.Sleep(100 * time.Millisecond) // polling with a deadline
	}
	_ = final.Process.Signal(syscall.SIGTERM)
	_ = final.Wait()

	if n := len(site.Issues()); n != total {
		t.Fatalf("Jira holds %d issues for %d requests", n, total)
	}
	viaJira := 0
	for _, id := range ids {
		r := modeltest.Must(store.Request(ctx, id))
		is := h.oneIssue(id)
		for _, ev := range r.Events {
			if ev.Via == models.ViaJira {
				viaJira++
			}
		}
		if r.Issue.SyncState != models.SyncSynced || r.Issue.IssueKey != is.Key {
			t.Errorf("request %d: sync %s %q (issue %s)", id, r.Issue.SyncState, r.Issue.LastError, is.Key)
		}
		want := map[models.RequestStatus]string{models.RequestPending: "To Do", models.RequestApproved: "Done", models.RequestDenied: "Declined"}[r.Status]
		switch {
		case want != "" && is.Status != want:
			t.Errorf("request %d (%s): issue %s in %q, want %q", id, r.Status, is.Key, is.Status, want)
		case want == "" && is.StatusCategory != "done":
			t.Errorf("request %d (%s): issue in %q, want a done status", id, r.Status, is.Status)
		}
		decisions := 0
		for _, ev := range r.Events {
			if ev.Kind != models.EventCreated {
				decisions++
			}
		}
		// One comment per event, one per refused move (never twice), and
		// Bob's own comments given with his moves.
		events, refusals := 0, map[string]int{}
		for _, c := range is.Comments {
			text := commentText(c)
			switch {
			case c.Author.ID() == bobJira.AccountID:
			case strings.Contains(text, "Privilege event "):
				events++
			case strings.Contains(text, "Privilege Jira move "):
				refusals[text[strings.Index(text, "Privilege Jira move "):]]++
			default:
				t.Errorf("request %d: unexpected comment %q", id, text)
			}
		}
		if events != decisions {
			t.Errorf("request %d: %d event comments for %d events", id, events, decisions)
		}
		for marker, n := range refusals {
			if n != 1 {
				t.Errorf("request %d: %d comments for %s", id, n, marker)
			}
		}
	}
	if viaJira == 0 {
		t.Error("no request was decided through Jira")
	}
	t.Logf("%d requests decided through Jira", viaJira)
}
