package models

// Hand-written statement of api_tokens: every API call authenticates its
// token, the first query of each of the 2 API calls per request of
// BenchmarkSyncThroughput (≈ 265–325 requests/s; README's benchmark
// figures). Not measured on its own: it is the same shape as the request
// read (a row joined to its user), which gorm's Joins makes ≈ 2.6× dearer
// (BenchmarkRequestReadHandVsGorm, sql_access_requests.go).

// apiTokenColumns are the columns of api_tokens selectTokenByHash reads, in
// the order AuthenticateToken scans them.
const apiTokenColumns = `t.id, t.user_id, t.name, t.prefix, t.created_by_id, t.created_at, t.revoked_at, t.last_used_at`

// selectTokenByHash reads a token (apiTokenColumns) and its user by the
// token's hash.
const selectTokenByHash = `SELECT ` + apiTokenColumns + `,
	u.id, u.email, u.name, u.role, u.disabled, u.sessions_valid_after, u.created_at, u.updated_at
	FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`
