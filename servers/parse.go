package servers

import (
	"bytes"
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
	// ReadBufferSize is the size of a session's input buffer: one whole
	// request head at its limits, plus room for the start of the next
	// pipelined request.
	ReadBufferSize = 32 << 10
)

// Method is a request method this server knows how to serve.
type Method uint8

// The methods served. Others are answered 405 (if known) or 501.
const (
	GET Method = iota + 1
	HEAD
)

func (m Method) String() string {
	switch m {
	case GET:
		return "GET"
	case HEAD:
		return "HEAD"
	}
	return "?"
}

// Request is one parsed request head. Its byte slices point into the buffer
// given to Parse and stay valid only until that buffer is reused: that is what
// lets the keep-alive path run without allocating.
type Request struct {
	Method Method
	// Path is the request target's path, still percent-encoded, without
	// the query string.
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
}

// Parser turns bytes into requests, one at a time, remembering between calls
// how far it has already looked so that a request arriving one byte at a time
// costs linear, not quadratic, work.
//
// Its zero value is ready to use.
type Parser struct {
	// scanned is how many bytes of the current head have been searched
	// for the blank line that ends it.
	scanned int
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
//   - n > 0, req not filled (req.Method == 0): n bytes of a discarded body
//     were skipped; call again with the rest.
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
	// RFC 9112 §2.2: a server SHOULD ignore at least one empty line
	// received before the request line. We ignore any number: each is
	// consumed at once, so they cost no memory, and a limit would make the
	// verdict depend on how the bytes happened to be split into reads.
	lead := 0
	for lead < len(buf) && (buf[lead] == '\r' || buf[lead] == '\n') {
		lead++
	}
	if lead > 0 && lead == len(buf) {
		return lead, nil
	}
	head := buf[lead:]

	end := p.findHeadEnd(head)
	if end < 0 {
		return 0, p.checkIncomplete(head)
	}
	p.scanned = 0
	if err := parseHead(head[:end], req); err != nil {
		return lead + end, err
	}
	p.discard = req.ContentLength
	return lead + end, nil
}

// findHeadEnd returns the length of the head including the blank line that
// ends it, or -1 if that line has not arrived yet.
func (p *Parser) findHeadEnd(b []byte) int {
	// Resume a little before where we stopped: the end marker may straddle
	// the old and new bytes.
	from := p.scanned - 3
	if from < 0 {
		from = 0
	}
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

// checkIncomplete enforces the size limits on a head that has not ended yet,
// so a client cannot make us buffer without limit by never finishing it.
func (p *Parser) checkIncomplete(b []byte) error {
	// The limits count a line without its CRLF, so a CR that may still
	// be followed by its LF is given the benefit of the doubt: the verdict
	// must not depend on how the bytes were split into reads.
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		if len(b) > MaxRequestLine+1 {
			return errURITooLong
		}
		return nil
	}
	if len(trimCR(b[:nl])) > MaxRequestLine {
		return errURITooLong
	}
	if len(b)-nl-1 > MaxHeaderBytes+2 {
		return errHeaderTooLarge
	}
	return nil
}

func trimCR(line []byte) []byte {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		return line[:len(line)-1]
	}
	return line
}

// parseHead parses a complete head: request line, header lines, blank line.
func parseHead(b []byte, req *Request) error {
	line, rest := cutLine(b)
	if len(line) > MaxRequestLine {
		return errURITooLong
	}
	if len(rest) > MaxHeaderBytes+2 {
		return errHeaderTooLarge
	}
	if err := parseRequestLine(line, req); err != nil {
		return err
	}
	// HTTP/1.1 persists by default; HTTP/1.0 only when asked (RFC 9112 §9.3).
	req.KeepAlive = req.Minor == 1
	var h headerState
	for fields := 0; ; fields++ {
		line, rest = cutLine(rest)
		if len(line) == 0 {
			break
		}
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
	if h.close {
		req.KeepAlive = false
	} else if h.keepAlive {
		req.KeepAlive = true
	}
	return nil
}

// cutLine splits off one line, accepting CRLF or a bare LF.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	return trimCR(b[:i]), b[i+1:]
}

