package servers

// lineScan checks a request line byte by byte as it arrives, so that bytes
// which can never begin a request are refused at once, not after a wait for
// a line end that may never come. A TLS ClientHello sent to a plain-HTTP
// port is the classic case: its first byte is 0x16, it holds no LF, and a
// server that waits for one holds the connection until a timeout — or, in a
// model without timeouts, for ever. nginx answers it 400 at once; so do we.
//
// The shape it checks is RFC 9112 §3's, a little narrowed:
//
//	method SP target SP "HTTP/" DIGIT "." DIGIT [CR] LF
//
// with a method of 1 to maxMethod token characters, and a target that
// begins like one of the three forms parseTarget accepts. Everything it
// lets through is then parsed whole by parseRequestLine; it only decides,
// as early as possible, what certainly fails. Each verdict depends only on
// the bytes before it, so it is the same however the bytes are split.
//
// What it has checked, parseRequestLine need not check again: it takes the
// line's parts where the scan found them (methodEnd, targetEnd), and leaves
// to itself only what the shape does not settle.
type lineScan struct {
	pos   int       // offset of the next byte to look at
	state lineState // what that byte may be
	n     int       // bytes seen in the current part (method, target, version)
	form  byte      // the target's first byte: '/', '*' or 'h'
	// The offsets of the space after the method and of the one after
	// the target, once they have been seen.
	methodEnd, targetEnd int
}

// lineState is the part of the request line the next byte belongs to.
type lineState uint8

const (
	inMethod     lineState = iota // the method token
	targetStart                   // the target's first byte
	inTarget                      // the rest of the target
	inVersion                     // "HTTP/1.1", one byte at a time
	afterVersion                  // only CR or LF may come now
	afterCR                       // only LF may come now
	lineDone                      // the line has ended; pos is its length
)

func (s lineState) String() string {
	return [...]string{"method", "target start", "target", "version", "after version", "after CR", "done"}[s]
}

// versionShape is the form of an HTTP version: 'D' stands for any digit.
const versionShape = "HTTP/D.D"

// scan looks at the bytes of b not yet seen. It returns the length of the
// request line with its line end once that has arrived, -1 while it has not,
// or the error that the bytes so far already make certain.
func (l *lineScan) scan(b []byte) (int, error) {
	if l.state == lineDone || l.pos == 0 && l.whole(b) {
		return l.pos, nil
	}
	for l.pos < len(b) {
		// The usual line's long runs — the method, the path, the
		// version — are passed over in bulk; every other byte (a
		// space, the line end, a fault) is handled one at a time below.
		if l.skipRun(b) && l.pos == len(b) {
			return -1, nil
		}
		c := b[l.pos]
		l.pos++
		if c == '\n' {
			if l.state == afterVersion || l.state == afterCR {
				l.state = lineDone
				return l.pos, nil
			}
			return -1, errBadRequestLine // the line ended early
		}
		if l.state == afterCR {
			// RFC 9112 §2.2: a bare CR is invalid.
			return -1, errBadRequestLine
		}
		if c == '\r' && l.state == afterVersion {
			l.state = afterCR
			continue
		}
		if l.pos > MaxRequestLine {
			return -1, errURITooLong
		}
		if err := l.step(c); err != nil {
			return -1, err
		}
	}
	return -1, nil
}

