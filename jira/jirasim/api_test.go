package jirasim

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestEmbeddedADFSchemaMatchesSpec(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile("../../../shared/specs/adf-schema-v1-full.json")
	if err != nil {
		t.Skipf("spec copy not available: %v", err)
	}
	if !bytes.Equal(adfSchema, want) {
		t.Fatal("adf-schema-v1-full.json differs from shared/specs/adf-schema-v1-full.json")
	}
}

func TestGatewayScopesAndRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	readOnly, _ := e.login(t, "read:jira-work")
	if status, _, _ := do(t, e.http, http.MethodGet, e.api()+"/project/search", readOnly, nil); status != http.StatusOK {
		t.Fatalf("read with read scope: %d", status)
	}
	create := map[string]any{"fields": map[string]any{"project": map[string]any{"key": "OPS"}, "issuetype": map[string]any{"name": "Task"}, "summary": "x"}}
	if status, _, _ := do(t, e.http, http.MethodPost, e.api()+"/issue", readOnly, create); status != http.StatusForbidden {
		t.Fatalf("write with read scope: %d, want 403", status)
	}
	if status, _, _ := do(t, e.http, http.MethodGet, e.api()+"/myself", readOnly, nil); status != http.StatusForbidden {
		t.Fatalf("myself without read:jira-user: %d, want 403", status)
	}
	full, _ := e.login(t, "")
	if status, _, _ := do(t, e.http, http.MethodGet, e.sim.APIURL()+"/ex/jira/00000000-0000-0000-0000-000000000000/rest/api/3/myself", full, nil); status != http.StatusNotFound {
		t.Fatalf("unknown cloudId: %d, want 404", status)
	}
	if status, _, _ := do(t, e.http, http.MethodGet, e.api()+"/myself", "", nil); status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", status)
	}
	if status, _, _ := do(t, e.http, http.MethodGet, e.site.URL+"/rest/api/3/myself", full, nil); status != http.StatusUnauthorized {
		t.Fatalf("site URL with bearer: %d, want 401", status)
	}
	status, info, _ := do(t, e.http, http.MethodGet, e.api()+"/serverInfo", full, nil)
	if status != http.StatusOK || info["deploymentType"] != "Cloud" {
		t.Fatalf("serverInfo: %d %v", status, info)
	}
	e.clock.Advance(61 * 60e9)
	if status, _, _ := do(t, e.http, http.MethodGet, e.api()+"/myself", full, nil); status != http.StatusUnauthorized {
		t.Fatalf("expired token: %d, want 401", status)
	}
	fresh, _ := e.login(t, "")
	e.sim.ExpireAccessTokens()
	if status, _, _ := do(t, e.http, http.MethodGet, e.api()+"/myself", fresh, nil); status != http.StatusUnauthorized {
		t.Fatalf("ExpireAccessTokens: %d, want 401", status)
	}
}

func TestProjectSearchPaginates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 123 {
		e.site.AddProject(fmt.Sprintf("P%03d", i), fmt.Sprintf("Project %d", i), SimpleWorkflow())
	}
	e.site.Project("SEC").SetCreatePermission(false)
	at, _ := e.login(t, "")
	var keys []string
	next := e.api() + "/project/search?maxResults=500&action=create"
	for pages := 0; next != ""; pages++ {
		status, page, _ := do(t, e.http, http.MethodGet, next, at, nil)
		if status != http.StatusOK || page["maxResults"] != float64(100) || pages > 3 {
			t.Fatalf("page %d: %d %v", pages, status, page["maxResults"])
		}
		for _, v := range page["values"].([]any) {
			keys = append(keys, v.(map[string]any)["key"].(string))
		}
		next, _ = page["nextPage"].(string)
		if page["isLast"] == (next != "") {
			t.Fatalf("isLast %v with nextPage %q", page["isLast"], next)
		}
	}
	if len(keys) != 124 || keys[0] != "OPS" && keys[0] != "P000" {
		t.Fatalf("got %d projects (first %v), want 124 without SEC", len(keys), keys[:1])
	}
	status, page, _ := do(t, e.http, http.MethodGet, e.api()+"/project/search?query=oper", at, nil)
	if status != http.StatusOK || page["total"] != float64(1) {
		t.Fatalf("query filter: %v", page)
	}
}

func TestCreateIssueValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.site.Project("OPS").RequireField("Task", "customfield_10050", "Cost center")
	hr := e.site.AddProject("HR", "People", SimpleWorkflow())
	hr.RemoveIssueType("Task")
	at, _ := e.login(t, "")
	fields := func(edit func(map[string]any)) map[string]any {
		f := map[string]any{
			"project": map[string]any{"key": "OPS"}, "issuetype": map[string]any{"name": "Task"}, "summary": "JIT request",
			"labels": []string{"pingone-privilege", "pingone-req-1"}, "description": adfDoc("hello"), "customfield_10050": "CC-1",
		}
		edit(f)
		return map[string]any{"fields": f}
	}
	emptyText := adfDoc("x")
	emptyText["content"].([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)["text"] = ""
	noVersion := adfDoc("x")
	delete(noVersion, "version")
	tests := []struct {
		name, field string
		edit        func(map[string]any)
	}{
		{"string description", "description", func(f map[string]any) { f["description"] = "plain" }},
		{"empty text node", "description", func(f map[string]any) { f["description"] = emptyText }},
		{"missing version", "description", func(f map[string]any) { f["description"] = noVersion }},
		{"label with space", "labels", func(f map[string]any) { f["labels"] = []string{"a b"} }},
		{"missing summary", "summary", func(f map[string]any) { delete(f, "summary") }},
		{"long summary", "summary", func(f map[string]any) { f["summary"] = strings.Repeat("x", 256) }},
		{"required custom field", "customfield_10050", func(f map[string]any) { delete(f, "customfield_10050") }},
		{"unknown issue type", "issuetype", func(f map[string]any) { f["project"] = map[string]any{"key": "HR"} }},
		{"unknown project", "project", func(f map[string]any) { f["project"] = map[string]any{"key": "NOPE"} }},
	}
	for _, tc := range tests {
		status, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue", at, fields(tc.edit))
		if status != http.StatusBadRequest || errorsOf(body)[tc.field] == nil {
			t.Errorf("%s: %d %v, want 400 errors.%s", tc.name, status, body, tc.field)
		}
	}
	status, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue", at, fields(func(map[string]any) {}))
	if status != http.StatusCreated || body["key"] != "OPS-1" || body["id"] == "" {
		t.Fatalf("create: %d %v", status, body)
	}
	is, found := e.site.Issue("OPS-1")
	if !found || is.Status != "To Do" || is.StatusCategory != CategoryNew || len(is.Labels) != 2 || is.Fields["customfield_10050"] != "CC-1" {
		t.Fatalf("snapshot: %+v", is)
	}
	if got := e.sim.Stats().IssuesCreated; got != 1 {
		t.Fatalf("IssuesCreated = %d", got)
	}
}

