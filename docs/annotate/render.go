package main

import (
	"bytes"
	"fmt"
	"html"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/alecthomas/chroma/v2"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/util"
)

// generator marks every page, so that the writer can tell its own output
// from anything else before it deletes stale files.
const generator = "serverlab docs/annotate"

// A site is everything needed to render the pages.
type site struct {
	module  string
	pkgs    []*pkg
	lessons []lesson
	md      goldmark.Markdown
}

// A page is the HTML page made from one source file.
type page struct {
	pkg  *pkg
	file *file
	path string // "servers/parse.go.html"
}

// build renders the whole site in memory: output path -> content. Nothing
// in it depends on the clock, the map order or the machine, so the same
// source always gives the same bytes, which is what lets a test say
// whether the committed pages are stale.
func build(root string, dirs []string) (map[string][]byte, error) {
	mod, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	lessons, err := loadLessons(root)
	if err != nil {
		return nil, err
	}
	s := &site{module: mod, lessons: lessons, md: newMarkdown()}
	// Entries naming files of one package ("bench/load/open.go") come
	// together as one package showing those files, where the first of
	// them stands in the reading order.
	var order []string
	files := map[string][]string{}
	for _, d := range dirs {
		d = strings.Trim(path.Clean(strings.TrimSpace(d)), "/")
		if d == "" || d == "." {
			continue
		}
		file := ""
		if strings.HasSuffix(d, ".go") {
			d, file = path.Dir(d), path.Base(d)
		}
		if _, seen := files[d]; !seen {
			order = append(order, d)
			files[d] = nil
		}
		if file != "" {
			files[d] = append(files[d], file)
		}
	}
	for _, d := range order {
		p, err := loadPkg(root, d, files[d]...)
		if err != nil {
			return nil, err
		}
		if p != nil {
			s.pkgs = append(s.pkgs, p)
		}
	}
	var pages []page
	for _, p := range s.pkgs {
		for _, f := range p.files {
			pages = append(pages, page{p, f, p.dir + "/" + f.name + ".html"})
		}
	}
	out := map[string][]byte{
		"index.html": s.index(),
		"style.css":  []byte(stylesheet()),
	}
	// Highlighting is most of the work and each page is independent, so
	// the pages are rendered on every core. Each worker has its own
	// Markdown renderer, since goldmark does not promise to be safe for
	// concurrent use; results go to fixed slots, so the order of finishing
	// changes nothing.
	done := make([][]byte, len(pages))
	errs := make([]error, len(pages))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(pages), 1)) {
		w := *s
		w.md = newMarkdown()
		wg.Go(func() {
			for i := range work {
				done[i], errs[i] = w.filePage(pages, i)
			}
		})
	}
	for i := range pages {
		work <- i
	}
	close(work)
	wg.Wait()
	for i, pg := range pages {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out[pg.path] = done[i]
	}
	return out, nil
}

// newMarkdown makes the Markdown renderer for comments. Raw HTML parsing is
// left out on purpose: a comment that mentions <model> or <a href> means
// those characters as text, and must show them rather than lose them.
func newMarkdown() goldmark.Markdown {
	p := parser.NewParser(
		parser.WithBlockParsers(
			util.Prioritized(parser.NewSetextHeadingParser(), 100),
			util.Prioritized(parser.NewThematicBreakParser(), 200),
			util.Prioritized(parser.NewListParser(), 300),
			util.Prioritized(parser.NewListItemParser(), 400),
			util.Prioritized(parser.NewCodeBlockParser(), 500),
			util.Prioritized(parser.NewATXHeadingParser(), 600),
			util.Prioritized(parser.NewFencedCodeBlockParser(), 700),
			util.Prioritized(parser.NewBlockquoteParser(), 800),
			util.Prioritized(parser.NewParagraphParser(), 1000),
		),
		parser.WithInlineParsers(
			util.Prioritized(parser.NewCodeSpanParser(), 100),
			util.Prioritized(parser.NewLinkParser(), 200),
			util.Prioritized(parser.NewAutoLinkParser(), 300),
			util.Prioritized(parser.NewEmphasisParser(), 500),
		),
		parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
	)
	return goldmark.New(goldmark.WithParser(p), goldmark.WithExtensions(extension.Linkify))
}

