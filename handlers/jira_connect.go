package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"

	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/views"
)

// The Jira consent flow (design.md §2 steps 2–3):
//
//	GET  /integrations/jira/new        the Integrate form
//	POST /integrations/jira            validate, remember state+verifier+draft in the session
//	POST /integrations/:id/reconnect   the same for an existing integration
//	GET  /integrations/jira/authorize  hand-off page that sends the browser to Jira
//	GET  /integrations/jira/callback   state check, code exchange, store (or site picker)
//	POST /integrations/jira/site       the site picker's answer
//
// The hand-off page exists because Chrome applies CSP form-action to the
// redirects that follow a form POST: a 303 from "Continue" straight to
// auth.atlassian.com (or a Data Center host, whose origin is unknown until
// the form is posted) would be blocked by form-action 'self'. The form posts
// to our origin, lands on a same-origin page, and that page navigates on
// (meta refresh plus a plain link), which form-action does not govern.

const (
	jiraFlowTTL       = 10 * time.Minute
	maxIntegrationLen = 100
	msgNothingSaved   = " Nothing was saved."
)

// jiraFlow is the consent in progress, kept in the (encrypted, signed)
// session cookie between "Continue" and the callback.
type jiraFlow struct {
	State        string            `json:"s"`
	Verifier     string            `json:"v,omitempty"` // PKCE (Data Center)
	Expires      time.Time         `json:"e"`
	Name         string            `json:"n"`
	Deployment   models.Deployment `json:"d"`
	BaseURL      string            `json:"b,omitempty"`
	ClientID     string            `json:"c,omitempty"`
	ClientSecret string            `json:"cs,omitempty"` // DC: a new integration's, or a rotated one on Reconnect
	ReconnectID  int64             `json:"r,omitempty"`
	// Purpose tells an admin's connection from a user proving their own
	// Jira identity (profile.go); both come back to the one registered callback.
	Purpose       flowPurpose `json:"p,omitempty"`
	IntegrationID int64       `json:"i,omitempty"` // flowIdentity: the integration to link on
	UserID        int64       `json:"u,omitempty"` // flowIdentity: who started it
}

// flowPurpose is what a consent in progress is for.
type flowPurpose string

const (
	flowConnect  flowPurpose = ""         // an admin connects or reconnects an integration
	flowIdentity flowPurpose = "identity" // a user links their own Jira account
)

// flowHome is where a flow ends with its message: the profile for identity
// links (and for anyone who is not an admin), the Integrations page otherwise.
func flowHome(c echo.Context, flow jiraFlow) string {
	if u := currentUser(c); flow.Purpose == flowIdentity || u == nil || u.Role != models.RoleAdmin {
		return paths.Profile
	}
	return paths.Integrations
}

