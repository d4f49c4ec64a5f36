package models

// Hand-written statements of sync_jobs: every request change enqueues a job
// and every reconcile completes one, the per-job writes of BenchmarkSyncDrain
// and BenchmarkSyncThroughput. The insert is measured with the audit event
// it is written with (BenchmarkWriteHandVsGorm, see sql_audit_events.go:
// ≈ 30 µs less per change than gorm's Create).

// syncJobColumns are the columns insertSyncJob writes.
const syncJobColumns = `request_id, state, run_after, created_at, updated_at`

// insertSyncJob enqueues a job (arguments in syncJobColumns order).
const insertSyncJob = `INSERT INTO sync_jobs (` + syncJobColumns + `) VALUES (?, ?, ?, ?, ?)`

// deleteSettledJobs settles a completed job (request_id, id) and every
// older job of its request up to the watermark that is not running
// elsewhere (its three states: pending, failed, parked).
const deleteSettledJobs = `DELETE FROM sync_jobs WHERE request_id = ? AND (id = ? OR (id <= ? AND state IN (?, ?, ?)))`