// docLink finds Go doc links: [Name], [Type.Method], [pkg.Name].
var docLink = regexp.MustCompile(`\[([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,2})\]`)

// markdown renders commentary. Go doc links are turned into Markdown
// reference links by appending a definition for each one that names
// something this site or pkg.go.dev can show; the rest stay plain text.
func (s *site) markdown(text string, p *pkg, f *file, fromDir string) []byte {
	var defs []string
	seen := map[string]bool{}
	for _, m := range docLink.FindAllStringSubmatchIndex(text, -1) {
		// Go's rule: the brackets must stand alone, with punctuation or
		// space (or the line's edge) on either side.
		if m[0] > 0 && !isDocLinkEdge(text[m[0]-1]) || m[1] < len(text) && !isDocLinkEdge(text[m[1]]) {
			continue
		}
		key := text[m[2]:m[3]]
		if seen[key] {
			continue
		}
		seen[key] = true
		if u := s.resolve(key, p, f, fromDir); u != "" {
			defs = append(defs, "["+key+"]: "+u)
		}
	}
	if len(defs) > 0 {
		text += "\n\n" + strings.Join(defs, "\n") + "\n"
	}
	var buf bytes.Buffer
	if err := s.md.Convert([]byte(text), &buf); err != nil {
		// goldmark's HTML renderer only fails when its writer does, and
		// a bytes.Buffer does not: show the text rather than nothing.
		return []byte("<pre>" + html.EscapeString(text) + "</pre>")
	}
	return s.linkNames(buf.Bytes(), p, f, fromDir)
}

// declName is the declaration a cited name means: itself if declared,
// else the one method of that name ("advance" is "conn.advance"), else "".
// A name qualified by an imported package ("servers.Session.Next") is
// left to resolve, which knows the imports.
func (p *pkg) declName(name string) string {
	if _, ok := p.decls[name]; ok {
		return name
	}
	if strings.Contains(name, ".") {
		return ""
	}
	found := ""
	for key := range p.decls {
		// A struct field shares the Type.Name form; only methods are
		// what prose calls by a bare name.
		if _, meth, _ := strings.Cut(key, "."); meth == name && p.methods[key] {
			if found != "" {
				return "" // two types have it: ambiguous
			}
			found = key
		}
	}
	return found
}

func isDocLinkEdge(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || strings.IndexByte(".,:;!?'\"()`*_-", c) >= 0
}

// resolve turns a doc link's name into a URL: a line of this site for the
// project's own packages, pkg.go.dev for the standard library and other
// modules, "" for a name nobody declares.
func (s *site) resolve(key string, p *pkg, f *file, fromDir string) string {
	if at, ok := p.decls[key]; ok {
		if f != nil && at.file == f.name {
			return fmt.Sprintf("#L%d", at.line)
		}
		return rel(fromDir, p.dir+"/"+at.file+".html") + fmt.Sprintf("#L%d", at.line)
	}
	if f == nil {
		return ""
	}
	qual, name, _ := strings.Cut(key, ".")
	imp, ok := f.imports[qual]
	if !ok {
		return ""
	}
	if own, ok := strings.CutPrefix(imp, s.module+"/"); ok {
		for _, q := range s.pkgs {
			if q.dir != own {
				continue
			}
			if name == "" {
				return rel(fromDir, "index.html") + "#pkg-" + anchorName(q.dir)
			}
			if at, ok := q.decls[name]; ok {
				return rel(fromDir, q.dir+"/"+at.file+".html") + fmt.Sprintf("#L%d", at.line)
			}
		}
		return ""
	}
	if name == "" {
		return "https://pkg.go.dev/" + imp
	}
	return "https://pkg.go.dev/" + imp + "#" + name
}