func TestDCRejectsADFAndServesV2(t *testing.T) {
	t.Parallel()
	d := newDCEnv(t)
	status, raw := doRaw(t, d.http, http.MethodGet, d.api()+"/serverInfo", "")
	if status != http.StatusOK || !strings.Contains(string(raw), `"deploymentType":"DataCenter"`) || !strings.Contains(string(raw), d.dc.BaseURL()) {
		t.Fatalf("serverInfo: %d %s", status, raw)
	}
	at := d.login(t, "WRITE")
	status, raw = doRaw(t, d.http, http.MethodGet, d.dc.BaseURL()+"/rest/api/latest/project", at)
	if status != http.StatusOK || !strings.HasPrefix(string(raw), "[") {
		t.Fatalf("project list: %d %s", status, raw)
	}
	create := func(desc any) (int, map[string]any) {
		st, body, _ := do(t, d.http, http.MethodPost, d.api()+"/issue", at, map[string]any{"fields": map[string]any{
			"project": map[string]any{"key": "OPS"}, "issuetype": map[string]any{"id": "3"}, "summary": "s", "description": desc,
		}})
		return st, body
	}
	if st, body := create(adfDoc("x")); st != http.StatusBadRequest || errorsOf(body)["description"] == nil {
		t.Fatalf("ADF on v2: %d %v", st, body)
	}
	if st, body := create("h3. Wiki *markup*"); st != http.StatusCreated || body["key"] != "OPS-1" {
		t.Fatalf("wiki on v2: %d %v", st, body)
	}
	st, body, _ := do(t, d.http, http.MethodPost, d.api()+"/issue/OPS-1/comment", at, map[string]any{"body": adfDoc("x")})
	if st != http.StatusBadRequest {
		t.Fatalf("ADF comment on v2: %d %v", st, body)
	}
	if st, _, _ = do(t, d.http, http.MethodPost, d.api()+"/issue/OPS-1/comment", at, map[string]any{"body": "ok"}); st != http.StatusCreated {
		t.Fatalf("comment: %d", st)
	}
	if st, _, _ = do(t, d.http, http.MethodPost, d.api()+"/issue/OPS-1/transitions", at, map[string]any{"transition": map[string]any{"id": "999"}}); st != http.StatusInternalServerError {
		t.Fatalf("bad transition on DC: %d, want 500", st)
	}
	st, page, _ := do(t, d.http, http.MethodGet, d.api()+"/search?jql="+urlq(`project = OPS AND labels is EMPTY ORDER BY created DESC`), at, nil)
	if st != http.StatusOK || page["total"] != float64(1) {
		t.Fatalf("dc search: %d %v", st, page)
	}
	read := d.login(t, "READ")
	if st, _, _ = do(t, d.http, http.MethodPost, d.api()+"/issue/OPS-1/comment", read, map[string]any{"body": "x"}); st != http.StatusForbidden {
		t.Fatalf("write with READ: %d", st)
	}
}

func createTask(t *testing.T, e *env, at, project string, labels ...string) string {
	t.Helper()
	status, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue", at, map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": project}, "issuetype": map[string]any{"name": "Task"}, "summary": "task", "labels": labels,
	}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, body)
	}
	return body["key"].(string)
}

