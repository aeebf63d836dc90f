package servers

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Limits on the request head. They bound the memory one connection can make
// a server hold, whatever model it runs: a model's input buffer only has to
// be ReadBufferSize bytes for any request within them to fit.
const (
	// MaxRequestLine is the longest request line accepted (RFC 9112 §3:
	// "a server that receives a request-target longer than any URI it wishes
	// to parse MUST respond with a 414").
	MaxRequestLine = 8 << 10
	// MaxHeaderBytes bounds the header section after the request line
	// (RFC 6585 §5: 431 Request Header Fields Too Large).
	MaxHeaderBytes = 16 << 10
	// MaxHeaderFields bounds the number of header lines.
	MaxHeaderFields = 100
	// MaxChunkedBody bounds a chunked request body, counted as it travels
	// (sizes, extensions, data, trailers). A chunked body is read whole
	// before its request is answered (see Parser), so it must fit in the
	// input buffer beside the largest head; past this it is 413.
	MaxChunkedBody = 4 << 10
	// ReadBufferSize is the size of a session's input buffer: one whole
	// request head at its limits, plus room for the start of the next
	// pipelined request.
	ReadBufferSize = 32 << 10
)

// The buffer must hold the largest head with the largest chunked body after
// it, and one byte more: that byte is how the parser sees a body that is too
// large. This line stops compiling if a change of limits breaks that.
const _ = uint(ReadBufferSize - (MaxRequestLine + 2 + MaxHeaderBytes + 2 + MaxChunkedBody + 1))

// maxMethod is the length of the longest method in IANA's HTTP Method
// Registry (UPDATEREDIRECTREF). A longer token cannot be a method anybody
// has defined, so a request line that starts with one is refused without
// waiting for the rest of it.
const maxMethod = len("UPDATEREDIRECTREF")

// Method is a request method this server knows how to serve.
type Method uint8

// The methods served. Others are answered 405 (if known) or 501.
const (
	GET Method = iota + 1
	HEAD
	OPTIONS
)

func (m Method) String() string {
	switch m {
	case GET:
		return "GET"
	case HEAD:
		return "HEAD"
	case OPTIONS:
		return "OPTIONS"
	}
	return "?"
}

// Request is one parsed request head. Its byte slices point into the buffer
// given to Parse and stay valid only until that buffer is reused: that is what
// lets the keep-alive path run without allocating.
type Request struct {
	Method Method
	// Path is the request target's path, still percent-encoded, without
	// the query string; "/" for an absolute-form target with no path, and
	// "*" for the asterisk form (OPTIONS only).
	Path []byte
	// Query is the query string after the "?", or nil when there is none.
	// A static file server ignores it, except to keep it in a redirect.
	Query []byte
	// Minor is the HTTP/1.x minor version: 0 or 1.
	Minor int
	// KeepAlive says whether the connection may carry another request
	// after this one (RFC 9112 §9.3).
	KeepAlive bool
	// IfModifiedSince and Range are the raw header values, or nil.
	IfModifiedSince []byte
	Range           []byte
	// ContentLength is the length of a body to read and throw away.
	ContentLength int64
	// chunked marks a body in the chunked coding, which the parser reads
	// (and throws away) before it returns the request.
	chunked bool
	// bodyUnread marks a body announced but not read (see parseHead): the
	// connection ends after the answer, so where the body ends is moot.
	bodyUnread bool
}

