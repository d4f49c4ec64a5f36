package views

import (
	"net/url"
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

// SortState is a list's current order and how to link to another one.
type SortState struct {
	Path    string     // the list's path
	Keep    url.Values // filters kept across sorts (not page)
	Current string     // "key" or "-key"; "" is the list's default
	Default string     // what "" means, e.g. "name" or "-id"
}

// Link sorts by key, reversing when already sorted by it.
func (s SortState) Link(key string) string {
	cur := s.Current
	if cur == "" {
		cur = s.Default
	}
	next := key
	if cur == key {
		next = "-" + key
	}
	q := url.Values{}
	for k, v := range s.Keep {
		if len(v) > 0 && v[0] != "" {
			q.Set(k, v[0])
		}
	}
	q.Set("sort", next)
	return s.Path + "?" + q.Encode()
}

// Mark is the arrow of the active column ("" when not sorted by key).
func (s SortState) Mark(key string) string {
	cur := s.Current
	if cur == "" {
		cur = s.Default
	}
	switch cur {
	case key:
		return " ▲"
	case "-" + key:
		return " ▼"
	}
	return ""
}

func ariaSort(mark string) string {
	if mark == " ▼" {
		return "descending"
	}
	return "ascending"
}
