package models

// Hand-written statements of request_resources: part of reading and creating
// a request (see sql_access_requests.go, BenchmarkRequestPath).

// requestResourceColumns are the columns the statements write and read
// (besides id and request_id).
const requestResourceColumns = `name, kind`

// insertRequestResource adds a resource to request_id and answers its id.
const insertRequestResource = `INSERT INTO request_resources (request_id, ` + requestResourceColumns + `) VALUES (?, ?, ?) RETURNING id`

// selectRequestResources reads a request's resources (id, then
// requestResourceColumns) in order.
const selectRequestResources = `SELECT id, ` + requestResourceColumns + ` FROM request_resources WHERE request_id = ? ORDER BY id`