// Parser turns bytes into requests, one at a time, remembering between calls
// how far it has already looked so that a request arriving one byte at a time
// costs linear, not quadratic, work.
//
// It keeps no copy of anything: until a request is complete, nothing of it is
// consumed, and the caller hands the same bytes back with more after them. So
// every position the parser remembers is an offset from the start of the
// buffer, which stays valid when the caller moves the unused bytes.
//
// Two kinds of body follow a head. A Content-Length body announces where it
// ends, so the request is returned at once and the body skipped afterwards.
// A chunked body says where it ends only in its last chunk, so the parser
// reads it whole first and returns the request after it: a request is never
// answered before its framing has been checked to the end, and a malformed
// or oversized body is refused with no answer already sent for it.
//
// Its zero value is ready to use.
type Parser struct {
	line lineScan // the request line, checked byte by byte as it arrives
	// scanned is how many bytes of the current head have been searched
	// for the blank line that ends it: 0 until a first look has found
	// the head incomplete.
	scanned int
	// headLen is the length of a complete head whose chunked body is
	// being read (0 otherwise), and body the state of that reading.
	headLen int
	body    chunkScan
	// discard is how many body bytes of the previous request are still to
	// be skipped before the next request begins.
	discard int64
}

// Reset forgets any partial request: use it when a connection is reused.
func (p *Parser) Reset() { *p = Parser{} }

// Parse looks for one complete request at the start of buf.
//
//   - n == 0, err == nil: need more bytes (nothing in buf was used).
//   - n > 0, err == nil, req filled: a request; n bytes of buf were used.
//   - n > 0, req not filled (req.Method == 0): n bytes were skipped (a
//     discarded body, blank lines); call again with the rest.
//   - err != nil: an *Error carrying the status to answer with; the
//     connection must then be closed, because the stream can no longer be
//     split into requests reliably.
func (p *Parser) Parse(buf []byte, req *Request) (n int, err error) {
	*req = Request{}
	// A body we chose not to read is still on the wire: skip it first
	// (RFC 9112 §6.3: the framing decides where the next request starts).
	if p.discard > 0 {
		skip := int64(len(buf))
		if skip > p.discard {
			skip = p.discard
		}
		p.discard -= skip
		return int(skip), nil
	}
	if p.headLen > 0 {
		return p.parseChunked(buf, req)
	}
	// RFC 9112 §2.2: a server SHOULD ignore at least one empty line
	// received before the request line. We ignore any number: each is
	// consumed at once, so they cost no memory, and a limit would make the
	// verdict depend on how the bytes happened to be split into reads.
	if p.line.pos == 0 {
		lead := 0
		for lead < len(buf) && (buf[lead] == '\r' || buf[lead] == '\n') {
			lead++
		}
		if lead > 0 {
			return lead, nil
		}
	}
	lineEnd, err := p.line.scan(buf)
	if err != nil || lineEnd < 0 {
		return 0, err
	}
	var h headerState
	end := -1
	if p.scanned == 0 {
		// The first look at this head: its field lines are read as
		// their ends are found, one pass over each.
		var seen int
		if end, seen = h.readFields(buf, lineEnd, req); end < 0 {
			p.scanned = seen
		}
	} else if end = p.findHeadEnd(buf, lineEnd-1); end >= 0 {
		// An earlier look read the field lines it had, then had to
		// forget them, the head being incomplete. Now the end is found
		// first, resuming where that look stopped, so that a head sent
		// a byte at a time costs linear work; then its fields are read.
		h.readFields(buf[:end], lineEnd, req)
	}
	if end < 0 {
		*req = Request{} // what readFields wrote of an incomplete head
		if len(buf)-lineEnd > MaxHeaderBytes+2 {
			// A client must not make us buffer without limit by never
			// ending its header section. The +2 is the blank line's
			// CRLF, which MaxHeaderBytes does not count.
			return 0, errHeaderTooLarge
		}
		return 0, nil
	}
	if err := parseHead(buf[:end], &p.line, &h, req); err != nil {
		*req = Request{}
		return 0, err
	}
	if req.chunked {
		p.headLen, p.body = end, chunkScan{pos: end}
		return p.parseChunked(buf, req)
	}
	p.line, p.scanned = lineScan{}, 0
	p.discard = req.ContentLength
	return end, nil
}

