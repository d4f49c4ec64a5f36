package jirasim

import (
	"net/http"
	"testing"
)

// createmeta offers each create-screen field with its schema and allowed
// values; create refuses a missing or invalid value with Jira's errors map.
func TestCreateMetaAllowedValuesAndFieldErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fin := e.site.AddProject("FIN", "Finance", SimpleWorkflow())
	fin.AddCreateField("Task", CreateField{ID: "customfield_10050", Name: "Cost centre", Kind: FieldSelect, Required: true, Options: []string{"Engineering", "Sales"}})
	fin.AddCreateField("Task", CreateField{ID: "components", Name: "Components", Kind: FieldComponents, Required: true, Options: []string{"Payments"}})
	fin.AddCreateField("Task", CreateField{ID: "priority", Name: "Priority", Kind: FieldPriority, Options: []string{"High", "Low"}})
	fin.AddCreateField("Task", CreateField{ID: "customfield_10070", Name: "Due by", Kind: FieldDate})
	tok, _ := e.login(t, "")
	_, types, _ := do(t, e.http, http.MethodGet, e.api()+"/issue/createmeta/FIN/issuetypes", tok, nil)
	var taskID string
	for _, it := range types["issueTypes"].([]any) {
		if m := it.(map[string]any); m["name"] == "Task" {
			taskID = m["id"].(string)
		}
	}
	status, meta, _ := do(t, e.http, http.MethodGet, e.api()+"/issue/createmeta/FIN/issuetypes/"+taskID, tok, nil)
	if status != http.StatusOK {
		t.Fatalf("createmeta: %d", status)
	}
	byID := map[string]map[string]any{}
	for _, f := range meta["fields"].([]any) {
		m := f.(map[string]any)
		byID[m["fieldId"].(string)] = m
	}
	cc := byID["customfield_10050"]
	schema := cc["schema"].(map[string]any)
	if cc["required"] != true || schema["type"] != "option" || schema["custom"] != "com.atlassian.jira.plugin.system.customfieldtypes:select" {
		t.Fatalf("Cost centre meta: %v", cc)
	}
	allowed := cc["allowedValues"].([]any)
	if len(allowed) != 2 || allowed[0].(map[string]any)["value"] != "Engineering" {
		t.Fatalf("Cost centre allowed values: %v", allowed)
	}
	if comp := byID["components"]; comp["schema"].(map[string]any)["items"] != "component" || comp["allowedValues"].([]any)[0].(map[string]any)["name"] != "Payments" {
		t.Fatalf("components meta: %v", comp)
	}
	if byID["priority"]["required"] != false || byID["customfield_10070"]["schema"].(map[string]any)["type"] != "date" {
		t.Fatalf("priority / date meta: %v %v", byID["priority"], byID["customfield_10070"])
	}

	eng, pay := fin.OptionID("customfield_10050", "Engineering"), fin.OptionID("components", "Payments")
	create := func(fields map[string]any) (int, map[string]any) {
		f := map[string]any{"project": map[string]any{"key": "FIN"}, "issuetype": map[string]any{"id": taskID}, "summary": "x"}
		for k, v := range fields {
			f[k] = v
		}
		status, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue", tok, map[string]any{"fields": f})
		return status, body
	}
	status, body := create(nil)
	if errs := errorsOf(body); status != http.StatusBadRequest || errs["customfield_10050"] != "Cost centre is required." || errs["components"] != "Components is required." {
		t.Fatalf("missing values: %d %v", status, body)
	}
	status, body = create(map[string]any{"customfield_10050": map[string]any{"id": "4242"}, "components": []any{map[string]any{"id": "1"}},
		"priority": map[string]any{"id": "nope"}, "customfield_10070": "02/12/2026"})
	errs := errorsOf(body)
	if status != http.StatusBadRequest || errs["customfield_10050"] != "Option id '4242' is not valid" || errs["components"] != "Component with id '1' does not exist." ||
		errs["priority"] != "Specify a valid 'id' or 'name' for Priority" || errs["customfield_10070"] != "Date value is invalid. Expected format: yyyy-MM-dd" {
		t.Fatalf("invalid values: %d %v", status, body)
	}
	status, body = create(map[string]any{"customfield_10050": map[string]any{"id": eng}, "components": []any{map[string]any{"id": pay}}, "customfield_10070": "2026-12-02"})
	if status != http.StatusCreated {
		t.Fatalf("valid values: %d %v", status, body)
	}
	is, _ := e.site.Issue(body["key"].(string))
	if is.Fields["customfield_10050"] != "Engineering" || is.Fields["customfield_10070"] != "2026-12-02" {
		t.Fatalf("stored fields: %v", is.Fields)
	}
	// An option removed by a Jira admin: no longer offered, refused on create.
	fin.RemoveOption("customfield_10050", "Engineering")
	_, meta, _ = do(t, e.http, http.MethodGet, e.api()+"/issue/createmeta/FIN/issuetypes/"+taskID, tok, nil)
	for _, f := range meta["fields"].([]any) {
		if m := f.(map[string]any); m["fieldId"] == "customfield_10050" && len(m["allowedValues"].([]any)) != 1 {
			t.Fatalf("removed option still offered: %v", m["allowedValues"])
		}
	}
	status, body = create(map[string]any{"customfield_10050": map[string]any{"id": eng}, "components": []any{map[string]any{"id": pay}}})
	if status != http.StatusBadRequest || errorsOf(body)["customfield_10050"] != "Option id '"+eng+"' is not valid" {
		t.Fatalf("removed option: %d %v", status, body)
	}
}

