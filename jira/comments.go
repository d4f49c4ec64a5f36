package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// HasComment reports whether one of the latest 100 comments contains
// text. The syncer uses it before commenting again after an attempt that may
// have posted the comment already (a crash or a dropped connection).
func (c *Client) HasComment(ctx context.Context, key, text string) (bool, error) {
	var page struct {
		Comments []struct {
			Body json.RawMessage `json:"body"`
		} `json:"comments"`
	}
	q := url.Values{"orderBy": {"-created"}, "maxResults": {"100"}}
	if err := c.do(ctx, call{op: "list_comments", method: http.MethodGet, path: "/issue/" + url.PathEscape(key) + "/comment", query: q, out: &page}); err != nil {
		return false, fmt.Errorf("jira: read comments of %s: %w", key, err)
	}
	needle := []byte(text)
	for _, cm := range page.Comments {
		if bytes.Contains(cm.Body, needle) {
			return true, nil
		}
	}
	return false, nil
}
