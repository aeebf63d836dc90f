package main

import (
	"go/scanner"
	"go/token"
	"regexp"
	"strings"
)

// A section is docco's unit of layout: a run of comment lines (the
// commentary) and the code that follows it, up to the next comment block.
// The page shows each section as one row, commentary left and code right,
// so every comment sits beside the lines it explains.
type section struct {
	// doc is the commentary as Markdown, comment markers removed.
	doc string
	// docLines are the source lines (1-based) the commentary came from.
	// They have no place in the code column, but lessons may still link
	// to them, so the page gives each one an anchor beside the commentary.
	docLines []int
	// inner is set when the comment is indented: it explains a line
	// inside a declaration or a function body rather than a whole one.
	inner bool
	// from and to bound the code lines: from <= line < to (1-based).
	from, to int
}

// splitLines cuts src into lines without their "\n". A final newline does
// not start one more, empty, line: that matches how editors number lines.
func splitLines(src []byte) []string {
	s := string(src)
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int // start offset of each line

func newLineIndex(src []byte) lineIndex {
	idx := lineIndex{0}
	for i, b := range src {
		if b == '\n' && i+1 < len(src) {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line returns the line holding offset off.
func (idx lineIndex) line(off int) int {
	lo, hi := 0, len(idx)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if idx[mid] <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1
}

// directive matches the comments Go reserves for tools (//go:build,
// //go:noinline, //line, //export, //nolint:...). They are instructions to
// a program, not prose for a reader, so they stay in the code column. The
// rule is go/ast's: no space after the slashes.
var directive = regexp.MustCompile(`^//(?:line |extern |export |[a-z0-9]+:[a-z0-9])`)

// sections splits one Go source file into docco sections.
//
// Which lines are comment lines is decided by go/scanner, not by looking
// for "//" in the text: a "//" inside a string literal is code, and a raw
// string can span lines that look exactly like comments. A line is
// commentary when it holds nothing but a comment; a comment after code on
// the same line stays with its code. The scanner copes with source that
// does not compile, which matters because the pages are made from packages
// while they are being written.
func sections(src []byte) []section {
	lines := splitLines(src)
	n := len(lines)
	idx := newLineIndex(src)

	isCode := make([]bool, n+2)
	type comment struct {
		first, last int
		text        string
		indent      bool
	}
	var comments []comment

	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(file, src, func(token.Position, string) {}, scanner.ScanComments)
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue // inserted by the scanner, not written in the source
		}
		off := file.Offset(pos)
		text := lit
		if text == "" {
			text = tok.String()
		}
		first, last := idx.line(off), idx.line(off+max(len(text)-1, 0))
		if tok != token.COMMENT {
			for l := first; l <= last && l <= n; l++ {
				isCode[l] = true
			}
			continue
		}
		if directive.MatchString(lit) {
			isCode[first] = true
			continue
		}
		indent := off > idx[first-1]
		comments = append(comments, comment{first, last, lit, indent})
	}

	// docText[l] is the Markdown a commentary line contributes, if
	// hasText[l]; hasDoc[l] marks every line that is commentary at all
	// (the inner lines of a /* */ block have no text of their own).
	docText := make([]string, n+2)
	hasText := make([]bool, n+2)
	hasDoc := make([]bool, n+2)
	indented := make([]bool, n+2)
	for _, c := range comments {
		onCode := false
		for l := c.first; l <= c.last; l++ {
			onCode = onCode || isCode[l]
		}
		if onCode {
			// A comment sharing a line with code belongs to that code:
			// all of its lines are shown as code.
			for l := c.first; l <= c.last; l++ {
				isCode[l] = true
			}
			continue
		}
		for l := c.first; l <= c.last; l++ {
			hasDoc[l] = true
			indented[l] = c.indent
		}
		docText[c.first], hasText[c.first] = commentText(c.text), true
	}

	var out []section
	cur := section{from: 1, to: 1}
	var doc []string
	onlyBlanks := func() bool {
		for l := cur.from; l < cur.to; l++ {
			if !isBlank(lines[l-1]) {
				return false
			}
		}
		return true
	}
	flush := func() {
		cur.doc = strings.Trim(strings.Join(doc, "\n"), "\n")
		if cur.doc != "" || cur.from < cur.to {
			out = append(out, cur)
		}
		doc = nil
	}
	for l := 1; l <= n; l++ {
		if !hasDoc[l] {
			if cur.from == cur.to {
				cur.from = l
			}
			cur.to = l + 1
			continue
		}
		switch {
		case cur.from < cur.to && !onlyBlanks():
			flush()
			cur = section{inner: indented[l]}
		case cur.from < cur.to:
			// Only blank lines since the last comment: the two comment
			// blocks become one commentary, a paragraph apart, rather than
			// a commentary beside an empty code cell.
			for b := cur.from; b < cur.to; b++ {
				cur.docLines = append(cur.docLines, b)
			}
			doc = append(doc, "")
		case len(cur.docLines) == 0:
			cur.inner = indented[l]
		}
		cur.docLines = append(cur.docLines, l)
		if hasText[l] {
			doc = append(doc, docText[l])
		}
		cur.from, cur.to = l+1, l+1
	}
	flush()
	return out
}

// commentText turns one comment into Markdown: the markers go, and so does
// the single space that conventionally follows "//", so that a Go doc
// comment's tab-indented code block stays indented (and so stays a code
// block in Markdown) and its "  - " list items stay list items.
func commentText(c string) string {
	if strings.HasPrefix(c, "//") {
		c = strings.TrimPrefix(c[2:], " ")
		return strings.TrimRight(c, " \t\r")
	}
	c = strings.TrimSuffix(strings.TrimPrefix(c, "/*"), "*/")
	lines := strings.Split(c, "\n")
	// Leading " * " decorations, when every continuation line has them.
	star := len(lines) > 1
	for _, l := range lines[1:] {
		t := strings.TrimLeft(l, " \t")
		if t != "" && !strings.HasPrefix(t, "*") {
			star = false
		}
	}
	for i, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if star && i > 0 {
			l = strings.TrimPrefix(strings.TrimPrefix(strings.TrimLeft(l, " \t"), "*"), " ")
		}
		lines[i] = l
	}
	return dedent(lines)
}

// dedent removes the indentation all non-blank lines share.
func dedent(lines []string) string {
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ws := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = ws, false
			continue
		}
		for !strings.HasPrefix(ws, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, prefix)
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// isBlank reports whether a source line has nothing on it.
func isBlank(line string) bool { return strings.TrimSpace(line) == "" }
