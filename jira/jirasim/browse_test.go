package jirasim

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRichTextRendersEscapedWithSafeLinks(t *testing.T) {
	t.Parallel()
	adf := map[string]any{"type": "doc", "version": 1.0, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{
			map[string]any{"type": "text", "text": "<script>x</script> "},
			map[string]any{"type": "text", "text": "approve", "marks": []any{map[string]any{"type": "link", "attrs": map[string]any{"href": "http://console.test/requests/7"}}}},
			map[string]any{"type": "text", "text": " bad", "marks": []any{map[string]any{"type": "link", "attrs": map[string]any{"href": "javascript:alert(1)"}}}},
		}},
		map[string]any{"type": "bulletList", "content": []any{map[string]any{"type": "listItem", "content": []any{
			map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "ReadOnly", "marks": []any{map[string]any{"type": "code"}}}}}}}}},
	}}
	wiki := "h3. Requested resources\n* {{ReadOnly}} (role)\n\n*Justification:* fix \\[it\\] <b>now</b>\nApprove or deny: [open the approval page|http://console.test/requests/7] [x|javascript:alert(1)]"
	tests := []struct {
		name      string
		in        any
		want, not []string
	}{
		{"adf", adf, []string{`&lt;script&gt;x&lt;/script&gt;`, `<a href="http://console.test/requests/7" data-testid="description-link">approve</a>`, `<ul><li><p><code>ReadOnly</code></p></li></ul>`},
			[]string{"<script>", `href="javascript`}},
		{"wiki", wiki, []string{`<h3>Requested resources</h3>`, `<li><code>ReadOnly</code> (role)</li>`, `<strong>Justification:</strong> fix [it] &lt;b&gt;now&lt;/b&gt;`,
			`<a href="http://console.test/requests/7" data-testid="description-link">open the approval page</a>`}, []string{"<b>", `href="javascript`}},
	}
	for _, tc := range tests {
		got := string(richHTML(tc.in))
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %s\nlacks %s", tc.name, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %s\ncontains %s", tc.name, got, n)
			}
		}
	}
}

// TestIssuePageTransitionsAndHistory: the issue page offers the workflow's
// transitions from the current status; taking one records the history and
// refuses a transition no longer available.
func TestIssuePageTransitionsAndHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at, _ := e.login(t, "")
	status, body, _ := do(t, e.http, http.MethodPost, e.api()+"/issue", at, map[string]any{"fields": map[string]any{
		"project": map[string]any{"key": "OPS"}, "issuetype": map[string]any{"name": "Task"}, "summary": "JIT <access>",
		"description": adfDoc("hello"),
	}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, body)
	}
	page := e.site.BrowseURL("OPS-1")
	get := func(u string) string {
		res, err := e.http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	html := get(page)
	for _, want := range []string{"JIT &lt;access&gt;", `data-transition-id="31"`, `data-transition-id="41"`, `data-testid="reporter">Ada Admin`, "hello"} {
		if !strings.Contains(html, want) {
			t.Errorf("issue page lacks %s", want)
		}
	}
	post := func(id string) string { // the redirect back to the page
		c := *e.http
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := c.PostForm(page, url.Values{"transition": {id}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || err != nil {
			t.Fatalf("transition %s: %d %v", id, res.StatusCode, err)
		}
		return loc.String()
	}
	post("41") // Decline
	is, _ := e.site.Issue("OPS-1")
	if is.Status != "Declined" || is.Resolution != "Won't Do" || len(is.History) != 1 || is.History[0].From != "To Do" || is.History[0].By != "Ada Admin" {
		t.Fatalf("after Decline: %+v", is)
	}
	back := post("31") // Done is not available from Declined
	if html = get(back); !strings.Contains(html, "not available from Declined") || !strings.Contains(html, "To Do → Declined") {
		t.Fatalf("issue page after a refused transition:\n%s", html)
	}
	if is, _ = e.site.Issue("OPS-1"); is.Status != "Declined" {
		t.Fatalf("status %s after a refused transition", is.Status)
	}
}
