package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"

	"privilege/internal/paths"
	"privilege/jira/jirasim"
	"privilege/models"
	"privilege/sso/oidcsim"
)

// demo is the console plus the built-in Jira simulator (Cloud and Data
// Center flavours) on a fresh data dir, with seeded users and accounts. The
// console's code path is unchanged: it only sees URLs, a client id and secret
// and a trusted certificate, as with a real Atlassian-compatible server.
type demo struct {
	cfg      Config
	sim      *jirasim.Sim
	idp      *oidcsim.Provider // the built-in OpenID Connect provider ("Demo SSO")
	info     jirasim.DemoInfo
	password string
	listener net.Listener // bound by runDemo; nil: serve binds cfg.Addr
	ignored  []string     // operator settings the demo refused to use, said in the banner
}

// newDemo never touches an operator's data: it always runs on SQLite in a
// fresh temporary data dir (removed by Close), whatever PRIVILEGE_DATABASE_URL
// and PRIVILEGE_DATA_DIR say; an ignored database URL is named in the banner.
func newDemo(cfg Config) (*demo, error) {
	var ignored []string
	if cfg.DatabaseURL != "" {
		ignored = append(ignored, "PRIVILEGE_DATABASE_URL")
		cfg.DatabaseURL = ""
	}
	dir, err := os.MkdirTemp("", "privilege-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo data dir: %w", err)
	}
	cfg.DataDir = dir
	callback := paths.Absolute(cfg.BaseURL.String(), paths.JiraCallback)
	sim, info := jirasim.NewDemo(jirasim.Options{CloudRedirectURIs: []string{callback}})
	cfg.AtlassianAuthURL, cfg.AtlassianAPIURL = info.AuthURL, info.APIURL
	cfg.AtlassianClientID, cfg.AtlassianSecret = info.CloudClientID, info.CloudClientSecret
	cfg.OutboundAllowCIDRs = append(cfg.OutboundAllowCIDRs, netip.MustParsePrefix("127.0.0.0/8"))
	idp := startDemoIdP(&cfg)
	return &demo{cfg: cfg, sim: sim, idp: idp, info: info, password: randomPassword(), ignored: ignored}, nil
}

// startDemoIdP runs the built-in OpenID Connect provider (plain HTTP on
// loopback, so the browser shows no certificate warning at sign-in) and
// points single sign-on at it: its admin and approver groups, everyone else
// a requester. Local passwords stay on for the seeded users.
func startDemoIdP(cfg *Config) *oidcsim.Provider {
	base := cfg.BaseURL.String()
	idp := oidcsim.New(oidcsim.Options{
		RedirectURIs: []string{paths.Absolute(base, paths.OIDCCallback)}, PostLogoutRedirectURIs: []string{paths.Absolute(base, paths.Login)},
	})
	id, secret := idp.Client()
	cfg.OIDC = OIDCConfig{
		Issuer: idp.Issuer(), ClientID: id, ClientSecret: secret, Name: "Demo SSO",
		Scopes: []string{"openid", "email", "profile"}, GroupsClaim: "groups",
		AdminGroups: []string{"privilege-admins"}, ApproverGroups: []string{"privilege-approvers"},
		DefaultRole: models.RoleRequester,
	}
	return idp
}

// Close stops the simulators and removes the demo's temporary data dir.
func (d *demo) Close() error {
	d.sim.Close()
	d.idp.Close()
	if err := os.RemoveAll(d.cfg.DataDir); err != nil {
		return fmt.Errorf("remove demo data dir: %w", err)
	}
	return nil
}

// runDemo prints how to sign in and what to type into the Integrate form,
// then serves until ctx ends.
// It binds the listener first, so the URL it prints (and registers as the
// simulator's OAuth callback) is the one it really serves.
func runDemo(ctx context.Context, cfg Config, stdout io.Writer) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	d, err := newDemo(cfg.WithListenAddr(ln.Addr().String()))
	if err != nil {
		ln.Close()
		return err
	}
	d.listener = ln
	d.banner(stdout)
	err = d.serve(ctx, stdout)
	return errors.Join(err, d.Close())
}

func (d *demo) banner(w io.Writer) {
	for _, name := range d.ignored {
		fmt.Fprintf(w, "WARNING: privilege demo ignores %s: it never uses an operator's database; its sample data lives in a temporary directory that is removed on exit\n", name)
	}
	fmt.Fprintf(w, `Privilege demo
  console:      %s   (open this URL; data in %s, removed on exit)
  sign in:      admin@demo.test / %s   (also approver@demo.test and requester@demo.test, same password)
  Jira Cloud:   Integrations → Jira → Integrate → Name → Continue → Accept (sites "acme" and "globex")
  Jira DC:      tick Self-Hosted; Base URL %s, Client ID %s, Client secret %s
                (the simulator's TLS certificate is self-signed: your browser will warn once)
  Demo SSO:     "Sign in with Demo SSO" on the sign-in page (provider %s):
                alice (group privilege-admins → admin), bob (privilege-approvers → approver),
                carol and erin (other groups → requester), dave (email not verified → refused)
  People:       each user's profile (their email, top right) → Link Jira account → "Accept as <their name>"
`, d.cfg.BaseURL, d.cfg.DataDir, d.password, d.info.DCBaseURL, d.info.DCClientID, d.info.DCClientSecret, d.idp.Issuer())
}

func (d *demo) serve(ctx context.Context, stdout io.Writer) error {
	seed := func(s *server) {
		if err := seedDemo(ctx, s.app.store, d.password); err != nil {
			s.log.Error("seed demo data", "err", err)
		}
	}
	return serve(ctx, d.cfg, stdout, &serveOptions{rootCAs: d.sim.CertPool(), onReady: seed, listener: d.listener})
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// seedDemo creates three users and a few accounts with resources.
func seedDemo(ctx context.Context, s *models.Store, password string) error {
	actor := models.Actor{Email: "demo"}
	for _, u := range []models.NewUser{
		{Email: "admin@demo.test", Name: "Ada Admin", Role: models.RoleAdmin},
		{Email: "approver@demo.test", Name: "Bob Approver", Role: models.RoleApprover},
		{Email: "requester@demo.test", Name: "Rita Requester", Role: models.RoleRequester},
	} {
		u.Password = password
		if _, err := s.CreateUser(ctx, actor, u); err != nil {
			return err
		}
	}
	for _, in := range []models.AccountInput{
		{Provider: models.ProviderAWS, ExternalID: "123456789012", Name: "Production (AWS)", Resources: []models.ResourceInput{
			{Name: "AdministratorAccess", Kind: "permission-set"}, {Name: "ReadOnlyAccess", Kind: "permission-set"}, {Name: "BillingViewer", Kind: "role"}}},
		{Provider: models.ProviderAWS, ExternalID: "210987654321", Name: "Staging (AWS)", Resources: []models.ResourceInput{
			{Name: "PowerUserAccess", Kind: "permission-set"}, {Name: "ReadOnlyAccess", Kind: "permission-set"}}},
		{Provider: models.ProviderAzure, ExternalID: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", Name: "Data platform (Azure)", Resources: []models.ResourceInput{
			{Name: "Contributor", Kind: "role"}, {Name: "Reader", Kind: "role"}}},
		{Provider: models.ProviderGCP, ExternalID: "analytics-prod-42", Name: "Analytics (GCP)", Resources: []models.ResourceInput{
			{Name: "roles/bigquery.admin", Kind: "role"}, {Name: "roles/viewer", Kind: "role"}}},
	} {
		if _, err := s.CreateAccount(ctx, actor, in); err != nil {
			return err
		}
	}
	return nil
}
