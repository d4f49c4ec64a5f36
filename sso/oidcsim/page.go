package oidcsim

import (
	"html/template"
	"io"
	"net/url"
	"strings"
)

// The sign-in page: one button per sample user (with email, verification and
// groups) and Cancel. The authorization request travels in hidden fields.
var signInPage = template.Must(template.New("signin").Funcs(template.FuncMap{"join": strings.Join}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo SSO · Sign in</title>
<style>
body{font-family:system-ui,sans-serif;background:#eef1f5;margin:0;color:#1d2433}
main{max-width:34rem;margin:3rem auto;padding:0 1rem}
.card{background:#fff;border-radius:10px;box-shadow:0 2px 10px rgba(0,0,0,.08);padding:1.5rem}
h1{font-size:1.3rem;margin:0 0 .25rem}p.sub{margin:0 0 1.25rem;color:#5b6475}
form.user{margin:0 0 .6rem}
button{width:100%;text-align:left;border:1px solid #d5dae3;background:#fafbfc;border-radius:8px;padding:.7rem .9rem;cursor:pointer;font:inherit}
button:hover{border-color:#3b6fd9;background:#f3f7ff}
.name{font-weight:600}.meta{display:block;color:#5b6475;font-size:.9rem;margin-top:.15rem;overflow-wrap:anywhere}
.group{display:inline-block;background:#e5ecfa;color:#25458a;border-radius:4px;padding:0 .35rem;margin:.2rem .25rem 0 0;font-size:.8rem}
.warn{color:#9a4b00}
button.cancel{text-align:center;background:none;border:none;color:#5b6475;margin-top:.5rem}
</style></head>
<body><main><div class="card" data-testid="oidcsim-signin">
<h1>Demo SSO</h1><p class="sub">Built-in identity provider. Choose who you are.</p>
{{range .Users}}<form class="user" method="post" action="authorize">{{template "hidden" $.Params}}
<input type="hidden" name="sub" value="{{.Subject}}">
<button type="submit" data-testid="oidcsim-user" data-email="{{.Email}}"><span class="name">{{.Name}}</span>
<span class="meta">{{.Email}}{{if not .EmailVerified}} · <span class="warn">email not verified</span>{{end}}</span>
<span class="meta">{{range .Groups}}<span class="group">{{.}}</span>{{else}}no groups{{end}}</span></button>
</form>{{end}}
<form method="post" action="authorize">{{template "hidden" .Params}}<button class="cancel" type="submit" name="cancel" value="1" data-testid="oidcsim-cancel">Cancel</button></form>
</div></main></body></html>
{{define "hidden"}}{{range $k, $vs := .}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}{{end}}`))

func renderSignIn(w io.Writer, params url.Values, users []User) {
	_ = signInPage.Execute(w, struct {
		Params url.Values
		Users  []User
	}{params, users})
}
