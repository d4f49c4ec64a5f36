package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"privilege/models"
)

func TestCloudListProjectsReadsAllPages(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	pages := map[string]string{
		"0": `{"values":[{"id":"1","key":"A","name":"Alpha"},{"id":"2","key":"B","name":"Beta"}],"isLast":false,"startAt":0,"maxResults":2}`,
		"2": `{"values":[{"id":"3","key":"C","name":"Gamma"},{"id":"4","key":"D","name":"Delta"}],"isLast":false,"startAt":2,"maxResults":2}`,
		"4": `{"values":[{"id":"5","key":"E","name":"Epsilon"}],"isLast":true,"startAt":4,"maxResults":2}`,
	}
	var calls int
	env.api("GET", "/project/search", func(w http.ResponseWriter, r *http.Request) {
		calls++
		wantBearer(t, r, "tok")
		q := r.URL.Query()
		if q.Get("maxResults") != "100" || q.Get("action") != "create" {
			t.Errorf("query = %v, want maxResults=100 action=create", q)
		}
		body, ok := pages[q.Get("startAt")]
		if !ok {
			t.Errorf("unexpected startAt %q", q.Get("startAt"))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	})
	got, err := env.client().ListProjects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 || len(got) != 5 || got[4] != (Project{ID: "5", Key: "E", Name: "Epsilon"}) {
		t.Fatalf("calls=%d projects=%v", calls, got)
	}
}

func TestDCListProjectsFlatArray(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentDataCenter, validToken("tok"))
	env.api("GET", "/project", func(w http.ResponseWriter, r *http.Request) {
		wantBearer(t, r, "tok")
		writeJSON(w, 200, []map[string]any{{"id": "10", "key": "OPS", "name": "Operations", "archived": false}})
	})
	got, err := env.client().ListProjects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Project{{ID: "10", Key: "OPS", Name: "Operations"}}, got); diff != "" {
		t.Fatal(diff)
	}
}

func TestIssueTypesAllPagesBothShapes(t *testing.T) {
	t.Parallel()
	for _, d := range []models.Deployment{models.DeploymentCloud, models.DeploymentDataCenter} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, d, validToken("tok"))
			key := "values"
			if d == models.DeploymentCloud {
				key = "issueTypes"
			}
			env.api("GET", "/issue/createmeta/OPS/issuetypes", func(w http.ResponseWriter, r *http.Request) {
				start, _ := strconv.Atoi(r.URL.Query().Get("startAt"))
				items := []map[string]any{{"id": strconv.Itoa(start + 1), "name": "T" + strconv.Itoa(start), "subtask": false}}
				writeJSON(w, 200, map[string]any{key: items, "startAt": start, "maxResults": 1, "total": 3})
			})
			got, err := env.client().IssueTypes(context.Background(), "OPS")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[2].ID != "3" {
				t.Fatalf("issue types = %v", got)
			}
		})
	}
}