// parseChunked reads on through the chunked body after a complete head of
// p.headLen bytes, and returns the request (head and body used) when the
// body has ended.
func (p *Parser) parseChunked(buf []byte, req *Request) (int, error) {
	*req = Request{}
	end, err := p.body.scan(buf, p.headLen)
	if err != nil || end < 0 {
		return 0, err
	}
	// The head is parsed again, now, so that the request's slices point
	// into the buffer as it is (the caller may have moved it since). It
	// parsed once, so it parses again: head parsing depends on its bytes
	// alone.
	var h headerState
	h.readFields(buf[:p.headLen], p.line.pos, req)
	if err := parseHead(buf[:p.headLen], &p.line, &h, req); err != nil {
		*req = Request{} // cannot happen: it parsed before
		return 0, err
	}
	*p = Parser{}
	return end, nil
}

// findHeadEnd returns the length of the head including the blank line that
// ends it, or -1 if that line has not arrived yet. from is the offset of the
// LF that ends the request line.
func (p *Parser) findHeadEnd(b []byte, from int) int {
	// Resume a little before where we stopped: the end marker may straddle
	// the old and new bytes.
	from = max(from, p.scanned-3)
	for {
		i := bytes.IndexByte(b[from:], '\n')
		if i < 0 {
			p.scanned = len(b)
			return -1
		}
		i += from
		// A blank line is "\n\n" or "\n\r\n" (RFC 9112 §2.2 lets a
		// recipient accept a bare LF as a line terminator).
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
		if i+2 >= len(b) {
			// The marker may still be arriving.
			p.scanned = i + 1
			return -1
		}
		from = i + 1
	}
}

func trimCR(line []byte) []byte {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		return line[:len(line)-1]
	}
	return line
}

// readFields reads the header lines of b from offset from, the end of the
// request line, up to the blank line that ends them, and does each field's
// work as soon as the end of its line is found: so each line is looked at
// once, to find where it ends and what it says. It returns the length of the
// head, blank line included, or -1 and the offset of the first line not yet
// whole if the blank line has not arrived.
//
// A fault in a field is not returned but kept in h.err: parseHead reports
// it in its turn, when the head is whole, after the faults that rank before
// it (the head's size, the request line), so the verdict does not depend on
// what was read first.
func (h *headerState) readFields(b []byte, from int, req *Request) (end, seen int) {
	for pos := from; ; {
		// The first empty line ends the head (a bare LF may end a
		// line: RFC 9112 §2.2).
		if n := blankLine(b[pos:]); n > 0 {
			return pos + n, pos + n
		}
		name, value, next := plainField(b[pos:])
		ok := next > 0
		if !ok {
			// Not a plain field line (nor empty, see above): one not
			// yet whole, or one with a fault. Cut it at its LF and
			// look again.
			i := bytes.IndexByte(b[pos:], '\n')
			if i < 0 {
				return -1, pos
			}
			name, value, ok = splitField(trimCR(b[pos : pos+i]))
			next = i + 1
		}
		pos += next
		if h.err != nil {
			continue // only the end is still to find
		}
		h.fields++
		switch {
		case h.fields > MaxHeaderFields:
			h.err = errTooManyFields
		case !ok:
			h.err = errBadHeader
		default:
			h.err = h.field(name, value, req)
		}
	}
}

// blankLine is the length of the empty line at the start of b, CRLF or a
// bare LF, or 0 if b does not start with one.
func blankLine(b []byte) int {
	switch {
	case len(b) > 0 && b[0] == '\n':
		return 1
	case len(b) > 1 && b[0] == '\r' && b[1] == '\n':
		return 2
	}
	return 0
}

