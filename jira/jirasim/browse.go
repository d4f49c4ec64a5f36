package jirasim

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// serveBrowse is the human issue page at /browse/{key}, shown as Jira shows
// it: summary, status, reporter and assignee, the rendered description (the
// approval link clickable), comments, the status history, and a button for
// each transition the workflow offers from the current status. A POST with
// transition={id} takes it as the connected user (the simulator's one user),
// as clicking the button in Jira would, then redirects back (PRG).
func (in *instance) serveBrowse(w http.ResponseWriter, r *http.Request, key string) {
	if r.Method == http.MethodPost {
		in.browseTransition(w, r, key)
		return
	}
	in.sim.mu.Lock()
	is := in.issue(key)
	var page browsePage
	if is != nil {
		page = browsePage{Issue: is.snapshot(), Connected: userDisplayName, Flavor: "Jira Cloud", Message: r.URL.Query().Get("msg")}
		if in.flavor == flavorDC {
			page.Flavor = "Jira Data Center"
		}
		page.Project = is.project.name
		page.Users = usersOf(in.users())
		for _, t := range is.project.wf.Transitions {
			if t.available(is.status) {
				page.Transitions = append(page.Transitions, t)
			}
		}
	}
	in.sim.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	if is == nil {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "<!doctype html><title>Issue not found</title><h1>%s</h1><p>%s</p>\n", template.HTMLEscapeString(key), msgIssueMissing)
		return
	}
	if err := browseTmpl.Execute(w, page); err != nil {
		in.sim.logf("jirasim: render issue page: %v", err)
	}
}

// browseTransition applies a transition chosen on the issue page. Like
// Jira's own button it needs no resolution: the workflow's post-function
// sets it.
func (in *instance) browseTransition(w http.ResponseWriter, r *http.Request, key string) {
	id := r.FormValue("transition")
	in.sim.mu.Lock()
	is := in.issue(key)
	msg := ""
	switch {
	case is == nil:
		in.sim.mu.Unlock()
		http.NotFound(w, r)
		return
	default:
		t, found := is.project.wf.transition(id)
		if !found || !t.available(is.status) {
			msg = "That transition is not available from " + is.status + "."
		} else {
			in.applyTransition(is, t, "", nil, nil, in.sim.now())
		}
	}
	in.sim.mu.Unlock()
	to := r.URL.Path
	if msg != "" {
		to += "?msg=" + template.URLQueryEscaper(msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type browsePage struct {
	Issue
	Project     string
	Connected   string // the display name of the user Privilege connects as
	Flavor      string
	Message     string
	Transitions []Transition
	Users       []User // the Jira users a person may act as ("Move as", decisions from Jira)
}

var browseTmpl = template.Must(template.New("browse").Funcs(template.FuncMap{
	"rich":  richHTML,
	"when":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
	"lower": strings.ToLower,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>[{{.Key}}] {{.Summary}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#172b4d;background:#fff}
header{background:#0052cc;color:#fff;padding:.6rem 1rem;font-weight:600}
main{max-width:60rem;margin:0 auto;padding:1rem;display:grid;grid-template-columns:minmax(0,1fr) 16rem;gap:1.5rem}
@media (max-width:700px){main{grid-template-columns:minmax(0,1fr)}}
h1{font-size:1.4rem;margin:.2rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1rem;margin:1.5rem 0 .5rem}
.crumb{color:#5e6c84;font-size:.9rem}
.status{display:inline-block;padding:.1rem .5rem;border-radius:3px;background:#dfe1e6;font-weight:700;font-size:.8rem}
.status.done{background:#e3fcef;color:#006644}.status.indeterminate{background:#deebff;color:#0747a6}
.desc,.comment{overflow-wrap:anywhere}
.comment{border-top:1px solid #dfe1e6;padding:.5rem 0}
.meta{color:#5e6c84;font-size:.85rem}
dl{margin:0}dt{color:#5e6c84;font-size:.8rem;margin-top:.6rem}dd{margin:0}
form{display:inline}button{margin:0 .3rem .3rem 0;padding:.35rem .8rem;border:1px solid #c1c7d0;border-radius:3px;background:#f4f5f7;cursor:pointer}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{text-align:left;padding:.3rem;border-bottom:1px solid #dfe1e6}
.msg{background:#ffebe6;padding:.5rem;border-radius:3px}
a{color:#0052cc}
</style></head>
<body data-testid="jira-issue-page"><header>{{.Flavor}} (simulator)</header>
<main>
<section>
<div class="crumb">{{.Project}} / <span data-testid="issue-key">{{.Key}}</span></div>
<h1 data-testid="summary">{{.Summary}}</h1>
{{if .Message}}<p class="msg" data-testid="message">{{.Message}}</p>{{end}}
<div data-testid="transitions">
{{range .Transitions}}<form method="post"><input type="hidden" name="transition" value="{{.ID}}"><button type="submit" data-testid="transition" data-transition-id="{{.ID}}">{{.Name}}</button></form>{{end}}
</div>
{{if .Transitions}}<form method="post" action="{{.Key}}/move" data-testid="move-as-form">
<label>Move as <select name="as" data-testid="move-as">{{range .Users}}<option value="{{.ID}}">{{.DisplayName}}</option>{{end}}</select></label>
<label>Comment <input name="comment" data-testid="move-comment"></label>
{{range .Transitions}}<button type="submit" name="to" value="{{.To}}" data-testid="move-to-{{.To}}">{{.Name}}</button> {{end}}
</form>{{end}}
<h2>Description</h2>
<div class="desc" data-testid="description">{{rich .Description}}</div>
<h2>Activity</h2>
<h3 class="meta">Comments ({{len .Comments}})</h3>
<div data-testid="comments">
{{range .Comments}}<div class="comment" data-testid="comment"><div class="meta">{{$.Connected}} · {{when .Created}}</div>{{rich .Body}}</div>
{{else}}<p class="meta">No comments yet.</p>{{end}}
</div>
<h3 class="meta">History</h3>
<table data-testid="history"><thead><tr><th>When</th><th>Who</th><th>Status</th></tr></thead><tbody>
<tr><td>{{when .Created}}</td><td>{{$.Connected}}</td><td>created</td></tr>
{{range .History}}<tr data-testid="history-entry"><td>{{when .At}}</td><td>{{.By}}</td><td>{{.From}} → {{.To}}</td></tr>{{end}}
</tbody></table>
</section>
<aside>
<dl>
<dt>Status</dt><dd><span class="status {{lower .StatusCategory}}" data-testid="status">{{.Status}}</span>{{if .Resolution}} <span class="meta">Resolution: <span data-testid="resolution">{{.Resolution}}</span></span>{{end}}</dd>
<dt>Assignee</dt><dd data-testid="assignee">{{with .Assignee.DisplayName}}{{.}}{{else}}Unassigned{{end}}</dd>
<dt>Reporter</dt><dd data-testid="reporter">{{with .Issue.Reporter.DisplayName}}{{.}}{{else}}{{$.Connected}}{{end}}</dd>
<dt>Watchers</dt><dd data-testid="watchers">{{range .Watchers}}{{.DisplayName}} {{else}}<span class="meta">none</span>{{end}}</dd>
<dt>Issue type</dt><dd>{{.IssueType}}</dd>
<dt>Labels</dt><dd data-testid="labels">{{range .Labels}}<code>{{.}}</code> {{end}}</dd>
<dt>Created</dt><dd>{{when .Created}}</dd>
<dt>Updated</dt><dd>{{when .Updated}}</dd>
</dl>
</aside>
</main></body></html>
`))