func transitionIDs(t *testing.T, e *env, at, key string) map[string]map[string]any {
	t.Helper()
	status, body, _ := do(t, e.http, http.MethodGet, e.api()+"/issue/"+key+"/transitions?expand=transitions.fields", at, nil)
	if status != http.StatusOK {
		t.Fatalf("transitions: %d", status)
	}
	out := map[string]map[string]any{}
	for _, tr := range body["transitions"].([]any) {
		m := tr.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

func TestWorkflowTransitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at, _ := e.login(t, "")
	post := func(key string, body any) (int, map[string]any) {
		st, b, _ := do(t, e.http, http.MethodPost, e.api()+"/issue/"+key+"/transitions", at, body)
		return st, b
	}

	key := createTask(t, e, at, "OPS")
	trs := transitionIDs(t, e, at, key)
	if _, has := trs["Reopen"]; has || len(trs) != 3 {
		t.Fatalf("from To Do: %v", trs)
	}
	done := trs["Done"]
	if done["to"].(map[string]any)["statusCategory"].(map[string]any)["key"] != "done" || done["fields"].(map[string]any)["resolution"] == nil {
		t.Fatalf("Done transition: %v", done)
	}
	decline := trs["Decline"]
	if st, body := post(key, map[string]any{"transition": map[string]any{"id": decline["id"]}, "fields": map[string]any{"resolution": map[string]any{"name": "Won't Do"}}}); st != http.StatusBadRequest || errorsOf(body)["resolution"] == nil {
		t.Fatalf("resolution without screen: %d %v", st, body)
	}
	if st, _ := post(key, map[string]any{"transition": map[string]any{"id": "999"}}); st != http.StatusBadRequest {
		t.Fatalf("unknown id: %d", st)
	}
	comment := map[string]any{"comment": []any{map[string]any{"add": map[string]any{"body": adfDoc("Approved by bob")}}}}
	if st, body := post(key, map[string]any{"transition": map[string]any{"id": done["id"]}, "fields": map[string]any{"resolution": map[string]any{"name": "Done"}}, "update": comment}); st != http.StatusNoContent {
		t.Fatalf("done: %d %v", st, body)
	}
	is, _ := e.site.Issue(key)
	if is.Status != "Done" || is.StatusCategory != CategoryDone || is.Resolution != "Done" || len(is.Comments) != 1 {
		t.Fatalf("after done: %+v", is)
	}
	if st, _ := post(key, map[string]any{"transition": map[string]any{"id": done["id"]}}); st != http.StatusBadRequest {
		t.Fatalf("unavailable transition: %d", st)
	}

	// Two-step: no done transition from To Do.
	sec := createTask(t, e, at, "SEC")
	trs = transitionIDs(t, e, at, sec)
	for name, tr := range trs {
		if tr["to"].(map[string]any)["statusCategory"].(map[string]any)["key"] == "done" {
			t.Fatalf("two-step offers %s from To Do", name)
		}
	}
	if st, _ := post(sec, map[string]any{"transition": map[string]any{"id": trs["Start work"]["id"]}}); st != http.StatusNoContent {
		t.Fatal(st)
	}
	trs = transitionIDs(t, e, at, sec)
	if st, _ := post(sec, map[string]any{"transition": map[string]any{"id": trs["Finish"]["id"]}}); st != http.StatusNoContent {
		t.Fatal(st)
	}
	if is, _ := e.site.Issue(sec); is.Status != "Done" || is.Resolution != "Done" {
		t.Fatalf("two-step end: %+v", is)
	}

	e.site.DeleteIssue(key)
	for _, probe := range []func() int{
		func() int { st, _, _ := do(t, e.http, http.MethodGet, e.api()+"/issue/"+key, at, nil); return st },
		func() int { st, _ := post(key, map[string]any{"transition": map[string]any{"id": "51"}}); return st },
		func() int {
			st, _, _ := do(t, e.http, http.MethodPost, e.api()+"/issue/"+key+"/comment", at, map[string]any{"body": adfDoc("x")})
			return st
		},
	} {
		if st := probe(); st != http.StatusNotFound {
			t.Fatalf("deleted issue: %d, want 404", st)
		}
	}
}

func TestCommentsAndProperties(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at, _ := e.login(t, "")
	key := createTask(t, e, at, "OPS")
	if st, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue/"+key+"/comment", at, map[string]any{"body": "plain"}); st != http.StatusBadRequest {
		t.Fatalf("string comment on v3: %d %v", st, body)
	}
	if st, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue/"+key+"/comment", at, map[string]any{"body": adfDoc("ok")}); st != http.StatusCreated || body["id"] == nil {
		t.Fatalf("ADF comment: %d %v", st, body)
	}
	u := e.api() + "/issue/" + key + "/properties/pingone"
	for _, want := range []int{http.StatusCreated, http.StatusOK} {
		if st, _, _ := do(t, e.http, http.MethodPut, u, at, map[string]any{"requestId": "REQ-1"}); st != want {
			t.Fatalf("PUT property: %d, want %d", st, want)
		}
	}
	st, body, _ := do(t, e.http, http.MethodGet, u, at, nil)
	if st != http.StatusOK || body["value"].(map[string]any)["requestId"] != "REQ-1" {
		t.Fatalf("GET property: %d %v", st, body)
	}
	if st, _, _ := do(t, e.http, http.MethodPut, e.api()+"/issue/"+key, at, map[string]any{"update": map[string]any{"labels": []any{map[string]any{"add": "pingone-approved"}}}}); st != http.StatusNoContent {
		t.Fatalf("edit labels: %d", st)
	}
	if is, _ := e.site.Issue(key); len(is.Labels) != 1 || is.Labels[0] != "pingone-approved" {
		t.Fatalf("labels: %v", is.Labels)
	}
}

