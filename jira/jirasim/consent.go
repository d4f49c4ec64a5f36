package jirasim

import (
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// consentPage is the HTML consent screen of both the Cloud auth server and
// the DC OAuth provider. The form posts back to the same authorize URL.
const consentPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Product}} – authorize {{.Client}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}
button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}li{font-family:monospace}</style></head>
<body>
<h1>{{.Product}}</h1>
<p><strong>{{.Client}}</strong> is requesting access to your account.</p>
<form method="post" action="{{.Action}}" data-testid="consent-form">
<input type="hidden" name="consent" value="{{.ConsentID}}">
{{if .Sites}}<label for="site">Use app on</label>
<select name="site" id="site" data-testid="site-picker">{{range .Sites}}<option value="{{.CloudID}}">{{.Name}} ({{.URL}})</option>{{end}}</select>{{end}}
<p>It will be able to:</p>
<ul data-testid="scopes">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<button type="submit" name="decision" value="accept" data-testid="accept">Accept{{if gt (len .Users) 1}} as {{(index .Users 0).DisplayName}}{{end}}</button>
{{if gt (len .Users) 1}}{{range slice .Users 1}}<button type="submit" name="as" value="{{.ID}}" data-testid="accept-as">Accept as {{.DisplayName}}</button>
{{end}}{{end}}
<button type="submit" name="decision" value="decline" data-testid="decline">Decline</button>
</form>
</body></html>
`

// consentView is the data of consentPage.
type consentView struct {
	Product, Client, Action, ConsentID string
	Scopes                             []string
	Sites                              []*Site
	Users                              []User // who may sign in ("Signed in as" when more than one)
}

// renderConsent writes the consent page.
func renderConsent(w http.ResponseWriter, v consentView) {
	tmpl := template.Must(template.New("consent").Parse(consentPage))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := tmpl.Execute(w, v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// renderAuthError shows an error page for requests that cannot be redirected
// back (unknown client, unregistered redirect_uri).
func renderAuthError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>Authorization error</title><h1>Something went wrong</h1><p data-testid=\"error\">%s</p>\n", template.HTMLEscapeString(msg))
}

// newConsent stores a validated authorize request. s.mu must be held.
func (s *Sim) newConsent(c *consentRequest, now time.Time) string {
	id := randomToken("c.")
	c.expires = now.Add(consentLifetime)
	s.tokens.consents[id] = c
	return id
}

// takeConsent removes and returns a pending consent. s.mu must be held.
func (s *Sim) takeConsent(id string, dc *DataCenter, now time.Time) (*consentRequest, bool) {
	c, found := s.tokens.consents[id]
	if !found || c.dc != dc {
		return nil, false
	}
	delete(s.tokens.consents, id)
	return c, now.Before(c.expires)
}

// Consent drives a consent page like a user would: it GETs authorizeURL (a
// Cloud {AuthURL}/authorize or DC .../rest/oauth2/latest/authorize URL), then
// presses Accept (accept true) or Decline, choosing site (a site name or
// cloud id; "" = the first site) when the page has a site picker. It returns
// the redirect Location (the app's callback URL with code or error and state).
func (s *Sim) Consent(authorizeURL string, accept bool, site string) (*url.URL, error) {
	return s.ConsentAs(authorizeURL, accept, site, "")
}

// ConsentAs is Consent signed in as user (an account id, username, display
// name or email; "" = the first user, the admin who connects integrations).
func (s *Sim) ConsentAs(authorizeURL string, accept bool, site, user string) (*url.URL, error) {
	client := s.Client()
	resp, err := client.Get(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("jirasim: consent: %w", err)
	}
	page, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("jirasim: consent: %w", err)
	}
	if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther {
		return resp.Location() // an error redirect straight away
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jirasim: consent page: %s: %s", resp.Status, strings.TrimSpace(string(page)))
	}
	id := regexp.MustCompile(`name="consent" value="([^"]+)"`).FindSubmatch(page)
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindSubmatch(page)
	if id == nil || action == nil {
		return nil, errors.New("jirasim: consent page has no form")
	}
	form := url.Values{"consent": {string(id[1])}, "decision": {"decline"}}
	if accept {
		form.Set("decision", "accept")
	}
	if user != "" {
		form.Set("user", user) // the page matches id, username, name or email
	}
	if site != "" {
		s.mu.Lock()
		if st := s.siteByName(site); st != nil {
			site = st.CloudID
		}
		s.mu.Unlock()
		form.Set("site", site)
	}
	base, err := url.Parse(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("jirasim: consent: %w", err)
	}
	target, err := base.Parse(html.UnescapeString(string(action[1])))
	if err != nil {
		return nil, fmt.Errorf("jirasim: consent: %w", err)
	}
	resp, err = client.PostForm(target.String(), form)
	if err != nil {
		return nil, fmt.Errorf("jirasim: consent: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("jirasim: consent decision: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return resp.Location()
}
