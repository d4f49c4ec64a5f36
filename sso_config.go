package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"

	"privilege/handlers"
	"privilege/internal/paths"
	"privilege/jira"
	"privilege/models"
	"privilege/sso"
)

// OIDCConfig is the single sign-on part of the configuration (design.md §11).
type OIDCConfig struct {
	Issuer         string // empty: no single sign-on
	ClientID       string
	ClientSecret   string
	Name           string
	Scopes         []string
	GroupsClaim    string
	AdminGroups    []string
	ApproverGroups []string
	DefaultRole    models.Role
}

// Enabled reports whether single sign-on is configured.
func (o OIDCConfig) Enabled() bool { return o.Issuer != "" }

// loadOIDCConfig reads PRIVILEGE_OIDC_* and PRIVILEGE_LOCAL_LOGIN, adding
// every problem to errs.
func loadOIDCConfig(getenv func(string) string, errs *[]error) (OIDCConfig, handlers.LocalLogin) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	o := OIDCConfig{
		Issuer:         get("PRIVILEGE_OIDC_ISSUER", ""),
		ClientID:       get("PRIVILEGE_OIDC_CLIENT_ID", ""),
		ClientSecret:   get("PRIVILEGE_OIDC_CLIENT_SECRET", ""),
		Name:           get("PRIVILEGE_OIDC_NAME", "SSO"),
		Scopes:         strings.Fields(get("PRIVILEGE_OIDC_SCOPES", "openid email profile")),
		GroupsClaim:    get("PRIVILEGE_OIDC_GROUPS_CLAIM", "groups"),
		AdminGroups:    splitList(getenv("PRIVILEGE_OIDC_ADMIN_GROUPS")),
		ApproverGroups: splitList(getenv("PRIVILEGE_OIDC_APPROVER_GROUPS")),
		DefaultRole:    models.Role(get("PRIVILEGE_OIDC_DEFAULT_ROLE", "")),
	}
	localDefault := handlers.LocalLoginAll
	if o.Enabled() {
		localDefault = handlers.LocalLoginAdmins
		if u, err := url.Parse(o.Issuer); err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
			(u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
			*errs = append(*errs, fmt.Errorf("PRIVILEGE_OIDC_ISSUER must be the provider's https:// issuer URL, exactly as its discovery document states it (http only on loopback), got %q", o.Issuer))
		}
		if o.ClientID == "" {
			*errs = append(*errs, errors.New("PRIVILEGE_OIDC_CLIENT_ID is required with PRIVILEGE_OIDC_ISSUER"))
		}
		if !slices.Contains(o.Scopes, "openid") {
			*errs = append(*errs, fmt.Errorf("PRIVILEGE_OIDC_SCOPES must include openid, got %q", strings.Join(o.Scopes, " ")))
		}
		if len(o.AdminGroups) == 0 && len(o.ApproverGroups) == 0 && o.DefaultRole == "" {
			*errs = append(*errs, errors.New("single sign-on would refuse everyone: set PRIVILEGE_OIDC_ADMIN_GROUPS, PRIVILEGE_OIDC_APPROVER_GROUPS or PRIVILEGE_OIDC_DEFAULT_ROLE"))
		}
	} else {
		for _, name := range []string{"PRIVILEGE_OIDC_CLIENT_ID", "PRIVILEGE_OIDC_CLIENT_SECRET", "PRIVILEGE_OIDC_NAME", "PRIVILEGE_OIDC_SCOPES",
			"PRIVILEGE_OIDC_GROUPS_CLAIM", "PRIVILEGE_OIDC_ADMIN_GROUPS", "PRIVILEGE_OIDC_APPROVER_GROUPS", "PRIVILEGE_OIDC_DEFAULT_ROLE"} {
			if strings.TrimSpace(getenv(name)) != "" {
				*errs = append(*errs, fmt.Errorf("%s is set but PRIVILEGE_OIDC_ISSUER is not", name))
			}
		}
	}
	if o.DefaultRole != "" && o.DefaultRole != models.RoleRequester {
		*errs = append(*errs, fmt.Errorf("PRIVILEGE_OIDC_DEFAULT_ROLE must be requester or empty (refuse users in no group), got %q", o.DefaultRole))
	}
	ll := handlers.LocalLogin(get("PRIVILEGE_LOCAL_LOGIN", string(localDefault)))
	switch {
	case !ll.Valid():
		*errs = append(*errs, fmt.Errorf("PRIVILEGE_LOCAL_LOGIN must be all, admins or off, got %q", ll))
	case ll != handlers.LocalLoginAll && !o.Enabled():
		*errs = append(*errs, fmt.Errorf("PRIVILEGE_LOCAL_LOGIN=%s needs single sign-on (PRIVILEGE_OIDC_ISSUER): nobody else could sign in", ll))
	}
	return o, ll
}

func splitList(raw string) []string {
	var out []string
	for _, f := range strings.Split(raw, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// logSignInConfig reports how people sign in, at start (secrets never logged).
func logSignInConfig(log *slog.Logger, c Config) {
	if !c.OIDC.Enabled() {
		log.Info("sign-in", "local_login", string(c.LocalLogin), "single_sign_on", false)
		return
	}
	o := c.OIDC
	log.Info("sign-in", "local_login", string(c.LocalLogin), "single_sign_on", true,
		"oidc_issuer", o.Issuer, "oidc_client_id", o.ClientID, "oidc_client_secret_set", o.ClientSecret != "",
		"oidc_name", o.Name, "oidc_scopes", strings.Join(o.Scopes, " "), "oidc_groups_claim", o.GroupsClaim,
		"oidc_admin_groups", strings.Join(o.AdminGroups, ","), "oidc_approver_groups", strings.Join(o.ApproverGroups, ","),
		"oidc_default_role", string(o.DefaultRole), "oidc_redirect_uri", paths.Absolute(c.BaseURL.String(), paths.OIDCCallback))
}

// newSSOClient is the relying party, calling the provider through the same
// guarded HTTP client as Jira (SSRF guard at connect time, SSL_CERT_FILE);
// nil without single sign-on.
func newSSOClient(c Config, roots *x509.CertPool) *sso.Client {
	if !c.OIDC.Enabled() {
		return nil
	}
	o := c.OIDC
	return sso.New(sso.Config{
		Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, Name: o.Name, Scopes: o.Scopes,
		RedirectURL: paths.Absolute(c.BaseURL.String(), paths.OIDCCallback), GroupsClaim: o.GroupsClaim,
		AdminGroups: o.AdminGroups, ApproverGroups: o.ApproverGroups, DefaultRole: o.DefaultRole,
		HTTPClient: jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: c.OutboundAllowCIDRs, RootCAs: roots}),
	})
}