// rel is the relative URL from folder fromDir to target, both slash paths
// under the output folder.
func rel(fromDir, target string) string {
	r, err := filepath.Rel(filepath.FromSlash(path.Clean("/"+fromDir)), filepath.FromSlash(path.Clean("/"+target)))
	if err != nil {
		return target
	}
	return filepath.ToSlash(r)
}

// anchorName makes a package folder into an id: "internal/sock" ->
// "internal-sock".
func anchorName(dir string) string { return strings.ReplaceAll(dir, "/", "-") }

// filePage renders one source file: a header to find the way around, one
// row per docco section, and a footer linking the file's neighbours in
// reading order, so that the site can be read through like a book.
func (s *site) filePage(pages []page, i int) ([]byte, error) {
	pg := pages[i]
	lines, err := highlight(pg.file.src)
	if err != nil {
		return nil, fmt.Errorf("highlight %s: %w", pg.path, err)
	}
	var b bytes.Buffer
	writeHead(&b, pg.pkg.dir+"/"+pg.file.name+" — serverlab annotated source", rel(pg.pkg.dir, "style.css"))
	writeHeader(&b, pg)
	b.WriteString("<main class=\"page\">\n")
	src := splitLines(pg.file.src)
	names := declAnchors(pg)
	for _, sec := range sections(pg.file.src) {
		s.writeSection(&b, pg, sec, src, lines, names)
	}
	b.WriteString("</main>\n")
	writeFooter(&b, pages, i)
	return b.Bytes(), nil
}

// writeHeader writes where the page is (site, package, file) and the
// package's other files.
func writeHeader(b *bytes.Buffer, pg page) {
	p, f := pg.pkg, pg.file
	index := rel(p.dir, "index.html")
	b.WriteString(`<header class="top">` + "\n")
	fmt.Fprintf(b, `<nav class="crumbs"><a href="%s">serverlab</a> / <a href="%s#pkg-%s">%s</a> / <strong>%s</strong></nav>`+"\n",
		index, index, anchorName(p.dir), esc(p.dir), esc(f.name))
	b.WriteString(`<nav class="files" aria-label="files of this package">`)
	for i, g := range p.files {
		if i > 0 {
			b.WriteString(` <span class="sep">·</span> `)
		}
		if g == f {
			fmt.Fprintf(b, `<span class="current" aria-current="page">%s</span>`, esc(g.name))
		} else {
			fmt.Fprintf(b, `<a href="%s.html">%s</a>`, esc(g.name), esc(g.name))
		}
	}
	b.WriteString("</nav>\n</header>\n")
}

// declAnchors gives the names declared in a file by the line that
// declares them: "Session", "Session.Next", "Request.Path". Each becomes
// an anchor too, so a lesson can link to evloop/conn.go.html#conn.advance
// and the link checker will notice when the function is renamed; a line
// number keeps no such promise when the code above it grows.
func declAnchors(pg page) map[int][]string {
	names := map[int][]string{}
	for name, at := range pg.pkg.decls {
		if at.file == pg.file.name && !lineID.MatchString(name) {
			names[at.line] = append(names[at.line], name)
		}
	}
	for _, n := range names {
		sort.Strings(n)
	}
	return names
}

// lineID matches the anchors kept for line numbers.
var lineID = regexp.MustCompile(`^L[0-9]+$`)

