package jira

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The shared spec copy, or the byte-identical one vendored for the simulator.
var adfSchemaPaths = []string{"../../shared/specs/adf-schema-v1-full.json", "jirasim/adf-schema-v1-full.json"}

var adfSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(adfSchemaPaths[0])
	if err != nil {
		if f, err = os.Open(adfSchemaPaths[1]); err != nil {
			return nil, err
		}
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource("adf.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("adf.json")
})

func validateADF(t testing.TB, d Document) {
	t.Helper()
	sch, err := adfSchema()
	if err != nil {
		t.Fatalf("load ADF schema: %v", err)
	}
	raw, err := json.Marshal(d.ADF())
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Fatalf("ADF invalid: %v\n%s", err, raw)
	}
	if strings.Contains(string(raw), `"text":""`) {
		t.Fatalf("empty text node: %s", raw)
	}
	var walk func(any)
	walk = func(n any) {
		switch n := n.(type) {
		case map[string]any:
			if n["type"] == "text" && strings.Contains(n["text"].(string), "\n") {
				t.Fatalf("newline inside a text node: %s", raw)
			}
			for _, c := range n {
				walk(c)
			}
		case []any:
			for _, c := range n {
				walk(c)
			}
		}
	}
	walk(d.ADF())
}

var hostile = []string{
	"", " ", "\n", "\n\n\n", "<script>alert(1)</script>", "{code}x{code}", "{html}<b>x</b>{html}",
	"[x|javascript:alert(1)]", "|", "||a||b||", "*bold* _em_ -strike- +u+ ^sup^ ~sub~ ??cite??",
	"h1. heading", "bq. quote", "line1\nh2. sneaky\n* item\n# num\n----", "!image.png!", "[~admin]",
	`back\slash \\ double`, "emoji 🎉👩‍💻 ünïcödé", "tab\tand\r\nCRLF", "\x00\x07control\x1b",
	strings.Repeat("x", 10000), string([]byte{0xff, 0xfe, 'o', 'k'}),
	"see https://evil.example/login and HTTP://EVIL.example", "mail mailto:ceo@corp.example?subject=x now",
	"ftp://files.example/x file:///etc/passwd news:comp.lang.go", "C:\\Users and a: b",
}

func hostileDocs() []Document {
	var docs []Document
	for _, s := range hostile {
		docs = append(docs,
			NewDocument(Paragraph(Text(s))),
			NewDocument(Paragraph(Text("a"), Strong(s), Code(s), Link(s, s), Link(s, "https://ok.example/"+s))),
			NewDocument(Heading(3, Text(s)), BulletList(Item(Text(s)), Item(Code(s)), Item()), Paragraph()),
			NewDocument(Paragraph(Link("", "javascript:alert(1)")), Paragraph(Link(s, "https://x.example/a|b]c"))),
		)
	}
	return append(docs, Document{}, NewDocument(Heading(9, Text("clamped"))), sampleDoc())
}

func TestADFIsSchemaValid(t *testing.T) {
	t.Parallel()
	for _, d := range hostileDocs() {
		validateADF(t, d)
	}
}

func TestADFShape(t *testing.T) {
	t.Parallel()
	got, _ := json.Marshal(NewDocument(
		Paragraph(Text("a\nb"), Text(""), Strong("c")),
		Paragraph(Text("  ")),
		Paragraph(Link("site", "javascript:alert(1)"), Link("ok", "https://x.example")),
	).ADF())
	want := `{"content":[` +
		`{"content":[{"text":"a","type":"text"},{"type":"hardBreak"},{"text":"b","type":"text"},{"marks":[{"type":"strong"}],"text":"c","type":"text"}],"type":"paragraph"},` +
		`{"content":[{"text":"  ","type":"text"}],"type":"paragraph"},` +
		`{"content":[{"text":"site","type":"text"},{"marks":[{"attrs":{"href":"https://x.example"},"type":"link"}],"text":"ok","type":"text"}],"type":"paragraph"}` +
		`],"type":"doc","version":1}`
	if string(got) != want {
		t.Fatalf("ADF\n got %s\nwant %s", got, want)
	}
}

// jiraAutolink is what Jira's wiki renderer turns into a link without
// brackets: a URL scheme and "://", or a slashless scheme such as mailto:.
var jiraAutolink = regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://|(mailto|file|news|nntp|tel|callto|skype|sip):`)

