package models

// Hand-written statements of jira_issue_links: every request creates its
// link, and the sync path writes it once per job (recording a create
// attempt, then the job's outcome): per-job writes of BenchmarkSyncDrain
// (≈ 400–540 requests/s) and BenchmarkSyncThroughput (≈ 265–325
// requests/s; README's benchmark figures).

// jiraIssueLinkColumns are the columns insertJiraIssueLink writes.
const jiraIssueLinkColumns = `request_id, sync_state, created_at, updated_at`

// insertJiraIssueLink creates a request's link (arguments in
// jiraIssueLinkColumns order).
const insertJiraIssueLink = `INSERT INTO jira_issue_links (` + jiraIssueLinkColumns + `) VALUES (?, ?, ?, ?)`

// recordCreateAttempt notes, before the create call, that an issue may come
// to exist: integration_id, project_key, create_attempted_at, updated_at,
// then request_id.
const recordCreateAttempt = `UPDATE jira_issue_links SET integration_id = ?, project_key = ?, create_attempted_at = ?, updated_at = ?
	WHERE request_id = ?`

// updateLinkOutcome saves a job's outcome: sync_state, last_error,
// updated_at, then the progress (linkProgressArgs), then request_id. An
// empty issue key or Jira status and a zero event id keep what is saved;
// applied_event_id only grows; a refused create (no issue recorded) clears
// create_attempted_at.
const updateLinkOutcome = `UPDATE jira_issue_links SET sync_state = ?, last_error = ?, updated_at = ?,
	issue_id = CASE WHEN ? = '' THEN issue_id ELSE ? END,
	issue_key = CASE WHEN ? = '' THEN issue_key ELSE ? END,
	issue_url = CASE WHEN ? = '' THEN issue_url ELSE ? END,
	jira_status = CASE WHEN ? = '' THEN jira_status ELSE ? END,
	applied_event_id = CASE WHEN applied_event_id < ? THEN ? ELSE applied_event_id END,
	create_attempted_at = CASE WHEN ? AND issue_key = '' THEN NULL ELSE create_attempted_at END
	WHERE request_id = ?`

// updateLinkSynced is updateLinkOutcome for a job that brought the task in
// step: the state is synced unless a newer job is still queued (request_id,
// watermark, pending, running, then the two states), then last_synced_at,
// last_error, updated_at, the progress and request_id.
const updateLinkSynced = `UPDATE jira_issue_links SET
	sync_state = CASE WHEN EXISTS (SELECT 1 FROM sync_jobs WHERE request_id = ? AND id > ? AND state IN (?, ?)) THEN ? ELSE ? END,
	last_synced_at = ?, last_error = ?, updated_at = ?,
	issue_id = CASE WHEN ? = '' THEN issue_id ELSE ? END,
	issue_key = CASE WHEN ? = '' THEN issue_key ELSE ? END,
	issue_url = CASE WHEN ? = '' THEN issue_url ELSE ? END,
	jira_status = CASE WHEN ? = '' THEN jira_status ELSE ? END,
	applied_event_id = CASE WHEN applied_event_id < ? THEN ? ELSE applied_event_id END,
	create_attempted_at = CASE WHEN ? AND issue_key = '' THEN NULL ELSE create_attempted_at END
	WHERE request_id = ?`

// linkProgressArgs are the arguments of the progress part of
// updateLinkOutcome and updateLinkSynced. The issue's id and URL come with
// its key: all three are saved when the key is known.
func linkProgressArgs(p SyncProgress) []any {
	return []any{p.IssueKey, p.IssueID, p.IssueKey, p.IssueKey, p.IssueKey, p.IssueURL, p.JiraStatus, p.JiraStatus, p.AppliedEventID, p.AppliedEventID, p.CreateRefused}
}
