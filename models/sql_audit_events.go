package models

// Hand-written statement of audit_events: every change writes one, inside
// the write transactions of BenchmarkRequestPath (create, decide) and
// BenchmarkSyncThroughput (≈ 265–325 requests/s; README's benchmark figures).

// auditEventColumns are the columns insertAuditEvent writes.
const auditEventColumns = `at, actor_id, actor_email, action, target_type, target_id, detail, ip, api_token_id`

// insertAuditEvent records one event (arguments in auditEventColumns order).
const insertAuditEvent = `INSERT INTO audit_events (` + auditEventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
