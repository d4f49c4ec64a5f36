package jirasim

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// jqlQuery is a parsed JQL subset: clauses joined by AND, then ORDER BY.
type jqlQuery struct {
	clauses []jqlClause
	order   []jqlOrder
}

type jqlClause struct {
	field  string // lower case, aliases resolved
	op     string // = != in "not in" ~ > >= < <= "is" "is not"
	values []string
}

type jqlOrder struct {
	field string
	desc  bool
}

// jqlFields are the searchable fields (aliases map to canonical names).
func jqlField(name string) (string, bool) {
	switch n := strings.ToLower(name); n {
	case "project", "labels", "status", "summary", "created", "updated", "resolution":
		return n, true
	case "key", "issuekey", "id":
		return "key", true
	case "statuscategory":
		return "statuscategory", true
	case "issuetype", "type":
		return "issuetype", true
	}
	return "", false
}

// lexJQL splits JQL into tokens; quoted strings keep a leading quote marker.
func lexJQL(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '(' || ch == ')' || ch == ',':
			toks = append(toks, string(ch))
			i++
		case ch == '"' || ch == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != ch; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, errors.New("unterminated string")
			}
			toks = append(toks, "\""+b.String())
			i = j + 1
		case strings.ContainsRune("=!<>~", rune(ch)):
			j := i + 1
			if j < len(s) && (s[j] == '=' || s[j] == '~') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n(),=!<>~\"'", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

// parseJQL parses `a = x AND b in (y, z) ORDER BY created DESC`.
func parseJQL(s string) (jqlQuery, error) {
	toks, err := lexJQL(s)
	if err != nil {
		return jqlQuery{}, err
	}
	var q jqlQuery
	pos := 0
	peek := func() string {
		if pos < len(toks) {
			return toks[pos]
		}
		return ""
	}
	next := func() string { t := peek(); pos++; return t }
	kw := func(t, want string) bool { return strings.EqualFold(t, want) }
	value := func() (string, error) {
		t := next()
		switch {
		case t == "" || t == "(" || t == ")" || t == ",":
			return "", fmt.Errorf("expecting a value but got %q", t)
		case strings.HasPrefix(t, "\""):
			return t[1:], nil
		}
		return t, nil
	}
	for pos < len(toks) && !kw(peek(), "order") {
		if len(q.clauses) > 0 {
			switch t := next(); {
			case kw(t, "and"):
			case kw(t, "or"):
				return q, errors.New("OR is not supported by the simulator")
			default:
				return q, fmt.Errorf("expecting AND but got %q", t)
			}
		}
		raw := next()
		field, known := jqlField(strings.TrimPrefix(raw, "\""))
		if !known {
			return q, fmt.Errorf("Field '%s' does not exist or you do not have permission to view it.", strings.TrimPrefix(raw, "\"")) //nolint:staticcheck // Jira's wording
		}
		cl := jqlClause{field: field, op: strings.ToLower(next())}
		switch cl.op {
		case "not":
			if !kw(next(), "in") {
				return q, errors.New("expecting IN after NOT")
			}
			cl.op = "not in"
			fallthrough
		case "in":
			if next() != "(" {
				return q, errors.New("expecting '(' after IN")
			}
			for {
				v, err := value()
				if err != nil {
					return q, err
				}
				cl.values = append(cl.values, v)
				if t := next(); t == ")" {
					break
				} else if t != "," {
					return q, fmt.Errorf("expecting ',' or ')' but got %q", t)
				}
			}
		case "is":
			if kw(peek(), "not") {
				next()
				cl.op = "is not"
			}
			if v := strings.ToLower(next()); v != "empty" && v != "null" {
				return q, errors.New("expecting EMPTY after IS")
			}
		case "=", "!=", "~", ">", ">=", "<", "<=":
			v, err := value()
			if err != nil {
				return q, err
			}
			cl.values = []string{v}
		default:
			return q, fmt.Errorf("unsupported operator %q", cl.op)
		}
		q.clauses = append(q.clauses, cl)
	}
	if pos < len(toks) {
		next()
		if !kw(next(), "by") {
			return q, errors.New("expecting BY after ORDER")
		}
		for {
			field, known := jqlField(next())
			if !known {
				return q, errors.New("unsupported ORDER BY field")
			}
			o := jqlOrder{field: field}
			if kw(peek(), "desc") || kw(peek(), "asc") {
				o.desc = kw(next(), "desc")
			}
			q.order = append(q.order, o)
			if peek() != "," {
				break
			}
			next()
		}
		if len(q.order) > 7 {
			return q, errors.New("ORDER BY takes at most 7 fields")
		}
		if pos < len(toks) {
			return q, fmt.Errorf("unexpected %q", peek())
		}
	}
	return q, nil
}

