package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"privilege/models"
)

// fakeWorkflow serves an issue whose transitions depend on its status.
type fakeWorkflow struct {
	mu       sync.Mutex
	status   string
	statuses map[string]string           // name -> category
	edges    map[string][]fakeTransition // from status -> transitions
	done     []string                    // "transition id:resolution" performed
}

type fakeTransition struct {
	id, name, to string
	resolution   bool
}

func (f *fakeWorkflow) register(t *testing.T, env *testEnv) {
	env.api("GET", "/issue/OPS-1", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		fmt.Fprintf(w, `{"id":"1","key":"OPS-1","fields":{"status":{"name":%q,"statusCategory":{"key":%q}}}}`, f.status, f.statuses[f.status])
	})
	env.api("GET", "/issue/OPS-1/transitions", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("expand") != "transitions.fields" {
			t.Errorf("expand = %q", r.URL.Query().Get("expand"))
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		var list []map[string]any
		for _, tr := range f.edges[f.status] {
			item := map[string]any{"id": tr.id, "name": tr.name, "isAvailable": true,
				"to": map[string]any{"name": tr.to, "statusCategory": map[string]any{"key": f.statuses[tr.to]}}}
			if tr.resolution {
				item["fields"] = map[string]any{"resolution": map[string]any{"required": false,
					"allowedValues": []map[string]string{{"id": "1", "name": "Done"}, {"id": "2", "name": "Won't Do"}}}}
			}
			list = append(list, item)
		}
		writeJSON(w, 200, map[string]any{"transitions": list})
	})
	env.api("POST", "/issue/OPS-1/transitions", func(w http.ResponseWriter, r *http.Request) {
		body := decodeBody(t, r)
		id := body["transition"].(map[string]any)["id"].(string)
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, tr := range f.edges[f.status] {
			if tr.id != id {
				continue
			}
			res := ""
			if fields, ok := body["fields"].(map[string]any); ok {
				if !tr.resolution {
					writeJSON(w, 400, map[string]any{"errorMessages": []string{}, "errors": map[string]string{"resolution": "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."}})
					return
				}
				res = fields["resolution"].(map[string]any)["name"].(string)
			}
			f.done = append(f.done, id+":"+res)
			f.status = tr.to
			w.WriteHeader(204)
			return
		}
		writeJSON(w, 400, map[string]any{"errorMessages": []string{"It seems that you have tried to perform a workflow operation that is not valid."}})
	})
}

func twoStepWorkflow() *fakeWorkflow {
	return &fakeWorkflow{
		status:   "To Do",
		statuses: map[string]string{"To Do": "new", "In Progress": "indeterminate", "Done": "done", "Declined": "done"},
		edges: map[string][]fakeTransition{
			"To Do":       {{id: "11", name: "Start", to: "In Progress"}},
			"In Progress": {{id: "21", name: "Back", to: "To Do"}, {id: "31", name: "Finish", to: "Done", resolution: true}, {id: "41", name: "Decline", to: "Declined"}},
		},
	}
}

func TestMoveToStatusWalksTwoStepsWithResolution(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	wf := twoStepWorkflow()
	wf.register(t, env)
	if err := env.client().MoveToStatus(context.Background(), "OPS-1", ""); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(wf.done, ","); got != "11:,31:Done" {
		t.Fatalf("transitions = %s", got)
	}
	// Already there: nothing happens.
	if err := env.client().MoveToStatus(context.Background(), "OPS-1", ""); err != nil || len(wf.done) != 2 {
		t.Fatalf("second move: err=%v done=%v", err, wf.done)
	}
}

func TestMoveToStatusByNameAndDenial(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentDataCenter, validToken("tok"))
	wf := twoStepWorkflow()
	wf.register(t, env)
	if err := env.client().MoveToStatus(context.Background(), "OPS-1", "declined"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(wf.done, ","); got != "11:,41:" {
		t.Fatalf("transitions = %s (no resolution screen on Decline)", got)
	}

	env2 := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	wf2 := twoStepWorkflow()
	wf2.edges["In Progress"] = wf2.edges["In Progress"][:2] // only Finish, with a resolution screen
	wf2.register(t, env2)
	if err := env2.client().MoveToStatus(context.Background(), "OPS-1", "", ForDenial()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(wf2.done, ","); got != "11:,31:Won't Do" {
		t.Fatalf("transitions = %s", got)
	}
}

func TestMoveToStatusUnreachable(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	wf := twoStepWorkflow()
	wf.register(t, env)
	err := env.client().MoveToStatus(context.Background(), "OPS-1", "Approved")
	var nt *NoTransitionError
	if !errors.Is(err, ErrNoTransition) || !errors.As(err, &nt) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), `"Approved"`) || len(wf.done) > 3 {
		t.Fatalf("message %q, transitions %v", err, wf.done)
	}
}

func TestDoTransitionSendsResolutionOnlyWhenGiven(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	var bodies []map[string]any
	env.api("POST", "/issue/OPS-1/transitions", func(w http.ResponseWriter, r *http.Request) {
		bodies = append(bodies, decodeBody(t, r))
		w.WriteHeader(204)
	})
	c := env.client()
	if err := c.DoTransition(context.Background(), "OPS-1", "31", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.DoTransition(context.Background(), "OPS-1", "31", "Done"); err != nil {
		t.Fatal(err)
	}
	if _, ok := bodies[0]["fields"]; ok {
		t.Errorf("fields sent without resolution: %v", bodies[0])
	}
	if fmt.Sprint(bodies[1]["fields"]) != "map[resolution:map[name:Done]]" {
		t.Errorf("fields = %v", bodies[1]["fields"])
	}
}
