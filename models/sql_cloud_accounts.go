package models

// Hand-written statements of cloud_accounts and its account_resources: every
// new request reads its account (CreateRequest in BenchmarkRequestPath; see
// sql_access_requests.go).

// cloudAccountColumns are the columns selectAccount reads, in the order
// AccountByID scans them.
const cloudAccountColumns = `id, provider, external_id, name, max_duration_minutes, project_link_id, created_at, updated_at`

// selectAccount reads an account by id.
const selectAccount = `SELECT ` + cloudAccountColumns + ` FROM cloud_accounts WHERE id = ?`

// accountResourceColumns are the columns selectAccountResources reads.
const accountResourceColumns = `id, name, kind`

// selectAccountResources reads an account's resources by name.
const selectAccountResources = `SELECT ` + accountResourceColumns + ` FROM account_resources WHERE account_id = ? ORDER BY name`
