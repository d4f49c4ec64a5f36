package jirasim

import (
	"html"
	"html/template"
	"net/url"
	"regexp"
	"strings"
)

// The issue page renders descriptions and comments as Jira does: ADF on
// Cloud, wiki markup on Data Center. Only the node types and the markup the
// console writes (and a few common neighbours) are rendered; anything else
// shows as escaped text. Every piece of text is escaped, and a link keeps
// its href only when it is http, https or mailto.

// richHTML renders a Cloud ADF document or a Data Center wiki string.
func richHTML(v any) template.HTML {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return template.HTML(wikiHTML(x)) //nolint:gosec // built from escaped pieces
	case map[string]any:
		var b strings.Builder
		adfNode(&b, x)
		return template.HTML(b.String()) //nolint:gosec // built from escaped pieces
	}
	return ""
}

func safeHref(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return u.String()
	}
	return ""
}

func adfChildren(b *strings.Builder, n map[string]any) {
	content, _ := n["content"].([]any)
	for _, c := range content {
		if m, ok := c.(map[string]any); ok {
			adfNode(b, m)
		}
	}
}

var adfBlockTags = map[string]string{
	"paragraph": "p", "bulletList": "ul", "orderedList": "ol", "listItem": "li", "blockquote": "blockquote",
	"codeBlock": "pre", "table": "table", "tableRow": "tr", "tableHeader": "th", "tableCell": "td",
}

func adfNode(b *strings.Builder, n map[string]any) {
	typ, _ := n["type"].(string)
	attrs, _ := n["attrs"].(map[string]any)
	switch typ {
	case "doc":
		adfChildren(b, n)
	case "heading":
		level := 3
		if l, ok := attrs["level"].(float64); ok && l >= 1 && l <= 6 {
			level = int(l)
		}
		tag := "h" + string(rune('0'+level))
		b.WriteString("<" + tag + ">")
		adfChildren(b, n)
		b.WriteString("</" + tag + ">")
	case "text":
		adfText(b, n)
	case "hardBreak":
		b.WriteString("<br>")
	case "rule":
		b.WriteString("<hr>")
	default:
		if tag, ok := adfBlockTags[typ]; ok {
			b.WriteString("<" + tag + ">")
			adfChildren(b, n)
			b.WriteString("</" + tag + ">")
			return
		}
		adfChildren(b, n)
	}
}

func adfText(b *strings.Builder, n map[string]any) {
	text, _ := n["text"].(string)
	out := html.EscapeString(text)
	marks, _ := n["marks"].([]any)
	for _, m := range marks {
		mark, _ := m.(map[string]any)
		switch mark["type"] {
		case "strong":
			out = "<strong>" + out + "</strong>"
		case "em":
			out = "<em>" + out + "</em>"
		case "code":
			out = "<code>" + out + "</code>"
		case "strike":
			out = "<s>" + out + "</s>"
		case "link":
			attrs, _ := mark["attrs"].(map[string]any)
			href, _ := attrs["href"].(string)
			if h := safeHref(href); h != "" {
				out = `<a href="` + html.EscapeString(h) + `" data-testid="description-link">` + out + "</a>"
			}
		}
	}
	b.WriteString(out)
}

var (
	wikiHeading = regexp.MustCompile(`^h([1-6])\.\s+(.*)$`)
	wikiInline  = regexp.MustCompile(`\[([^\[\]|]*)\|([^\[\]]+)\]|\[((?:https?|mailto):[^\[\]]+)\]|\{\{(.+?)\}\}|(^|[^\w\\])\*(\S(?:.*?\S)?)\*|(^|[^\w\\])_(\S(?:.*?\S)?)_`)
)

// wikiHTML renders the wiki markup the console writes: paragraphs (blank
// lines), headings, bullet and numbered lists, *strong*, _em_, {{code}},
// [text|url] links, {noformat}/{code} blocks, ---- rules and \ escapes.
func wikiHTML(s string) string {
	var b strings.Builder
	var list string // "ul", "ol" or ""
	var para []string
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + strings.Join(para, "<br>") + "</p>")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">")
			list = ""
		}
	}
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " ")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "{noformat}" || strings.HasPrefix(trimmed, "{code"):
			flushPara()
			closeList()
			end := "{noformat}"
			if strings.HasPrefix(trimmed, "{code") {
				end = "{code}"
			}
			var pre []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != end; i++ {
				pre = append(pre, lines[i])
			}
			b.WriteString("<pre>" + html.EscapeString(strings.Join(pre, "\n")) + "</pre>")
		case trimmed == "":
			flushPara()
			closeList()
		case trimmed == "----":
			flushPara()
			closeList()
			b.WriteString("<hr>")
		case wikiHeading.MatchString(trimmed):
			flushPara()
			closeList()
			m := wikiHeading.FindStringSubmatch(trimmed)
			b.WriteString("<h" + m[1] + ">" + wikiInlineHTML(m[2]) + "</h" + m[1] + ">")
		case strings.HasPrefix(trimmed, "* ") || strings.HasPrefix(trimmed, "- ") || strings.HasPrefix(trimmed, "# "):
			flushPara()
			want := "ul"
			if trimmed[0] == '#' {
				want = "ol"
			}
			if list != want {
				closeList()
				b.WriteString("<" + want + ">")
				list = want
			}
			b.WriteString("<li>" + wikiInlineHTML(strings.TrimSpace(trimmed[2:])) + "</li>")
		default:
			closeList()
			para = append(para, wikiInlineHTML(line))
		}
	}
	flushPara()
	closeList()
	return b.String()
}

// wikiInlineHTML renders one line's inline markup, escaping all text.
func wikiInlineHTML(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range wikiInline.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(wikiText(s[last:m[0]]))
		group := func(i int) string {
			if m[2*i] < 0 {
				return ""
			}
			return s[m[2*i]:m[2*i+1]]
		}
		switch {
		case m[2] >= 0 || m[4] >= 0: // [text|url]
			text, href := group(1), group(2)
			if h := safeHref(href); h != "" {
				if strings.TrimSpace(text) == "" {
					text = href
				}
				b.WriteString(`<a href="` + html.EscapeString(h) + `" data-testid="description-link">` + wikiText(text) + "</a>")
			} else {
				b.WriteString(wikiText(s[m[0]:m[1]]))
			}
		case m[6] >= 0: // [url]
			href := group(3)
			if h := safeHref(href); h != "" {
				b.WriteString(`<a href="` + html.EscapeString(h) + `" data-testid="description-link">` + html.EscapeString(href) + "</a>")
			} else {
				b.WriteString(wikiText(s[m[0]:m[1]]))
			}
		case m[8] >= 0: // {{code}}
			b.WriteString("<code>" + wikiText(group(4)) + "</code>")
		case m[12] >= 0: // *strong*
			b.WriteString(wikiText(group(5)) + "<strong>" + wikiText(group(6)) + "</strong>")
		case m[16] >= 0: // _em_
			b.WriteString(wikiText(group(7)) + "<em>" + wikiText(group(8)) + "</em>")
		}
		last = m[1]
	}
	b.WriteString(wikiText(s[last:]))
	return b.String()
}

// wikiText drops escaping backslashes (and reads &#92; as a backslash), then
// escapes for HTML.
func wikiText(s string) string {
	s = strings.ReplaceAll(s, "&#92;", "\x00")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			continue
		}
		b.WriteByte(s[i])
	}
	return strings.ReplaceAll(html.EscapeString(b.String()), "\x00", `\`)
}
