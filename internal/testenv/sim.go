// Package testenv sets up the Jira side of a test once: the simulator, the
// console's guarded HTTP client and OAuth against it, an integration
// connected by the simulator's consent page, and a linked project. It is for
// _test.go files only (depguard: testenv-only-in-tests).
package testenv

import (
	"net/http"
	"net/netip"
	"testing"

	"privilege/jira"
	"privilege/jira/jirasim"
)

// Callback is the console's Jira callback at the tests' origin
// (http://privilege.test), registered on the simulator's 3LO app by tests
// that give consent through the store rather than a browser.
const Callback = "http://privilege.test/integrations/jira/callback"

// Loopback is the outbound allowlist that reaches the in-process simulators.
func Loopback() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }

// StartSim starts the Jira simulator; it closes when tb ends.
func StartSim(tb testing.TB, opts jirasim.Options) *jirasim.Sim {
	tb.Helper()
	sim := jirasim.New(opts)
	tb.Cleanup(sim.Close)
	return sim
}

// AddAcme adds the standard Cloud site "acme" with project OPS "Operations"
// (SimpleWorkflow).
func AddAcme(sim *jirasim.Sim) *jirasim.Site {
	site := sim.AddCloudSite("acme")
	site.AddProject("OPS", "Operations", jirasim.SimpleWorkflow())
	return site
}

// HTTPClient is the console's guarded outbound client, allowed to reach
// loopback and trusting the simulator's self-signed certificates (Data
// Center, and Cloud when it runs on TLS).
func HTTPClient(sim *jirasim.Sim) *http.Client {
	return jira.NewHTTPClient(jira.OutboundConfig{AllowCIDRs: Loopback(), RootCAs: sim.CertPool()})
}

// OAuthConfig is the console's OAuth configuration for the simulator's Cloud
// app (Data Center clients come with each integration), calling back to
// redirect through hc.
func OAuthConfig(sim *jirasim.Sim, hc *http.Client, redirect string) jira.OAuthConfig {
	id, secret := sim.CloudClient()
	return jira.OAuthConfig{AuthURL: sim.AuthURL(), APIURL: sim.APIURL(), CloudClientID: id, CloudClientSecret: secret,
		RedirectURL: redirect, HTTPClient: hc}
}
