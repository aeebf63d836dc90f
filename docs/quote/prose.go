package quote

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// figure is a number in digits and a unit of measure after it: the shape
// of a measured quantity (see "The rule for prose" in the package doc).
// A range ("1 to 2 ms", "1–2 ms") counts as one figure.
var figure = regexp.MustCompile(`\d[\d,]*(?:\.\d+)?(?:\s*(?:–|-|to|or|and)\s*\d[\d,]*(?:\.\d+)?)?` +
	`(?:\s|-|\x{a0})?` +
	`(?:requests?/s|req/s|(?:requests|answers) (?:a|per) second|` +
	`µs|us|ms|s|seconds?|minutes?|KiB|MiB|GiB|kB|KB|MB|GB|B/s|bytes?|` +
	`threads?|connections?|clients?|goroutines?|timeouts?|errors?|%|per ?cent|times)` +
	`(?:/s)?(?:\b|$|[^\pL\pN])`)

// A Figure is a measured quantity typed into prose.
type Figure struct {
	Line int
	Text string
}

// markdown parses a page as GitHub shows it, so that code is known for
// what it is.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))

// TypedFigures finds the measured quantities in a page's prose that no
// span generates. Spans are blanked first (their text is generated); code
// blocks, inline code, link targets and HTML are not prose.
func TypedFigures(page []byte) []Figure {
	src := span.ReplaceAllFunc(page, func(m []byte) []byte {
		// Keep the length and the line breaks, so lines still count.
		return bytes.Map(func(r rune) rune {
			if r == '\n' {
				return r
			}
			return 'Q'
		}, m)
	})
	var out []Figure
	tree := markdown.Parser().Parse(text.NewReader(src))
	_ = ast.Walk(tree, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering || n.Type() != ast.TypeBlock {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindFencedCodeBlock, ast.KindCodeBlock, ast.KindHTMLBlock:
			return ast.WalkSkipChildren, nil
		}
		// A block whose children are inline: its prose, code spans
		// left out. (A list item or a quote holds blocks; they are
		// walked in turn.)
		if n.FirstChild() == nil || n.FirstChild().Type() != ast.TypeInline {
			return ast.WalkContinue, nil
		}
		prose := inlineText(n, src)
		start := 0
		if n.Lines().Len() > 0 {
			start = n.Lines().At(0).Start
		}
		for _, m := range figure.FindAllStringIndex(prose, -1) {
			// A number glued to a letter or a dot is a name or a
			// version (p99, c10k, HTTP/1.1), not a quantity.
			if m[0] > 0 && strings.ContainsAny(prose[m[0]-1:m[0]], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_./-") {
				continue
			}
			line := lineAt(src, start) + strings.Count(prose[:m[0]], "\n")
			out = append(out, Figure{line, strings.TrimRight(prose[m[0]:m[1]], " ,.;:)(")})
		}
		return ast.WalkSkipChildren, nil
	})
	return out
}

// inlineText is a block's text as a reader sees it, with code spans and
// raw HTML replaced by a space and soft line breaks kept as newlines.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(ast.Node)
	walk = func(c ast.Node) {
		for ; c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.CodeSpan, *ast.RawHTML:
				b.WriteString(" ")
				continue
			case *ast.Text:
				b.Write(c.Segment.Value(src))
				if c.SoftLineBreak() || c.HardLineBreak() {
					b.WriteString("\n")
				}
				continue
			case *ast.String:
				b.Write(c.Value)
				continue
			case *ast.AutoLink:
				b.Write(c.Label(src))
				continue
			}
			walk(c.FirstChild())
		}
	}
	walk(n.FirstChild())
	return b.String()
}
