package views

import (
	"strconv"
	"time"

	"privilege/models"
)

// when formats a timestamp for tables.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// whenPtr formats an optional timestamp.
func whenPtr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return when(*t)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func idURL(prefix string, id int64, suffix string) string {
	return prefix + strconv.FormatInt(id, 10) + suffix
}

func passwordHint() string {
	return "At least " + strconv.Itoa(models.MinPasswordLength) + " characters."
}

// toggle is b when cur is a, else a (a column clicked twice reverses).
func toggle(cur, a, b string) string {
	if cur == a {
		return b
	}
	return a
}