// writeSection writes one row: commentary left, code right. src holds the
// file's lines and toks their highlighted tokens, both indexed by line-1;
// names are the declaration anchors by line.
func (s *site) writeSection(b *bytes.Buffer, pg page, sec section, src []string, toks [][]chroma.Token, names map[int][]string) {
	// A section that starts at the left margin (a declaration's doc
	// comment, or a note between declarations) begins a new topic, and
	// the stylesheet rules a faint line above it.
	row, docs := "sec", "docs"
	if !sec.inner && sec.doc != "" {
		row += " topic"
	}
	if hasWideBlock(sec.doc) {
		row += " wide"
	}
	if sec.inner {
		docs += " inner"
	}
	if sec.doc == "" {
		docs += " empty"
	}
	b.WriteString(`<div class="` + row + `">` + "\n" + `<div class="` + docs + `">`)
	for _, l := range sec.docLines {
		writeAnchor(b, l)
	}
	if sec.doc != "" {
		b.WriteString("\n")
		b.Write(s.markdown(sec.doc, pg.pkg, pg.file, pg.pkg.dir))
	}
	b.WriteString(`</div>` + "\n" + `<div class="code"><pre class="chroma">`)
	// Blank lines at either end of a section only push the code away
	// from its commentary: they keep their anchors but take no room.
	from, to := sec.from, sec.to
	for from < to && isBlank(src[from-1]) {
		writeAnchor(b, from)
		from++
	}
	end := to
	for end > from && isBlank(src[end-2]) {
		end--
	}
	for l := from; l < end; l++ {
		for _, name := range names[l] {
			fmt.Fprintf(b, `<span class="src-anchor" id="%s"></span>`, esc(name))
		}
		fmt.Fprintf(b, `<span class="src-line" id="L%d"><a class="src-num" href="#L%d">%d</a><span class="src-code">`, l, l, l)
		if l-1 < len(toks) {
			writeTokens(b, toks[l-1])
		}
		b.WriteString("\n</span></span>")
	}
	for l := end; l < to; l++ {
		writeAnchor(b, l)
	}
	b.WriteString("</pre></div>\n</div>\n")
}

// writeAnchor writes an empty target for a line the code column does not
// show (a comment, or a blank line at a section's edge), so that every
// line number has an anchor.
func writeAnchor(b *bytes.Buffer, line int) {
	fmt.Fprintf(b, `<span class="src-anchor" id="L%d"></span>`, line)
}

// writeFooter links the previous and next files in reading order.
func writeFooter(b *bytes.Buffer, pages []page, i int) {
	pg := pages[i]
	dir := pg.pkg.dir
	b.WriteString("<footer class=\"bottom\">\n<nav class=\"turn\">")
	if i > 0 {
		prev := pages[i-1]
		fmt.Fprintf(b, `<a rel="prev" href="%s">← %s</a>`, rel(dir, prev.path), esc(prev.pkg.dir+"/"+prev.file.name))
	}
	fmt.Fprintf(b, `<a href="%s">contents</a>`, rel(dir, "index.html"))
	if i+1 < len(pages) {
		next := pages[i+1]
		fmt.Fprintf(b, `<a rel="next" href="%s">%s →</a>`, rel(dir, next.path), esc(next.pkg.dir+"/"+next.file.name))
	}
	b.WriteString("</nav>\n")
	fmt.Fprintf(b, "<p>Made by <code>docs/annotate</code> from <code>%s</code>. Do not edit this page: change the Go file and run <code>make docs</code>.</p>\n",
		esc(dir+"/"+pg.file.name))
	b.WriteString("</footer>\n</body>\n</html>\n")
}

// wideBlock is the widest preformatted line, in columns, that fits the
// commentary column beside the code. Wider diagrams and examples would
// need a scroll bar there; their sections are laid out one above the
// other instead, so a student sees the whole picture at once.
const wideBlock = 64

// hasWideBlock reports whether commentary holds a code block (a Go doc
// comment's tab-indented lines) wider than wideBlock.
func hasWideBlock(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "\t") {
			continue
		}
		width := 0
		for _, r := range line[1:] {
			if r == '\t' {
				width += 4 - width%4
			} else {
				width++
			}
		}
		if width > wideBlock {
			return true
		}
	}
	return false
}

