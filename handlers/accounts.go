package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

const (
	accountsPerPage   = 50
	minResourceRows   = 3
	accountsListTitle = "Accounts"
)

func (h *handler) showAccounts(c echo.Context) error {
	q, sort := strings.TrimSpace(c.QueryParam("q")), c.QueryParam("sort")
	page, err := h.store.ListAccounts(c.Request().Context(), models.AccountQuery{PageQuery: pageQuery(c, accountsPerPage), Search: q, Sort: models.Sort(sort)})
	if err != nil {
		return err
	}
	trackers, err := h.store.ProjectTrackers(c.Request().Context())
	if err != nil {
		return err
	}
	p := views.AccountsPage{
		Meta: h.pageMeta(c, accountsListTitle, views.NavAccounts), Accounts: page.Items, Query: q,
		Pager: pagerFor(page, paths.Accounts, url.Values{"q": {q}, "sort": {sort}}), Trackers: map[int64]*views.Tracker{},
		Sort: views.SortState{Path: paths.Accounts, Keep: url.Values{"q": {q}}, Current: sort, Default: "name"},
	}
	for _, a := range page.Items {
		if a.ProjectLinkID != nil {
			if t, ok := trackers[*a.ProjectLinkID]; ok {
				p.Trackers[a.ID] = views.TrackerFrom(t)
			}
		}
	}
	return render(c, http.StatusOK, views.Accounts(p))
}

// notTrackedFlash warns, after an account is saved, that requests for it
// will not be tracked in Jira until a project tracks it.
func notTrackedFlash(c echo.Context, acc models.CloudAccount) {
	if acc.ProjectLinkID == nil {
		addFlash(c, views.FlashInfo, "“"+acc.Name+"” is not tracked in Jira: its requests get no Jira task until you link it to a project (Integrations → an integration → a project's Manage page).")
	}
}

func (h *handler) showNewAccount(c echo.Context) error {
	f := views.AccountForm{Provider: string(models.ProviderAWS), MaxDurationMinutes: strconv.Itoa(models.DefaultMaxDurationMinutes)}
	return h.renderAccountForm(c, http.StatusOK, f)
}

func (h *handler) createAccount(c echo.Context) error {
	f, in, err := parseAccountForm(c)
	if c.FormValue("add_rows") != "" {
		return h.accountFormAgain(c, f, nil)
	}
	if err != nil {
		return h.accountFormAgain(c, f, err)
	}
	acc, err := h.store.CreateAccount(c.Request().Context(), actor(c), in)
	if err != nil {
		return h.accountFormAgain(c, f, err)
	}
	notTrackedFlash(c, acc)
	return redirectWithFlash(c, views.FlashSuccess, "Account “"+in.Name+"” created.", paths.Accounts)
}

func (h *handler) showEditAccount(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	acc, err := h.store.AccountByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	f := views.AccountForm{ID: acc.ID, Provider: string(acc.Provider), ExternalID: acc.ExternalID, Name: acc.Name,
		MaxDurationMinutes: strconv.Itoa(acc.MaxDurationMinutes)}
	for _, r := range acc.Resources {
		f.Resources = append(f.Resources, views.ResourceRow{Name: r.Name, Kind: r.Kind})
	}
	f.Resources = append(f.Resources, views.ResourceRow{})
	return h.renderAccountForm(c, http.StatusOK, f)
}

func (h *handler) updateAccount(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	f, in, err := parseAccountForm(c)
	f.ID = id
	if c.FormValue("add_rows") != "" {
		return h.accountFormAgain(c, f, nil)
	}
	if err != nil {
		return h.accountFormAgain(c, f, err)
	}
	acc, err := h.store.UpdateAccount(c.Request().Context(), actor(c), id, in)
	if err != nil {
		return h.accountFormAgain(c, f, err)
	}
	notTrackedFlash(c, acc)
	return redirectWithFlash(c, views.FlashSuccess, "Account “"+in.Name+"” saved.", paths.Accounts)
}

func (h *handler) showDeleteAccount(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	acc, err := h.store.AccountByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AccountDelete(views.AccountDeletePage{
		Meta: h.pageMeta(c, "Delete account", views.NavAccounts), Account: acc,
	}))
}

func (h *handler) deleteAccount(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	err = h.store.DeleteAccount(c.Request().Context(), actor(c), id)
	if errors.Is(err, models.ErrConflict) {
		return redirectWithFlash(c, views.FlashError, "This account has access requests, so it is kept for the record.", paths.Accounts)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "Account deleted.", paths.Accounts)
}

// accountFormAgain re-renders the form: 422 with field errors after a
// validation failure, 200 with one more resource row after "Add row".
func (h *handler) accountFormAgain(c echo.Context, f views.AccountForm, err error) error {
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		f.Errors = ve.Fields
		return h.renderAccountForm(c, http.StatusUnprocessableEntity, f)
	case err != nil:
		return err
	}
	f.Resources = append(f.Resources, views.ResourceRow{})
	return h.renderAccountForm(c, http.StatusOK, f)
}

func (h *handler) renderAccountForm(c echo.Context, status int, f views.AccountForm) error {
	for len(f.Resources) < minResourceRows {
		f.Resources = append(f.Resources, views.ResourceRow{})
	}
	title := "New account"
	if !f.IsNew() {
		title = "Edit account"
	}
	f.Meta = h.pageMeta(c, title, views.NavAccounts)
	if !f.IsNew() {
		acc, err := h.store.AccountByID(c.Request().Context(), f.ID)
		if err != nil {
			return err
		}
		if acc.ProjectLinkID != nil {
			trackers, err := h.store.ProjectTrackers(c.Request().Context())
			if err != nil {
				return err
			}
			if t, ok := trackers[*acc.ProjectLinkID]; ok {
				f.Tracker = views.TrackerFrom(t)
			}
		}
	}
	return render(c, status, views.AccountEdit(f))
}

// parseAccountForm reads the form as typed (for re-rendering) and as model
// input. Resource rows are parallel resource_name/resource_kind fields; row
// i's error is "resources.i", matching AccountInput.Validate.
func parseAccountForm(c echo.Context) (views.AccountForm, models.AccountInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return views.AccountForm{}, models.AccountInput{}, newProblem(codeBadRequest, "The form could not be read.")
	}
	f := views.AccountForm{Provider: form.Get("provider"), ExternalID: form.Get("external_id"), Name: form.Get("name"),
		MaxDurationMinutes: form.Get("max_duration_minutes")}
	names, kinds := form["resource_name"], form["resource_kind"]
	in := models.AccountInput{Provider: models.Provider(f.Provider), ExternalID: f.ExternalID, Name: f.Name}
	for i := range max(len(names), len(kinds)) {
		row := views.ResourceRow{Name: at(names, i), Kind: at(kinds, i)}
		f.Resources = append(f.Resources, row)
		in.Resources = append(in.Resources, models.ResourceInput{Name: row.Name, Kind: row.Kind})
	}
	fe := models.FieldErrors{}
	if s := strings.TrimSpace(f.MaxDurationMinutes); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fe.Add("max_duration_minutes", "Enter a whole number of minutes.")
			n = models.DefaultMaxDurationMinutes
		}
		in.MaxDurationMinutes = n
	}
	for k, v := range in.Validate() {
		fe.Add(k, v)
	}
	return f, in, fe.Err()
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
