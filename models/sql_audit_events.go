package models

// Hand-written statement of audit_events: every change writes one, inside
// the write transactions of BenchmarkRequestPath (create, decide) and
// BenchmarkSyncThroughput. BenchmarkWriteHandVsGorm: an audit event and a
// sync job in one SQLite transaction ≈ 153 µs, 109 allocations by hand,
// ≈ 184 µs, 202 allocations through gorm's Create (2-core machine, idle):
// ≈ 30 µs per change, two to three changes per request.

// auditEventColumns are the columns insertAuditEvent writes.
const auditEventColumns = `at, actor_id, actor_email, action, target_type, target_id, detail, ip, api_token_id`

// insertAuditEvent records one event (arguments in auditEventColumns order).
const insertAuditEvent = `INSERT INTO audit_events (` + auditEventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
