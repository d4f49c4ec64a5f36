package jiratest

import (
	"net/http"
	"testing"
)

func TestNewDemoSeedsSitesAndDC(t *testing.T) {
	t.Parallel()
	s, info := NewDemo(Options{CloudRedirectURIs: []string{testRedirect}})
	t.Cleanup(s.Close)
	if p := info.Acme.Project("HR"); p == nil {
		t.Fatal("HR missing")
	}
	if len(info.Big.inst.projects) < 120 || info.DC.Project("OPS") == nil || info.DCBaseURL != info.DC.BaseURL() {
		t.Fatalf("demo seed incomplete: %+v", info)
	}
	status, body := doRaw(t, s.Client(), http.MethodGet, info.DCBaseURL+"/rest/api/2/serverInfo", "")
	if status != http.StatusOK {
		t.Fatalf("dc serverInfo: %d %s", status, body)
	}
}
