// Package models holds Privilege's data and rules: typed entities, the Store
// that wraps gorm for SQLite and PostgreSQL, schema migrations and the
// transactional outbox of Jira sync jobs. It imports nothing else of ours.
package models
