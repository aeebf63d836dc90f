package quote

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// A span is a marker, its text and its end: `<!-- m:KEY OPTS -->TEXT<!-- /m -->`.
// The text may not contain "<" (a span holds a number, not markup), which
// keeps a forgotten end marker from swallowing the page.
var span = regexp.MustCompile(`<!-- m:([^>]*?) -->([^<]*)<!-- /m -->`)

// opener finds every marker, closed or not, to report the unclosed ones.
var opener = regexp.MustCompile(`<!-- m:[^>]*?-->`)

// A Problem is something wrong with one page's generated text.
type Problem struct {
	Line int
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

func lineAt(src []byte, off int) int { return bytes.Count(src[:off], []byte("\n")) + 1 }

// Fill returns page with every span's text made from the data, and the
// spans it could not fill (a key that names nothing, a marker with no
// end). A span it cannot fill keeps its old text.
func (d *Data) Fill(page []byte) ([]byte, []Problem) {
	var problems []Problem
	closed := map[int]bool{}
	for _, m := range span.FindAllIndex(page, -1) {
		closed[m[0]] = true
	}
	for _, m := range opener.FindAllIndex(page, -1) {
		if !closed[m[0]] {
			problems = append(problems, Problem{lineAt(page, m[0]), fmt.Sprintf("%s has no <!-- /m --> after its text", page[m[0]:m[1]])})
		}
	}
	var out bytes.Buffer
	last := 0
	for _, m := range span.FindAllSubmatchIndex(page, -1) {
		spec := string(page[m[2]:m[3]])
		text, err := d.Quote(spec)
		if err != nil {
			problems = append(problems, Problem{lineAt(page, m[0]), err.Error()})
			continue
		}
		out.Write(page[last:m[4]])
		out.WriteString(text)
		last = m[5]
	}
	out.Write(page[last:])
	filled := fillScreens(out.Bytes(), d.ScreensDir, &problems)
	problems = append(problems, d.checkClaims(filled)...)
	problems = append(problems, markersAtLineStart(filled)...)
	return filled, problems
}

// lineStart finds a marker at the start of a line, or of a line of a
// quotation.
var lineStart = regexp.MustCompile(`(?m)^(?:> ?)*<!-- (?:m:|check:)`)

// markersAtLineStart reports markers that begin a line of prose. In
// markdown a line that starts with "<!--" begins an HTML block, even in
// the middle of a paragraph: the paragraph would end there and the rest of
// the line would be shown as raw HTML, its links and emphasis lost (and
// its figures hidden from TypedFigures). A marker goes after a word.
func markersAtLineStart(page []byte) []Problem {
	var problems []Problem
	for _, m := range lineStart.FindAllIndex(page, -1) {
		problems = append(problems, Problem{lineAt(page, m[0]),
			"a marker starts the line: markdown would break the paragraph here; join it to the word before"})
	}
	return problems
}

// A claim is a comparison the prose around it makes, written where it is
// made: <!-- check: crowd/evloop/rps > crowd/threaded/rps -->. It shows
// nothing; it fails the docs test when the data stops agreeing with the
// sentence beside it (a ranking, "about N times", "falls to").
var claim = regexp.MustCompile(`<!-- check: (.*?) -->`)

var comparison = regexp.MustCompile(` (<=|>=|<|>) `)

func (d *Data) checkClaims(page []byte) []Problem {
	var problems []Problem
	for _, m := range claim.FindAllSubmatchIndex(page, -1) {
		text := string(page[m[2]:m[3]])
		line := lineAt(page, m[0])
		op := comparison.FindStringSubmatchIndex(text)
		if op == nil {
			problems = append(problems, Problem{line, fmt.Sprintf("check %q: want LEFT < RIGHT (or >, <=, >=)", text)})
			continue
		}
		l, err := d.eval(text[:op[0]])
		if err == nil {
			var r value
			if r, err = d.eval(text[op[1]:]); err == nil && !holds(text[op[2]:op[3]], l.v, r.v) {
				err = fmt.Errorf("no longer holds: %g against %g; rewrite the sentence beside it", l.v, r.v)
			}
		}
		if err != nil {
			problems = append(problems, Problem{line, fmt.Sprintf("check %q: %v", text, err)})
		}
	}
	return problems
}

func holds(op string, l, r float64) bool {
	switch op {
	case "<":
		return l < r
	case ">":
		return l > r
	case "<=":
		return l <= r
	}
	return l >= r
}

// Quote is the text a span with this spec gets: "crowd/threaded/rps sig=2"
// gives "71,000".
func (d *Data) Quote(spec string) (string, error) {
	fields := strings.Fields(spec)
	// Options come last and are told from the expression by their shape.
	n := len(fields)
	for n > 0 && isOption(fields[n-1]) {
		n--
	}
	if n == 0 {
		return "", fmt.Errorf("span %q names no value", spec)
	}
	o, err := parseOptions(fields[n:])
	if err != nil {
		return "", fmt.Errorf("span %q: %w", spec, err)
	}
	v, err := d.eval(strings.Join(fields[:n], " "))
	if err != nil {
		return "", fmt.Errorf("span %q: %w", spec, err)
	}
	return format(v, o), nil
}

func isOption(f string) bool {
	if f == "x" || f == "pct" {
		return true
	}
	k, _, ok := strings.Cut(f, "=")
	return ok && (k == "sig" || k == "unit")
}

// screen finds a captured dashboard screen: the marker line, then the
// fenced block that shows it.
var screen = regexp.MustCompile("(?m)^<!-- screen: ([a-z0-9-]+) \\(filled from screens/([a-z0-9-]+\\.txt)\\) -->\n```text\n((?s:.*?))```\n")

// fillScreens puts each captured screen's file into the block after its
// marker, so that a recaptured screen reaches the lesson with make docs.
func fillScreens(page []byte, dir string, problems *[]Problem) []byte {
	if dir == "" {
		return page
	}
	var out bytes.Buffer
	last := 0
	for _, m := range screen.FindAllSubmatchIndex(page, -1) {
		file := filepath.Join(dir, string(page[m[4]:m[5]]))
		b, err := os.ReadFile(file)
		if err != nil {
			*problems = append(*problems, Problem{lineAt(page, m[0]), fmt.Sprintf("screen: %v", err)})
			continue
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
		// A tall terminal's empty rows say nothing in a page: a run
		// of blank lines is shown as one.
		for bytes.Contains(b, []byte("\n\n\n")) {
			b = bytes.ReplaceAll(b, []byte("\n\n\n"), []byte("\n\n"))
		}
		out.Write(page[last:m[6]])
		out.Write(b)
		last = m[7]
	}
	out.Write(page[last:])
	return out.Bytes()
}