// whole takes, in one straight pass, a request line that has arrived whole
// and has the shape nearly every client sends, "METHOD /path HTTP/1.1" and
// its line end, and reports whether it did. Any other line, or one not all
// here yet, it leaves untouched to the scan byte by byte, which reaches the
// same verdict on every line whole takes (FuzzLineScan holds the two
// together): whole is only a quicker road to it.
func (l *lineScan) whole(b []byte) bool {
	// Within MaxRequestLine no byte can be too far, so no byte needs the
	// check of its position that scan gives each.
	b = b[:min(len(b), MaxRequestLine)]
	m := runIn(b[:min(len(b), maxMethod)], &tokenChars)
	if m == 0 || m+1 >= len(b) || b[m] != ' ' || b[m+1] != '/' {
		return false
	}
	t := m + 2 + runIn(b[m+2:], &pathChars) // the space after the target, if any
	v := t + 1 + len(versionShape)          // the line end, if any
	if v >= len(b) || b[t] != ' ' || !isVersion(b[t+1:v]) {
		return false
	}
	if b[v] == '\r' && v+1 < len(b) {
		v++
	}
	if b[v] != '\n' {
		return false
	}
	// l was the zero lineScan (pos was 0), so these are all its fields
	// that differ from it. (Field by field, not as one struct literal:
	// that the compiler builds on the stack and copies, a store and a
	// load of different widths that the processor cannot forward.)
	l.pos, l.state, l.form, l.methodEnd, l.targetEnd = v+1, lineDone, '/', m, t
	return true
}

// skipRun passes over a run of bytes that step would accept one by one
// without changing state, and reports whether it moved. It stops short of
// MaxRequestLine, so that the byte past the limit meets its check in scan.
func (l *lineScan) skipRun(b []byte) bool {
	end := min(len(b), MaxRequestLine)
	if l.pos >= end {
		return false
	}
	start := l.pos
	switch {
	case l.state == inMethod:
		n := runIn(b[l.pos:min(end, l.pos+maxMethod-l.n)], &tokenChars)
		l.pos += n
		l.n += n
	case l.state == inTarget && l.form == '/':
		l.pos += runIn(b[l.pos:end], &pathChars)
	case l.state == inVersion && l.n == 0 && end-l.pos >= len(versionShape) && isVersion(b[l.pos:l.pos+len(versionShape)]):
		l.pos += len(versionShape)
		l.state = afterVersion
	}
	return l.pos > start
}

// isVersion reports whether v has the shape "HTTP/D.D".
func isVersion(v []byte) bool {
	return string(v[:5]) == "HTTP/" && isDigit(v[5]) && v[6] == '.' && isDigit(v[7])
}

// runIn is the length of the run of bytes at the start of b that set
// marks: the token of a method or a field name, a path, a host name.
func runIn(b []byte, set *[256]bool) int {
	for i, c := range b {
		if !set[c] {
			return i
		}
	}
	return len(b)
}

// step moves past one byte of the line that is not its end.
func (l *lineScan) step(c byte) error {
	switch l.state {
	case inMethod:
		switch {
		case c == ' ' && l.n > 0:
			l.state, l.n = targetStart, 0
			l.methodEnd = l.pos - 1 // scan has moved past c
		case tokenChars[c] && l.n < maxMethod:
			l.n++
		default:
			return errBadRequestLine
		}
	case targetStart:
		if c != '/' && c != '*' && lower(c) != 'h' {
			return errBadTarget
		}
		l.state, l.form, l.n = inTarget, lower(c), 1
	case inTarget:
		switch {
		case c == ' ':
			l.state, l.n = inVersion, 0
			l.targetEnd = l.pos - 1
		case c <= ' ' || c >= 0x7f || c == '#':
			return errBadTarget
		case l.form == '*':
			return errBadTarget // the asterisk form is "*" alone
		case l.form == 'h' && l.n < len("http://") && lower(c) != "http://"[l.n]:
			return errBadTarget // not an http URI
		default:
			l.n++
		}
	case inVersion:
		want := versionShape[l.n]
		if want == 'D' && !isDigit(c) || want != 'D' && c != want {
			return errBadVersion
		}
		if l.n++; l.n == len(versionShape) {
			l.state = afterVersion
		}
	case afterVersion:
		return errBadVersion // more after the version
	}
	return nil
}

// pathChars marks the bytes that may appear raw in a path: visible ASCII
// but '#' (RFC 3986 §2).
var pathChars = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '#'
	}
	return t
}()
