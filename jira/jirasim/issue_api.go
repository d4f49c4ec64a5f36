package jirasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Jira's error texts (the shapes are documented; the wording is best effort).
const (
	msgNotADF       = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
	msgNotString    = "Operation value must be a string"
	msgIssueMissing = "Issue does not exist or you do not have permission to see it."
)

func msgNotOnScreen(field string) string {
	return "Field '" + field + "' cannot be set. It is not on the appropriate screen, or unknown."
}

// richText validates a description or comment body of call c: an ADF
// document on Cloud (checked before sim.mu was taken when it came in the
// body), a string on DC. It returns the error text for errors[field].
func (in *instance) richText(c *call, v any) (string, bool) {
	if in.flavor == flavorDC {
		if _, isString := v.(string); !isString {
			return msgNotString, false
		}
		return "", true
	}
	checked, err := c.adf.result(v)
	if !checked {
		err = in.sim.adf.validate(v)
	}
	if err != nil {
		in.sim.logf("jirasim: invalid ADF: %v", err)
		return msgNotADF, false
	}
	return "", true
}

// idOrKey reads {"id":..} / {"key":..} / {"name":..} references (strings or numbers).
func refValue(v any, keys ...string) string {
	m, isObject := v.(map[string]any)
	if !isObject {
		return ""
	}
	for _, k := range keys {
		switch x := m[k].(type) {
		case string:
			return x
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	return ""
}

// validateLabels checks a labels array.
func validateLabels(v any) ([]string, string) {
	arr, isArray := v.([]any)
	if !isArray {
		return nil, "Operation value must be an array of strings."
	}
	var out []string
	for _, e := range arr {
		l, isString := e.(string)
		switch {
		case !isString:
			return nil, "Operation value must be an array of strings."
		case strings.ContainsAny(l, " \t\r\n"):
			return nil, "The label '" + l + "' contains spaces which is invalid."
		case l == "":
			return nil, "Labels cannot be empty."
		case utf8.RuneCountInString(l) > 255:
			return nil, "The label '" + l + "' exceeds the 255 character limit."
		}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, ""
}

// validateSummary checks a summary value.
func validateSummary(v any) (string, string) {
	s, isString := v.(string)
	switch {
	case v == nil || (isString && strings.TrimSpace(s) == ""):
		return "", "You must specify a summary of the issue."
	case !isString:
		return "", "Operation value must be a string"
	case utf8.RuneCountInString(s) > 255:
		return "", "Summary must be less than 255 characters."
	case strings.ContainsAny(s, "\r\n"):
		return "", "The summary is invalid because it contains newline characters."
	}
	return s, ""
}

// createIssue is POST /issue.
func (in *instance) createIssue(c *call) reply {
	body, err := c.decode()
	if err != nil {
		return errorReply(http.StatusBadRequest, "Unexpected character in request body: "+err.Error())
	}
	fields, _ := body["fields"].(map[string]any)
	if fields == nil {
		return errorReply(http.StatusBadRequest, "Request body must contain 'fields'.")
	}
	errs := map[string]string{}
	p := in.project(refValue(fields["project"], "key", "id"))
	if p == nil {
		errs["project"] = "Specify a valid project ID or key"
		return fieldErrors(http.StatusBadRequest, errs)
	}
	if p.noCreate {
		return errorReply(http.StatusBadRequest, "You do not have permission to create issues in this project.")
	}
	t, found := p.issueType(refValue(fields["issuetype"], "id", "name"))
	switch {
	case fields["issuetype"] == nil:
		errs["issuetype"] = "Specify an issue type"
	case !found:
		errs["issuetype"] = "Specify a valid issue type"
	case t.subtask && fields["parent"] == nil:
		errs["parent"] = "Given parent work item does not belong to appropriate hierarchy."
	}
	summary, msg := validateSummary(fields["summary"])
	if msg != "" {
		errs["summary"] = msg
	}
	var labels []string
	if v, has := fields["labels"]; has && v != nil {
		if labels, msg = validateLabels(v); msg != "" {
			errs["labels"] = msg
		}
	}
	if v, has := fields["description"]; has && v != nil {
		if msg, valid := in.richText(c, v); !valid {
			errs["description"] = msg
		}
	}
	custom := map[string]any{}
	reporter, assignee := in.validatePeople(p, fields, in.caller(c), errs)
	allowed := []string{"project", "issuetype", "summary", "labels", "description", "reporter", "assignee", "parent"}
	for _, f := range p.requiredFields(t.name) {
		v, present := fields[f.id]
		if stored, msg := in.checkField(f, v, present); msg != "" {
			errs[f.id] = msg
		} else if stored != nil {
			custom[f.id] = stored
		}
		allowed = append(allowed, f.id)
	}
	for k := range fields {
		if !slices.Contains(allowed, k) {
			errs[k] = msgNotOnScreen(k)
		}
	}
	props, msg := readProperties(body["properties"])
	if msg != "" {
		errs["properties"] = msg
	}
	if len(errs) > 0 {
		return fieldErrors(http.StatusBadRequest, errs)
	}

	p.nextNum++
	is := &issue{
		id:          in.nextIssueID,
		key:         fmt.Sprintf("%s-%d", p.key, p.nextNum),
		project:     p,
		issueType:   t,
		summary:     summary,
		labels:      labels,
		description: fields["description"],
		status:      p.wf.Initial,
		properties:  props,
		custom:      custom,
		reporter:    reporter,
		assignee:    assignee,
		created:     c.now,
		updated:     c.now,
		hiddenFor:   in.searchLag,
	}
	in.nextIssueID++
	in.issues = append(in.issues, is)
	in.byRef[strings.ToUpper(is.key)], in.byRef[strconv.Itoa(is.id)] = is, is
	in.sim.stats.IssuesCreated++
	in.sim.stats.IssueCalls[is.key]++
	id := strconv.Itoa(is.id)
	return reply{status: http.StatusCreated, body: obj{"id": id, "key": is.key, "self": in.restBase() + "/issue/" + id}}
}

// readProperties parses the create-time properties array.
func readProperties(v any) (map[string]json.RawMessage, string) {
	out := map[string]json.RawMessage{}
	if v == nil {
		return out, ""
	}
	arr, isArray := v.([]any)
	if !isArray {
		return nil, "properties must be an array."
	}
	for _, e := range arr {
		key := refValue(e, "key")
		val, _ := e.(map[string]any)
		raw, err := json.Marshal(val["value"])
		if key == "" || err != nil || val["value"] == nil {
			return nil, "Each property needs a key and a value."
		}
		out[key] = raw
	}
	return out, ""
}

// fieldSelection is the parsed "fields" parameter.
type fieldSelection struct {
	all     bool
	include []string
	exclude []string
}

// parseFields reads a fields list ("*all", "*navigable", "summary,-labels").
func parseFields(list []string, def string) fieldSelection {
	if len(list) == 0 {
		list = []string{def}
	}
	var sel fieldSelection
	for _, item := range list {
		for _, f := range strings.Split(item, ",") {
			switch f = strings.TrimSpace(f); {
			case f == "":
			case f == "*all" || f == "*navigable":
				sel.all = true
			case strings.HasPrefix(f, "-"):
				sel.exclude = append(sel.exclude, f[1:])
			default:
				sel.include = append(sel.include, f)
			}
		}
	}
	return sel
}

func (sel fieldSelection) has(field string) bool {
	if slices.Contains(sel.exclude, field) {
		return false
	}
	return sel.all || slices.Contains(sel.include, field)
}

// onlyID reports whether the selection asks for nothing but ids.
func (sel fieldSelection) onlyID() bool {
	return !sel.all && !slices.ContainsFunc(sel.include, func(f string) bool { return f != "id" })
}

func (in *instance) resolutionBean(name string) any {
	for _, r := range resolutions() {
		if r.Name == name {
			return obj{"self": in.restBase() + "/resolution/" + r.ID, "id": r.ID, "name": r.Name, "description": r.Description}
		}
	}
	return nil
}

// issueBean renders an issue with the selected fields.
func (in *instance) issueBean(is *issue, sel fieldSelection, withComments bool) obj {
	id := strconv.Itoa(is.id)
	f := obj{}
	add := func(name string, v func() any) {
		if sel.has(name) {
			f[name] = v()
		}
	}
	add("summary", func() any { return is.summary })
	add("status", func() any { return in.statusBean(is.statusBean()) })
	add("labels", func() any { return append([]string{}, is.labels...) })
	add("issuetype", func() any { return in.issueTypeBean(is.issueType) })
	add("project", func() any { return in.projectBean(is.project) })
	add("description", func() any { return is.description })
	add("resolution", func() any { return in.resolutionBean(is.resolution) })
	add("created", func() any { return jiraTime(is.created) })
	add("updated", func() any { return jiraTime(is.updated) })
	add("reporter", func() any { return in.authorBean(is.reporter) })
	add("assignee", func() any {
		if is.assignee == nil {
			return nil
		}
		return in.authorBean(is.assignee)
	})
	for k, v := range is.custom {
		add(k, func() any { return v })
	}
	if withComments && sel.has("comment") {
		var cs []obj
		for _, cm := range is.comments {
			cs = append(cs, in.commentBean(is, cm))
		}
		f["comment"] = obj{"comments": cs, "maxResults": len(cs), "total": len(cs), "startAt": 0}
	}
	return obj{"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations", "id": id, "self": in.restBase() + "/issue/" + id, "key": is.key, "fields": f}
}

func (in *instance) getIssue(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	q := c.r.URL.Query()
	bean := in.issueBean(is, parseFields(q["fields"], "*all"), true)
	// expand=transitions (both REST versions document it): the transitions
	// available from the current status, with their screens' fields under
	// transitions.fields, as GET /issue/{key}/transitions answers them.
	if expand := q.Get("expand"); strings.Contains(expand, "transitions") {
		withFields := strings.Contains(expand, "transitions.fields")
		out := []obj{}
		for _, t := range is.project.wf.Transitions {
			if t.available(is.status) {
				out = append(out, in.transitionBean(is.project, t, withFields))
			}
		}
		bean["transitions"] = out
	}
	if slices.Contains(strings.Split(q.Get("expand"), ","), "changelog") {
		bean["changelog"] = in.changelogBean(is)
	}
	return ok(bean)
}

// editIssue is PUT /issue/{key}: fields summary/labels/description and
// update operations on labels and summary. 204.
func (in *instance) editIssue(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	body, err := c.decode()
	if err != nil {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	errs := map[string]string{}
	next := *is
	fields, _ := body["fields"].(map[string]any)
	for k, v := range fields {
		var msg string
		switch k {
		case "summary":
			next.summary, msg = validateSummary(v)
		case "labels":
			next.labels, msg = validateLabels(v)
		case "description":
			if v != nil {
				msg, _ = in.richText(c, v)
			}
			next.description = v
		default:
			msg = msgNotOnScreen(k)
		}
		if msg != "" {
			errs[k] = msg
		}
	}
	update, _ := body["update"].(map[string]any)
	for k, v := range update {
		ops, _ := v.([]any)
		if k != "labels" {
			errs[k] = msgNotOnScreen(k)
			continue
		}
		next.labels = slices.Clone(next.labels)
		for _, op := range ops {
			m, _ := op.(map[string]any)
			for verb, val := range m {
				label, isString := val.(string)
				switch {
				case verb == "set":
					l, msg := validateLabels(val)
					if msg != "" {
						errs["labels"] = msg
					}
					next.labels = l
				case !isString || strings.ContainsAny(label, " \t\r\n") || label == "":
					errs["labels"] = "The label '" + label + "' contains spaces which is invalid."
				case verb == "add":
					if !slices.Contains(next.labels, label) {
						next.labels = append(next.labels, label)
					}
				case verb == "remove":
					next.labels = slices.DeleteFunc(next.labels, func(l string) bool { return l == label })
				default:
					errs["labels"] = "Unsupported operation '" + verb + "'."
				}
			}
		}
	}
	if len(errs) > 0 {
		return fieldErrors(http.StatusBadRequest, errs)
	}
	next.updated = c.now
	*is = next
	return reply{status: http.StatusNoContent}
}

// transitionBean renders a transition; withFields adds the screen fields.
func (in *instance) transitionBean(p *Project, t Transition, withFields bool) obj {
	to, _ := p.wf.status(t.To)
	b := obj{
		"id": t.ID, "name": t.Name, "to": in.statusBean(to), "hasScreen": t.Screen,
		"isGlobal": len(t.From) == 0, "isInitial": false, "isConditional": false,
	}
	if in.flavor == flavorCloud {
		b["isAvailable"] = true
		b["isLooped"] = false
	}
	if withFields {
		f := obj{}
		if t.Screen {
			var allowed []obj
			for _, r := range resolutions() {
				allowed = append(allowed, obj{"self": in.restBase() + "/resolution/" + r.ID, "id": r.ID, "name": r.Name})
			}
			f["resolution"] = obj{
				"required": false, "schema": obj{"type": "resolution", "system": "resolution"}, "name": "Resolution",
				"key": "resolution", "hasDefaultValue": false, "operations": []string{"set"}, "allowedValues": allowed,
			}
		}
		b["fields"] = f
	}
	return b
}

// getTransitions lists the transitions available from the current status.
func (in *instance) getTransitions(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	q := c.r.URL.Query()
	withFields := strings.Contains(q.Get("expand"), "transitions.fields")
	out := []obj{}
	for _, t := range is.project.wf.Transitions {
		if !t.available(is.status) || (q.Get("transitionId") != "" && q.Get("transitionId") != t.ID) {
			continue
		}
		out = append(out, in.transitionBean(is.project, t, withFields))
	}
	return ok(obj{"expand": "transitions", "transitions": out})
}

// doTransition is POST /issue/{key}/transitions: 204; an unknown or
// unavailable id is 400 on Cloud and 500 on DC; fields.resolution is only
// allowed when the transition has a screen; update.comment adds comments.
func (in *instance) doTransition(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	body, err := c.decode()
	if err != nil {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	id := refValue(body["transition"], "id")
	if id == "" {
		return errorReply(http.StatusBadRequest, "Missing 'transition' identifier")
	}
	t, found := is.project.wf.transition(id)
	if !found || !t.available(is.status) {
		status := http.StatusBadRequest
		if in.flavor == flavorDC {
			status = http.StatusInternalServerError
		}
		return errorReply(status, "Transition id '"+id+"' is not valid for this issue.")
	}
	errs := map[string]string{}
	res := ""
	fields, _ := body["fields"].(map[string]any)
	for k, v := range fields {
		if k != "resolution" || !t.Screen {
			errs[k] = msgNotOnScreen(k)
			continue
		}
		want := refValue(v, "name", "id")
		for _, r := range resolutions() {
			if want != "" && (r.Name == want || r.ID == want) {
				res = r.Name
			}
		}
		if res == "" {
			errs["resolution"] = "Could not find valid 'id' or 'name' in resolution object."
		}
	}
	var comments []any
	update, _ := body["update"].(map[string]any)
	for k, v := range update {
		if k != "comment" || is.project.wf.RefuseTransitionComment {
			errs[k] = msgNotOnScreen(k)
			continue
		}
		ops, _ := v.([]any)
		for _, op := range ops {
			add, _ := op.(map[string]any)["add"].(map[string]any)
			if msg, valid := in.richText(c, add["body"]); add == nil || !valid {
				errs["comment"] = msg
				continue
			}
			comments = append(comments, add["body"])
		}
	}
	if len(errs) > 0 {
		return fieldErrors(http.StatusBadRequest, errs)
	}
	in.applyTransition(is, t, res, in.caller(c), comments, c.now)
	return reply{status: http.StatusNoContent}
}

// applyTransition moves the issue as author, with the comments given on the
// transition screen, records the changelog entry and notifies webhooks.
func (in *instance) applyTransition(is *issue, t Transition, res string, author *simUser, comments []any, now time.Time) {
	to, _ := is.project.wf.status(t.To)
	from := is.statusBean()
	is.status = t.To
	switch {
	case to.Category != CategoryDone:
		is.resolution = ""
	case res != "":
		is.resolution = res
	case t.Resolution != "":
		is.resolution = t.Resolution
	default:
		is.resolution = "Done"
	}
	for _, b := range comments {
		in.appendComment(is, b, now).author = author
	}
	is.updated = now
	in.sim.stats.Transitions++
	in.recordStatusChange(is, author, from, to, now)
}

// appendComment adds a comment to an issue.
func (in *instance) appendComment(is *issue, body any, now time.Time) *comment {
	cm := &comment{id: strconv.Itoa(in.nextCommentID), body: body, created: now}
	in.nextCommentID++
	is.comments = append(is.comments, cm)
	is.updated = now
	in.sim.stats.Comments++
	return cm
}

func (in *instance) commentBean(is *issue, cm *comment) obj {
	author := in.authorBean(cm.author)
	return obj{
		"self": in.restBase() + "/issue/" + strconv.Itoa(is.id) + "/comment/" + cm.id, "id": cm.id,
		"author": author, "updateAuthor": author, "body": cm.body,
		"created": jiraTime(cm.created), "updated": jiraTime(cm.created),
	}
}

// addComment is POST /issue/{key}/comment: 201 with the Comment.
func (in *instance) addComment(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	body, err := c.decode()
	if err != nil {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	b := body["body"]
	if s, isString := b.(string); b == nil || (isString && strings.TrimSpace(s) == "") {
		return fieldErrors(http.StatusBadRequest, map[string]string{"comment": "Comment body can not be empty!"})
	}
	if msg, valid := in.richText(c, b); !valid {
		return fieldErrors(http.StatusBadRequest, map[string]string{"comment": msg})
	}
	cm := in.appendComment(is, b, c.now)
	cm.author = in.caller(c)
	in.notifyComment(is, cm.author, c.now)
	return reply{status: http.StatusCreated, body: in.commentBean(is, cm)}
}

func (in *instance) listComments(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	cs := []obj{}
	for _, cm := range is.comments {
		cs = append(cs, in.commentBean(is, cm))
	}
	return ok(obj{"comments": cs, "startAt": 0, "maxResults": len(cs), "total": len(cs)})
}

// setProperty is PUT /issue/{key}/properties/{prop}: 201 created, 200 updated.
func (in *instance) setProperty(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	key := c.r.PathValue("prop")
	switch {
	case utf8.RuneCountInString(key) > 255:
		return errorReply(http.StatusBadRequest, "The property key cannot be longer than 255 characters.")
	case len(c.body) == 0 || !json.Valid(c.body):
		return errorReply(http.StatusBadRequest, "The property value must be valid, non-empty JSON.")
	case utf8.RuneCount(c.body) > 32768:
		return errorReply(http.StatusBadRequest, "The property value cannot be longer than 32768 characters.")
	}
	_, existed := is.properties[key]
	if is.properties == nil {
		is.properties = map[string]json.RawMessage{}
	}
	is.properties[key] = json.RawMessage(slices.Clone(c.body))
	if existed {
		return reply{status: http.StatusOK}
	}
	return reply{status: http.StatusCreated}
}

func (in *instance) getProperty(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	v, found := is.properties[c.r.PathValue("prop")]
	if !found {
		return errorReply(http.StatusNotFound, "The property with key '"+c.r.PathValue("prop")+"' does not exist.")
	}
	return ok(obj{"key": c.r.PathValue("prop"), "value": v})
}

func (in *instance) deleteProperty(c *call) reply {
	is := in.issue(c.r.PathValue("key"))
	if is == nil {
		return errorReply(http.StatusNotFound, msgIssueMissing)
	}
	if _, found := is.properties[c.r.PathValue("prop")]; !found {
		return errorReply(http.StatusNotFound, "The property with key '"+c.r.PathValue("prop")+"' does not exist.")
	}
	delete(is.properties, c.r.PathValue("prop"))
	return reply{status: http.StatusNoContent}
}