func TestIssueTypeFields(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	env.api("GET", "/issue/createmeta/OPS/issuetypes/10001", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"fields": []map[string]any{
			{"fieldId": "summary", "name": "Summary", "required": true, "hasDefaultValue": false},
			{"fieldId": "customfield_1", "name": "Team", "required": true, "hasDefaultValue": true},
		}, "startAt": 0, "maxResults": 50, "total": 2})
	})
	got, err := env.client().IssueTypeFields(context.Background(), "OPS", "10001")
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{{ID: "summary", Name: "Summary", Required: true}, {ID: "customfield_1", Name: "Team", Required: true, HasDefault: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentDataCenter, validToken("tok"))
	env.api("GET", "/project/OPS/statuses", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"id":"3","name":"Task","subtask":false,"statuses":[{"id":"1","name":"To Do","statusCategory":{"key":"new"}},{"id":"2","name":"Done","statusCategory":{"key":"done"}}]}]`)
	})
	got, err := env.client().Statuses(context.Background(), "OPS")
	if err != nil {
		t.Fatal(err)
	}
	want := []IssueTypeStatuses{{IssueTypeID: "3", IssueTypeName: "Task", Statuses: []Status{{ID: "1", Name: "To Do", CategoryKey: "new"}, {ID: "2", Name: "Done", CategoryKey: "done"}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
}

func sampleDoc() Document {
	return NewDocument(
		Paragraph(Text("Request "), Strong("42"), Text(" by alice@example.com")),
		BulletList(Item(Code("AdministratorAccess"))),
		Paragraph(Link("open approval page", "https://privilege.example/requests/42")),
	)
}

func TestCreateIssueCloudSendsADF(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	long := strings.Repeat("é", 300) + "\nsecond line"
	env.api("POST", "/issue", func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		fields := decodeBody(t, r)["fields"].(map[string]any)
		if got := fields["project"].(map[string]any)["key"]; got != "OPS" {
			t.Errorf("project = %v", got)
		}
		if got := fields["issuetype"].(map[string]any)["id"]; got != "10001" {
			t.Errorf("issuetype = %v", got)
		}
		summary := fields["summary"].(string)
		if n := len([]rune(summary)); n != 255 || strings.Contains(summary, "\n") {
			t.Errorf("summary has %d runes / newline: %q", n, summary)
		}
		desc, ok := fields["description"].(map[string]any)
		if !ok || desc["type"] != "doc" || desc["version"] != float64(1) {
			t.Errorf("description is not ADF: %#v", fields["description"])
		}
		if diff := cmp.Diff([]any{"privilege-jit", "privilege-request-42"}, fields["labels"]); diff != "" {
			t.Error(diff)
		}
		writeJSON(w, 201, map[string]string{"id": "10000", "key": "OPS-24", "self": "https://api.atlassian.com/ex/jira/x/rest/api/3/issue/10000"})
	})
	ref, err := env.client().CreateIssue(context.Background(), IssueInput{
		ProjectKey: "OPS", IssueTypeID: "10001", Summary: long, Description: sampleDoc(),
		Labels: []string{"privilege-jit", "privilege-request-42"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := IssueRef{ID: "10000", Key: "OPS-24", URL: "https://acme.atlassian.net/browse/OPS-24"}
	if ref != want {
		t.Fatalf("ref = %+v, want %+v", ref, want)
	}
}

func TestCreateIssueDCSendsWiki(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentDataCenter, validToken("tok"))
	env.api("POST", "/issue", func(w http.ResponseWriter, r *http.Request) {
		fields := decodeBody(t, r)["fields"].(map[string]any)
		desc, ok := fields["description"].(string)
		if !ok || !strings.Contains(desc, "*42*") || !strings.Contains(desc, "[open approval page|https://privilege.example/requests/42]") {
			t.Errorf("description = %#v", fields["description"])
		}
		writeJSON(w, 201, map[string]string{"id": "5", "key": "OPS-1"})
	})
	ref, err := env.client().CreateIssue(context.Background(), IssueInput{ProjectKey: "OPS", IssueTypeID: "3", Summary: "s", Description: sampleDoc()})
	if err != nil {
		t.Fatal(err)
	}
	if ref.URL != env.srv.URL+"/jira/browse/OPS-1" {
		t.Fatalf("URL = %q", ref.URL)
	}
}

func TestCreateIssueRefusesLabelWithSpace(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	_, err := env.client().CreateIssue(context.Background(), IssueInput{ProjectKey: "OPS", Summary: "s", Labels: []string{"two words"}})
	if !errors.Is(err, ErrInvalidLabel) {
		t.Fatalf("err = %v, want ErrInvalidLabel", err)
	}
}

func TestGetIssueAndComment(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentDataCenter, validToken("tok"))
	env.api("GET", "/issue/OPS-1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"id":"5","key":"OPS-1","fields":{"summary":"s","labels":["a"],"status":{"name":"To Do","statusCategory":{"key":"new"}}}}`)
	})
	env.api("POST", "/issue/OPS-1/comment", func(w http.ResponseWriter, r *http.Request) {
		if body, _ := decodeBody(t, r)["body"].(string); body != `Approved by bob: \{code\}` {
			t.Errorf("comment body = %q", body)
		}
		w.WriteHeader(201)
	})
	c := env.client()
	st, err := c.GetIssue(context.Background(), "OPS-1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "To Do" || st.StatusCategory != "new" || st.Key != "OPS-1" || len(st.Labels) != 1 {
		t.Fatalf("state = %+v", st)
	}
	if err := c.AddComment(context.Background(), "OPS-1", NewDocument(Paragraph(Text("Approved by bob: {code}")))); err != nil {
		t.Fatal(err)
	}
}

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		method string
		status int
		header map[string]string
		body   string
		check  func(t *testing.T, err error)
	}{
		{"400 error collection", "POST", 400, nil,
			`{"errorMessages":[],"errors":{"description":"Operation value must be an Atlassian Document"}}`,
			func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Status != 400 || ae.Fields["description"] == "" {
					t.Fatalf("err = %#v", err)
				}
				if want := "Jira rejected the request: description: Operation value must be an Atlassian Document"; ae.Error() != want {
					t.Fatalf("message = %q", ae.Error())
				}
				if IsRetryable(err) || IsAmbiguous(err) {
					t.Fatal("400 must be final")
				}
			}},
		{"403 html body", "GET", 403, nil, `<html>nope</html>`,
			func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Status != 403 || !strings.Contains(ae.Error(), "HTTP 403") {
					t.Fatalf("err = %v", err)
				}
			}},
		{"404", "GET", 404, nil, `{"errorMessages":["Issue does not exist or you do not have permission to see it."]}`,
			func(t *testing.T, err error) {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("err = %v", err)
				}
			}},
		{"429 seconds", "GET", 429, map[string]string{"Retry-After": "7", "RateLimit-Reason": "jira-burst-based"}, ``,
			func(t *testing.T, err error) {
				var rl *RateLimitError
				if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second || rl.Reason != "jira-burst-based" || !IsRetryable(err) {
					t.Fatalf("err = %#v", err)
				}
			}},
		{"503 http date", "POST", 503, map[string]string{"Retry-After": httpDate}, ``,
			func(t *testing.T, err error) {
				var rl *RateLimitError
				if !errors.As(err, &rl) || rl.Status != 503 || rl.RetryAfter < 80*time.Second || rl.RetryAfter > 91*time.Second {
					t.Fatalf("err = %#v", err)
				}
				if !IsAmbiguous(err) {
					t.Fatal("503 on POST must be ambiguous")
				}
			}},
		{"429 reset header", "GET", 429, map[string]string{"X-RateLimit-Reset": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, ``,
			func(t *testing.T, err error) {
				if d, ok := RetryAfter(err); !ok || d < 59*time.Minute {
					t.Fatalf("retry after = %v %v", d, ok)
				}
			}},
		{"500 GET", "GET", 500, nil, `{"errorMessages":["boom"]}`,
			func(t *testing.T, err error) {
				var se *ServerError
				if !errors.As(err, &se) || se.Status != 500 || IsAmbiguous(err) || !IsRetryable(err) {
					t.Fatalf("err = %#v", err)
				}
			}},
		{"502 POST ambiguous", "POST", 502, nil, `bad gateway`,
			func(t *testing.T, err error) {
				if !IsAmbiguous(err) || !IsRetryable(err) {
					t.Fatalf("err = %#v", err)
				}
			}},
		{"409 conflict retryable", "POST", 409, nil, `{"errorMessages":["conflict"]}`,
			func(t *testing.T, err error) {
				if !IsRetryable(err) {
					t.Fatalf("err = %v", err)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
			env.api(tc.method, "/thing", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			err := env.client().do(context.Background(), call{op: "test", method: tc.method, path: "/thing"})
			tc.check(t, err)
		})
	}
}

func TestTransportErrorsAreAmbiguousOnlyForSentWrites(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	env.api("POST", "/hangup", hangUp(t))
	env.api("GET", "/hangup", hangUp(t))
	c := env.client()

	err := c.do(context.Background(), call{op: "t", method: "POST", path: "/hangup", body: map[string]string{"a": "b"}})
	if !IsAmbiguous(err) || !IsRetryable(err) {
		t.Fatalf("POST hang-up: ambiguous=%v retryable=%v err=%v", IsAmbiguous(err), IsRetryable(err), err)
	}
	err = c.do(context.Background(), call{op: "t", method: "GET", path: "/hangup"})
	if IsAmbiguous(err) || !IsRetryable(err) {
		t.Fatalf("GET hang-up: ambiguous=%v err=%v", IsAmbiguous(err), err)
	}
	if strings.Contains(err.Error(), "tok") {
		t.Fatalf("error leaks the token: %v", err)
	}
}

func TestCallTimeoutIsAmbiguousForWrites(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	env.api("POST", "/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	env.clients.opts.timeout = 50 * time.Millisecond
	env.clients.Forget(env.conn.IntegrationID)
	err := env.client().do(context.Background(), call{op: "t", method: "POST", path: "/slow", body: map[string]int{}})
	if !IsAmbiguous(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestUnreachableServerIsNotAmbiguous(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentDataCenter, validToken("tok"))
	c := env.client()
	env.srv.Close()
	err := c.do(context.Background(), call{op: "t", method: "POST", path: "/issue", body: map[string]int{}})
	if err == nil || IsAmbiguous(err) || !IsRetryable(err) {
		t.Fatalf("err = %v ambiguous=%v", err, IsAmbiguous(err))
	}
}

// hangUp reads the request and drops the connection without answering.
func hangUp(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}
}

func TestUnauthorizedRefreshesOnceAndRetries(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("stale"))
	var seen []string
	env.api("GET", "/myself", func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") != "Bearer access-1" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"code":401,"message":"Unauthorized; scope does not match"}`)
			return
		}
		writeJSON(w, 200, map[string]string{"accountId": "abc", "displayName": "Bot"})
	})
	u, err := env.client().Myself(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.AccountID != "abc" || env.tokenCalls.Load() != 1 {
		t.Fatalf("user=%+v token calls=%d", u, env.tokenCalls.Load())
	}
	if diff := cmp.Diff([]string{"Bearer stale", "Bearer access-1"}, seen); diff != "" {
		t.Fatal(diff)
	}
	if tok := env.store.token(); tok.RefreshToken != "refresh-2" || tok.AccessToken != "access-1" {
		t.Fatalf("stored token = %+v", tok)
	}
}

