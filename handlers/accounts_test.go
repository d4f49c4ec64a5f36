package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"privilege/models"
	"privilege/models/modeltest"
)

func accountForm(provider, id, name string, resources ...string) url.Values {
	f := url.Values{"provider": {provider}, "external_id": {id}, "name": {name}, "max_duration_minutes": {"60"}}
	for _, r := range resources {
		n, k, _ := strings.Cut(r, ":")
		f.Add("resource_name", n)
		f.Add("resource_kind", k)
	}
	return f
}

func TestAccountFormValidation(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		modeltest.Must(store.CreateFirstAdmin(t.Context(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
		app.addAccount("Existing", "999988887777")
		c := app.signedIn("admin@example.com")
		cases := []struct {
			name  string
			form  url.Values
			field string
		}{
			{"bad AWS id", accountForm("aws", "12345", "Prod", "Admin:role"), "external_id"},
			{"bad Azure GUID", accountForm("azure", "not-a-guid", "Sub", "Reader:role"), "external_id"},
			{"bad GCP project", accountForm("gcp", "Bad_Project", "Proj", "Viewer:role"), "external_id"},
			{"no resources", accountForm("aws", "123456789012", "Prod", ":"), "resources"},
			{"resource without name", accountForm("aws", "123456789012", "Prod", "Admin:role", ":admin"), "resources.1"},
			{"duplicate provider and id", accountForm("aws", "999988887777", "Again", "Admin:role"), "external_id"},
			{"duration not a number", func() url.Values {
				f := accountForm("aws", "123456789012", "Prod", "Admin:role")
				f.Set("max_duration_minutes", "eight hours")
				return f
			}(), "max_duration_minutes"},
			{"unknown provider", accountForm("oracle", "123456789012", "Prod", "Admin:role"), "provider"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := app.accountCount()
				rec := c.post("/accounts", tc.form)
				wantStatus(t, rec, http.StatusUnprocessableEntity)
				doc := parseHTML(t, rec)
				if doc.Find(`[data-testid="error-`+tc.field+`"]`).Length() != 1 {
					t.Errorf("no error shown for %s", tc.field)
				}
				if tc.field == "external_id" {
					if inv, _ := doc.Find(`input[name=external_id]`).Attr("aria-invalid"); inv != "true" {
						t.Error("external_id not marked aria-invalid")
					}
				}
				// Every typed value comes back.
				for _, k := range []string{"external_id", "name", "max_duration_minutes"} {
					if v, _ := doc.Find(`input[name=` + k + `]`).Attr("value"); v != tc.form.Get(k) {
						t.Errorf("%s re-rendered as %q, typed %q", k, v, tc.form.Get(k))
					}
				}
				var names []string
				doc.Find(`input[name=resource_name]`).Each(func(_ int, s *goquery.Selection) {
					v, _ := s.Attr("value")
					names = append(names, v)
				})
				for i, n := range tc.form["resource_name"] {
					if i >= len(names) || names[i] != n {
						t.Errorf("resource row %d re-rendered as %v, typed %q", i, names, n)
					}
				}
				if after := app.accountCount(); after != before {
					t.Errorf("accounts %d → %d: something was stored", before, after)
				}
			})
		}
	})
}

