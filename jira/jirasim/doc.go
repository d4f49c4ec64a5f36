// Package jirasim is an in-process simulator of the Atlassian services the
// jira package talks to: the Atlassian OAuth 2.0 (3LO) authorization server,
// the Jira Cloud API gateway (REST v3 with Atlassian Document Format), and any
// number of Jira Data Center instances (REST v2 with wiki-markup strings and
// the DC OAuth 2.0 provider with PKCE).
//
// It is used by tests across the project and by `privilege demo`, so it holds
// no testing.T and runs real HTTP(S) servers on loopback. A Sim owns:
//
//   - an auth server (AuthURL): GET/POST /authorize (HTML consent page) and
//     POST /oauth/token (authorization_code and rotating refresh_token grants);
//   - an API gateway (APIURL): /oauth/token/accessible-resources and
//     /ex/jira/{cloudId}/rest/api/3/...;
//   - a "site" server that stands in for https://{name}.atlassian.net: it serves
//     /browse/{key} pages (the issue as Jira shows it, with a button per
//     available transition, taken as the connected user on POST) and rejects
//     bearer tokens on /rest/* with 401;
//   - one TLS server per Data Center instance, honouring its context path.
//
// Everything the simulator does is driven by a clock (Options.Now, usually a
// *Clock) so token, code and refresh-token expiry can be tested without
// sleeping. Sim.Advance shifts the simulator's view of time on top of that.
//
// Behaviour follows the project's shared docs/jira-api.md §7 and §8; the conformance test
// validates every implemented 2xx response against the OpenAPI
// documents copied into testdata/. See the notes on each exported type for the exact
// rules that are enforced.
package jirasim
