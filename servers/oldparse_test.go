package servers

// This file is the parser as it was before its fast paths, kept only while
// they are being written, so that a fuzzer can hold the two against each
// other on every input and every split.

import (
	"bytes"
	"net/netip"
)

// oldMaxMethod is the length of the longest method in IANA's HTTP Method
// Registry (UPDATEREDIRECTREF). A longer token cannot be a method anybody
// has defined, so a request line that starts with one is refused without
// waiting for the rest of it.
const oldMaxMethod = len("UPDATEREDIRECTREF")

// oldParser turns bytes into requests, one at a time, remembering between calls
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
type oldParser struct {
	line oldLineScan // the request line, checked byte by byte as it arrives
	// scanned is how many bytes of the current head have been searched
	// for the blank line that ends it.
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
func (p *oldParser) Reset() { *p = oldParser{} }

// Parse looks for one complete request at the start of buf.
//
//   - n == 0, err == nil: need more bytes (nothing in buf was used).
//   - n > 0, err == nil, req filled: a request; n bytes of buf were used.
//   - n > 0, req not filled (req.Method == 0): n bytes were skipped (a
//     discarded body, blank lines); call again with the rest.
//   - err != nil: an *Error carrying the status to answer with; the
//     connection must then be closed, because the stream can no longer be
//     split into requests reliably.
func (p *oldParser) Parse(buf []byte, req *Request) (n int, err error) {
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
	end := p.findHeadEnd(buf, lineEnd-1)
	if end < 0 {
		if len(buf)-lineEnd > MaxHeaderBytes+2 {
			// A client must not make us buffer without limit by never
			// ending its header section. The +2 is the blank line's
			// CRLF, which MaxHeaderBytes does not count.
			return 0, errHeaderTooLarge
		}
		return 0, nil
	}
	if err := oldParseHead(buf[:end], &p.line, req); err != nil {
		*req = Request{}
		return 0, err
	}
	if req.chunked {
		p.headLen, p.body = end, chunkScan{pos: end}
		return p.parseChunked(buf, req)
	}
	p.line, p.scanned = oldLineScan{}, 0
	p.discard = req.ContentLength
	return end, nil
}

// parseChunked reads on through the chunked body after a complete head of
// p.headLen bytes, and returns the request (head and body used) when the
// body has ended.
func (p *oldParser) parseChunked(buf []byte, req *Request) (int, error) {
	*req = Request{}
	end, err := p.body.scan(buf, p.headLen)
	if err != nil || end < 0 {
		return 0, err
	}
	// The head is parsed again, now, so that the request's slices point
	// into the buffer as it is (the caller may have moved it since). It
	// parsed once, so it parses again: head parsing depends on its bytes
	// alone.
	if err := oldParseHead(buf[:p.headLen], &p.line, req); err != nil {
		*req = Request{} // cannot happen: it parsed before
		return 0, err
	}
	*p = oldParser{}
	return end, nil
}

// findHeadEnd returns the length of the head including the blank line that
// ends it, or -1 if that line has not arrived yet. from is the offset of the
// LF that ends the request line.
func (p *oldParser) findHeadEnd(b []byte, from int) int {
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

func oldTrimCR(line []byte) []byte {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		return line[:len(line)-1]
	}
	return line
}

// oldParseHead parses a complete head: request line, header lines, blank line.
// Its request line has passed l, a oldLineScan, so its shape is already known
// good, and where it ends: l.pos is its length with its LF, the first LF of
// the head, since the scan stops at the first it meets.
func oldParseHead(b []byte, l *oldLineScan, req *Request) error {
	line, rest := oldTrimCR(b[:l.pos-1]), b[l.pos:]
	if len(line) > MaxRequestLine {
		return errURITooLong
	}
	if len(rest) > MaxHeaderBytes+2 {
		return errHeaderTooLarge
	}
	if err := oldParseRequestLine(line, l, req); err != nil {
		return err
	}
	// HTTP/1.1 persists by default; HTTP/1.0 only when asked (RFC 9112 §9.3).
	req.KeepAlive = req.Minor == 1
	var h oldHeaderState
	// b ends with the blank line that ends the head, the first one after
	// the request line (findHeadEnd): the fields are done when it is all
	// that is left, and no line before it is empty.
	for fields := 0; !oldIsBlankLine(rest); fields++ {
		line, rest = oldCutLine(rest)
		if fields == MaxHeaderFields {
			return errTooManyFields
		}
		if err := h.field(line, req); err != nil {
			return err
		}
	}
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

// oldIsBlankLine reports whether b is an empty line and its end, CRLF or a
// bare LF (RFC 9112 §2.2).
func oldIsBlankLine(b []byte) bool { return string(b) == "\r\n" || string(b) == "\n" }

// oldCutLine splits off one line, accepting CRLF or a bare LF.
func oldCutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	return oldTrimCR(b[:i]), b[i+1:]
}

// oldParseRequestLine parses "method SP request-target SP HTTP-version"
// (RFC 9112 §3), whose shape l has checked as it arrived: a method of 1 to
// oldMaxMethod token characters, a target of bytes allowed raw in a URI that
// begins as one of its forms may, and a version shaped "HTTP/D.D", split
// by single spaces that l found. What is left to decide is what the shape
// does not settle, in a fixed order — version, target, method — so that a
// line with several faults always gets the same answer.
func oldParseRequestLine(line []byte, l *oldLineScan, req *Request) error {
	method := line[:l.methodEnd]
	target, version := line[l.methodEnd+1:l.targetEnd], line[l.targetEnd+1:]
	if err := oldParseVersion(version, req); err != nil {
		return err
	}
	if err := oldParseTarget(target, req); err != nil {
		return err
	}
	if string(req.Path) == "*" && string(method) != "OPTIONS" {
		// RFC 9112 §3.2.4: the asterisk form is for OPTIONS alone.
		return errBadTarget
	}
	return oldParseMethod(method, req)
}

// oldParseVersion accepts "HTTP/1.x": HTTP/1.0 as 1.0, and any higher minor
// version as 1.1, the highest we speak (RFC 9110 §2.5: a recipient SHOULD
// process a higher minor version as its own highest). Another major version
// is 505 (RFC 9110 §15.6.6), anything else 400.
func oldParseVersion(v []byte, req *Request) error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		!oldIsDigit(v[5]) || !oldIsDigit(v[7]) {
		return errBadVersion
	}
	if v[5] != '1' {
		return errVersionNotSupported
	}
	req.Minor = min(int(v[7]-'0'), 1)
	return nil
}

