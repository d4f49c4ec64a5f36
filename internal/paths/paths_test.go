package paths

import (
	"net/url"
	"testing"
)

func TestBuildersFillParameters(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Request(42), "/requests/42"},
		{RequestRetrySync(7), "/requests/7/retry-sync"},
		{ProjectLink(3, "OPS"), "/integrations/3/projects/OPS"},
		{ProjectLinkUnlink(3, "a b/c"), "/integrations/3/projects/a%20b%2Fc/unlink"},
		{UserJiraLinkRemove(5, 9), "/users/5/jira-links/9/remove"},
		{JiraWebhook("abc123"), "/webhooks/jira/abc123"},
		{APIRequestApprove(11), "/api/v1/requests/11/approve"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestAbsoluteURLs(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{RequestURL("https://privilege.example.com", 5), "https://privilege.example.com/requests/5"},
		{RequestURL("https://privilege.example.com/", 5), "https://privilege.example.com/requests/5"},
		{RequestURL("https://example.com/jit", 5), "https://example.com/jit/requests/5"},
		{JiraWebhookURL("http://127.0.0.1:8080/", "tok"), "http://127.0.0.1:8080/webhooks/jira/tok"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestWithQuery(t *testing.T) {
	if got := WithQuery(Requests, url.Values{}); got != "/requests" {
		t.Errorf("empty query: got %q", got)
	}
	if got := WithQuery(OIDCStart, url.Values{"next": {"/requests/1?x=y"}}); got != "/auth/oidc/start?next=%2Frequests%2F1%3Fx%3Dy" {
		t.Errorf("got %q", got)
	}
}