// plainField reads the field line at the start of b if it is plain, as
// nearly all are: a name, its colon, and a value that ends where the line
// does, at its CRLF or LF. It returns the name, the value without its
// surrounding whitespace, and the length of the line with its end; or a
// length of 0 for any other line, to be cut and read by splitField, which
// would say the same of a plain line.
func plainField(b []byte) (name, value []byte, next int) {
	n := runIn(b, &tokenChars)
	if n == 0 || n == len(b) || b[n] != ':' {
		return nil, nil, 0
	}
	// The first byte that cannot be in a value ends it: in a plain
	// line, the CR or LF that ends the line.
	e := n + 1 + valueEnd(b[n+1:])
	switch {
	case e < len(b) && b[e] == '\n':
		next = e + 1
	case e+1 < len(b) && b[e] == '\r' && b[e+1] == '\n':
		next = e + 2
	default:
		return nil, nil, 0
	}
	return b[:n], trimOWS(b[n+1 : e]), next
}

// splitField splits a field line without its line end into its name and
// its value without the whitespace around it, and reports whether both are
// well formed (RFC 9112 §5).
//
// The name is a token (RFC 9110 §5.6.2), and the colon follows it at once:
// RFC 9112 §5.1 allows no whitespace between them, and a server MUST reject
// such a request with 400, because proxies disagree about what it means.
// ':' is not a token byte, so one run of token bytes finds the name and
// where it ends. A line that begins with whitespace, an obsolete fold (RFC
// 9112 §5.2 lets a server reject it), has no name.
func splitField(line []byte) (name, value []byte, ok bool) {
	n := runIn(line, &tokenChars)
	if n == 0 || n == len(line) || line[n] != ':' {
		return nil, nil, false
	}
	value = trimOWS(line[n+1:])
	return line[:n], value, valueEnd(value) == len(value)
}

// parseHead parses a complete head of b: request line, header lines, blank
// line, the header lines already read into h by readFields. Its request line
// has passed l, a lineScan, so its shape is already known good, and where it
// ends: l.pos is its length with its LF, the first LF of the head, since the
// scan stops at the first it meets.
func parseHead(b []byte, l *lineScan, h *headerState, req *Request) error {
	line, rest := trimCR(b[:l.pos-1]), b[l.pos:]
	if len(line) > MaxRequestLine {
		return errURITooLong
	}
	if len(rest) > MaxHeaderBytes+2 {
		return errHeaderTooLarge
	}
	if err := parseRequestLine(line, l, req); err != nil {
		return err
	}
	if h.err != nil {
		return h.err
	}
	// HTTP/1.1 persists by default; HTTP/1.0 only when asked (RFC 9112 §9.3).
	req.KeepAlive = req.Minor == 1
	// RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request
	// that lacks a Host header field.
	if req.Minor == 1 && h.hosts == 0 {
		return errNoHost
	}
	if err := h.framing(req); err != nil {
		return err
	}
	if h.close {
		req.KeepAlive = false
	} else if h.keepAlive {
		req.KeepAlive = true
	}
	// RFC 9110 §10.1.1: to a client that waits for "100 Continue" before
	// it sends its body, a server MUST send that or answer at once. We
	// answer at once, and read none of the body, which the client may now
	// never send: the connection closes after the answer, and the lingering
	// close throws away whatever of the body does come. (§10.1.1 also says
	// to ignore the expectation in HTTP/1.0.)
	if h.expectContinue && req.Minor == 1 && (req.chunked || req.ContentLength > 0) {
		req.chunked, req.ContentLength, req.bodyUnread = false, 0, true
		req.KeepAlive = false
	}
	return nil
}

// parseRequestLine parses "method SP request-target SP HTTP-version"
// (RFC 9112 §3), whose shape l has checked as it arrived: a method of 1 to
// maxMethod token characters, a target of bytes allowed raw in a URI that
// begins as one of its forms may, and a version shaped "HTTP/D.D", split
// by single spaces that l found. What is left to decide is what the shape
// does not settle, in a fixed order — version, target, method — so that a
// line with several faults always gets the same answer.
func parseRequestLine(line []byte, l *lineScan, req *Request) error {
	method := line[:l.methodEnd]
	target, version := line[l.methodEnd+1:l.targetEnd], line[l.targetEnd+1:]
	if err := parseVersion(version, req); err != nil {
		return err
	}
	if err := parseTarget(target, req); err != nil {
		return err
	}
	if string(req.Path) == "*" && string(method) != "OPTIONS" {
		// RFC 9112 §3.2.4: the asterisk form is for OPTIONS alone.
		return errBadTarget
	}
	return parseMethod(method, req)
}

