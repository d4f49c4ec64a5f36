package models

import "strings"

// Sort is a list's order as the URL carries it: a column key, "-key" for
// descending. Each list maps its keys to SQL (a whitelist): an unknown key
// is the list's default order.
type Sort string

// Key is the column key without the direction.
func (s Sort) Key() string { return strings.TrimPrefix(string(s), "-") }

// Desc reports a descending order.
func (s Sort) Desc() bool { return strings.HasPrefix(string(s), "-") }

// orderBy is the ORDER BY of s over columns (key → SQL expression), then
// tie, or def when the key is unknown.
func (s Sort) orderBy(columns map[string]string, tie, def string) string {
	col, ok := columns[s.Key()]
	if !ok {
		return def
	}
	if s.Desc() {
		col += " DESC"
	}
	return col + ", " + tie
}

var (
	accountSorts = map[string]string{"name": "name", "provider": "provider", "external_id": "external_id", "max": "max_duration_minutes"}
	userSorts    = map[string]string{"email": "email", "name": "name", "role": "role", "created": "created_at"}
	requestSorts = map[string]string{
		"id": "access_requests.id", "status": "access_requests.status", "duration": "access_requests.duration_minutes",
		"account":   "(SELECT a.name FROM cloud_accounts a WHERE a.id = access_requests.account_id)",
		"requester": "(SELECT u.email FROM users u WHERE u.id = access_requests.requester_id)",
	}
)