// parseRequestLine parses "method SP request-target SP HTTP-version"
// (RFC 9112 §3).
func parseRequestLine(line []byte, req *Request) error {
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return errBadRequestLine
	}
	method, rest := line[:sp1], line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return errBadRequestLine
	}
	target, version := rest[:sp2], rest[sp2+1:]
	if !isToken(method) {
		return errBadRequestLine
	}
	if err := parseVersion(version, req); err != nil {
		return err
	}
	if err := parseTarget(target, req); err != nil {
		return err
	}
	return parseMethod(method, req)
}

// parseVersion accepts "HTTP/1.0" and "HTTP/1.1"; any other well-formed
// version is 505 (RFC 9110 §15.6.6), anything else 400.
func parseVersion(v []byte, req *Request) error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		!isDigit(v[5]) || !isDigit(v[7]) {
		return errBadVersion
	}
	if v[5] != '1' || (v[7] != '0' && v[7] != '1') {
		return errVersionNotSupported
	}
	req.Minor = int(v[7] - '0')
	return nil
}

// parseTarget accepts only the origin form "/path?query" (RFC 9112 §3.2.1).
// The absolute form ("http://host/path") is refused: a static file server is
// not a proxy, and refusing it removes one way to smuggle a path past the
// root check.
func parseTarget(t []byte, req *Request) error {
	if t[0] != '/' {
		return errBadTarget
	}
	for _, c := range t {
		// Controls, DEL and bytes above ASCII are not allowed raw in a URI
		// (RFC 3986 §2); '#' never travels to the server.
		if c <= ' ' || c >= 0x7f || c == '#' {
			return errBadTarget
		}
	}
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		t, req.Query = t[:q], t[q+1:]
	}
	req.Path = t
	return nil
}

// parseMethod maps the method token: GET and HEAD are served; a method
// defined by RFC 9110 §9 or RFC 5789 is known but not allowed here (405);
// any other token is not implemented (501).
func parseMethod(m []byte, req *Request) error {
	switch string(m) {
	case "GET":
		req.Method = GET
	case "HEAD":
		req.Method = HEAD
	case "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return errMethodNotAllowed
	default:
		return errNotImplemented
	}
	return nil
}

// headerState remembers what the header lines said across the section.
type headerState struct {
	hosts     int
	close     bool
	keepAlive bool
	haveCL    bool
}

// field parses one "name: value" line (RFC 9112 §5) and records what the
// server cares about.
func (h *headerState) field(line []byte, req *Request) error {
	if line[0] == ' ' || line[0] == '\t' {
		// Line folding is obsolete; RFC 9112 §5.2 lets a server reject it.
		return errBadHeader
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return errBadHeader
	}
	name, value := line[:colon], trimOWS(line[colon+1:])
	// RFC 9112 §5.1: no whitespace is allowed between the field name and
	// the colon; a server MUST reject such a request with 400, because
	// proxies disagree about what it means.
	if !isToken(name) {
		return errBadHeader
	}
	for _, c := range value {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return errBadHeader
		}
	}
	switch {
	case equalFold(name, "host"):
		h.hosts++
		if h.hosts > 1 {
			return errNoHost // RFC 9112 §3.2: more than one Host is a 400
		}
	case equalFold(name, "connection"):
		h.connection(value)
	case equalFold(name, "content-length"):
		return h.contentLength(value, req)
	case equalFold(name, "transfer-encoding"):
		// We read no bodies, so we cannot decode chunked ones; guessing
		// where such a body ends is how request smuggling starts
		// (RFC 9112 §6.1, §11.2). Refuse and close.
		return errTransferEncoding
	case equalFold(name, "if-modified-since"):
		req.IfModifiedSince = value
	case equalFold(name, "range"):
		req.Range = value
	}
	return nil
}

// connection reads the comma-separated options of a Connection header.
func (h *headerState) connection(v []byte) {
	for len(v) > 0 {
		var opt []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			opt, v = v[:i], v[i+1:]
		} else {
			opt, v = v, nil
		}
		opt = trimOWS(opt)
		switch {
		case equalFold(opt, "close"):
			h.close = true
		case equalFold(opt, "keep-alive"):
			h.keepAlive = true
		}
	}
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
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
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