// parseVersion accepts "HTTP/1.x": HTTP/1.0 as 1.0, and any higher minor
// version as 1.1, the highest we speak (RFC 9110 §2.5: a recipient SHOULD
// process a higher minor version as its own highest). Another major version
// is 505 (RFC 9110 §15.6.6), anything else 400.
func parseVersion(v []byte, req *Request) error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		!isDigit(v[5]) || !isDigit(v[7]) {
		return errBadVersion
	}
	if v[5] != '1' {
		return errVersionNotSupported
	}
	req.Minor = min(int(v[7]-'0'), 1)
	return nil
}

// rootPath is the path of an absolute-form target that names none
// ("http://host"): RFC 9110 §4.2.3 says it means "/". It is only read.
var rootPath = []byte("/")

// parseTarget accepts the three forms a server sees (RFC 9112 §3.2):
//
//   - origin form, "/path?query", what every client sends a server;
//   - absolute form, "http://host/path?query", which a server MUST accept
//     (§3.2.2). The host is not looked at (this server has one site, and
//     the Host field is ignored with it, as §3.2.2 says): only the path is
//     served, through the same root jail as any other;
//   - asterisk form, "*", for a server-wide OPTIONS (§3.2.4).
//
// Anything else — a path without its slash, another scheme, userinfo, an
// empty host — is 400. So is a byte not allowed raw in a URI (controls, DEL,
// bytes above ASCII: RFC 3986 §2) or a '#', which never travels to the
// server; but those lineScan has refused already, as they arrived, so t,
// non-empty, holds none.
func parseTarget(t []byte, req *Request) error {
	switch {
	case t[0] == '/':
	case len(t) == 1 && t[0] == '*':
		req.Path = t
		return nil
	case len(t) > len("http://") && equalFold(t[:len("http://")], "http://"):
		rest := t[len("http://"):]
		end := bytes.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		// RFC 9110 §4.2.1: an http URI with an empty host is invalid;
		// §4.2.4: userinfo in one is an error.
		if end == 0 || !validHost(rest[:end]) {
			return errBadTarget
		}
		t = rest[end:]
		if len(t) == 0 || t[0] == '?' {
			req.Path = rootPath
			if len(t) > 0 {
				req.Query = t[1:]
			}
			return nil
		}
	default:
		return errBadTarget
	}
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		t, req.Query = t[:q], t[q+1:]
	}
	req.Path = t
	return nil
}

// parseMethod maps the method token: GET, HEAD and OPTIONS are served; a
// method defined by RFC 9110 §9 or RFC 5789 is known but not allowed here
// (405); any other token is not implemented (501).
func parseMethod(m []byte, req *Request) error {
	switch string(m) {
	case "GET":
		req.Method = GET
	case "HEAD":
		req.Method = HEAD
	case "OPTIONS":
		req.Method = OPTIONS
	case "POST", "PUT", "DELETE", "CONNECT", "TRACE", "PATCH":
		return errMethodNotAllowed
	default:
		return errNotImplemented
	}
	return nil
}

// headerState remembers what the header lines said across the section.
type headerState struct {
	fields         int   // how many lines have been read
	err            error // the first line's fault, if any
	hosts          int
	close          bool
	keepAlive      bool
	haveCL         bool
	expectContinue bool
	te             codings
}

// codings sums up the Transfer-Encoding list, over every line of it
// (RFC 9110 §5.3: several lines of a list field are one list).
type codings struct {
	present   bool // a Transfer-Encoding line was seen
	bad       bool // an element was not a token
	chunked   int  // how many elements were "chunked"
	lastChunk bool // the last element so far is "chunked"
	other     bool // some element is a coding other than chunked
}

