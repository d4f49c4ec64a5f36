package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/models"
	"privilege/views"
)

const (
	requestsPerPage        = 25
	defaultRequestMinutes  = 60
	defaultPendingTimeout  = 24 * time.Hour
	errNotYourRequest      = "You can only see your own requests. Ask an approver if you need to see this one."
	requestSubmittedFormat = "Request #%d submitted. An approver will decide it; you can follow it here."
)

// pendingFor is how long a new request may wait for a decision.
func (h *handler) pendingFor() time.Duration {
	if h.deps.PendingTimeout > 0 {
		return h.deps.PendingTimeout
	}
	return defaultPendingTimeout
}

// canView: requesters see their own requests, approvers and admins all.
func canView(u *models.User, r models.AccessRequest) bool {
	return u != nil && (r.RequesterID == u.ID || u.Role.CanApprove())
}

// viewableRequest loads the :id request for the signed-in user: 403 when it
// is someone else's and the user may not decide requests.
func (h *handler) viewableRequest(c echo.Context) (models.AccessRequest, error) {
	id, err := idParam(c)
	if err != nil {
		return models.AccessRequest{}, err
	}
	r, err := h.store.Request(c.Request().Context(), id)
	if err != nil {
		return r, err
	}
	if !canView(currentUser(c), r) {
		return r, newProblem(codeForbidden, errNotYourRequest)
	}
	return r, nil
}

// showRequests: my requests, and for approvers the queue of pending ones.
func (h *handler) showRequests(c echo.Context) error {
	p, err := h.requestsIndex(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RequestsIndex(p))
}

// requestsIndex fills /requests: my requests, and the queue for approvers.
// The lists page independently (?page= and ?queue_page=): each list's
// links keep the other's page.
func (h *handler) requestsIndex(c echo.Context) (views.RequestsIndexPage, error) {
	ctx, u := c.Request().Context(), currentUser(c)
	mineQ, queueQ := pageQuery(c, requestsPerPage), pageQueryNamed(c, "queue_page", requestsPerPage)
	mine, err := h.store.ListRequests(ctx, models.RequestQuery{RequesterID: u.ID, PageQuery: mineQ})
	if err != nil {
		return views.RequestsIndexPage{}, err
	}
	p := views.RequestsIndexPage{Meta: h.pageMeta(c, "Requests", views.NavRequests), CanApprove: u.Role.CanApprove(), Now: h.cfg.Now()}
	if p.Mine, err = h.requestRows(c, mine.Items); err != nil {
		return p, err
	}
	queuePage := 0 // the queue's page to keep in the other list's links (0: none)
	if p.CanApprove {
		queue, err := h.store.ListRequests(ctx, models.RequestQuery{Status: models.RequestPending, PageQuery: queueQ})
		if err != nil {
			return p, err
		}
		queuePage = queue.Page
		if p.Queue, err = h.requestRows(c, queue.Items); err != nil {
			return p, err
		}
		p.QueuePager = pagerLinks(queue, func(n int) string { return requestsURL(mine.Page, n) })
	}
	p.MinePager = pagerLinks(mine, func(n int) string { return requestsURL(n, queuePage) })
	return p, nil
}

// requestRows fills list rows with the integration and project of each
// request's task (two sites may both have an OPS project).
func (h *handler) requestRows(c echo.Context, rs []models.AccessRequest) ([]views.RequestRow, error) {
	rows := views.RequestRows(rs, currentUser(c).ID)
	if len(rs) == 0 {
		return rows, nil
	}
	trackers, err := h.store.ProjectTrackers(c.Request().Context())
	if err != nil {
		return nil, err
	}
	for i, r := range rs {
		if l := r.Issue; l != nil && l.IntegrationID != nil && l.ProjectKey != "" {
			if t, ok := models.TrackerOf(trackers, *l.IntegrationID, l.ProjectKey); ok {
				rows[i].Tracker = views.TrackerFrom(t)
			}
		} else if id := r.Account.ProjectLinkID; id != nil && r.SyncState().Tracked() {
			if t, ok := trackers[*id]; ok {
				rows[i].Tracker = views.TrackerFrom(t)
			}
		}
	}
	return rows, nil
}

// requestsURL is /requests on page mine of my requests and page queue of
// the queue (page 1 and 0 are left out).
func requestsURL(mine, queue int) string {
	q := url.Values{}
	if mine > 1 {
		q.Set("page", strconv.Itoa(mine))
	}
	if queue > 1 {
		q.Set("queue_page", strconv.Itoa(queue))
	}
	return paths.WithQuery(paths.Requests, q)
}

