package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
)

// TestBaseURLDerivedFromAddr: with no PRIVILEGE_BASE_URL the console's URL
// is the listen address (wildcards read as localhost); a set one is kept.
func TestBaseURLDerivedFromAddr(t *testing.T) {
	for _, tc := range []struct{ addr, base, want string }{
		{":8080", "", "http://localhost:8080"},
		{"127.0.0.1:8099", "", "http://127.0.0.1:8099"},
		{"0.0.0.0:9000", "", "http://localhost:9000"},
		{"[::]:9000", "", "http://localhost:9000"},
		{"[::1]:9000", "", "http://[::1]:9000"},
		{"console.internal:80", "", "http://console.internal:80"},
		{"127.0.0.1:8099", "https://privilege.example.com/", "https://privilege.example.com"},
	} {
		cfg, err := loadConfig(env(map[string]string{"PRIVILEGE_ADDR": tc.addr, "PRIVILEGE_BASE_URL": tc.base}))
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		if cfg.BaseURL.String() != tc.want || cfg.BaseURLDerived != (tc.base == "") {
			t.Errorf("%s, %q: base URL %s (derived %v), want %s", tc.addr, tc.base, cfg.BaseURL, cfg.BaseURLDerived, tc.want)
		}
	}
	if _, err := loadConfig(env(map[string]string{"PRIVILEGE_ADDR": "8080"})); err == nil || !strings.Contains(err.Error(), "PRIVILEGE_ADDR") {
		t.Errorf("an address without a port: %v", err)
	}
	cfg, _ := loadConfig(env(map[string]string{"PRIVILEGE_ADDR": "127.0.0.1:0"}))
	if got := cfg.WithListenAddr("127.0.0.1:41234").BaseURL.String(); got != "http://127.0.0.1:41234" {
		t.Errorf("port 0 bound to 41234: %s", got)
	}
	set, _ := loadConfig(env(map[string]string{"PRIVILEGE_ADDR": "127.0.0.1:0", "PRIVILEGE_BASE_URL": "https://p.example.com"}))
	if got := set.WithListenAddr("127.0.0.1:41234").BaseURL.String(); got != "https://p.example.com" {
		t.Errorf("a configured base URL changed: %s", got)
	}
}

// TestServeLogsDerivedBaseURL: serve says in its log which URL it derived,
// with the port it really bound.
func TestServeLogsDerivedBaseURL(t *testing.T) {
	cfg, err := loadConfig(env(map[string]string{"PRIVILEGE_ADDR": "127.0.0.1:0", "PRIVILEGE_DATA_DIR": t.TempDir(), "PRIVILEGE_LOG_LEVEL": "info"}))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	bound := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, &syncWriter{w: &log}, &serveOptions{onListen: func(a string) { bound <- a }})
	}()
	addr := <-bound
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	if out := log.String(); !strings.Contains(out, "PRIVILEGE_BASE_URL is not set") || !strings.Contains(out, `"base_url":"http://127.0.0.1:`+port+`"`) {
		t.Errorf("log lacks the derived base URL:\n%s", out)
	}
}

// syncWriter serialises writes from the server's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
