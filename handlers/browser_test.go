package handlers

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"privilege/models"
	"privilege/models/modeltest"
)

// chromiumPath finds Chromium ($CHROMIUM first), or skips the test (fails
// it under CI) when it is not installed.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is required under CI (apt-get install chromium)")
		}
		t.Skip("chromium not installed; skipping the browser test (set CHROMIUM to its path)")
	}
	return path
}

// browserContext starts headless Chromium, or skips (fails under CI) when
// it is not installed.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "en-US"),
		chromedp.Flag("disable-site-isolation-trials", true), chromedp.Flag("disable-features", "site-per-process,IsolateOrigins"))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// TestBrowserFirstRunToAccount drives a real browser: first-run setup, sign
// in, create an account with two resources, see it listed, sign out.
// PRIVILEGE_SCREENSHOTS=dir also saves a screenshot of each screen.
func TestBrowserFirstRunToAccount(t *testing.T) {
	ctx := browserContext(t)
	app := newTestApp(t, modeltest.NewStore(t, models.DialectSQLite))
	srv := httptest.NewServer(app.e)
	t.Cleanup(srv.Close)
	shots := os.Getenv("PRIVILEGE_SCREENSHOTS")
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if shots == "" {
				return nil
			}
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	const email, password = "ada@example.com", "a long enough password"
	steps := []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"setup", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv.URL + "/accounts"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=setup-form]`)),
			shot("01-setup"),
			chromedp.SendKeys(chromedp.CSS(`#email`), email),
			chromedp.SendKeys(chromedp.CSS(`#name`), "Ada"),
			chromedp.SendKeys(chromedp.CSS(`#password`), password),
			chromedp.SendKeys(chromedp.CSS(`#confirm_password`), password),
			chromedp.Click(chromedp.CSS(`[data-testid=create-admin]`)),
		}},
		{"sign in", []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash-success]`)),
			shot("02-login"),
			chromedp.SendKeys(chromedp.CSS(`#email`), email),
			chromedp.SendKeys(chromedp.CSS(`#password`), password),
			chromedp.Click(chromedp.CSS(`[data-testid=sign-in]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=requests-page]`)),
			shot("03-requests"),
		}},
		{"empty accounts", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(`[data-testid=nav-accounts]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=accounts-page] [data-testid=empty-state]`)),
			shot("04-accounts-empty"),
			chromedp.Click(chromedp.CSS(`[data-testid=new-account]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=account-form]`)),
		}},
		{"invalid account", []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(`#external_id`), "12345"),
			chromedp.SendKeys(chromedp.CSS(`#name`), "Production"),
			chromedp.Click(chromedp.CSS(`[data-testid=save-account]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-external_id]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-resources]`)),
			shot("05-account-invalid"),
		}},
		{"create account", []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.CSS(`#external_id`), "123456789012"),
			chromedp.SendKeys(chromedp.CSS(`tr[data-testid=resource-row]:nth-child(1) input[name=resource_name]`), "ReadOnly"),
			chromedp.SendKeys(chromedp.CSS(`tr[data-testid=resource-row]:nth-child(2) input[name=resource_name]`), "AdministratorAccess"),
			chromedp.SendKeys(chromedp.CSS(`tr[data-testid=resource-row]:nth-child(2) input[name=resource_kind]`), "permission-set"),
			chromedp.Click(chromedp.CSS(`[data-testid=save-account]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=accounts-table]`)),
			shot("06-accounts"),
		}},
	}
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.actions...); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid=account-row]`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Production", "123456789012", "ReadOnly", "AdministratorAccess"} {
		if !strings.Contains(row, want) {
			t.Errorf("account row %q lacks %q", row, want)
		}
	}
	if shots != "" {
		if err := captureAdminPages(ctx, srv.URL, shot); err != nil {
			t.Fatal(err)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=sign-out]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
		chromedp.Navigate(srv.URL+"/accounts"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
	)
	if err != nil {
		t.Fatalf("sign out: %v", err)
	}
}

// captureAdminPages screenshots the remaining screens (manual review only).
func captureAdminPages(ctx context.Context, base string, shot func(string) chromedp.Action[chromedp.Void]) error {
	pages := []struct{ path, wait, name string }{
		{"/accounts/1/edit", "account-form", "07-account-edit"},
		{"/accounts/1/delete", "account-delete-page", "08-account-delete"},
		{"/users", "users-page", "09-users"},
		{"/users/new", "user-form", "10-user-new"},
		{"/tokens", "tokens-page", "11-tokens"},
		{"/tokens/new", "token-form", "12-token-new"},
		{"/audit", "audit-page", "13-audit"},
		{"/integrations", "integrations-page", "14-integrations"},
		{"/nope", "error-page", "15-not-found"},
	}
	for _, p := range pages {
		err := chromedp.Do(ctx, chromedp.Navigate(base+p.path),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=`+p.wait+`]`)), shot(p.name))
		if err != nil {
			return err
		}
	}
	return chromedp.Do(ctx, chromedp.Navigate(base+"/tokens/new"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "ci pipeline"),
		chromedp.Click(chromedp.CSS(`[data-testid=save-token]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=token-plaintext]`)), shot("16-token-created"))
}
