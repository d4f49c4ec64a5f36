package views

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"privilege/models"
)

func renderDoc(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestNavShowsAdminItemsToAdminsOnly(t *testing.T) {
	for _, tc := range []struct {
		role models.Role
		want []string
	}{
		{models.RoleAdmin, []string{"Requests", "Integrations", "Accounts", "Users", "Audit", "API tokens"}},
		{models.RoleApprover, []string{"Requests", "API tokens"}},
		{models.RoleRequester, []string{"Requests", "API tokens"}},
	} {
		u := &models.User{ID: 1, Email: "x@example.com", Role: tc.role}
		doc := renderDoc(t, Nav(PageMeta{User: u, Active: NavRequests, CSRFToken: "tok"}))
		var got []string
		doc.Find(`a[data-testid^="nav-"]`).Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s sees %v, want %v", tc.role, got, tc.want)
		}
		if cur, _ := doc.Find(`[aria-current=page]`).Attr("href"); cur != "/requests" {
			t.Errorf("active item %q", cur)
		}
		if doc.Find(`button:contains('Sign out')`).Length() != 1 || doc.Find(`[data-testid=nav-user]`).Text() != "x@example.com" {
			t.Error("no user email or Sign out button")
		}
	}
	if doc := renderDoc(t, Nav(PageMeta{})); doc.Find(`a[data-testid^="nav-"]`).Length() != 0 || doc.Find("form").Length() != 0 {
		t.Error("signed-out nav shows items")
	}
}

func TestFieldShowsErrorAccessibly(t *testing.T) {
	doc := renderDoc(t, Field(FieldProps{Label: "Account ID", Name: "external_id", Value: `"><b>x`, Error: "Bad id."}))
	in := doc.Find("input")
	if v, _ := in.Attr("aria-invalid"); v != "true" {
		t.Error("no aria-invalid")
	}
	if v, _ := in.Attr("value"); v != `"><b>x` {
		t.Errorf("value %q", v)
	}
	if doc.Find("b").Length() != 0 {
		t.Error("value not escaped")
	}
	if d, _ := in.Attr("aria-describedby"); doc.Find("#"+d).Text() != "Bad id." {
		t.Error("error not linked with aria-describedby")
	}
	pw := renderDoc(t, Field(FieldProps{Label: "Password", Name: "password", Type: "password", Value: "secret"}))
	if _, ok := pw.Find("input").Attr("value"); ok {
		t.Error("a password field echoes its value")
	}
}

func TestFlashesAndPagination(t *testing.T) {
	doc := renderDoc(t, FlashList([]Flash{{FlashSuccess, "Saved."}, {FlashError, "Oops."}}))
	if doc.Find(`[data-testid=flash-success]`).Text() != "Saved." || doc.Find(`[data-testid=flash-error][role=alert]`).Length() != 1 {
		t.Error("flashes not rendered")
	}
	doc = renderDoc(t, Pagination(Pager{Page: 2, Pages: 3, Total: 120, PrevURL: "/a", NextURL: "/a?page=3"}))
	if h, _ := doc.Find(`[data-testid=page-next]`).Attr("href"); h != "/a?page=3" {
		t.Errorf("next %q", h)
	}
	if !strings.Contains(doc.Text(), "Page 2 of 3") {
		t.Errorf("pager text %q", doc.Text())
	}
	if renderDoc(t, Pagination(Pager{Page: 1, Pages: 1})).Find("nav").Length() != 0 {
		t.Error("pager shown for an empty list")
	}
}

func TestPageShellHasNoInlineCode(t *testing.T) {
	doc := renderDoc(t, Audit(AuditPage{Meta: PageMeta{Title: "Audit", CSRFToken: "t0k", AssetVersion: "abc"}}))
	if doc.Find("style").Length() != 0 || doc.Find("[style]").Length() != 0 {
		t.Error("inline style")
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src, _ := s.Attr("src"); src == "" || strings.TrimSpace(s.Text()) != "" {
			t.Error("inline script")
		}
	})
	if c, _ := doc.Find(`meta[name=htmx-config]`).Attr("content"); !strings.Contains(c, `"allowEval":false`) {
		t.Errorf("htmx-config %q", c)
	}
	if h, _ := doc.Find("body").Attr("hx-headers"); h != `{"X-CSRF-Token":"t0k"}` {
		t.Errorf("hx-headers %q", h)
	}
	if doc.Find(`[data-testid=empty-state]`).Length() != 1 {
		t.Error("audit empty state missing")
	}
	if href, _ := doc.Find(`link[rel=stylesheet]`).Last().Attr("href"); href != "/static/css/app.css?v=abc" {
		t.Errorf("asset url %q", href)
	}
}
