package docs

import (
	"bytes"
	"fmt"
	"html"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// TestLinks follows every link in the README and in docs/. Relative links
// must reach a file that exists and, when they name an anchor, an anchor
// that exists in it; web links are only checked for being well formed
// (the test needs no network). All broken links are reported at once.
func TestLinks(t *testing.T) {
	problems, checked, err := checkLinks("..")
	if err != nil {
		t.Fatal(err)
	}
	// The README alone holds links: finding none means the extractor is
	// broken, not that the docs are perfect.
	if checked == 0 {
		t.Fatal("no links found in README.md or docs/")
	}
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d links checked, %d broken", checked, len(problems))
}

// TestLinkChecker runs the checker over a small made-up repository with
// one link of each kind, good and bad, and checks it reports exactly the
// bad ones.
func TestLinkChecker(t *testing.T) {
	root := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# Top\n\n[lesson](docs/lessons/one.md#why-it-stalls) [gone](docs/nope.md)\n")
	write("evloop/loop.go", "package evloop\n\nfunc run() {}\n")
	write("docs/annotated/evloop/loop.go.html",
		`<p id="L1">x</p><a href="#L1">1</a><a href="#L9">bad</a><link rel="stylesheet" href="../style.css">`+
			`<pre>&lt;a href=&#34;ghost.html&#34;&gt;</pre>`)
	write("docs/annotated/style.css", "body{}")
	write("docs/lessons/one.md", "# The loop\n\n"+
		"## Why it stalls?\n\n"+
		"## Why it stalls?\n\n"+
		"## `Session.Next` & the *head*\n\n"+
		"<a id=\"custom\"></a>\n\n"+
		"[ok](../annotated/evloop/loop.go.html#L1)\n"+
		"[bad line](../annotated/evloop/loop.go.html#L2)\n"+
		"[dup](#why-it-stalls-1) [code heading](#sessionnext--the-head) [explicit](#custom)\n"+
		"[missing heading](#why-it-runs)\n"+
		"[source line](../../evloop/loop.go#L3) [past the end](../../evloop/loop.go#L30)\n"+
		"[folder](../../evloop/) [folder anchor](../../evloop/#x)\n"+
		"[web](https://example.org/a#b) [broken web](https://) [mail](mailto:a@example.org)\n"+
		"[escape](../../../outside.md) [odd](ftp://example.org/x)\n"+
		"![figure](../results/missing.svg)\n"+
		"<img src=\"../results/gone.png\"> <a href=\"two.md\">two</a>\n\n"+
		"`[in code](nowhere.md)`\n\n"+
		"    [indented code](nowhere.md)\n\n"+
		"```\n[fenced](nowhere.md)\n```\n\n"+
		"| a | b |\n|---|---|\n| [cell](cell.md) | x |\n\n"+
		"[ref link][r]\n\n[r]: ref.md\n")
	write("docs/lessons/two.md", "# Two\n")

	problems, checked, err := checkLinks(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.file+" -> "+p.link)
	}
	want := []string{
		"README.md -> docs/nope.md",
		"docs/annotated/evloop/loop.go.html -> #L9",
		"docs/lessons/one.md -> ../annotated/evloop/loop.go.html#L2",
		"docs/lessons/one.md -> #why-it-runs",
		"docs/lessons/one.md -> ../../evloop/loop.go#L30",
		"docs/lessons/one.md -> ../../evloop/#x",
		"docs/lessons/one.md -> https://",
		"docs/lessons/one.md -> ../../../outside.md",
		"docs/lessons/one.md -> ftp://example.org/x",
		"docs/lessons/one.md -> ../results/missing.svg",
		"docs/lessons/one.md -> ../results/gone.png",
		"docs/lessons/one.md -> cell.md",
		"docs/lessons/one.md -> ref.md",
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("broken links reported:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if checked < 25 {
		t.Errorf("checked %d links, want at least 25", checked)
	}
	for _, p := range problems {
		if p.line < 1 {
			t.Errorf("%v: no line number", p)
		}
	}
}

func TestSlug(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Why it stalls?", "why-it-stalls"},
		{"Session.Next & the head", "sessionnext--the-head"},
		{"c10k: 10,000 idle connections", "c10k-10000-idle-connections"},
		{"snake_case and kebab-case", "snake_case-and-kebab-case"},
		{"Über café", "über-café"},
	} {
		if got := slug(tt.in); got != tt.want {
			t.Errorf("slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A problem is one broken link.
type problem struct {
	file   string // slash path from the root
	line   int
	link   string
	reason string
}

func (p problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.file, p.line, p.link, p.reason)
}

// A link as found in a page, with the line it is on.
type link struct {
	dest string
	line int
}

// A doc is what the checker knows about one page: its links and the
// anchors other pages may point at.
type doc struct {
	links   []link
	anchors map[string]bool
}

// checkLinks checks root/README.md and every .md and .html file under
// root/docs, and returns the broken links sorted by file and line, and
// how many links it checked.
func checkLinks(root string) (problems []problem, checked int, err error) {
	pages := []string{"README.md"}
	err = filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(p); !d.IsDir() && (ext == ".md" || ext == ".html") {
			r, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			pages = append(pages, filepath.ToSlash(r))
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("walk docs: %w", err)
	}
	c := &checker{root: root, docs: map[string]*doc{}}
	for _, page := range pages {
		d, err := c.load(page)
		if err != nil {
			return nil, 0, err
		}
		for _, l := range d.links {
			checked++
			if reason := c.check(page, l.dest); reason != "" {
				problems = append(problems, problem{page, l.line, l.dest, reason})
			}
		}
	}
	sort.SliceStable(problems, func(i, j int) bool {
		if problems[i].file != problems[j].file {
			return problems[i].file < problems[j].file
		}
		return problems[i].line < problems[j].line
	})
	return problems, checked, nil
}

// checker holds every page it has read, since many links share a target
// (every annotated page's line numbers point into that page itself).
type checker struct {
	root string
	docs map[string]*doc // by slash path from root; nil: not a page
}

// load reads and parses a page once.
func (c *checker) load(name string) (*doc, error) {
	if d, ok := c.docs[name]; ok {
		return d, nil
	}
	src, err := os.ReadFile(filepath.Join(c.root, filepath.FromSlash(name)))
	if err != nil {
		return nil, fmt.Errorf("read page: %w", err)
	}
	var d *doc
	switch path.Ext(name) {
	case ".md":
		d = parseMarkdown(src)
	case ".html", ".htm":
		d = &doc{anchors: map[string]bool{}}
		d.links = htmlLinks(src, 0, src)
		addHTMLAnchors(d.anchors, src)
	}
	c.docs[name] = d
	return d, nil
}

// check returns why the link dest in page from is broken, or "".
func (c *checker) check(from, dest string) string {
	dest = strings.TrimSpace(dest)
	if dest == "" {
		return "empty link"
	}
	u, err := url.Parse(dest)
	if err != nil {
		return fmt.Sprintf("malformed: %v", err)
	}
	switch u.Scheme {
	case "":
	case "http", "https":
		if u.Host == "" || strings.ContainsAny(dest, " \t") {
			return "malformed web address"
		}
		return "" // not fetched: the test needs no network
	case "mailto":
		return ""
	default:
		return "unsupported scheme " + u.Scheme
	}
	if u.Host != "" {
		return "malformed: protocol-relative address"
	}

	target := from
	if u.Path != "" {
		if strings.HasPrefix(u.Path, "/") {
			target = path.Clean(strings.TrimPrefix(u.Path, "/"))
		} else {
			target = path.Join(path.Dir(from), u.Path)
		}
		if target == ".." || strings.HasPrefix(target, "../") {
			return "leads outside the repository"
		}
	}
	info, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(target)))
	if err != nil {
		return "no such file " + target
	}
	if u.Fragment == "" {
		return ""
	}
	if info.IsDir() {
		return "an anchor on a folder cannot be checked"
	}
	return c.checkAnchor(target, u.Fragment)
}

// lineAnchor matches GitHub's anchors into a source file: #L12 or #L12-L20.
var lineAnchor = regexp.MustCompile(`^L(\d+)(?:-L(\d+))?$`)

func (c *checker) checkAnchor(target, frag string) string {
	switch path.Ext(target) {
	case ".md", ".html", ".htm":
		d, err := c.load(target)
		if err != nil {
			return err.Error()
		}
		if !d.anchors[frag] {
			return fmt.Sprintf("no anchor #%s in %s", frag, target)
		}
		return ""
	}
	m := lineAnchor.FindStringSubmatch(frag)
	if m == nil {
		return fmt.Sprintf("anchor #%s on a %s file cannot be checked", frag, path.Ext(target))
	}
	src, err := os.ReadFile(filepath.Join(c.root, filepath.FromSlash(target)))
	if err != nil {
		return err.Error()
	}
	lines := bytes.Count(src, []byte("\n"))
	if len(src) > 0 && src[len(src)-1] != '\n' {
		lines++
	}
	for _, n := range m[1:] {
		if n == "" {
			continue
		}
		if l, _ := strconv.Atoi(n); l < 1 || l > lines {
			return fmt.Sprintf("%s has %d lines, no line %d", target, lines, l)
		}
	}
	return ""
}

// markdown parses pages the way GitHub shows them (tables included), so
// that links in code spans and code blocks are not mistaken for links.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList))

// parseMarkdown finds a Markdown page's links (Markdown ones, and the
// href and src attributes of HTML written in it) and its anchors: a slug
// for each heading, as GitHub makes them, and any id or name in its HTML.
func parseMarkdown(src []byte) *doc {
	d := &doc{anchors: map[string]bool{}}
	slugs := map[string]int{}
	lineOf := func(off int) int { return bytes.Count(src[:off], []byte("\n")) + 1 }
	tree := markdown.Parser().Parse(text.NewReader(src))
	// The walker's function never fails, so neither does the walk.
	_ = ast.Walk(tree, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			s := slug(plainText(n, src))
			// GitHub numbers repeated headings: x, x-1, x-2...
			if k := slugs[s]; k > 0 {
				d.anchors[fmt.Sprintf("%s-%d", s, k)] = true
			} else {
				d.anchors[s] = true
			}
			slugs[s]++
		case *ast.Link:
			d.links = append(d.links, link{string(n.Destination), lineOf(blockStart(n))})
		case *ast.Image:
			d.links = append(d.links, link{string(n.Destination), lineOf(blockStart(n))})
		case *ast.AutoLink:
			if n.AutoLinkType == ast.AutoLinkURL {
				d.links = append(d.links, link{string(n.URL(src)), lineOf(blockStart(n))})
			}
		case *ast.RawHTML:
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				d.links = append(d.links, htmlLinks(src, seg.Start, seg.Value(src))...)
				addHTMLAnchors(d.anchors, seg.Value(src))
			}
		case *ast.HTMLBlock:
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				d.links = append(d.links, htmlLinks(src, seg.Start, seg.Value(src))...)
				addHTMLAnchors(d.anchors, seg.Value(src))
			}
			if n.HasClosure() {
				d.links = append(d.links, htmlLinks(src, n.ClosureLine.Start, n.ClosureLine.Value(src))...)
			}
		}
		return ast.WalkContinue, nil
	})
	return d
}

