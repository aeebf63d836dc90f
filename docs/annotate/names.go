package main

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Commentary cites the code it explains by name: "advance closes it",
// "Session.Next says need more", a diagram's "readRequest -> advance(conn)".
// linkNames makes each such name a link to its declaration, so a reader
// can go from the sentence to the line. A word is taken for a name only
// when it is written the way code names are, since "loop" or "run" in a
// sentence is usually English:
//
//   - in a code span: `Session.Next`;
//   - qualified: Session.Next, servers.Session.Next, loop.run;
//   - in camelCase or with an underscore: readRequest, fileReady;
//   - called: advance(conn), writeHead();
//   - or a function or method of the page's own file with six letters or
//     more ("advance" in conn.go), which is how a file speaks of itself.
//
// Text already inside a link is left alone.

// word finds identifiers, dotted or not.
var word = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*`)

// linkNames adds the links to rendered commentary. The HTML is goldmark's,
// so its shape is known: tags never hold a '>' in an attribute (the
// renderer escapes it), and text between tags is escaped.
func (s *site) linkNames(h []byte, p *pkg, f *file, fromDir string) []byte {
	var b strings.Builder
	src := string(h)
	inLink, inPre := 0, 0
	for len(src) > 0 {
		if src[0] == '<' {
			end := strings.IndexByte(src, '>')
			if end < 0 {
				b.WriteString(src)
				break
			}
			tag := src[:end+1]
			switch {
			case strings.HasPrefix(tag, "<a "):
				inLink++
			case tag == "</a>":
				inLink--
			case strings.HasPrefix(tag, "<pre"):
				inPre++
			case tag == "</pre>":
				inPre--
			case tag == "<code>" && inLink == 0 && inPre == 0:
				// An inline code span that is one name: the link wraps it.
				if close := strings.Index(src, "</code>"); close > 0 {
					inner := strings.TrimSuffix(src[len(tag):close], "()")
					if u := s.nameURL(inner, true, p, f, fromDir); u != "" {
						b.WriteString(`<a href="` + esc(u) + `">` + src[:close+len("</code>")] + `</a>`)
						src = src[close+len("</code>"):]
						continue
					}
				}
			}
			b.WriteString(tag)
			src = src[end+1:]
			continue
		}
		next := strings.IndexByte(src, '<')
		if next < 0 {
			next = len(src)
		}
		text := src[:next]
		src = src[next:]
		if inLink > 0 {
			b.WriteString(text)
			continue
		}
		last := 0
		for _, m := range word.FindAllStringIndex(text, -1) {
			// Not a piece of a longer token: 'p99', an entity '&amp;'.
			if m[0] > 0 && (isIdentChar(text[m[0]-1]) || text[m[0]-1] == '&' || text[m[0]-1] == '#') {
				continue
			}
			name := strings.TrimSuffix(text[m[0]:m[1]], ".")
			called := strings.HasPrefix(text[m[0]+len(name):], "(")
			u := s.nameURL(name, called || looksLikeCode(name), p, f, fromDir)
			if u == "" {
				continue
			}
			b.WriteString(text[last:m[0]])
			b.WriteString(`<a class="name" href="` + esc(u) + `">` + name + `</a>`)
			last = m[0] + len(name)
		}
		b.WriteString(text[last:])
	}
	return []byte(b.String())
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// looksLikeCode is a word no sentence uses as English: dotted, with an
// underscore, or with a capital after its first letter (readRequest).
func looksLikeCode(w string) bool {
	if strings.ContainsAny(w, "._") {
		return true
	}
	for _, r := range w[1:] {
		if unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

// nameURL is where a cited name's declaration is, or "". codeLike says the
// name was written as code; otherwise only a function or method of the
// page's own file, six letters or more, counts.
func (s *site) nameURL(name string, codeLike bool, p *pkg, f *file, fromDir string) string {
	key := p.declName(name)
	if key == "" {
		// Qualified by a package of the site: servers.Session.Next,
		// imported or (in a doc.go diagram) only named.
		qual, rest, ok := strings.Cut(name, ".")
		if !codeLike || !ok {
			return ""
		}
		if u := s.resolve(name, p, f, fromDir); u != "" {
			return u
		}
		for _, q := range s.pkgs {
			if q.name == qual && q != p {
				if at, ok := q.decls[rest]; ok {
					return rel(fromDir, q.dir+"/"+at.file+".html") + fmt.Sprintf("#L%d", at.line)
				}
			}
		}
		return ""
	}
	if !codeLike {
		at := p.decls[key]
		if f == nil || at.file != f.name || len(name) < 6 || !p.funcs[key] {
			return ""
		}
	}
	return s.resolve(key, p, f, fromDir)
}