// field records what the server cares about in one well-formed field.
func (h *headerState) field(name, value []byte, req *Request) error {
	switch {
	case equalFold(name, "host"):
		return h.host(value)
	case equalFold(name, "connection"):
		h.connection(value)
	case equalFold(name, "content-length"):
		return h.contentLength(value, req)
	case equalFold(name, "transfer-encoding"):
		h.te.add(value)
	case equalFold(name, "expect"):
		h.expectContinue = equalFold(value, "100-continue")
	case equalFold(name, "if-modified-since"):
		req.IfModifiedSince = value
	case equalFold(name, "range"):
		req.Range = value
	}
	return nil
}

// host takes in a Host field's value.
func (h *headerState) host(v []byte) error {
	h.hosts++
	// RFC 9112 §3.2: more than one Host, or an invalid one, is a 400.
	if h.hosts > 1 {
		return errNoHost
	}
	if !validHost(v) {
		return errBadHost
	}
	return nil
}

// valueEnd is the offset of the first byte of v that cannot be in a field
// value, or len(v) if there is none: a field value holds no control byte
// but HTAB (RFC 9110 §5.5: a bare CR, LF or NUL in a value MUST be rejected
// or replaced; we reject), and no DEL.
//
// Values are the longest part of most heads (a browser's User-Agent,
// Accept and Cookie run to hundreds of bytes), so it looks at eight bytes
// at a time, as one uint64, with the arithmetic of controlBytes.
func valueEnd(v []byte) int {
	i := 0
	for i+8 <= len(v) {
		m := controlBytes(binary.LittleEndian.Uint64(v[i:]))
		if m == 0 {
			i += 8
			continue
		}
		// The lowest marked byte is the first control byte. HTAB is
		// the one allowed in a value: pass over it, and look on.
		i += bits.TrailingZeros64(m) / 8
		if v[i] != '\t' {
			return i
		}
		i++
	}
	for ; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return i
		}
	}
	return len(v)
}

// controlBytes marks with its top bit each byte of x, read as eight bytes,
// that is below ' ' or is DEL; or at least the lowest such byte, which is
// all valueEnd asks of it.
//
// Subtracting 0x20 from every byte at once borrows out of the top bit of a
// byte below 0x20; "&^ x" keeps the mark only for bytes whose own top bit
// was clear (0x80 and above are allowed). A borrow may run on and mark a
// byte above a true one, never one below it: so the lowest mark is exact.
// DEL is the byte that x ^ 0x7f...7f turns to 0, marked by the same test
// for "below 1". (See "Bit Twiddling Hacks", "Determine if a word has a
// byte less than n".)
func controlBytes(x uint64) uint64 {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	y := x ^ 0x7f*ones
	return ((x-' '*ones)&^x | (y-ones)&^y) & tops
}

// connection reads the comma-separated options of a Connection header.
func (h *headerState) connection(v []byte) {
	for opt := range listElements(v) {
		switch {
		case equalFold(opt, "close"):
			h.close = true
		case equalFold(opt, "keep-alive"):
			h.keepAlive = true
		}
	}
}

// listElements yields the non-empty elements of a comma-separated list,
// trimmed (RFC 9110 §5.6.1: a recipient ignores empty elements).
func listElements(v []byte) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(v) > 0 {
			var elem []byte
			if i := bytes.IndexByte(v, ','); i >= 0 {
				elem, v = v[:i], v[i+1:]
			} else {
				elem, v = v, nil
			}
			if elem = trimOWS(elem); len(elem) > 0 && !yield(elem) {
				return
			}
		}
	}
}