// requireConnectRole refuses a connection flow to anyone but an admin: the
// hand-off and callback routes are open to every signed-in user because
// identity links share them.
func requireConnectRole(c echo.Context, flow jiraFlow) error {
	if u := currentUser(c); flow.Purpose == flowConnect && (u == nil || u.Role != models.RoleAdmin) {
		return newProblem(codeForbidden, "Your role does not allow this page or action. Ask an admin if you need it.")
	}
	return nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (h *handler) showJiraConnect(c echo.Context) error {
	return h.renderConnectForm(c, http.StatusOK, views.JiraConnectForm{})
}

func (h *handler) renderConnectForm(c echo.Context, status int, f views.JiraConnectForm) error {
	f.Meta = h.pageMeta(c, "Integrate Jira", views.NavIntegrations)
	if o := h.deps.JiraOAuth; o != nil {
		f.Available, f.CloudEnabled, f.RedirectURL = true, o.CloudConfigured(), o.RedirectURL()
	}
	return render(c, status, views.JiraConnect(f))
}

// startJiraConnect is "Continue": validate, remember the flow, hand off.
func (h *handler) startJiraConnect(c echo.Context) error {
	f := views.JiraConnectForm{Name: strings.TrimSpace(c.FormValue("name")), SelfHosted: c.FormValue("self_hosted") != "",
		BaseURL: strings.TrimSpace(c.FormValue("base_url")), ClientID: strings.TrimSpace(c.FormValue("client_id"))}
	secret := strings.TrimSpace(c.FormValue("client_secret"))
	flow, errs := h.validateConnect(c.Request().Context(), &f, secret)
	if len(errs) > 0 {
		f.Errors = errs
		return h.renderConnectForm(c, http.StatusUnprocessableEntity, f)
	}
	return h.handOff(c, flow)
}

// validateConnect checks the form and, for Data Center, that the Base URL
// is an allowed address that answers like Jira.
func (h *handler) validateConnect(ctx context.Context, f *views.JiraConnectForm, secret string) (jiraFlow, views.FormErrors) {
	errs := views.FormErrors{}
	switch n := utf8.RuneCountInString(f.Name); {
	case n == 0:
		errs["name"] = "Enter a name, for example “Jira – Operations”."
	case n > maxIntegrationLen:
		errs["name"] = "Use at most 100 characters."
	}
	o := h.deps.JiraOAuth
	if o == nil {
		errs["form"] = "Jira is not available in this installation."
		return jiraFlow{}, errs
	}
	flow := jiraFlow{Name: f.Name, Deployment: models.DeploymentCloud}
	if !f.SelfHosted {
		if !o.CloudConfigured() {
			errs["form"] = cloudMissingMessage
		}
		return flow, errs
	}
	flow.Deployment, flow.ClientID, flow.ClientSecret = models.DeploymentDataCenter, f.ClientID, secret
	if f.ClientID == "" {
		errs["client_id"] = "Enter the Client ID of the incoming link."
	}
	if secret == "" {
		errs["client_secret"] = "Enter the Client secret of the incoming link."
	}
	base, err := jira.ValidateBaseURL(f.BaseURL)
	if err != nil {
		errs["base_url"] = capitalize(err.Error()) + "."
		return flow, errs
	}
	f.BaseURL, flow.BaseURL = base, base
	taken, err := h.connectedSites(ctx)
	switch {
	case err != nil:
		errs["base_url"] = "Privilege could not check its existing integrations; try again in a moment."
		return flow, errs
	case taken[base] != "":
		errs["base_url"] = "This Jira is already connected as “" + taken[base] + "”: reconnect or disconnect that integration instead of adding another."
		return flow, errs
	}
	if msg := probeMessage(o.ProbeServerInfo(ctx, base)); msg != "" {
		errs["base_url"] = msg
	}
	return flow, errs
}

const cloudMissingMessage = "Jira Cloud cannot be connected yet: the operator must register Privilege's Atlassian OAuth 2.0 app and set PRIVILEGE_ATLASSIAN_CLIENT_ID and PRIVILEGE_ATLASSIAN_CLIENT_SECRET. Self-hosted Jira (Data Center / Server) works without them."

// probeMessage turns the serverInfo probe's outcome into plain words.
func probeMessage(info jira.ServerInfo, err error) string {
	var fa *jira.ForbiddenAddressError
	switch {
	case errors.As(err, &fa):
		return "Privilege will not connect to this address (" + fa.Addr.String() + "): " + fa.Reason + "."
	case errors.Is(err, jira.ErrForbiddenAddress):
		return "Privilege will not connect to this address."
	case errors.Is(err, jira.ErrNotJira):
		return "This address answers, but not like Jira. Check the Base URL, including any context path such as /jira."
	case err != nil:
		return "Privilege could not reach this address. Check the Base URL and that Jira is running and reachable from Privilege's server."
	case strings.EqualFold(info.DeploymentType, "Cloud"):
		return "This is Jira Cloud: untick Self-Hosted to connect it through Atlassian."
	}
	return ""
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// handOff stores a fresh state (and PKCE verifier) with the draft and sends
// the browser to the hand-off page.
func (h *handler) handOff(c echo.Context, flow jiraFlow) error {
	var err error
	if flow.State, err = randomToken(); err != nil {
		return err
	}
	if flow.Deployment == models.DeploymentDataCenter {
		flow.Verifier = jira.GenerateVerifier()
	}
	flow.Expires = h.cfg.Now().Add(jiraFlowTTL)
	if err := setJiraFlow(c, flow); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, paths.JiraAuthorize)
}

// startJiraReconnect asks Jira for a new consent for an existing integration.
func (h *handler) startJiraReconnect(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	in, err := h.store.Integration(c.Request().Context(), id)
	if err != nil {
		return err
	}
	o := h.deps.JiraOAuth
	switch {
	case o == nil:
		return redirectWithFlash(c, views.FlashError, "Jira is not available in this installation.", paths.Integrations)
	case in.Deployment == models.DeploymentCloud && !o.CloudConfigured():
		return redirectWithFlash(c, views.FlashError, cloudMissingMessage, paths.Integrations)
	}
	flow := jiraFlow{Name: in.Name, Deployment: in.Deployment, BaseURL: in.BaseURL, ClientID: in.ClientID, ReconnectID: in.ID}
	// A Jira admin may have recreated the incoming link: Reconnect then takes
	// its new client id and secret (both, or neither).
	if id, secret := strings.TrimSpace(c.FormValue("client_id")), strings.TrimSpace(c.FormValue("client_secret")); in.Deployment == models.DeploymentDataCenter && (id != "" || secret != "") {
		if id == "" || secret == "" {
			return redirectWithFlash(c, views.FlashError, "To use new Jira credentials, enter both the Client ID and the Client secret of the incoming link."+msgNothingSaved, paths.IntegrationsConfigured)
		}
		flow.ClientID, flow.ClientSecret = id, secret
	}
	return h.handOff(c, flow)
}

// showJiraHandoff sends the browser on to Jira's consent page.
func (h *handler) showJiraHandoff(c echo.Context) error {
	flow, ok := peekJiraFlow(c)
	if !ok || h.cfg.Now().After(flow.Expires) || h.deps.JiraOAuth == nil {
		return redirectWithFlash(c, views.FlashError, "The Jira connection was not started or has expired. Start again."+msgNothingSaved, flowHome(c, flow))
	}
	if err := requireConnectRole(c, flow); err != nil {
		return err
	}
	page := views.JiraHandoffPage{Meta: h.pageMeta(c, "Continue to Jira", views.NavIntegrations), Product: "Atlassian"}
	o := h.deps.JiraOAuth
	switch {
	case flow.Deployment == models.DeploymentDataCenter && flow.Purpose == flowIdentity:
		page.Product, page.AuthorizeURL = "your Jira", o.DCIdentityAuthCodeURL(flow.BaseURL, flow.ClientID, flow.State, flow.Verifier)
	case flow.Deployment == models.DeploymentDataCenter:
		page.Product, page.AuthorizeURL = "your Jira", o.DCAuthCodeURL(flow.BaseURL, flow.ClientID, flow.State, flow.Verifier)
	case flow.Purpose == flowIdentity:
		page.AuthorizeURL = o.CloudIdentityAuthCodeURL(flow.State)
	default:
		page.AuthorizeURL = o.CloudAuthCodeURL(flow.State)
	}
	if flow.Purpose == flowIdentity {
		page.Meta.Active = views.NavNone
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, views.JiraHandoff(page))
}

// finishJiraConnect is the OAuth callback.
func (h *handler) finishJiraConnect(c echo.Context) error {
	flow, err := h.checkCallback(c)
	if err == nil {
		if err = requireConnectRole(c, flow); err != nil {
			return err
		}
		if flow.Purpose == flowIdentity {
			err = h.finishJiraLink(c, flow)
		} else {
			err = h.completeConsent(c, flow)
		}
	}
	return endFlow(c, err, flowHome(c, flow))
}

// checkCallback verifies the state (constant time, single use, expiring)
// and reads Jira's answer.
func (h *handler) checkCallback(c echo.Context) (jiraFlow, error) {
	flow, ok := takeJiraFlow(c) // consumed at once, whatever happens next
	got := c.QueryParam("state")
	again := " Start again from Integrate."
	if flow.Purpose == flowIdentity || flowHome(c, flow) == paths.Profile {
		again = " Start again from your profile."
	}
	switch {
	case !ok || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(flow.State)) != 1:
		return flow, userError("This Jira authorization does not belong to a connection started here, or was already used." + msgNothingSaved + again)
	case h.cfg.Now().After(flow.Expires):
		return flow, userError("The Jira authorization took more than 10 minutes and expired." + msgNothingSaved + " Start again.")
	case c.QueryParam("error") == "access_denied":
		return flow, userError("Jira access was declined; nothing was saved.")
	case c.QueryParam("error") != "":
		return flow, userError("Jira did not authorize Privilege (" + truncate(c.QueryParam("error")+": "+c.QueryParam("error_description"), 200) + ")." + msgNothingSaved)
	case c.QueryParam("code") == "":
		return flow, userError("Jira's answer carried no authorization code." + msgNothingSaved)
	}
	return flow, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// completeConsent exchanges the code and stores the integration, or shows
// the site picker when a Cloud grant covers several sites.
func (h *handler) completeConsent(c echo.Context, flow jiraFlow) error {
	if h.deps.JiraOAuth == nil {
		return userError("Jira is not available in this installation.")
	}
	if flow.Deployment == models.DeploymentDataCenter {
		g, err := h.exchangeDC(c, flow)
		if err != nil {
			return err
		}
		return h.saveGrant(c, flow, g)
	}
	g, sites, err := h.exchangeCloud(c, flow)
	if err != nil {
		return err
	}
	if len(sites) == 1 {
		g.CloudID, g.SiteURL = sites[0].CloudID, sites[0].URL
		return h.saveGrant(c, flow, g)
	}
	return h.showSitePicker(c, flow, g, sites)
}

// connectedSites maps each connected site (a Cloud site's cloud id, a Data
// Center's base URL) to the name of its integration.
func (h *handler) connectedSites(ctx context.Context) (map[string]string, error) {
	ins, err := h.store.ListIntegrations(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, in := range ins {
		if in.Deployment == models.DeploymentCloud {
			out[in.CloudID] = in.Name
		} else {
			out[in.BaseURL] = in.Name
		}
	}
	return out, nil
}

func (h *handler) exchangeDC(c echo.Context, flow jiraFlow) (models.IntegrationGrant, error) {
	ctx := c.Request().Context()
	g := models.IntegrationGrant{Name: flow.Name, Deployment: flow.Deployment, BaseURL: flow.BaseURL, ClientID: flow.ClientID, ClientSecret: flow.ClientSecret}
	secret := flow.ClientSecret
	if flow.ReconnectID != 0 && secret == "" { // reconnecting with the stored credentials
		in, err := h.store.Integration(ctx, flow.ReconnectID)
		if err != nil {
			return g, err
		}
		if secret, err = h.store.ClientSecret(in); err != nil {
			return g, err
		}
	}
	tok, err := h.deps.JiraOAuth.ExchangeDC(ctx, flow.BaseURL, flow.ClientID, secret, c.QueryParam("code"), flow.Verifier)
	if err != nil {
		return g, h.exchangeFailed(c, err)
	}
	if err := jira.CheckWriteScope(models.DeploymentDataCenter, tok.Scope); err != nil {
		return g, userError("Jira granted read access only: the incoming link must allow the WRITE scope so Privilege can create and update tasks." + msgNothingSaved)
	}
	g.Token = tok
	return g, nil
}

// exchangeCloud returns the grant and the sites it may write to.
func (h *handler) exchangeCloud(c echo.Context, flow jiraFlow) (models.IntegrationGrant, []jira.Site, error) {
	ctx := c.Request().Context()
	g := models.IntegrationGrant{Name: flow.Name, Deployment: models.DeploymentCloud}
	tok, err := h.deps.JiraOAuth.ExchangeCloud(ctx, c.QueryParam("code"))
	if err != nil {
		return g, nil, h.exchangeFailed(c, err)
	}
	if err := jira.CheckWriteScope(models.DeploymentCloud, tok.Scope); err != nil {
		return g, nil, userError("Atlassian granted read access only (no write:jira-work): Privilege could not create or update tasks." + msgNothingSaved)
	}
	all, err := h.deps.JiraOAuth.AccessibleResources(ctx, tok.AccessToken)
	if err != nil {
		return g, nil, h.exchangeFailed(c, err)
	}
	var sites []jira.Site
	for _, s := range all {
		if jira.CheckSiteWriteScope(s) == nil {
			sites = append(sites, s)
		}
	}
	if flow.ReconnectID != 0 {
		sites, err = h.reconnectSite(ctx, flow.ReconnectID, sites)
	}
	if err == nil && len(sites) == 0 {
		err = userError("The authorization covers no Jira site Privilege may write to." + msgNothingSaved)
	}
	g.Token = tok
	return g, sites, err
}

// reconnectSite keeps the site the integration was connected to.
func (h *handler) reconnectSite(ctx context.Context, id int64, sites []jira.Site) ([]jira.Site, error) {
	in, err := h.store.Integration(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, s := range sites {
		if s.CloudID == in.CloudID {
			return []jira.Site{s}, nil
		}
	}
	return nil, userError("The new authorization does not cover " + in.SiteURL + ", the site of “" + in.Name + "”." + msgNothingSaved)
}

// exchangeFailed logs the cause (never a token) and tells the admin.
func (h *handler) exchangeFailed(c echo.Context, err error) error {
	h.log.WarnContext(c.Request().Context(), "jira consent failed", "request_id", requestID(c), "error", err)
	if errors.Is(err, jira.ErrForbiddenAddress) {
		return userError("Privilege will not connect to Jira's address." + msgNothingSaved)
	}
	return userError("Jira did not accept the authorization; try again in a moment." + msgNothingSaved)
}

// saveGrant stores a new integration or the fresh tokens of a reconnected one.
func (h *handler) saveGrant(c echo.Context, flow jiraFlow, g models.IntegrationGrant) error {
	ctx := c.Request().Context()
	id := flow.ReconnectID
	if id != 0 {
		err := h.store.ReconnectIntegration(ctx, actor(c), id, g)
		var ve *models.ValidationError
		if errors.As(err, &ve) {
			return userError(ve.Fields["site"] + msgNothingSaved)
		}
		if err != nil {
			return err
		}
		if h.deps.JiraClients != nil {
			h.deps.JiraClients.Forget(id)
		}
		return redirectWithFlash(c, views.FlashSuccess, "“"+g.Name+"” is reconnected; waiting tasks are being updated again.", paths.Integration(id))
	}
	in, err := h.store.CreateIntegration(ctx, actor(c), g)
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return userError(ve.Fields["site"] + msgNothingSaved)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(c, views.FlashSuccess, "Jira is connected: choose the projects that track access requests.", paths.Integration(in.ID))
}

// pendingGrant is a Cloud grant covering several sites, waiting for the
// admin to pick one. It travels sealed (AES-GCM via securecookie: encrypted,
// authenticated, 10-minute lifetime) in the site picker's form, so any
// replica can finish it, and a nonce in the session binds it to this browser.
type pendingGrant struct {
	Nonce  string                  `json:"n"`
	UserID int64                   `json:"u"`
	Grant  models.IntegrationGrant `json:"g"`
	Sites  []jira.Site             `json:"s"`
}

const pendingGrantName = "privilege_jira_grant"

func (h *handler) grantCodecs() []securecookie.Codec {
	codecs := securecookie.CodecsFromPairs(h.cfg.SessionKeys...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(jiraFlowTTL / time.Second)).MaxLength(64 << 10).SetSerializer(securecookie.JSONEncoder{})
		}
	}
	return codecs
}

// showSitePicker renders the picker at the callback (no redirect: the
// grant must not be stored before the admin chooses). The page is no-store.
func (h *handler) showSitePicker(c echo.Context, flow jiraFlow, g models.IntegrationGrant, sites []jira.Site) error {
	taken, err := h.connectedSites(c.Request().Context())
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(sites, func(s jira.Site) bool { return taken[s.CloudID] == "" }) {
		return userError("Every Jira site this authorization covers is already connected: reconnect an existing integration instead." + msgNothingSaved)
	}
	nonce, err := randomToken()
	if err != nil {
		return err
	}
	pg := pendingGrant{Nonce: nonce, Grant: g, Sites: sites}
	if u := currentUser(c); u != nil {
		pg.UserID = u.ID
	}
	sealed, err := securecookie.EncodeMulti(pendingGrantName, pg, h.grantCodecs()...)
	if err != nil {
		return fmt.Errorf("seal pending grant: %w", err)
	}
	setJiraPick(c, nonce)
	page := views.SitePickerPage{Meta: h.pageMeta(c, "Choose a Jira site", views.NavIntegrations), Name: flow.Name, Grant: sealed}
	checked := false
	for _, s := range sites {
		opt := views.SiteOption{CloudID: s.CloudID, Name: s.Name, URL: s.URL, ConnectedAs: taken[s.CloudID]}
		opt.Checked = !checked && opt.ConnectedAs == ""
		checked = checked || opt.Checked
		page.Sites = append(page.Sites, opt)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, http.StatusOK, views.SitePicker(page))
}

// pickSite stores the integration for the chosen site.
func (h *handler) pickSite(c echo.Context) error {
	g, err := h.openPendingGrant(c)
	if err == nil {
		err = h.saveGrant(c, jiraFlow{Name: g.Name}, g)
	}
	return endFlow(c, err, paths.Integrations)
}

func (h *handler) openPendingGrant(c echo.Context) (models.IntegrationGrant, error) {
	var pg pendingGrant
	expired := userError("The site choice expired or was already used." + msgNothingSaved + " Start again from Integrate.")
	nonce, ok := takeJiraPick(c)
	if !ok || securecookie.DecodeMulti(pendingGrantName, c.FormValue("grant"), &pg, h.grantCodecs()...) != nil {
		return models.IntegrationGrant{}, expired
	}
	u := currentUser(c)
	if subtle.ConstantTimeCompare([]byte(nonce), []byte(pg.Nonce)) != 1 || u == nil || u.ID != pg.UserID {
		return models.IntegrationGrant{}, expired
	}
	for _, s := range pg.Sites {
		if s.CloudID == c.FormValue("site") {
			pg.Grant.CloudID, pg.Grant.SiteURL = s.CloudID, s.URL
			return pg.Grant, nil
		}
	}
	return models.IntegrationGrant{}, userError("Choose one of the listed sites." + msgNothingSaved + " Start again from Integrate.")
}