// blockStart finds where an inline node's enclosing block begins in the
// source: inline nodes carry no position of their own in goldmark.
func blockStart(n ast.Node) int {
	for ; n != nil; n = n.Parent() {
		if n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
			return n.Lines().At(0).Start
		}
	}
	return 0
}

// plainText is a heading's text as a reader sees it: code spans keep
// their text, emphasis and link markup go.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(src))
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// slug is GitHub's anchor for a heading: lower case, spaces become
// hyphens, and everything but letters, digits, marks, '-' and '_' goes.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	linkAttr   = regexp.MustCompile(`\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	anchorAttr = regexp.MustCompile(`\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
)

// htmlLinks finds href and src attributes in HTML that starts at offset
// base of src. Text that only shows HTML (escaped, as in code) has no
// literal quotes after "href=", so it is not taken for a link.
func htmlLinks(src []byte, base int, h []byte) []link {
	var out []link
	for _, m := range linkAttr.FindAllSubmatchIndex(h, -1) {
		v := m[2:4]
		if v[0] < 0 {
			v = m[4:6]
		}
		line := bytes.Count(src[:base+m[0]], []byte("\n")) + 1
		out = append(out, link{html.UnescapeString(string(h[v[0]:v[1]])), line})
	}
	return out
}

func addHTMLAnchors(anchors map[string]bool, h []byte) {
	for _, m := range anchorAttr.FindAllSubmatch(h, -1) {
		v := m[1]
		if v == nil {
			v = m[2]
		}
		anchors[html.UnescapeString(string(v))] = true
	}
}
