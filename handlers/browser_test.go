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

// browserContext starts headless Chromium at 1280×900, or skips (fails
// under CI) when it is not installed. It accepts the simulator's
// self-signed Data Center certificate.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.IgnoreCertErrors,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "en-US"),
		// The consent flow hops between origins (the console over http, the
		// simulator over https): without site isolation the page keeps one
		// renderer, so chromedp never loses the frame mid-navigation.
		chromedp.Flag("disable-site-isolation-trials", true), chromedp.Flag("disable-features", "site-per-process,IsolateOrigins"))
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

type steps = []chromedp.Action[chromedp.Void]

// screenshot saves the page as name.png when PRIVILEGE_SCREENSHOTS names a
// directory (manual review).
func screenshot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		dir := os.Getenv("PRIVILEGE_SCREENSHOTS")
		if dir == "" {
			return nil
		}
		return savePNG(ctx, tg, filepath.Join(dir, name+".png"))
	})
}

// screenshots is screenshot with names prefixed (one prefix per test).
func screenshots(prefix string) func(name string) chromedp.Action[chromedp.Void] {
	return func(name string) chromedp.Action[chromedp.Void] { return screenshot(prefix + name) }
}

// screenshotWidths saves the page at desktop width (name.png) and phone
// width (name-390.png) when PRIVILEGE_SCREENSHOTS names a directory, then
// returns to desktop width.
func screenshotWidths(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		dir := os.Getenv("PRIVILEGE_SCREENSHOTS")
		if dir == "" {
			return nil
		}
		for _, v := range []struct {
			suffix string
			width  int64
		}{{"", 1280}, {"-390", 390}} {
			if _, err := chromedp.EmulateViewport(v.width, 900)(ctx, tg); err != nil {
				return err
			}
			if err := savePNG(ctx, tg, filepath.Join(dir, name+v.suffix+".png")); err != nil {
				return err
			}
		}
		_, err := chromedp.EmulateViewport(1280, 900)(ctx, tg)
		return err
	})
}

func savePNG(ctx context.Context, tg *chromedp.Target, path string) error {
	png, err := chromedp.FullScreenshot(100)(ctx, tg) // 100 = PNG
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// signIn signs email in with the test password and waits for the requests
// page every role lands on.
func signIn(base, email string) steps {
	return steps{
		chromedp.Navigate(base + "/login"),
		chromedp.WaitVisible(css(`[data-testid=login-form]`)),
		chromedp.SendKeys(css(`#email`), email),
		chromedp.SendKeys(css(`#password`), testPassword),
		chromedp.Click(css(`[data-testid=sign-in]`)),
		chromedp.WaitVisible(css(`[data-testid=requests-page]`)),
	}
}

// runSteps runs actions one by one, so a failure names its step.
func runSteps(t *testing.T, ctx context.Context, who string, steps []chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx); err != nil { // starts the browser (tab) on ctx, not on a step's context
		t.Fatal(err)
	}
	for i, s := range steps {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := chromedp.Do(sctx, s)
		cancel()
		if err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(css(`main`)))
			t.Fatalf("%s, step %d: %v\n%s", who, i, err, trim(html))
		}
	}
}

// TestBrowserFirstRunToAccount drives a real browser: first-run setup, sign
// in, create an account with two resources, see it listed, sign out.
// PRIVILEGE_SCREENSHOTS=dir also saves a screenshot of each screen.
func TestBrowserFirstRunToAccount(t *testing.T) {
	ctx := browserContext(t)
	app := newTestApp(t, modeltest.NewStore(t, models.DialectSQLite))
	srv := httptest.NewServer(app.e)
	t.Cleanup(srv.Close)
	const email, password = "ada@example.com", "a long enough password"
	steps := []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"setup", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(srv.URL + "/accounts"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=setup-form]`)),
			screenshot("01-setup"),
			chromedp.SendKeys(chromedp.CSS(`#email`), email),
			chromedp.SendKeys(chromedp.CSS(`#name`), "Ada"),
			chromedp.SendKeys(chromedp.CSS(`#password`), password),
			chromedp.SendKeys(chromedp.CSS(`#confirm_password`), password),
			chromedp.Click(chromedp.CSS(`[data-testid=create-admin]`)),
		}},
		{"sign in", []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=flash-success]`)),
			screenshot("02-login"),
			chromedp.SendKeys(chromedp.CSS(`#email`), email),
			chromedp.SendKeys(chromedp.CSS(`#password`), password),
			chromedp.Click(chromedp.CSS(`[data-testid=sign-in]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=requests-page]`)),
			screenshot("03-requests"),
		}},
		{"empty accounts", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS(`[data-testid=nav-accounts]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=accounts-page] [data-testid=empty-state]`)),
			screenshot("04-accounts-empty"),
			chromedp.Click(chromedp.CSS(`[data-testid=new-account]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=account-form]`)),
		}},
		{"invalid account", []chromedp.Action[chromedp.Void]{
			chromedp.SendKeys(chromedp.CSS(`#external_id`), "12345"),
			chromedp.SendKeys(chromedp.CSS(`#name`), "Production"),
			chromedp.Click(chromedp.CSS(`[data-testid=save-account]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-external_id]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=error-resources]`)),
			screenshot("05-account-invalid"),
		}},
		{"create account", []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.CSS(`#external_id`), "123456789012"),
			chromedp.SendKeys(chromedp.CSS(`tr[data-testid=resource-row]:nth-child(1) input[name=resource_name]`), "ReadOnly"),
			chromedp.SendKeys(chromedp.CSS(`tr[data-testid=resource-row]:nth-child(2) input[name=resource_name]`), "AdministratorAccess"),
			chromedp.SendKeys(chromedp.CSS(`tr[data-testid=resource-row]:nth-child(2) input[name=resource_kind]`), "permission-set"),
			chromedp.Click(chromedp.CSS(`[data-testid=save-account]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=accounts-table]`)),
			screenshot("06-accounts"),
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
	if os.Getenv("PRIVILEGE_SCREENSHOTS") != "" {
		if err := captureAdminPages(ctx, srv.URL, screenshot); err != nil {
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
