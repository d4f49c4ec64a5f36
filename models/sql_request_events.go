package models

// Hand-written statements of request_events: every change of a request
// writes one and every read of a request reads them (see
// sql_access_requests.go, BenchmarkRequestPath).

// requestEventColumns are the columns the statements write and read
// (besides id and request_id).
const requestEventColumns = `kind, actor_id, actor_email, reason, at, api_token_id, via`

// insertRequestEvent appends an event to request_id and answers its id.
const insertRequestEvent = `INSERT INTO request_events (request_id, ` + requestEventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// selectRequestEvents reads a request's events (id, then
// requestEventColumns) in order.
const selectRequestEvents = `SELECT id, ` + requestEventColumns + ` FROM request_events WHERE request_id = ? ORDER BY id`
