package handlers

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"privilege/models"
	"privilege/models/modeltest"
)

const (
	testOrigin   = "http://privilege.test"
	testPassword = "correct horse battery"
)

// testSessionKeys is one hash+block key pair.
func testSessionKeys() [][]byte {
	return [][]byte{[]byte(strings.Repeat("h", 64)), []byte(strings.Repeat("b", 32))}
}

type testApp struct {
	t       testing.TB
	origin  string
	store   *models.Store
	h       *handler
	e       *echo.Echo
	metrics *prometheus.Registry
}

type appOption func(*Config, *Deps)

func withBaseURL(u string) appOption {
	return func(c *Config, _ *Deps) { c.BaseURL, _ = url.Parse(u) }
}

// testClock is time.Now shifted by an offset that tests move.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time            { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration)   { c.offset.Add(int64(d)) }
func withClock(now func() time.Time) appOption { return func(c *Config, _ *Deps) { c.Now = now } }

func withReady(f func(context.Context) error) appOption {
	return func(_ *Config, d *Deps) { d.Ready = f }
}

func newTestApp(t testing.TB, store *models.Store, opts ...appOption) *testApp {
	t.Helper()
	base, _ := url.Parse(testOrigin)
	cfg := Config{BaseURL: base, SessionKeys: testSessionKeys()}
	deps := Deps{Store: store, Metrics: prometheus.NewRegistry()}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	origin := cfg.BaseURL.Scheme + "://" + cfg.BaseURL.Host
	h, err := newHandler(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return &testApp{t: t, origin: origin, store: store, h: h, e: h.server(), metrics: deps.Metrics}
}

// newSetUpApp returns an app over a fresh store of dialect d that already
// has an admin (admin@example.com).
func newSetUpApp(t testing.TB, d models.Dialect, opts ...appOption) *testApp {
	t.Helper()
	app := newTestApp(t, modeltest.NewStore(t, d), opts...)
	modeltest.Must(app.store.CreateFirstAdmin(context.Background(), "127.0.0.1",
		models.NewUser{Email: "admin@example.com", Name: "Ada Admin", Password: testPassword}))
	return app
}

func (a *testApp) addUser(email string, role models.Role) models.User {
	a.t.Helper()
	return modeltest.Must(a.store.CreateUser(context.Background(), models.SystemActor,
		models.NewUser{Email: email, Password: testPassword, Role: role}))
}

func (a *testApp) addToken(userID int64) (string, models.APIToken) {
	a.t.Helper()
	plain, tok, err := a.store.CreateAPIToken(context.Background(), models.SystemActor, userID, "test")
	if err != nil {
		a.t.Fatal(err)
	}
	return plain, tok
}

func (a *testApp) addAccount(name, awsID string) models.CloudAccount {
	a.t.Helper()
	return modeltest.Must(a.store.CreateAccount(context.Background(), models.SystemActor, models.AccountInput{
		Provider: models.ProviderAWS, ExternalID: awsID, Name: name, Resources: []models.ResourceInput{{Name: "ReadOnly", Kind: "role"}},
	}))
}

func (a *testApp) accountCount() int64 {
	a.t.Helper()
	p, err := a.store.ListAccounts(context.Background(), models.AccountQuery{})
	if err != nil {
		a.t.Fatal(err)
	}
	return p.Total
}

// client is a browser stand-in: a cookie jar, a client IP, and requests
// served through e.ServeHTTP.
type client struct {
	app *testApp
	jar *cookiejar.Jar
	ip  string
}

func (a *testApp) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{app: a, jar: jar, ip: "192.0.2.10"}
}

func (a *testApp) signedIn(email string) *client {
	a.t.Helper()
	c := a.client()
	c.login(email, testPassword)
	return c
}

func (c *client) do(req *http.Request) *httptest.ResponseRecorder {
	req.RemoteAddr = net.JoinHostPort(c.ip, "40000")
	u, _ := url.Parse(c.app.origin)
	for _, ck := range c.jar.Cookies(u) {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.app.e.ServeHTTP(rec, req)
	c.jar.SetCookies(u, rec.Result().Cookies())
	return rec
}

func (c *client) get(path string) *httptest.ResponseRecorder {
	return c.do(httptest.NewRequest(http.MethodGet, c.app.origin+path, nil))
}

// csrf is the CSRF token of this client's session, read from the session
// cookie with the test keys (so no page, and no flash, is consumed). A client
// without a session first gets one from the sign-in page.
func (c *client) csrf() string {
	if t := c.sessionValue(keyCSRF); t != "" {
		return t
	}
	c.get("/login")
	return c.sessionValue(keyCSRF)
}

// sessionValue decodes the session cookie in the jar and returns one value.
func (c *client) sessionValue(k sessionKey) string {
	u, _ := url.Parse(c.app.origin)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name != sessionCookieFor(c.app.h.secure) {
			continue
		}
		values := map[any]any{}
		if err := securecookie.DecodeMulti(ck.Name, ck.Value, &values, securecookie.CodecsFromPairs(testSessionKeys()...)...); err != nil {
			c.app.t.Fatalf("decode session cookie: %v", err)
		}
		v, _ := values[string(k)].(string)
		return v
	}
	return ""
}

// post sends a form with the CSRF token.
func (c *client) post(path string, form url.Values) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.csrf())
	return c.postRaw(path, form, nil)
}

func (c *client) postRaw(path string, form url.Values, hdr http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, c.app.origin+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	return c.do(req)
}

func (c *client) login(email, password string) *httptest.ResponseRecorder {
	c.app.t.Helper()
	rec := c.post("/login", url.Values{"email": {email}, "password": {password}})
	if rec.Code != http.StatusSeeOther {
		c.app.t.Fatalf("login %s: status %d, want 303\n%s", email, rec.Code, rec.Body.String())
	}
	return rec
}

func (c *client) sessionCookie() string {
	u, _ := url.Parse(c.app.origin)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == sessionCookieFor(c.app.h.secure) {
			return ck.Value
		}
	}
	return ""
}

// apiDo calls the JSON API with an optional bearer token.
func (a *testApp) apiDo(method, path, token, body string) *httptest.ResponseRecorder {
	return a.serve(newAPIRequest(a, method, path, token, body))
}

// newAPIRequest is an API call with a JSON body (when given) and a bearer token.
func newAPIRequest(a *testApp, method, path, token, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, a.origin+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// serve answers req without cookies.
func (a *testApp) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

func parseHTML(t testing.TB, rec *httptest.ResponseRecorder) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func wantStatus(t testing.TB, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status %d, want %d; location %q\n%s", rec.Code, want, rec.Header().Get("Location"), trim(rec.Body.String()))
	}
}

func wantRedirect(t testing.TB, rec *httptest.ResponseRecorder, prefix string) {
	t.Helper()
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), prefix) {
		t.Fatalf("got %d → %q, want 303 → %s…\n%s", rec.Code, rec.Header().Get("Location"), prefix, trim(rec.Body.String()))
	}
}

func trim(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
