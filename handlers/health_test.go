package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"privilege/models"
	"privilege/models/modeltest"
)

func TestHealthReadyMetrics(t *testing.T) {
	var notReady error
	app := newSetUpApp(t, models.DialectSQLite, withReady(func(context.Context) error { return notReady }))
	c := app.client()
	rec := c.get("/healthz")
	wantStatus(t, rec, http.StatusOK)
	if rec.Body.String() != "ok" {
		t.Errorf("healthz %q", rec.Body.String())
	}
	wantStatus(t, c.get("/readyz"), http.StatusOK)
	notReady = errors.New("syncer heartbeat is 3m old")
	rec = c.get("/readyz")
	wantStatus(t, rec, http.StatusServiceUnavailable)
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["reason"] == "" {
		t.Errorf("readyz body %q", rec.Body.String())
	}

	c.get("/login")
	c.get("/no/such/page")
	rec = c.get("/metrics")
	wantStatus(t, rec, http.StatusOK)
	m := rec.Body.String()
	for _, want := range []string{
		`privilege_http_request_duration_seconds_count{method="GET",route="/login",status="200"} 1`,
		`route="unmatched",status="404"`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestReadyDefaultsToDatabasePing(t *testing.T) {
	db := modeltest.Open(t, models.DialectSQLite)
	sealer := modeltest.Must(models.NewSealer([][]byte{modeltest.TestKey}))
	store := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
	app := newTestApp(t, store)
	wantStatus(t, app.client().get("/readyz"), http.StatusOK)
	db.Close()
	wantStatus(t, app.client().get("/readyz"), http.StatusServiceUnavailable)
}

func TestErrorPages(t *testing.T) {
	db := modeltest.Open(t, models.DialectSQLite)
	sealer := modeltest.Must(models.NewSealer([][]byte{modeltest.TestKey}))
	store := models.NewStore(db, sealer, models.WithPasswordParams(modeltest.CheapPasswords))
	app := newTestApp(t, store)
	modeltest.Must(store.CreateFirstAdmin(t.Context(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
	c := app.signedIn("admin@example.com")

	rec := c.get("/no/such/page")
	wantStatus(t, rec, http.StatusNotFound)
	if parseHTML(t, rec).Find(`[data-testid="error-page"]`).Length() != 1 {
		t.Error("404 is not the error page")
	}
	rec = c.get("/static/css/nope.css")
	wantStatus(t, rec, http.StatusNotFound)
	rec = c.get("/static/css/app.css")
	wantStatus(t, rec, http.StatusOK)
	if !strings.Contains(rec.Header().Get("Cache-Control"), "max-age=31536000") {
		t.Errorf("static Cache-Control %q", rec.Header().Get("Cache-Control"))
	}

	// A database failure: 500 page with the request id only.
	app.store = store
	db.Close()
	rec = c.get("/audit")
	if rec.Code != http.StatusInternalServerError && rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d", rec.Code)
	}
	if rec.Code == http.StatusInternalServerError {
		doc := parseHTML(t, rec)
		id := doc.Find(`[data-testid="request-id"]`).Text()
		if id == "" || id != rec.Header().Get("X-Request-Id") {
			t.Errorf("500 page request id %q, header %q", id, rec.Header().Get("X-Request-Id"))
		}
		if strings.Contains(strings.ToLower(rec.Body.String()), "sql") || strings.Contains(rec.Body.String(), "closed") {
			t.Error("500 page leaks the error")
		}
	}
}