// validate checks values against the instance (unknown projects are errors).
func (in *instance) validateJQL(q jqlQuery) error {
	for _, cl := range q.clauses {
		if cl.field != "project" {
			continue
		}
		for _, v := range cl.values {
			if in.project(v) == nil {
				return fmt.Errorf("The value '%s' does not exist for the field 'project'.", v) //nolint:staticcheck // Jira's wording
			}
		}
	}
	return nil
}

// relativeTime parses "-10m", "-2h", "-1d", "-1w" or a date.
func relativeTime(v string, now time.Time) (time.Time, bool) {
	if t, err := time.Parse("2006-01-02 15:04", v); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, true
	}
	if len(v) < 2 {
		return time.Time{}, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v[:len(v)-1], "+"))
	if err != nil {
		return time.Time{}, false
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[v[len(v)-1]]
	if unit == 0 {
		return time.Time{}, false
	}
	return now.Add(time.Duration(n) * unit), true
}

// matches evaluates a clause against an issue.
func (cl jqlClause) matches(is *issue, now time.Time) bool {
	var have []string
	switch cl.field {
	case "project":
		have = []string{is.project.key, is.project.id, is.project.name}
	case "labels":
		have = is.labels
	case "key":
		have = []string{is.key, strconv.Itoa(is.id)}
	case "status":
		have = []string{is.status, is.statusBean().ID}
	case "statuscategory":
		cat := categoryOf(is.statusBean().Category)
		have = []string{cat.Key, cat.Name, strconv.Itoa(cat.ID)}
	case "issuetype":
		have = []string{is.issueType.name, is.issueType.id}
	case "resolution":
		if is.resolution != "" {
			have = []string{is.resolution}
		}
	case "summary":
		have = []string{is.summary}
	case "created", "updated":
		t := is.created
		if cl.field == "updated" {
			t = is.updated
		}
		if len(cl.values) == 0 {
			return cl.op == "is not"
		}
		bound, valid := relativeTime(cl.values[0], now)
		if !valid {
			return false
		}
		switch cl.op {
		case ">":
			return t.After(bound)
		case ">=":
			return !t.Before(bound)
		case "<":
			return t.Before(bound)
		case "<=":
			return !t.After(bound)
		}
		return false
	}
	anyEqual := slices.ContainsFunc(have, func(h string) bool {
		return slices.ContainsFunc(cl.values, func(v string) bool { return strings.EqualFold(h, v) })
	})
	switch cl.op {
	case "=", "in":
		return anyEqual
	case "!=", "not in":
		return !anyEqual
	case "is":
		return len(have) == 0
	case "is not":
		return len(have) > 0
	case "~":
		return slices.ContainsFunc(have, func(h string) bool {
			return strings.Contains(strings.ToLower(h), strings.ToLower(strings.Trim(cl.values[0], "*")))
		})
	}
	return false
}

// compareBy orders two issues by one field.
func compareBy(a, b *issue, field string) int {
	switch field {
	case "created":
		return a.created.Compare(b.created)
	case "updated":
		return a.updated.Compare(b.updated)
	case "summary":
		return strings.Compare(a.summary, b.summary)
	case "status":
		return strings.Compare(a.status, b.status)
	case "project":
		return strings.Compare(a.project.key, b.project.key)
	case "key":
		if c := strings.Compare(a.project.key, b.project.key); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.id, b.id)
}

// run evaluates the query: matching issues, visible ones only (search lag)
// unless reconciled, in order. It advances the search lag by one call.
func (in *instance) run(q jqlQuery, now time.Time, reconcile []string) []*issue {
	var out []*issue
	for _, is := range in.issues {
		if is.hiddenFor > 0 && !slices.Contains(reconcile, strconv.Itoa(is.id)) {
			continue
		}
		if !slices.ContainsFunc(q.clauses, func(cl jqlClause) bool { return !cl.matches(is, now) }) {
			out = append(out, is)
		}
	}
	for _, is := range in.issues {
		if is.hiddenFor > 0 {
			is.hiddenFor--
		}
	}
	slices.SortStableFunc(out, func(a, b *issue) int {
		for _, o := range q.order {
			c := compareBy(a, b, o.field)
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a.id, b.id)
	})
	return out
}

// searchRequest is the union of GET parameters and POST bodies.
type searchRequest struct {
	jql           string
	fields        []string
	maxResults    int
	startAt       int
	nextPageToken string
	reconcile     []string
}

