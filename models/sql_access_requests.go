package models

// Hand-written statements of access_requests. Reading a request (its page,
// the API, each decision, each sync job) and creating one are the hot path
// of BenchmarkRequestPath. BenchmarkRequestReadHandVsGorm: the read by hand
// ≈ 80 µs, 17.6 kB, 351 allocations; the same read through gorm's Joins and
// Preload ≈ 211 µs, 84 kB, 1,132 allocations (2-core machine, idle), most of
// it building SQL and reflecting over structs. A request is read three to
// four times on its way (create, decision, sync), so gorm would add ≈ 0.4–0.5
// ms per request, beside the ≈ 1.5–1.9 ms the two API calls of
// BenchmarkSyncThroughput cost in all (README's benchmark figures).

// accessRequestColumns are the columns of access_requests the statements
// write and read, in the order scanRequest scans them (after id).
const accessRequestColumns = `requester_id, account_id, duration_minutes, justification, status,
	decided_by_id, decided_at, decision_reason, pending_until, access_ends_at, created_at, updated_at`

// insertAccessRequest creates a request (arguments in accessRequestColumns
// order) and answers its id.
const insertAccessRequest = `INSERT INTO access_requests (` + accessRequestColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// selectRequest reads request id (r.*: id, then accessRequestColumns) with
// its requester, account, decider and Jira link. Password hashes and
// session data are not read.
const selectRequest = `SELECT r.*, ` + requestJoinColumns + requestFrom

// selectRequestWithWatermark is selectRequest after the newest sync job of
// the request, read in the same statement (one snapshot) as the request's
// state: see SyncWork.Watermark.
const selectRequestWithWatermark = `SELECT (SELECT COALESCE(MAX(j.id), 0) FROM sync_jobs j WHERE j.request_id = r.id), r.*, ` +
	requestJoinColumns + requestFrom

// requestJoinColumns are what selectRequest reads of the tables it joins.
const requestJoinColumns = `u.email, u.name, u.role, u.disabled, u.created_at, u.updated_at,
	a.provider, a.external_id, a.name, a.max_duration_minutes, a.project_link_id, a.created_at, a.updated_at,
	d.email, d.name, d.role, d.disabled,
	l.request_id, l.integration_id, l.project_key, l.issue_id, l.issue_key, l.issue_url, l.jira_status, l.applied_event_id,
	l.sync_state, l.last_error, l.create_attempted_at, l.last_synced_at, l.created_at, l.updated_at`

const requestFrom = `
FROM (SELECT id, ` + accessRequestColumns + ` FROM access_requests WHERE id = ?) r
JOIN users u ON u.id = r.requester_id
JOIN cloud_accounts a ON a.id = r.account_id
LEFT JOIN users d ON d.id = r.decided_by_id
LEFT JOIN jira_issue_links l ON l.request_id = r.id`