// index renders the contents page.
func (s *site) index() []byte {
	var b bytes.Buffer
	writeHead(&b, "serverlab — annotated source", "style.css")
	b.WriteString(`<main class="index">
<h1>serverlab, the annotated source</h1>
<p>Each page is one Go file of serverlab laid out as docco lays out source:
the file's own comments on the left, read as prose, and beside each comment
the code it explains. Start with <code>servers</code>, the core every model
shares, then read the models, which differ only in how they wait for their
sockets.</p>
<p>Every line has an anchor: line 42 of <code>evloop/loop.go</code> is
<code>evloop/loop.go.html#L42</code>. So does every package-level name, by
the name Go's documentation uses for it (<code>#Session</code>,
<code>#Session.Next</code>, <code>#conn.advance</code>): a link by name
still points at the right code after the lines above it have changed.
These pages are generated from the source by <code>docs/annotate</code>;
to change one, change the comment in the Go file and run
<code>make docs</code>.</p>
`)
	if len(s.lessons) > 0 {
		b.WriteString("<section class=\"lessons\" id=\"lessons\">\n<h2>The lessons</h2>\n" +
			"<p>Each lesson runs a load, shows what happens, and links here, to the lines that cause it.</p>\n<ol class=\"filelist\">\n")
		for _, l := range s.lessons {
			fmt.Fprintf(&b, "<li><a href=\"%s%s\">%s</a></li>\n", lessonsURL, esc(l.file), esc(l.title))
		}
		b.WriteString("</ol>\n</section>\n")
	}
	for _, p := range s.pkgs {
		fmt.Fprintf(&b, "<section class=\"pkg\" id=\"pkg-%s\">\n<h2><code>%s</code></h2>\n", anchorName(p.dir), esc(p.dir))
		if p.synopsis != "" {
			b.WriteString(`<div class="synopsis">` + "\n")
			b.Write(s.markdown(p.synopsis, p, nil, ""))
			b.WriteString("</div>\n")
		}
		b.WriteString(`<ul class="filelist">` + "\n")
		for _, f := range p.files {
			fmt.Fprintf(&b, "<li><a href=\"%s/%s.html\">%s</a> <span class=\"count\">%d lines</span></li>\n",
				esc(p.dir), esc(f.name), esc(f.name), len(splitLines(f.src)))
		}
		b.WriteString("</ul>\n</section>\n")
	}
	b.WriteString("</main>\n</body>\n</html>\n")
	return b.Bytes()
}

// writeHead writes the document head shared by all pages.
func writeHead(b *bytes.Buffer, title, css string) {
	fmt.Fprintf(b, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="%s">
<title>%s</title>
<link rel="stylesheet" href="%s">
</head>
<body>
`, generator, esc(title), css)
}

// writeTokens writes one line's tokens as spans whose classes are chroma's
// short names ("k" keyword, "s" string...), which the stylesheet colours.
// Quotes are escaped too: code that contains href="..." or id="..." must
// not look like a link or an anchor to the link checker.
func writeTokens(b *bytes.Buffer, toks []chroma.Token) {
	for _, t := range toks {
		v := strings.TrimSuffix(t.Value, "\n")
		if v == "" {
			continue
		}
		// Whitespace and plain text get no span: they have no colour,
		// and leaving them bare keeps the pages small.
		if cls := tokenClass(t.Type); cls != "" && cls != "w" {
			b.WriteString(`<span class="` + cls + `">` + esc(v) + `</span>`)
		} else {
			b.WriteString(esc(v))
		}
	}
}

// tokenClass is the class chroma's HTML formatter would use: the nearest
// ancestor type that has a short name. Plain text and whitespace have none.
func tokenClass(t chroma.TokenType) string {
	for ; t != 0; t = t.Parent() {
		if cls, ok := chroma.StandardTypes[t]; ok {
			return cls
		}
	}
	return ""
}

// esc escapes text for HTML, quotes included.
func esc(s string) string { return html.EscapeString(s) }