func TestUnauthorizedAfterRefreshIsErrUnauthorized(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentDataCenter, validToken("stale"))
	calls := 0
	env.api("GET", "/myself", func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(401)
	})
	_, err := env.client().Myself(context.Background())
	if !errors.Is(err, ErrUnauthorized) || calls != 2 || env.tokenCalls.Load() != 1 {
		t.Fatalf("err=%v calls=%d token calls=%d", err, calls, env.tokenCalls.Load())
	}
}

func TestConcurrentCallersRefreshOnce(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, expiredToken("old"))
	env.api("GET", "/myself", func(w http.ResponseWriter, r *http.Request) {
		wantBearer(t, r, "access-1")
		writeJSON(w, 200, map[string]string{"accountId": "abc"})
	})
	c := env.client()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, err := c.Myself(context.Background())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := env.tokenCalls.Load(); n != 1 {
		t.Fatalf("token endpoint called %d times, want 1", n)
	}
}

func TestInvalidGrantMarksReconnectRequired(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, expiredToken("old"))
	env.tokenHandler = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 403, map[string]string{"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
	}
	env.api("GET", "/myself", func(w http.ResponseWriter, r *http.Request) {
		t.Error("API must not be called without a token")
	})
	_, err := env.client().Myself(context.Background())
	if !errors.Is(err, ErrReconnectRequired) {
		t.Fatalf("err = %v", err)
	}
	if IsRetryable(err) {
		t.Fatal("reconnect_required must not be retryable")
	}
	if !strings.Contains(env.store.reconnect, "Unknown or invalid refresh token.") {
		t.Fatalf("reconnect reason = %q", env.store.reconnect)
	}
	if strings.Contains(err.Error(), "refresh-1") {
		t.Fatalf("error leaks the refresh token: %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"30"}}, 30 * time.Second},
		{"zero", http.Header{"Retry-After": {"0"}}, 0},
		{"http date", http.Header{"Retry-After": {"Sat, 28 Nov 2026 14:02:00 GMT"}}, 2 * time.Minute},
		{"past date", http.Header{"Retry-After": {"Sat, 28 Nov 2026 13:00:00 GMT"}}, 0},
		{"reset iso", http.Header{"X-Rate-Limit-Reset": {"ignored"}, "X-Ratelimit-Reset": {"2026-11-28T14:00:45Z"}}, 45 * time.Second},
		{"reset millis", http.Header{"X-Ratelimit-Reset": {"2026-11-28T14:01:00.000+0000"}}, time.Minute},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"none", http.Header{}, 0},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.header, now); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFindIssuesByLabelCloud(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	var calls int
	env.api("POST", "/search/jql", func(w http.ResponseWriter, r *http.Request) {
		calls++
		body := decodeBody(t, r)
		if want := `project = "OPS" AND labels = "privilege-request-\"42\"" ORDER BY created DESC`; body["jql"] != want {
			t.Errorf("jql = %v, want %s", body["jql"], want)
		}
		if diff := cmp.Diff([]any{"summary", "status", "labels"}, body["fields"]); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]any{float64(10000)}, body["reconcileIssues"]); diff != "" {
			t.Error(diff)
		}
		if calls == 1 {
			if _, ok := body["nextPageToken"]; ok {
				t.Error("first page must not send nextPageToken")
			}
			fmt.Fprint(w, `{"issues":[{"id":"10001","key":"OPS-25"}],"nextPageToken":"p2","isLast":false}`)
			return
		}
		if body["nextPageToken"] != "p2" {
			t.Errorf("nextPageToken = %v", body["nextPageToken"])
		}
		fmt.Fprint(w, `{"issues":[{"id":"10000","key":"OPS-24"}],"isLast":true}`)
	})
	refs, err := env.client().FindIssuesByLabel(context.Background(), "OPS", `privilege-request-"42"`, []string{"10000"})
	if err != nil {
		t.Fatal(err)
	}
	want := []IssueRef{
		{ID: "10001", Key: "OPS-25", URL: "https://acme.atlassian.net/browse/OPS-25"},
		{ID: "10000", Key: "OPS-24", URL: "https://acme.atlassian.net/browse/OPS-24"},
	}
	if diff := cmp.Diff(want, refs); diff != "" {
		t.Fatal(diff)
	}
}

func TestFindIssuesByLabelDC(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentDataCenter, validToken("tok"))
	env.api("GET", "/search", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("jql") != `project = "OPS" AND labels = "privilege-request-42" ORDER BY created DESC` {
			t.Errorf("jql = %q", q.Get("jql"))
		}
		start, _ := strconv.Atoi(q.Get("startAt"))
		fmt.Fprintf(w, `{"startAt":%d,"maxResults":1,"total":2,"issues":[{"id":"%d","key":"OPS-%d"}]}`, start, start+1, start+1)
	})
	refs, err := env.client().FindIssuesByLabel(context.Background(), "OPS", "privilege-request-42", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[1].Key != "OPS-2" {
		t.Fatalf("refs = %v", refs)
	}
}

func TestClientsCachePerIntegration(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, models.DeploymentCloud, validToken("tok"))
	a, b := env.clients.For(env.conn), env.clients.For(env.conn)
	if a != b {
		t.Fatal("same connection must reuse the client")
	}
	changed := env.conn
	changed.CloudID = "other"
	if env.clients.For(changed) == a {
		t.Fatal("a changed connection must get a new client")
	}
}
