// Package jira talks to Jira Cloud (REST v3 through the Atlassian API gateway)
// and Jira Data Center (REST v2 under the instance base URL) behind one Go API:
// OAuth consent and token refresh, projects and workflows, and the syncer that
// keeps one Jira issue per access request in step with the request.
package jira
