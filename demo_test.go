package main

import (
	"context"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
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
	t.Cleanup(func() { d.sim.Close(); d.idp.Close(); os.RemoveAll(d.cfg.DataDir) })
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
