package jirasim

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

// The demo's sample approver and requester exist in Jira (Cloud and DC) so
// they can link their accounts with one click ("Accept as …").
func TestNewDemoHasSamplePeople(t *testing.T) {
	t.Parallel()
	s, info := NewDemo(Options{CloudRedirectURIs: []string{testRedirect}})
	t.Cleanup(s.Close)
	for name, users := range map[string][]User{"cloud": s.Users(), "dc": info.DC.Users()} {
		var got []string
		for _, u := range users {
			got = append(got, u.Email)
		}
		if len(users) != 3 || users[1].Email != "approver@demo.test" || users[2].Email != "requester@demo.test" {
			t.Errorf("%s users %v", name, got)
		}
	}
}