// readSearch reads a GET or POST search request.
func readSearch(c *call) (searchRequest, error) {
	sr := searchRequest{maxResults: -1}
	if c.r.Method == http.MethodGet {
		q := c.r.URL.Query()
		sr.jql = q.Get("jql")
		sr.fields = q["fields"]
		sr.nextPageToken = q.Get("nextPageToken")
		for _, v := range q["reconcileIssues"] {
			sr.reconcile = append(sr.reconcile, strings.Split(v, ",")...)
		}
		var err error
		for name, dst := range map[string]*int{"maxResults": &sr.maxResults, "startAt": &sr.startAt} {
			if raw := q.Get(name); raw != "" {
				if *dst, err = strconv.Atoi(raw); err != nil || *dst < 0 {
					return sr, fmt.Errorf("%s must be a non-negative integer", name)
				}
			}
		}
		return sr, nil
	}
	body, err := c.decode()
	if err != nil {
		return sr, err
	}
	sr.jql, _ = body["jql"].(string)
	sr.nextPageToken, _ = body["nextPageToken"].(string)
	if f, isString := body["fields"].(string); isString {
		sr.fields = []string{f}
	}
	for _, f := range asSlice(body["fields"]) {
		if s, isString := f.(string); isString {
			sr.fields = append(sr.fields, s)
		}
	}
	for _, id := range asSlice(body["reconcileIssues"]) {
		if n, isNumber := id.(float64); isNumber {
			sr.reconcile = append(sr.reconcile, strconv.Itoa(int(n)))
		}
	}
	if n, isNumber := body["maxResults"].(float64); isNumber {
		sr.maxResults = int(n)
	}
	if n, isNumber := body["startAt"].(float64); isNumber {
		sr.startAt = int(n)
	}
	return sr, nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// searchJQL is Cloud GET/POST /search/jql: nextPageToken paging, no total,
// only ids unless fields are given, bounded JQL required, reconcileIssues
// bypasses the search lag.
func (in *instance) searchJQL(c *call) reply {
	sr, err := readSearch(c)
	if err != nil {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	q, err := parseJQL(sr.jql)
	if err == nil {
		err = in.validateJQL(q)
	}
	if err != nil {
		return errorReply(http.StatusBadRequest, "Error in the JQL Query: "+err.Error())
	}
	if len(q.clauses) == 0 {
		return errorReply(http.StatusBadRequest, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
	}
	if len(sr.reconcile) > 50 {
		return errorReply(http.StatusBadRequest, "reconcileIssues accepts at most 50 issue ids.")
	}
	sel := parseFields(sr.fields, "id")
	limit := 100
	if sel.onlyID() {
		limit = 5000
	}
	size := sr.maxResults
	if size < 0 {
		size = 50
	}
	size = min(size, limit)
	offset := 0
	if sr.nextPageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(sr.nextPageToken)
		if offset, err = strconv.Atoi(strings.TrimPrefix(string(raw), "o")); err != nil || offset < 0 {
			return errorReply(http.StatusBadRequest, "Invalid nextPageToken.")
		}
	}
	found := in.run(q, c.now, sr.reconcile)
	issues := []obj{}
	for i := offset; i < len(found) && len(issues) < size; i++ {
		if sel.onlyID() {
			issues = append(issues, obj{"id": strconv.Itoa(found[i].id)})
		} else {
			issues = append(issues, in.issueBean(found[i], sel, false))
		}
	}
	out := obj{"issues": issues, "isLast": offset+len(issues) >= len(found)}
	if offset+len(issues) < len(found) {
		out["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(offset+len(issues))))
	}
	return ok(out)
}

// searchOffset is DC GET/POST /search with startAt/total paging.
func (in *instance) searchOffset(c *call) reply {
	sr, err := readSearch(c)
	if err != nil {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	q, err := parseJQL(sr.jql)
	if err == nil {
		err = in.validateJQL(q)
	}
	if err != nil {
		return errorReply(http.StatusBadRequest, "Error in the JQL Query: "+err.Error())
	}
	size := sr.maxResults
	if size < 0 {
		size = 50
	}
	size = min(size, 1000)
	sel := parseFields(sr.fields, "*navigable")
	found := in.run(q, c.now, nil)
	issues := []obj{}
	for i := sr.startAt; i < len(found) && len(issues) < size; i++ {
		issues = append(issues, in.issueBean(found[i], sel, false))
	}
	return ok(obj{"expand": "schema,names", "startAt": sr.startAt, "maxResults": size, "total": len(found), "issues": issues})
}
