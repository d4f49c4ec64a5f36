package main

import (
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"privilege/models"
	"privilege/models/modeltest"
)

// TestDemoConnectsBothFlavours runs `privilege demo` and walks its seed
// flow with the printed login: Cloud (site "acme") and Data Center connect,
// and each Manage page lists the simulator's projects.
func TestDemoConnectsBothFlavours(t *testing.T) {
	addr := freeAddr(t)
	cfg, err := loadConfig(env(map[string]string{"PRIVILEGE_ADDR": addr, "PRIVILEGE_BASE_URL": "http://" + addr, "PRIVILEGE_LOG_LEVEL": "error"}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDemo(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	var banner strings.Builder
	d.banner(&banner)
	if !strings.Contains(banner.String(), "admin@demo.test / "+d.password) || !strings.Contains(banner.String(), d.info.DCClientSecret) {
		t.Fatalf("banner lacks the login or the DC link:\n%s", banner.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.serve(ctx, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("demo did not stop")
		}
	})
	waitHealthy(t, "http://"+addr)

	w := newWebClient(t, "http://"+addr)
	w.signIn("admin@demo.test", d.password)
	consent := func(site string) func(string) *url.URL {
		return func(authorize string) *url.URL {
			loc, err := d.sim.Consent(authorize, true, site)
			if err != nil {
				t.Fatal(err)
			}
			return loc
		}
	}
	cloud := w.connect(url.Values{"name": {"Acme Cloud"}}, consent("acme"))
	if _, page := w.get(cloud); !strings.Contains(page, "Operations") || !strings.Contains(page, "Finance") {
		t.Fatal("Cloud Manage page lacks the demo projects")
	}
	dc := w.connect(url.Values{"name": {"Corp Jira"}, "self_hosted": {"1"}, "base_url": {d.info.DCBaseURL},
		"client_id": {d.info.DCClientID}, "client_secret": {d.info.DCClientSecret}}, consent(""))
	if _, page := w.get(dc); !strings.Contains(page, "Operations") || !strings.Contains(page, "Security") {
		t.Fatal("Data Center Manage page lacks the demo projects")
	}
	if _, page := w.get("/accounts"); !strings.Contains(page, "Production (AWS)") {
		t.Fatal("demo accounts not seeded")
	}
}

// TestDemoIgnoresOperatorDatabaseAndCleansUp: with PRIVILEGE_DATABASE_URL
// pointing at a real PostgreSQL schema, `privilege demo` says loudly that it
// ignores it, seeds nothing there (not even the schema), serves its sample
// login from a temporary SQLite dir, and removes that dir on exit.
func TestDemoIgnoresOperatorDatabaseAndCleansUp(t *testing.T) {
	operatorDB := modeltest.PostgresSchemaURL(t)
	addr := freeAddr(t)
	out := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo"}, env(map[string]string{"PRIVILEGE_ADDR": addr, "PRIVILEGE_BASE_URL": "http://" + addr,
			"PRIVILEGE_DATABASE_URL": operatorDB, "PRIVILEGE_LOG_LEVEL": "error"}), strings.NewReader(""), out, io.Discard)
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cancel()
			<-done
		}
	})
	waitHealthy(t, "http://"+addr)
	banner := out.String()
	if !strings.Contains(banner, "WARNING: privilege demo ignores PRIVILEGE_DATABASE_URL") {
		t.Fatalf("the banner does not say the database URL is ignored:\n%s", banner)
	}
	m := regexp.MustCompile(`admin@demo\.test / (\S+)`).FindStringSubmatch(banner)
	d := regexp.MustCompile(`data in (\S+), removed on exit\)`).FindStringSubmatch(banner)
	if m == nil || d == nil {
		t.Fatalf("banner lacks the login or the data dir:\n%s", banner)
	}
	w := newWebClient(t, "http://"+addr)
	w.signIn("admin@demo.test", m[1])
	if _, err := os.Stat(filepath.Join(d[1], "privilege.db")); err != nil {
		t.Fatalf("the demo's SQLite file is not in its data dir: %v", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo exited with %v", err)
	}
	stopped = true
	if _, err := os.Stat(d[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("demo data dir %s still exists after exit (stat: %v)", d[1], err)
	}
	pg, err := models.Open(context.Background(), operatorDB, "")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	var tables int64
	if err := pg.Gorm.Raw("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("the demo created %d tables in the operator's database", tables)
	}
}

// lockedBuffer is an io.Writer several goroutines may write while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
