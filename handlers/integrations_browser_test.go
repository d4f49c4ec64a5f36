package handlers

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"privilege/models/modeltest"
)

// An invalid Project Keys entry on the integration page comes back in a
// real browser with the error next to the field and the keys as typed
// (it used to be a flash over an emptied form).
func TestBrowserProjectKeysErrorShownWithTypedValue(t *testing.T) {
	ctx := browserContext(t)
	st := newJiraStack(t)
	list, err := st.store.ListIntegrations(t.Context())
	if err != nil || len(list) != 1 {
		t.Fatalf("integrations %v, %v", list, err)
	}
	base := st.srv.URL
	shot := screenshots("req-")
	steps := append(signIn(base, "admin@example.com"),
		chromedp.Navigate(base+"/integrations/"+itoa(list[0].ID)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=project-keys-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#project_keys`), "OPS, 9lives"),
		chromedp.Click(chromedp.CSS(`[data-testid=save-project-keys]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-project_keys]`)),
		shot("project-keys-error"),
	)
	runSteps(t, ctx, "admin", steps)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=error-project_keys]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "is not a Jira project key") {
		t.Errorf("error next to Project Keys: %q", msg)
	}
	typed, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#project_keys`)))
	if err != nil {
		t.Fatal(err)
	}
	if typed != "OPS, 9lives" {
		t.Errorf("Project Keys field holds %q after the error, want the keys as typed", typed)
	}
	if in := modeltest.Must(st.store.Integration(t.Context(), list[0].ID)); in.ProjectKeys != "" {
		t.Errorf("invalid keys were saved: %q", in.ProjectKeys)
	}
}
