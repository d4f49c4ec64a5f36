package jira

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Document is the one message model for issue descriptions and comments.
// It renders to ADF for Jira Cloud (REST v3) and to escaped wiki markup for
// Jira Data Center (REST v2). All text in it is treated as untrusted.
type Document struct {
	Blocks []Block
}

// NewDocument returns a document of the given blocks.
func NewDocument(blocks ...Block) Document { return Document{Blocks: blocks} }

type blockKind int

const (
	blockParagraph blockKind = iota + 1
	blockHeading
	blockBulletList
)

// Block is a paragraph, heading or bullet list. Build it with Paragraph,
// Heading or BulletList.
type Block struct {
	kind    blockKind
	level   int
	inlines []Inline
	items   [][]Inline
}

type inlineKind int

const (
	inlineText inlineKind = iota + 1
	inlineStrong
	inlineCode
	inlineLink
)

// Inline is a run of text: plain, strong, code or a link.
type Inline struct {
	kind inlineKind
	text string
	href string
}

// Text is a plain run. Newlines become line breaks.
func Text(s string) Inline { return Inline{kind: inlineText, text: s} }

// Strong is a bold run.
func Strong(s string) Inline { return Inline{kind: inlineStrong, text: s} }

// Code is a monospace run.
func Code(s string) Inline { return Inline{kind: inlineCode, text: s} }

// Link is a hyperlink. Only http, https and mailto targets are linked;
// anything else renders as plain text. Empty text shows the address.
func Link(text, href string) Inline { return Inline{kind: inlineLink, text: text, href: href} }

// Paragraph is a block of inline runs.
func Paragraph(runs ...Inline) Block { return Block{kind: blockParagraph, inlines: runs} }

// Heading is a heading of level 1–6 (clamped).
func Heading(level int, runs ...Inline) Block {
	return Block{kind: blockHeading, level: min(max(level, 1), 6), inlines: runs}
}

// BulletList is a list; each item is a line of inline runs.
func BulletList(items ...[]Inline) Block { return Block{kind: blockBulletList, items: items} }

// Item groups inline runs into one bullet-list item.
func Item(runs ...Inline) []Inline { return runs }

// IsEmpty reports whether the document has no visible text.
func (d Document) IsEmpty() bool {
	for _, b := range d.Blocks {
		if !b.isEmpty() {
			return false
		}
	}
	return true
}

func (b Block) isEmpty() bool {
	if b.kind == blockBulletList {
		for _, it := range b.items {
			if !runsEmpty(it) {
				return false
			}
		}
		return true
	}
	return runsEmpty(b.inlines)
}

func runsEmpty(runs []Inline) bool {
	for _, r := range runs {
		if strings.TrimSpace(cleanText(r.text)) != "" || r.kind == inlineLink && safeHref(r.href) != "" {
			return false
		}
	}
	return true
}