// oldRootPath is the path of an absolute-form target that names none
// ("http://host"): RFC 9110 §4.2.3 says it means "/". It is only read.
var oldRootPath = []byte("/")

// oldParseTarget accepts the three forms a server sees (RFC 9112 §3.2):
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
// server; but those oldLineScan has refused already, as they arrived, so t,
// non-empty, holds none.
func oldParseTarget(t []byte, req *Request) error {
	switch {
	case t[0] == '/':
	case len(t) == 1 && t[0] == '*':
		req.Path = t
		return nil
	case len(t) > len("http://") && oldEqualFold(t[:len("http://")], "http://"):
		rest := t[len("http://"):]
		end := bytes.IndexAny(rest, "/?")
		if end < 0 {
			end = len(rest)
		}
		// RFC 9110 §4.2.1: an http URI with an empty host is invalid;
		// §4.2.4: userinfo in one is an error.
		if end == 0 || !oldValidHost(rest[:end]) {
			return errBadTarget
		}
		t = rest[end:]
		if len(t) == 0 || t[0] == '?' {
			req.Path = oldRootPath
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

// oldParseMethod maps the method token: GET, HEAD and OPTIONS are served; a
// method defined by RFC 9110 §9 or RFC 5789 is known but not allowed here
// (405); any other token is not implemented (501).
func oldParseMethod(m []byte, req *Request) error {
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

// oldHeaderState remembers what the header lines said across the section.
type oldHeaderState struct {
	hosts          int
	close          bool
	keepAlive      bool
	haveCL         bool
	expectContinue bool
	te             oldCodings
}

// oldCodings sums up the Transfer-Encoding list, over every line of it
// (RFC 9110 §5.3: several lines of a list field are one list).
type oldCodings struct {
	present   bool // a Transfer-Encoding line was seen
	bad       bool // an element was not a token
	chunked   int  // how many elements were "chunked"
	lastChunk bool // the last element so far is "chunked"
	other     bool // some element is a coding other than chunked
}

// field parses one "name: value" line (RFC 9112 §5) and records what the
// server cares about.
func (h *oldHeaderState) field(line []byte, req *Request) error {
	// The name is a token (RFC 9110 §5.6.2), and the colon follows it at
	// once: RFC 9112 §5.1 allows no whitespace between them, and a server
	// MUST reject such a request with 400, because proxies disagree about
	// what it means. ':' is not a token byte, so one run of token bytes
	// finds the name and where it ends. A line that begins with whitespace,
	// an obsolete fold (RFC 9112 §5.2 lets a server reject it), has no name.
	n := oldTokenRun(line)
	if n == 0 || n == len(line) || line[n] != ':' {
		return errBadHeader
	}
	name, value := line[:n], oldTrimOWS(line[n+1:])
	if oldEqualFold(name, "host") {
		return h.host(value)
	}
	if !oldValidValue(value) {
		return errBadHeader
	}
	switch {
	case oldEqualFold(name, "connection"):
		h.connection(value)
	case oldEqualFold(name, "content-length"):
		return h.contentLength(value, req)
	case oldEqualFold(name, "transfer-encoding"):
		h.te.add(value)
	case oldEqualFold(name, "expect"):
		h.expectContinue = oldEqualFold(value, "100-continue")
	case oldEqualFold(name, "if-modified-since"):
		req.IfModifiedSince = value
	case oldEqualFold(name, "range"):
		req.Range = value
	}
	return nil
}

// host takes in a Host field's value. A valid host is made of visible
// ASCII alone, so it is a valid field value too: oldValidValue need only look
// at a host that failed, to refuse a control byte in it as in any field.
func (h *oldHeaderState) host(v []byte) error {
	ok := oldValidHost(v)
	if !ok && !oldValidValue(v) {
		return errBadHeader
	}
	h.hosts++
	// RFC 9112 §3.2: more than one Host, or an invalid one, is a 400.
	if h.hosts > 1 {
		return errNoHost
	}
	if !ok {
		return errBadHost
	}
	return nil
}

// oldValidValue reports whether a field value holds no control byte but
// HTAB (RFC 9110 §5.5: a bare CR, LF or NUL in a value MUST be rejected
// or replaced; we reject).
func oldValidValue(v []byte) bool {
	for _, c := range v {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// connection reads the comma-separated options of a Connection header.
func (h *oldHeaderState) connection(v []byte) {
	for opt := range oldListElements(v) {
		switch {
		case oldEqualFold(opt, "close"):
			h.close = true
		case oldEqualFold(opt, "keep-alive"):
			h.keepAlive = true
		}
	}
}

// oldListElements yields the non-empty elements of a comma-separated list,
// trimmed (RFC 9110 §5.6.1: a recipient ignores empty elements).
func oldListElements(v []byte) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(v) > 0 {
			var elem []byte
			if i := bytes.IndexByte(v, ','); i >= 0 {
				elem, v = v[:i], v[i+1:]
			} else {
				elem, v = v, nil
			}
			if elem = oldTrimOWS(elem); len(elem) > 0 && !yield(elem) {
				return
			}
		}
	}
}

// add takes in the oldCodings of one Transfer-Encoding line, in order.
func (c *oldCodings) add(v []byte) {
	c.present = true
	for coding := range oldListElements(v) {
		name := coding
		if i := bytes.IndexByte(coding, ';'); i >= 0 {
			name = oldTrimOWS(coding[:i]) // a coding's parameters are ignored...
		}
		c.bad = c.bad || !oldIsToken(name)
		// ...but "chunked" takes none, so only the bare word is chunked.
		c.lastChunk = oldEqualFold(coding, "chunked")
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
func (h *oldHeaderState) framing(req *Request) error {
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
	case te.bad || te.chunked+oldBoolInt(te.other) == 0:
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

func oldBoolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// contentLength accepts a decimal length; repeated identical values are
// allowed and differing ones are an error (RFC 9112 §6.3 item 5).
func (h *oldHeaderState) contentLength(v []byte, req *Request) error {
	if len(v) == 0 || len(v) > 18 {
		return errBadContentLength
	}
	var n int64
	for _, c := range v {
		if !oldIsDigit(c) {
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

// oldValidHost reports whether h is a valid uri-host [":" port] (RFC 3986
// §3.2.2, §3.2.3): an IPv6 address in brackets, or a registered name or
// IPv4 address made of unreserved characters, percent-escapes and
// sub-delims. An empty value is valid (RFC 9110 §7.2: a client with no
// authority to name sends an empty Host). Userinfo ("user@host") is not a
// host. The rare IPvFuture literal and IPv6 zones are refused.
func oldValidHost(h []byte) bool {
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
	name := 0
	for name < len(h) && oldHostChars[h[name]] {
		name++
	}
	if name == len(h) {
		return true
	}
	if h[name] != ':' {
		return false
	}
	for _, c := range h[name+1:] {
		if !oldIsDigit(c) {
			return false
		}
	}
	return true
}

// oldHostChars marks the bytes of a registered name: unreserved, sub-delims,
// and '%' of a percent-escape (RFC 3986 §3.2.2).
var oldHostChars = func() (t [256]bool) {
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

func oldTrimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// oldEqualFold reports whether b equals the oldLower-case ASCII string s, ignoring
// case, without allocating (unlike strings.EqualFold on a converted string).
func oldEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if oldLower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func oldLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func oldIsDigit(c byte) bool { return '0' <= c && c <= '9' }

// oldIsToken reports whether b is a non-empty RFC 9110 §5.6.2 token.
func oldIsToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !oldTokenChars[c] {
			return false
		}
	}
	return true
}

// oldTokenChars marks the bytes allowed in a token: ALPHA, DIGIT and
// "!#$%&'*+-.^_`|~". A table, because this test runs on every header byte.
var oldTokenChars = func() (t [256]bool) {
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

// oldLineScan checks a request line byte by byte as it arrives, so that bytes
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
// with a method of 1 to oldMaxMethod token characters, and a target that
// begins like one of the three forms oldParseTarget accepts. Everything it
// lets through is then parsed whole by oldParseRequestLine; it only decides,
// as early as possible, what certainly fails. Each verdict depends only on
// the bytes before it, so it is the same however the bytes are split.
//
// What it has checked, oldParseRequestLine need not check again: it takes the
// line's parts where the scan found them (methodEnd, targetEnd), and leaves
// to itself only what the shape does not settle.
type oldLineScan struct {
	pos   int          // offset of the next byte to look at
	state oldLineState // what that byte may be
	n     int          // bytes seen in the current part (method, target, version)
	form  byte         // the target's first byte: '/', '*' or 'h'
	// The offsets of the space after the method and of the one after
	// the target, once they have been seen.
	methodEnd, targetEnd int
}

// oldLineState is the part of the request line the next byte belongs to.
type oldLineState uint8

const (
	oldInMethod     oldLineState = iota // the method token
	oldTargetStart                      // the target's first byte
	oldInTarget                         // the rest of the target
	oldInVersion                        // "HTTP/1.1", one byte at a time
	oldAfterVersion                     // only CR or LF may come now
	oldAfterCR                          // only LF may come now
	oldLineDone                         // the line has ended; pos is its length
)

func (s oldLineState) String() string {
	return [...]string{"method", "target start", "target", "version", "after version", "after CR", "done"}[s]
}

// oldVersionShape is the form of an HTTP version: 'D' stands for any digit.
const oldVersionShape = "HTTP/D.D"

// scan looks at the bytes of b not yet seen. It returns the length of the
// request line with its line end once that has arrived, -1 while it has not,
// or the error that the bytes so far already make certain.
func (l *oldLineScan) scan(b []byte) (int, error) {
	if l.state == oldLineDone {
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
			if l.state == oldAfterVersion || l.state == oldAfterCR {
				l.state = oldLineDone
				return l.pos, nil
			}
			return -1, errBadRequestLine // the line ended early
		}
		if l.state == oldAfterCR {
			// RFC 9112 §2.2: a bare CR is invalid.
			return -1, errBadRequestLine
		}
		if c == '\r' && l.state == oldAfterVersion {
			l.state = oldAfterCR
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

// skipRun passes over a run of bytes that step would accept one by one
// without changing state, and reports whether it moved. It stops short of
// MaxRequestLine, so that the byte past the limit meets its check in scan.
func (l *oldLineScan) skipRun(b []byte) bool {
	end := min(len(b), MaxRequestLine)
	if l.pos >= end {
		return false
	}
	start := l.pos
	switch {
	case l.state == oldInMethod:
		n := oldTokenRun(b[l.pos:min(end, l.pos+oldMaxMethod-l.n)])
		l.pos += n
		l.n += n
	case l.state == oldInTarget && l.form == '/':
		l.pos += oldPathRun(b[l.pos:end])
	case l.state == oldInVersion && l.n == 0 && end-l.pos >= len(oldVersionShape) && oldIsVersion(b[l.pos:l.pos+len(oldVersionShape)]):
		l.pos += len(oldVersionShape)
		l.state = oldAfterVersion
	}
	return l.pos > start
}

// oldIsVersion reports whether v has the shape "HTTP/D.D".
func oldIsVersion(v []byte) bool {
	return string(v[:5]) == "HTTP/" && oldIsDigit(v[5]) && v[6] == '.' && oldIsDigit(v[7])
}

// oldTokenRun is the length of the run of token bytes at the start of b.
func oldTokenRun(b []byte) int {
	for i, c := range b {
		if !oldTokenChars[c] {
			return i
		}
	}
	return len(b)
}

// step moves past one byte of the line that is not its end.
func (l *oldLineScan) step(c byte) error {
	switch l.state {
	case oldInMethod:
		switch {
		case c == ' ' && l.n > 0:
			l.state, l.n = oldTargetStart, 0
			l.methodEnd = l.pos - 1 // scan has moved past c
		case oldTokenChars[c] && l.n < oldMaxMethod:
			l.n++
		default:
			return errBadRequestLine
		}
	case oldTargetStart:
		if c != '/' && c != '*' && oldLower(c) != 'h' {
			return errBadTarget
		}
		l.state, l.form, l.n = oldInTarget, oldLower(c), 1
	case oldInTarget:
		switch {
		case c == ' ':
			l.state, l.n = oldInVersion, 0
			l.targetEnd = l.pos - 1
		case c <= ' ' || c >= 0x7f || c == '#':
			return errBadTarget
		case l.form == '*':
			return errBadTarget // the asterisk form is "*" alone
		case l.form == 'h' && l.n < len("http://") && oldLower(c) != "http://"[l.n]:
			return errBadTarget // not an http URI
		default:
			l.n++
		}
	case oldInVersion:
		want := oldVersionShape[l.n]
		if want == 'D' && !oldIsDigit(c) || want != 'D' && c != want {
			return errBadVersion
		}
		if l.n++; l.n == len(oldVersionShape) {
			l.state = oldAfterVersion
		}
	case oldAfterVersion:
		return errBadVersion // more after the version
	}
	return nil
}

// oldPathRun is the length of the run of bytes at the start of b that may
// appear raw in a path: visible ASCII but '#' (RFC 3986 §2).
func oldPathRun(b []byte) int {
	for i, c := range b {
		if !oldPathChars[c] {
			return i
		}
	}
	return len(b)
}

var oldPathChars = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '#'
	}
	return t
}()

func oldIsClean(p []byte) bool {
	if len(p) < 2 || p[0] != '/' {
		return false
	}
	seg := 1 // where the current segment begins
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			if c := p[i]; c == '%' || c == 0 || c == '\\' {
				return false
			}
			continue
		}
		switch string(p[seg:i]) {
		case "", ".", "..":
			return false
		}
		seg = i + 1
	}
	return true
}