// assertWikiEscaped checks that text rendered from Text(s) carries every
// special character escaped and no markup of its own.
func assertWikiEscaped(t testing.TB, s, out string) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		c := out[i]
		if strings.HasPrefix(out[i:], wikiBackslash) {
			i += len(wikiBackslash) - 1
			continue
		}
		if strings.HasPrefix(out[i:], wikiColon) {
			i += len(wikiColon) - 1
			continue
		}
		if c == '\\' {
			if i+1 >= len(out) || !strings.ContainsRune(wikiSpecial+".", rune(out[i+1])) {
				t.Fatalf("stray backslash at %d in %q (from %q)", i, out, s)
			}
			i++
			continue
		}
		if strings.IndexByte(wikiSpecial, c) >= 0 {
			t.Fatalf("unescaped %q at %d in %q (from %q)", c, i, out, s)
		}
	}
	if m := jiraAutolink.FindString(out); m != "" {
		t.Fatalf("Jira would autolink %q in %q (from %q)", m, out, s)
	}
	for _, line := range strings.Split(out, "\n") {
		if wikiLineStart.MatchString(line) && !strings.Contains(line, `\.`) {
			t.Fatalf("line-leading marker survived: %q", line)
		}
	}
	// Unescaping gives back the cleaned text.
	var b strings.Builder
	for i := 0; i < len(out); i++ {
		switch {
		case strings.HasPrefix(out[i:], wikiBackslash):
			b.WriteByte('\\')
			i += len(wikiBackslash) - 1
		case strings.HasPrefix(out[i:], wikiColon):
			b.WriteByte(':')
			i += len(wikiColon) - 1
		case out[i] == '\\' && i+1 < len(out):
			i++
			b.WriteByte(out[i])
		default:
			b.WriteByte(out[i])
		}
	}
	want := strings.TrimSpace(strings.ReplaceAll(cleanText(s), "\t", " "))
	if b.String() != want {
		t.Fatalf("round trip: got %q, want %q", b.String(), want)
	}
}

func TestWikiEscapesUserText(t *testing.T) {
	t.Parallel()
	for _, s := range hostile {
		assertWikiEscaped(t, s, NewDocument(Paragraph(Text(s))).Wiki())
	}
}

func TestWikiRendering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  Document
		want string
	}{
		{NewDocument(Paragraph(Text("Request "), Strong(" REQ-1 "), Text(" by a_b"))),
			`Request  *REQ\-1*  by a\_b`},
		{NewDocument(Heading(3, Text("Requested\nresources")), BulletList(Item(Code("Admin{x}")), Item(Text("two\nlines")))),
			"h3. Requested resources\n\n* {{Admin\\{x\\}}}\n* two \\\\ lines"},
		{NewDocument(Paragraph(Link("open | page", "https://p.example/requests/1?a=b|c"))),
			`[open \| page|https://p.example/requests/1?a=b%7Cc]`},
		{NewDocument(Paragraph(Link("click", "javascript:alert(1)"))), `click`},
		{NewDocument(Paragraph(Link("", "https://p.example/x"))), `[https://p.example/x]`},
		{NewDocument(Paragraph(Text("h1. not a heading\nbq. nor a quote"))), "h1\\. not a heading\nbq\\. nor a quote"},
		{NewDocument(Paragraph(Text(`C:\temp`))), `C:&#92;temp`},
		{NewDocument(Paragraph(Text("Why: see https://evil.example/x or mailto:a@b.example"), Link("approve", "https://p.example/requests/1"))),
			`Why: see https&#58;//evil.example/x or mailto&#58;a@b.example[approve|https://p.example/requests/1]`},
		{NewDocument(Paragraph(Code("http://x.example"), Link("", "mailto:ops@p.example"))), `{{http&#58;//x.example}}[mailto:ops@p.example]`},
		{NewDocument(Paragraph(), Paragraph(Text("")), Heading(2)), ``},
	}
	for _, tc := range tests {
		if got := tc.doc.Wiki(); got != tc.want {
			t.Errorf("wiki\n got %q\nwant %q", got, tc.want)
		}
	}
}

func TestDocumentIsEmpty(t *testing.T) {
	t.Parallel()
	if !NewDocument(Paragraph(Text(" \n")), BulletList(Item())).IsEmpty() {
		t.Error("blank document should be empty")
	}
	if NewDocument(Paragraph(Link("", "https://x.example"))).IsEmpty() {
		t.Error("a link is content")
	}
}

func FuzzDocument(f *testing.F) {
	for _, s := range hostile {
		f.Add(s, "https://example.com/"+s)
	}
	f.Fuzz(func(t *testing.T, text, href string) {
		d := NewDocument(
			Heading(2, Text(text)),
			Paragraph(Text(text), Strong(text), Code(text), Link(text, href)),
			BulletList(Item(Text(text)), Item(Link(text, href))),
		)
		validateADF(t, d)
		if !utf8.ValidString(d.Wiki()) {
			t.Fatalf("wiki is not UTF-8: %q", d.Wiki())
		}
		assertWikiEscaped(t, text, NewDocument(Paragraph(Text(text))).Wiki())
	})
}