func TestAccountLifecycle(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		modeltest.Must(store.CreateFirstAdmin(t.Context(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
		c := app.signedIn("admin@example.com")

		doc := parseHTML(t, c.get("/accounts"))
		if doc.Find(`[data-testid="empty-state"] a[href="/accounts/new"]`).Length() != 1 {
			t.Error("empty accounts list does not point to New account")
		}
		doc = parseHTML(t, c.get("/accounts/new"))
		if doc.Find(`select[name=provider] option`).Length() != 3 || doc.Find(`input[name=resource_name]`).Length() < 3 {
			t.Error("new account form lacks providers or resource rows")
		}
		// "Add row" keeps what was typed and adds a row, storing nothing.
		f := accountForm("azure", "0B1F6471-1BF0-4DDA-AEC3-CB9272F09590", "Sub", "Reader:role", "Owner:role", "Contributor:role")
		f.Set("add_rows", "1")
		rec := c.post("/accounts", f)
		wantStatus(t, rec, http.StatusOK)
		if n := parseHTML(t, rec).Find(`input[name=resource_name]`).Length(); n != 4 {
			t.Errorf("%d resource rows after Add row, want 4", n)
		}
		f.Del("add_rows")
		wantRedirect(t, c.post("/accounts", f), "/accounts")
		doc = parseHTML(t, c.get("/accounts"))
		if doc.Find(`[data-testid="flash-success"]`).Length() != 1 {
			t.Error("no success flash after create")
		}
		row := doc.Find(`[data-testid="account-row"]`)
		if row.Length() != 1 || !strings.Contains(row.Text(), "0b1f6471-1bf0-4dda-aec3-cb9272f09590") || !strings.Contains(row.Text(), "Contributor") {
			t.Fatalf("account row: %q", row.Text())
		}
		acc := modeltest.Must(store.ListAccounts(t.Context(), models.AccountQuery{})).Items[0]

		doc = parseHTML(t, c.get("/accounts/"+itoa(acc.ID)+"/edit"))
		if v, _ := doc.Find(`input[name=name]`).Attr("value"); v != "Sub" {
			t.Errorf("edit form name %q", v)
		}
		wantRedirect(t, c.post("/accounts/"+itoa(acc.ID), accountForm("azure", acc.ExternalID, "Renamed", "Reader:role")), "/accounts")
		got := modeltest.Must(store.AccountByID(t.Context(), acc.ID))
		if got.Name != "Renamed" || len(got.Resources) != 1 {
			t.Errorf("after edit: %+v", got)
		}
		wantStatus(t, c.get("/accounts/"+itoa(acc.ID)+"/delete"), http.StatusOK)
		wantRedirect(t, c.post("/accounts/"+itoa(acc.ID)+"/delete", nil), "/accounts")
		if app.accountCount() != 0 {
			t.Error("account not deleted")
		}
		wantStatus(t, c.get("/accounts/"+itoa(acc.ID)+"/edit"), http.StatusNotFound)
		wantStatus(t, c.get("/accounts/abc/edit"), http.StatusNotFound)
	})
}

func TestAccountSearchAndPagination(t *testing.T) {
	app := newSetUpApp(t, models.DialectSQLite)
	for i := range 55 {
		app.addAccount("Team "+string(rune('A'+i%26))+itoa(int64(i)), "1000000000"+twoDigits(i))
	}
	c := app.signedIn("admin@example.com")
	doc := parseHTML(t, c.get("/accounts"))
	if n := doc.Find(`[data-testid="account-row"]`).Length(); n != 50 {
		t.Errorf("page 1 has %d rows, want 50", n)
	}
	next, _ := doc.Find(`[data-testid="page-next"]`).Attr("href")
	if next != "/accounts?page=2" {
		t.Errorf("next link %q", next)
	}
	if n := parseHTML(t, c.get(next)).Find(`[data-testid="account-row"]`).Length(); n != 5 {
		t.Errorf("page 2 has %d rows, want 5", n)
	}
	doc = parseHTML(t, c.get("/accounts?q=team+b"))
	if n := doc.Find(`[data-testid="account-row"]`).Length(); n != 3 { // B1, B27, B53
		t.Errorf("search found %d rows, want 3", n)
	}
	if v, _ := doc.Find(`input[name=q]`).Attr("value"); v != "team b" {
		t.Errorf("search box shows %q", v)
	}
	doc = parseHTML(t, c.get("/accounts?q=nothing-matches"))
	if doc.Find(`[data-testid="empty-state"]`).Length() != 1 {
		t.Error("no empty state for a search without results")
	}
}

func twoDigits(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func TestEscapesUserContent(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, store *models.Store) {
		app := newTestApp(t, store)
		modeltest.Must(store.CreateFirstAdmin(t.Context(), "", models.NewUser{Email: "admin@example.com", Password: testPassword}))
		c := app.signedIn("admin@example.com")
		const name, res = `<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`
		wantRedirect(t, c.post("/accounts", accountForm("aws", "123456789012", name, res+":role")), "/accounts")
		acc := modeltest.Must(store.ListAccounts(t.Context(), models.AccountQuery{})).Items[0]
		for _, path := range []string{"/accounts", "/accounts/" + itoa(acc.ID) + "/edit", "/accounts/" + itoa(acc.ID) + "/delete", "/audit"} {
			rec := c.get(path)
			wantStatus(t, rec, http.StatusOK)
			body := rec.Body.String()
			if strings.Contains(body, name) || strings.Contains(body, "<img") {
				t.Errorf("%s: user content not escaped", path)
			}
			doc := parseHTML(t, rec)
			if n := doc.Find("script").Length(); n != 1 { // htmx only
				t.Errorf("%s: %d script elements", path, n)
			}
			if doc.Find("img").Length() != 0 {
				t.Errorf("%s: an injected img element", path)
			}
			if !strings.Contains(doc.Text(), name) && path != "/accounts/"+itoa(acc.ID)+"/edit" {
				t.Errorf("%s: the name is not shown as text", path)
			}
		}
	})
}