func urlq(s string) string { return url.QueryEscape(s) }

func TestSearchJQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at, _ := e.login(t, "")
	createTask(t, e, at, "OPS", "pingone-privilege", "pingone-req-1")
	e.site.SetSearchLag(2)
	key2 := createTask(t, e, at, "OPS", "pingone-privilege", "pingone-req-2")
	is2, _ := e.site.Issue(key2)

	search := func(body map[string]any) (int, map[string]any) {
		st, b, _ := do(t, e.http, http.MethodPost, e.api()+"/search/jql", at, body)
		return st, b
	}
	jql := `project = OPS AND labels = "pingone-req-2" ORDER BY created DESC`
	if st, b := search(map[string]any{"jql": jql}); st != http.StatusOK || len(b["issues"].([]any)) != 0 {
		t.Fatalf("lagging issue visible: %d %v", st, b)
	}
	st, b := search(map[string]any{"jql": jql, "reconcileIssues": []int{atoi(is2.ID)}, "fields": []string{"summary", "status", "labels"}})
	issues := b["issues"].([]any)
	if st != http.StatusOK || len(issues) != 1 || b["total"] != nil || b["startAt"] != nil {
		t.Fatalf("reconcile: %d %v", st, b)
	}
	fields := issues[0].(map[string]any)["fields"].(map[string]any)
	if fields["status"].(map[string]any)["statusCategory"].(map[string]any)["key"] != "new" || fields["summary"] != "task" {
		t.Fatalf("fields: %v", fields)
	}
	// Two searches have passed: the issue is indexed now; without fields only id is returned.
	st, b = search(map[string]any{"jql": `labels = "pingone-privilege"`, "maxResults": 1})
	first := b["issues"].([]any)[0].(map[string]any)
	if st != http.StatusOK || len(first) != 1 || first["id"] == nil || b["isLast"] != false || b["nextPageToken"] == nil {
		t.Fatalf("page 1: %d %v", st, b)
	}
	st, b = search(map[string]any{"jql": `labels in ("pingone-privilege")`, "maxResults": 1, "nextPageToken": b["nextPageToken"]})
	if st != http.StatusOK || b["isLast"] != true || b["nextPageToken"] != nil || len(b["issues"].([]any)) != 1 {
		t.Fatalf("page 2: %d %v", st, b)
	}
	if st, _ = search(map[string]any{"jql": "order by key"}); st != http.StatusBadRequest {
		t.Fatalf("unbounded: %d", st)
	}
	if st, _ = search(map[string]any{"jql": "project = NOPE"}); st != http.StatusBadRequest {
		t.Fatalf("unknown project: %d", st)
	}
	if st, _, _ := do(t, e.http, http.MethodGet, e.api()+"/search/jql?jql="+urlq(`project = OPS AND updated >= -10m`)+"&fields=summary", at, nil); st != http.StatusOK {
		t.Fatalf("GET search/jql: %d", st)
	}
	for _, old := range []string{e.api() + "/search?jql=project%3DOPS", strings.TrimSuffix(e.api(), "/3") + "/2/search"} {
		if st, _, _ := do(t, e.http, http.MethodGet, old, at, nil); st != http.StatusGone {
			t.Fatalf("%s: %d, want 410", old, st)
		}
	}
}

func atoi(s string) int {
	var n int
	_, _ = fmt.Sscan(s, &n)
	return n
}