// showRequestHistory: every request, filtered by status, account and
// requester email (approvers and admins).
func (h *handler) showRequestHistory(c echo.Context) error {
	ctx := c.Request().Context()
	status, accID, requester := c.QueryParam("status"), c.QueryParam("account_id"), strings.TrimSpace(c.QueryParam("requester"))
	sort := c.QueryParam("sort")
	q := models.RequestQuery{PageQuery: pageQuery(c, requestsPerPage), Requester: requester, Sort: models.Sort(sort)}
	if models.RequestStatus(status).Valid() {
		q.Status = models.RequestStatus(status)
	}
	q.AccountID, _ = strconv.ParseInt(accID, 10, 64)
	page, err := h.store.ListRequests(ctx, q)
	if err != nil {
		return err
	}
	accounts, err := h.store.AllAccounts(ctx)
	if err != nil {
		return err
	}
	rows, err := h.requestRows(c, page.Items)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RequestHistory(views.RequestHistoryPage{
		Meta: h.pageMeta(c, "Request history", views.NavRequests), Rows: rows,
		Pager:  pagerFor(page, paths.RequestHistory, url.Values{"status": {string(q.Status)}, "account_id": {accID}, "requester": {requester}, "sort": {sort}}),
		Status: string(q.Status), AccountID: accID, Requester: requester, Accounts: accounts,
		Sort: views.SortState{Path: paths.RequestHistory, Keep: url.Values{"status": {string(q.Status)}, "account_id": {accID}, "requester": {requester}},
			Current: sort, Default: "-id"},
	}))
}

// showRequest is the approval page.
func (h *handler) showRequest(c echo.Context) error {
	r, err := h.viewableRequest(c)
	if err != nil {
		return err
	}
	p, err := h.requestDetailPage(c, r)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RequestDetail(p))
}

// requestDetailPage fills the approval page of r for the signed-in user.
func (h *handler) requestDetailPage(c echo.Context, r models.AccessRequest) (views.RequestDetailPage, error) {
	meta := h.pageMeta(c, fmt.Sprintf("Request #%d", r.ID), views.NavRequests)
	p := views.NewRequestDetailPage(meta, r, *currentUser(c))
	var err error
	p.Jira.Tracker, err = h.trackerOf(c, r)
	return p, err
}

// showRequestJira is the request page's Jira box alone: htmx polls it while
// the task is being written, and it stops asking once the answer is final.
func (h *handler) showRequestJira(c echo.Context) error {
	r, err := h.viewableRequest(c)
	if err != nil {
		return err
	}
	box := views.NewJiraTaskBox(r, *currentUser(c), csrfToken(c), nil)
	if box.Tracker, err = h.trackerOf(c, r); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.JiraTask(box))
}

// trackerOf names the integration and project of r's task: where it was
// created, or where it will be (the account's project); nil when untracked.
func (h *handler) trackerOf(c echo.Context, r models.AccessRequest) (*views.Tracker, error) {
	trackers, err := h.store.ProjectTrackers(c.Request().Context())
	if err != nil {
		return nil, err
	}
	if l := r.Issue; l != nil && l.IntegrationID != nil && l.ProjectKey != "" {
		if t, ok := models.TrackerOf(trackers, *l.IntegrationID, l.ProjectKey); ok {
			return views.TrackerFrom(t), nil
		}
		in, err := h.store.Integration(c.Request().Context(), *l.IntegrationID)
		if errors.Is(err, models.ErrNotFound) {
			return nil, nil // the integration is gone: the box says detached
		}
		if err != nil {
			return nil, err
		}
		return &views.Tracker{IntegrationID: in.ID, IntegrationName: in.Name, ProjectKey: l.ProjectKey, JiraURL: in.SiteOrBaseURL()}, nil
	}
	if id := r.Account.ProjectLinkID; id != nil {
		if t, ok := trackers[*id]; ok {
			return views.TrackerFrom(t), nil
		}
	}
	return nil, nil
}

// showNewRequest is the "Request access" form. ?account_id= (and any typed
// value) preselects, so the form works without JavaScript.
func (h *handler) showNewRequest(c echo.Context) error {
	f, _, _ := readRequestForm(c.QueryParams())
	// A duration preset button re-renders the form with its value (no script).
	if n, err := strconv.Atoi(c.QueryParam("preset")); err == nil && n > 0 {
		f.Duration = strconv.Itoa(n)
	}
	return h.renderRequestForm(c, http.StatusOK, f, true)
}