// A workflow can leave the comment off its transition screens: update.comment
// is then refused with 400 and nothing changes.
func TestTransitionCommentRefusedPerWorkflow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wf := SimpleWorkflow()
	wf.RefuseTransitionComment = true
	e.site.AddProject("NOC", "No comments", wf)
	tok, _ := e.login(t, "")
	for _, tc := range []struct {
		project string
		want    int
	}{{"OPS", http.StatusNoContent}, {"NOC", http.StatusBadRequest}} {
		_, created, _ := do(t, e.http, http.MethodPost, e.api()+"/issue", tok, map[string]any{"fields": map[string]any{
			"project": map[string]any{"key": tc.project}, "issuetype": map[string]any{"name": "Task"}, "summary": "x"}})
		key := created["key"].(string)
		status, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue/"+key+"/transitions", tok, map[string]any{
			"transition": map[string]any{"id": "41"}, "update": map[string]any{"comment": []any{map[string]any{"add": map[string]any{"body": adfDoc("Denied.")}}}}})
		is, _ := e.site.Issue(key)
		if status != tc.want {
			t.Fatalf("%s: %d %v", tc.project, status, body)
		}
		if tc.want == http.StatusBadRequest && (errorsOf(body)["comment"] != "Field 'comment' cannot be set. It is not on the appropriate screen, or unknown." || is.Status != "To Do" || len(is.Comments) != 0) {
			t.Fatalf("refused comment: %v, issue %s with %d comments", body, is.Status, len(is.Comments))
		}
		if tc.want == http.StatusNoContent && (is.Status != "Declined" || len(is.Comments) != 1) {
			t.Fatalf("accepted comment: issue %s with %d comments", is.Status, len(is.Comments))
		}
		if n := e.sim.Stats().IssueCalls[key]; n != 2 {
			t.Fatalf("%s: %d calls counted, want 2 (create, transition)", key, n)
		}
	}
}

// Priority, components and fix versions list their allowed values as Jira
// does (each with a self link to its own resource); an optional priority
// with a default is set to it when create sends none, and an invalid one is
// refused.
func TestCreateMetaOptionalSystemFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fin := e.site.AddProject("FIN", "Finance", SimpleWorkflow())
	fin.AddCreateField("", CreateField{ID: "priority", Name: "Priority", Kind: FieldPriority, Options: []string{"High", "Medium"}, Default: "Medium"})
	fin.AddCreateField("", CreateField{ID: "fixVersions", Name: "Fix versions", Kind: FieldVersions, Options: []string{"2026.1"}})
	tok, _ := e.login(t, "")
	_, types, _ := do(t, e.http, http.MethodGet, e.api()+"/issue/createmeta/FIN/issuetypes", tok, nil)
	taskID := ""
	for _, it := range types["issueTypes"].([]any) {
		if m := it.(map[string]any); m["name"] == "Task" {
			taskID = m["id"].(string)
		}
	}
	_, meta, _ := do(t, e.http, http.MethodGet, e.api()+"/issue/createmeta/FIN/issuetypes/"+taskID, tok, nil)
	byID := map[string]map[string]any{}
	for _, f := range meta["fields"].([]any) {
		m := f.(map[string]any)
		byID[m["fieldId"].(string)] = m
	}
	high, medium, v1 := fin.OptionID("priority", "High"), fin.OptionID("priority", "Medium"), fin.OptionID("fixVersions", "2026.1")
	prio := byID["priority"]
	first := prio["allowedValues"].([]any)[0].(map[string]any)
	if prio["required"] != false || prio["hasDefaultValue"] != true || prio["defaultValue"].(map[string]any)["id"] != medium ||
		first["name"] != "High" || first["self"] != e.api()+"/priority/"+high || first["iconUrl"] == nil {
		t.Fatalf("priority meta: %v", prio)
	}
	version := byID["fixVersions"]["allowedValues"].([]any)[0].(map[string]any)
	if byID["fixVersions"]["hasDefaultValue"] != false || version["self"] != e.api()+"/version/"+v1 || version["released"] != false {
		t.Fatalf("fix versions meta: %v", byID["fixVersions"])
	}
	create := func(fields map[string]any) (int, map[string]any) {
		f := map[string]any{"project": map[string]any{"key": "FIN"}, "issuetype": map[string]any{"id": taskID}, "summary": "x"}
		for k, v := range fields {
			f[k] = v
		}
		status, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue", tok, map[string]any{"fields": f})
		return status, body
	}
	status, body := create(map[string]any{"priority": map[string]any{"id": "1"}, "fixVersions": []any{map[string]any{"id": "2"}}})
	if errs := errorsOf(body); status != http.StatusBadRequest || errs["priority"] != "Specify a valid 'id' or 'name' for Priority" || errs["fixVersions"] != "Version id '2' is not valid" {
		t.Fatalf("invalid values: %d %v", status, body)
	}
	for _, c := range []struct {
		fields   map[string]any
		priority string
	}{{nil, "Medium"}, {map[string]any{"priority": map[string]any{"id": high}, "fixVersions": []any{map[string]any{"id": v1}}}, "High"}} {
		status, body = create(c.fields)
		if status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, body)
		}
		if is, _ := e.site.Issue(body["key"].(string)); is.Fields["priority"] != c.priority {
			t.Fatalf("priority %v, want %s", is.Fields["priority"], c.priority)
		}
	}
}
