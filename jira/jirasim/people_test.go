package jirasim

import (
	"net/http"
	"strings"
	"testing"
)

// Identity consent: "Accept as" signs in as another user; /me needs read:me
// and names that user; /myself names the token's user.
func TestPeopleConsentAsAndMe(t *testing.T) {
	e := newEnv(t)
	carol := e.sim.AddCloudUser("Carol Jira", "carol@acme.example")
	loc, err := e.sim.ConsentAs(e.authorizeURL("read:me"), true, "", carol.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	status, tok := e.exchange(t, loc.Query().Get("code"))
	if status != http.StatusOK {
		t.Fatalf("exchange %d %v", status, tok)
	}
	at := tok["access_token"].(string)
	st, me, _ := do(t, e.http, http.MethodGet, e.sim.APIURL()+"/me", at, nil)
	if st != http.StatusOK || me["account_id"] != carol.AccountID || me["name"] != "Carol Jira" {
		t.Fatalf("/me %d %v", st, me)
	}
	// read:me alone covers no site.
	if st, _, _ := do(t, e.http, http.MethodGet, e.api()+"/myself", at, nil); st != http.StatusUnauthorized {
		t.Fatalf("read:me token on the site: %d", st)
	}
	// A Jira token without read:me cannot read /me.
	jiraAT, _ := e.login(t, "")
	if st, _, _ := do(t, e.http, http.MethodGet, e.sim.APIURL()+"/me", jiraAT, nil); st != http.StatusForbidden {
		t.Fatalf("/me without read:me: %d", st)
	}

	d := newDCEnv(t)
	dave := d.dc.AddUser("dave", "Dave Jira", "dave@corp.example")
	loc, err = d.sim.ConsentAs(d.authorizeURL("READ", nil), true, "", "dave")
	if err != nil {
		t.Fatal(err)
	}
	st, tok2 := d.dcToken(t, map[string][]string{"grant_type": {"authorization_code"}, "client_id": {d.clientID}, "client_secret": {d.secr}, "code": {loc.Query().Get("code")}, "redirect_uri": {testRedirect}})
	if st != http.StatusOK {
		t.Fatalf("dc token %d %v", st, tok2)
	}
	st, self, _ := do(t, d.http, http.MethodGet, d.api()+"/myself", tok2["access_token"].(string), nil)
	if st != http.StatusOK || self["name"] != dave.Name || self["key"] != dave.Key {
		t.Fatalf("/myself %d %v", st, self)
	}
}

// People fields refused exactly like Jira: a reporter without Modify
// Reporter, an assignee who is not assignable, assign and watchers without
// the permission (403 on Cloud, 401 on DC as its spec documents).
func TestPeopleRefusals(t *testing.T) {
	e := newEnv(t)
	at, _ := e.login(t, "")
	bob := e.sim.AddCloudUser("Bob Jira", "bob@acme.example")
	ops := e.site.Project("OPS")
	create := func(extra map[string]any) (int, map[string]any) {
		f := map[string]any{"project": map[string]any{"key": "OPS"}, "issuetype": map[string]any{"name": "Task"}, "summary": "s"}
		for k, v := range extra {
			f[k] = v
		}
		st, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue", at, map[string]any{"fields": f})
		return st, body
	}
	st, body := create(map[string]any{"reporter": map[string]any{"accountId": bob.AccountID}, "assignee": map[string]any{"accountId": bob.AccountID}})
	if st != http.StatusCreated {
		t.Fatalf("create with people %d %v", st, body)
	}
	key := body["key"].(string)
	if is, _ := e.site.Issue(key); is.Reporter.AccountID != bob.AccountID || is.Assignee.AccountID != bob.AccountID {
		t.Fatalf("issue people %+v %+v", is.Reporter, is.Assignee)
	}

	ops.SetPermission(PermModifyReporter, false)
	st, body = create(map[string]any{"reporter": map[string]any{"accountId": bob.AccountID}})
	if st != http.StatusBadRequest || !strings.Contains(errorsOf(body)["reporter"].(string), "Field 'reporter' cannot be set") {
		t.Fatalf("reporter without Modify Reporter: %d %v", st, body)
	}
	ops.SetAssignable(bob.AccountID, false)
	st, body = create(map[string]any{"assignee": map[string]any{"accountId": bob.AccountID}})
	if st != http.StatusBadRequest || !strings.Contains(errorsOf(body)["assignee"].(string), "cannot be assigned issues") {
		t.Fatalf("unassignable assignee: %d %v", st, body)
	}
	if n := len(e.site.Issues()); n != 1 {
		t.Fatalf("%d issues after refused creates, want 1", n)
	}
	st, body, _ = do(t, e.http, http.MethodPut, e.api()+"/issue/"+key+"/assignee", at, map[string]any{"accountId": bob.AccountID})
	if st != http.StatusBadRequest || !strings.Contains(errorsOf(body)["assignee"].(string), "cannot be assigned") {
		t.Fatalf("assign unassignable: %d %v", st, body)
	}
	ops.SetPermission(PermAssignIssues, false)
	if st, _, _ := do(t, e.http, http.MethodPut, e.api()+"/issue/"+key+"/assignee", at, map[string]any{"accountId": userAccountID}); st != http.StatusForbidden {
		t.Fatalf("assign without Assign Issues: %d", st)
	}
	ops.SetPermission(PermManageWatchers, false)
	if st, _, _ := do(t, e.http, http.MethodPost, e.api()+"/issue/"+key+"/watchers", at, `"`+bob.AccountID+`"`); st != http.StatusForbidden {
		t.Fatalf("watch without Manage Watchers: %d", st)
	}
	// Watching oneself needs no Manage Watchers.
	if st, _, _ := do(t, e.http, http.MethodPost, e.api()+"/issue/"+key+"/watchers", at, `"`+userAccountID+`"`); st != http.StatusNoContent {
		t.Fatalf("watch oneself: %d", st)
	}
	st, perms, _ := do(t, e.http, http.MethodGet, e.api()+"/mypermissions?projectKey=OPS&permissions=MODIFY_REPORTER,ASSIGN_ISSUES,CREATE_ISSUES", at, nil)
	p := perms["permissions"].(map[string]any)
	if st != http.StatusOK || p["MODIFY_REPORTER"].(map[string]any)["havePermission"] != false || p["CREATE_ISSUES"].(map[string]any)["havePermission"] != true {
		t.Fatalf("mypermissions %d %v", st, perms)
	}

	d := newDCEnv(t)
	dat := d.login(t, "WRITE")
	dops := d.dc.Project("OPS")
	st, body, _ = do(t, d.http, http.MethodPost, d.api()+"/issue", dat, map[string]any{"fields": map[string]any{"project": map[string]any{"key": "OPS"},
		"issuetype": map[string]any{"name": "Task"}, "summary": "s", "reporter": map[string]any{"name": "nobody"}}})
	if st != http.StatusBadRequest || !strings.Contains(errorsOf(body)["reporter"].(string), "not a user") {
		t.Fatalf("dc unknown reporter: %d %v", st, body)
	}
	st, body, _ = do(t, d.http, http.MethodPost, d.api()+"/issue", dat, map[string]any{"fields": map[string]any{"project": map[string]any{"key": "OPS"},
		"issuetype": map[string]any{"name": "Task"}, "summary": "s"}})
	if st != http.StatusCreated {
		t.Fatalf("dc create %d %v", st, body)
	}
	dops.SetPermission(PermAssignIssues, false)
	if st, _, _ := do(t, d.http, http.MethodPut, d.api()+"/issue/"+body["key"].(string)+"/assignee", dat, map[string]any{"name": userName}); st != http.StatusUnauthorized {
		t.Fatalf("dc assign without permission: %d", st)
	}
}