// showRequestResources is the htmx fragment of the chosen account's resources.
func (h *handler) showRequestResources(c echo.Context) error {
	f, _, _ := readRequestForm(c.QueryParams())
	if err := h.fillRequestForm(c, &f, false); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RequestResourcePicker(f))
}

// createRequest submits the form: 422 with every typed value kept, or a
// flash and 303 to the new request's page.
func (h *handler) createRequest(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return newProblem(codeBadRequest, "The form could not be read.")
	}
	f, in, parseErrs := readRequestForm(form)
	req, err := h.store.CreateRequest(c.Request().Context(), *currentUser(c), in, h.pendingFor())
	var ve *models.ValidationError
	var rl *models.RateLimitError
	if errors.As(err, &rl) {
		f.Errors = views.FormErrors{"form": rateLimitMessage(c, rl) + " Your answers are kept below."}
		return h.renderRequestForm(c, http.StatusTooManyRequests, f, false)
	}
	if errors.As(err, &ve) {
		f.Errors = views.FormErrors(ve.Fields)
		for k, v := range parseErrs {
			f.Errors[k] = v
		}
		return h.renderRequestForm(c, http.StatusUnprocessableEntity, f, false)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, fmt.Sprintf(requestSubmittedFormat, req.ID), paths.Request(req.ID))
}

// rateLimitMessage sets Retry-After and says when the user may ask again.
func rateLimitMessage(c echo.Context, rl *models.RateLimitError) string {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(max(rl.RetryAfter.Round(time.Second), time.Second)/time.Second)))
	return fmt.Sprintf("You have created %d requests in the last %s, the most allowed. Try again in %s.",
		rl.Limit.Max, humanDuration(rl.Limit.Per), roundWait(rl.RetryAfter))
}

// humanDuration says a whole number of hours or minutes in words.
func humanDuration(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}

func (h *handler) renderRequestForm(c echo.Context, status int, f views.RequestForm, defaults bool) error {
	accounts, err := h.store.AllAccounts(c.Request().Context())
	if err != nil {
		return err
	}
	f.Accounts = accounts
	if err := h.fillRequestForm(c, &f, defaults); err != nil {
		return err
	}
	f.Meta = h.pageMeta(c, "Request access", views.NavRequests)
	return render(c, status, views.RequestNew(f))
}

// fillRequestForm loads the chosen account's resources, ticking the ones
// already chosen; defaults fills an empty duration. (The account list is the
// full page's; the htmx resource fragment does not show it.)
func (h *handler) fillRequestForm(c echo.Context, f *views.RequestForm, defaults bool) error {
	ctx := c.Request().Context()
	chosen := map[string]bool{}
	for _, r := range f.Resources {
		chosen[r.Name] = true
	}
	f.Resources = nil
	if id, _ := strconv.ParseInt(f.AccountID, 10, 64); id > 0 {
		acc, err := h.store.AccountByID(ctx, id)
		switch {
		case err == nil:
			f.Account = &acc
			for _, r := range acc.Resources {
				f.Resources = append(f.Resources, views.ResourceChoice{Name: r.Name, Kind: r.Kind, Checked: chosen[r.Name]})
			}
		case !errors.Is(err, models.ErrNotFound):
			return err
		}
	}
	if defaults && f.Duration == "" {
		f.Duration = strconv.Itoa(min(defaultRequestMinutes, f.MaxDuration()))
	}
	return nil
}

// readRequestForm reads the values as typed and as model input; the
// returned errors are the ones only the form can make (a non-number).
func readRequestForm(v url.Values) (views.RequestForm, models.NewRequest, views.FormErrors) {
	f := views.RequestForm{AccountID: v.Get("account_id"), Duration: strings.TrimSpace(v.Get("duration_minutes")), Justification: v.Get("justification")}
	in := models.NewRequest{Resources: v["resources"], Justification: f.Justification}
	for _, name := range in.Resources {
		f.Resources = append(f.Resources, views.ResourceChoice{Name: name})
	}
	fe := views.FormErrors{}
	in.AccountID, _ = strconv.ParseInt(f.AccountID, 10, 64)
	if f.Duration != "" {
		n, err := strconv.Atoi(f.Duration)
		if err != nil {
			fe["duration_minutes"] = "Enter a whole number of minutes."
		}
		in.DurationMinutes = n
	}
	return f, in, fe
}