// add takes in the codings of one Transfer-Encoding line, in order.
func (c *codings) add(v []byte) {
	c.present = true
	for coding := range listElements(v) {
		name := coding
		if i := bytes.IndexByte(coding, ';'); i >= 0 {
			name = trimOWS(coding[:i]) // a coding's parameters are ignored...
		}
		c.bad = c.bad || !isToken(name)
		// ...but "chunked" takes none, so only the bare word is chunked.
		c.lastChunk = equalFold(coding, "chunked")
		if c.lastChunk {
			c.chunked++
		} else {
			c.other = true
		}
	}
}

// framing decides how the body is delimited (RFC 9112 §6.3), refusing every
// case where two parsers could disagree about where the request ends:
// that disagreement is what request smuggling exploits (RFC 9112 §11.2).
func (h *headerState) framing(req *Request) error {
	te := &h.te
	switch {
	case !te.present:
		return nil // Content-Length, or no body
	case req.Minor == 0:
		// RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty
		// framing, "even if a Content-Length is present".
		return errTransferEncoding10
	case h.haveCL:
		// RFC 9112 §6.1: both framings at once "ought to be handled as
		// an error"; a proxy in front may have used the other one.
		return errBothFramings
	case te.bad || te.chunked+boolInt(te.other) == 0:
		return errBadTransferEncoding
	case !te.lastChunk || te.chunked > 1:
		// RFC 9112 §6.3: chunked must be the final coding, else the
		// body's length "cannot be determined reliably" and the server
		// MUST answer 400 and close; and it MUST NOT be applied twice
		// (§7), or one decoder would stop where another would not.
		return errChunkedNotFinal
	case te.other:
		// RFC 9112 §6.1: a coding we do not understand is 501.
		return errUnknownCoding
	}
	req.chunked = true
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// contentLength accepts a decimal length; repeated identical values are
// allowed and differing ones are an error (RFC 9112 §6.3 item 5).
func (h *headerState) contentLength(v []byte, req *Request) error {
	if len(v) == 0 || len(v) > 18 {
		return errBadContentLength
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return errBadContentLength
		}
		n = n*10 + int64(c-'0')
	}
	if h.haveCL && n != req.ContentLength {
		return errBadContentLength
	}
	h.haveCL = true
	req.ContentLength = n
	return nil
}

// validHost reports whether h is a valid uri-host [":" port] (RFC 3986
// §3.2.2, §3.2.3): an IPv6 address in brackets, or a registered name or
// IPv4 address made of unreserved characters, percent-escapes and
// sub-delims. An empty value is valid (RFC 9110 §7.2: a client with no
// authority to name sends an empty Host). Userinfo ("user@host") is not a
// host. The rare IPvFuture literal and IPv6 zones are refused.
func validHost(h []byte) bool {
	if len(h) > 0 && h[0] == '[' {
		end := bytes.IndexByte(h, ']')
		if end < 0 || bytes.IndexByte(h[:end], '%') >= 0 {
			return false
		}
		// Only here, on the rare path of a bracketed host, does the
		// conversion to a string allocate.
		if ip, err := netip.ParseAddr(string(h[1:end])); err != nil || !ip.Is6() {
			return false
		}
		h = h[end+1:]
		if len(h) > 0 && h[0] != ':' {
			return false
		}
	}
	// A name has no ':', so the first byte that is not of a name must be
	// the ':' that starts the port, and only digits follow it.
	name := runIn(h, &hostChars)
	if name == len(h) {
		return true
	}
	if h[name] != ':' {
		return false
	}
	for _, c := range h[name+1:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// hostChars marks the bytes of a registered name: unreserved, sub-delims,
// and '%' of a percent-escape (RFC 3986 §3.2.2).
var hostChars = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~!$&'()*+,;=%" {
		t[c] = true
	}
	return t
}()

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b equals the lower-case ASCII string s, ignoring
// case, without allocating (unlike strings.EqualFold on a converted string).
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isToken reports whether b is a non-empty RFC 9110 §5.6.2 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return true
}

// tokenChars marks the bytes allowed in a token: ALPHA, DIGIT and
// "!#$%&'*+-.^_`|~". A table, because this test runs on every header byte.
var tokenChars = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