// cleanText makes user text safe to embed: valid UTF-8, no carriage returns,
// no control characters other than newline and tab.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// safeHref returns a link target fit for both renderers, or "" when the
// target is not an absolute http(s)/mailto address.
func safeHref(href string) string {
	href = strings.TrimSpace(cleanText(href))
	if href == "" || strings.ContainsAny(href, " \t\n") {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return ""
		}
	case "mailto":
		if u.Opaque == "" {
			return ""
		}
	default:
		return ""
	}
	// Percent-encode what could break out of wiki markup [text|url].
	var b strings.Builder
	for _, r := range u.String() {
		if strings.ContainsRune("|[]{}!*^~\\\"'<>` ", r) {
			b.WriteString(url.QueryEscape(string(r)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ----- ADF -----

// ADF renders the document as an Atlassian Document Format doc (version 1).
// Empty text is skipped (ADF forbids empty text nodes) and newlines become
// hardBreak nodes.
func (d Document) ADF() map[string]any {
	content := []any{}
	for _, b := range d.Blocks {
		if node := b.adf(); node != nil {
			content = append(content, node)
		}
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}

func (b Block) adf() map[string]any {
	switch b.kind {
	case blockParagraph:
		inl := adfInlines(b.inlines)
		if len(inl) == 0 {
			return nil
		}
		return map[string]any{"type": "paragraph", "content": inl}
	case blockHeading:
		inl := adfInlines(b.inlines)
		if len(inl) == 0 {
			return nil
		}
		return map[string]any{"type": "heading", "attrs": map[string]any{"level": b.level}, "content": inl}
	case blockBulletList:
		var items []any
		for _, it := range b.items {
			inl := adfInlines(it)
			if len(inl) == 0 {
				continue
			}
			items = append(items, map[string]any{
				"type":    "listItem",
				"content": []any{map[string]any{"type": "paragraph", "content": inl}},
			})
		}
		if len(items) == 0 {
			return nil
		}
		return map[string]any{"type": "bulletList", "content": items}
	}
	return nil
}

func adfInlines(runs []Inline) []any {
	out := []any{}
	for _, r := range runs {
		text := cleanText(r.text)
		var marks []any
		switch r.kind {
		case inlineStrong:
			marks = []any{map[string]any{"type": "strong"}}
		case inlineCode:
			marks = []any{map[string]any{"type": "code"}}
		case inlineLink:
			if href := safeHref(r.href); href != "" {
				marks = []any{map[string]any{"type": "link", "attrs": map[string]any{"href": href}}}
				if strings.TrimSpace(text) == "" {
					text = href
				}
			}
		}
		for i, line := range strings.Split(text, "\n") {
			if i > 0 {
				out = append(out, map[string]any{"type": "hardBreak"})
			}
			if line == "" {
				continue
			}
			node := map[string]any{"type": "text", "text": line}
			if marks != nil {
				node["marks"] = marks
			}
			out = append(out, node)
		}
	}
	return trimHardBreaks(out)
}

// trimHardBreaks drops leading and trailing breaks and collapses a run that
// carries no text at all.
func trimHardBreaks(nodes []any) []any {
	isBreak := func(n any) bool { return n.(map[string]any)["type"] == "hardBreak" }
	for len(nodes) > 0 && isBreak(nodes[0]) {
		nodes = nodes[1:]
	}
	for len(nodes) > 0 && isBreak(nodes[len(nodes)-1]) {
		nodes = nodes[:len(nodes)-1]
	}
	return nodes
}

// ----- Wiki markup -----

// wikiSpecial are characters with a meaning in Jira wiki markup; user text
// gets each of them backslash-escaped.
const wikiSpecial = `*_-+^~{}[]|!#?`

// A backslash cannot be escaped with a backslash ("\\" is a forced line
// break in wiki markup), so it is written as a numeric character reference.
const wikiBackslash = "&#92;"

// wikiColon replaces the colon of a URL scheme in user text. Jira's wiki
// renderer turns bare "http://…", "mailto:…" (and other schemes) into live
// links; a numeric character reference renders as the same colon but breaks
// the autolink, so a requester's text cannot plant a clickable link.
const wikiColon = "&#58;"

// wikiAutolink matches a scheme and its colon as Jira's autolinker would see
// them after escaping: any scheme followed by "//", and the schemes that link
// without slashes.
var wikiAutolink = regexp.MustCompile(`(?i)\b([a-z][a-z0-9]*):(//)?`)

// slashlessSchemes link in Jira without "//" after the colon.
var slashlessSchemes = map[string]bool{"mailto": true, "file": true, "news": true, "nntp": true, "tel": true, "callto": true, "skype": true, "sip": true}

// breakAutolinks rewrites the colon of every linkable scheme in escaped text.
func breakAutolinks(s string) string {
	if !strings.Contains(s, ":") {
		return s
	}
	return wikiAutolink.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.IndexByte(m, ':')
		scheme, rest := m[:i], m[i+1:]
		if rest == "" && !slashlessSchemes[strings.ToLower(scheme)] {
			return m
		}
		return scheme + wikiColon + rest
	})
}

// lineStart matches block markers that only count at the start of a line
// (headings hN. and bq.) after the per-character escaping.
var wikiLineStart = regexp.MustCompile(`(?i)^(\s*)(h[1-6]|bq)\.`)

// Wiki renders the document as Jira wiki markup with every piece of user
// text escaped, so it cannot create markup, macros ({code}, {html}), links
// (bracketed or bare URLs and mailto:), images or mentions; only the
// document's own Link runs become links.
func (d Document) Wiki() string {
	var parts []string
	for _, b := range d.Blocks {
		if s := b.wiki(); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

func (b Block) wiki() string {
	switch b.kind {
	case blockParagraph:
		s := wikiInlines(b.inlines, "\n")
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = escapeLineStart(l)
		}
		return strings.TrimSpace(strings.Join(lines, "\n"))
	case blockHeading:
		s := strings.TrimSpace(wikiInlines(b.inlines, " "))
		if s == "" {
			return ""
		}
		return "h" + string(rune('0'+b.level)) + ". " + s
	case blockBulletList:
		var lines []string
		for _, it := range b.items {
			if s := strings.TrimSpace(wikiInlines(it, ` \\ `)); s != "" {
				lines = append(lines, "* "+s)
			}
		}
		return strings.Join(lines, "\n")
	}
	return ""
}

func escapeLineStart(line string) string {
	return wikiLineStart.ReplaceAllString(line, `$1$2\.`)
}

// wikiInlines renders runs; newlines inside user text become sep.
func wikiInlines(runs []Inline, sep string) string {
	var b strings.Builder
	for _, r := range runs {
		text := cleanText(r.text)
		switch r.kind {
		case inlineStrong:
			b.WriteString(wikiWrapLines(text, "*", "*", sep))
		case inlineCode:
			b.WriteString(wikiWrapLines(text, "{{", "}}", sep))
		case inlineLink:
			href := safeHref(r.href)
			switch {
			case href == "":
				b.WriteString(wikiEscapeLines(text, sep))
			case strings.TrimSpace(text) == "":
				b.WriteString("[" + href + "]")
			default:
				b.WriteString("[" + wikiEscape(strings.Join(strings.Fields(text), " ")) + "|" + href + "]")
			}
		default:
			b.WriteString(wikiEscapeLines(text, sep))
		}
	}
	return b.String()
}

func wikiEscapeLines(text, sep string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = wikiEscape(l)
	}
	return strings.Join(lines, sep)
}

// wikiWrapLines applies a formatting marker to each non-blank line, keeping
// surrounding spaces outside the markers (Jira ignores "* bold *").
func wikiWrapLines(text, open, closing, sep string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		core := strings.TrimSpace(l)
		if core == "" {
			lines[i] = wikiEscape(l)
			continue
		}
		lead := l[:strings.Index(l, core)]
		trail := l[len(lead)+len(core):]
		lines[i] = lead + open + wikiEscape(core) + closing + trail
	}
	return strings.Join(lines, sep)
}

func wikiEscape(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(wikiBackslash)
		case strings.ContainsRune(wikiSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return breakAutolinks(b.String())
}
