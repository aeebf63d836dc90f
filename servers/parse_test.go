package servers

import (
	"strings"
	"testing"
)

// parseCase is one rule of the parser: raw bytes in, status out (0 for a
// request accepted), and for accepted ones what the parser understood.
type parseCase struct {
	name      string
	in        string
	status    int
	method    Method
	path      string
	keepAlive bool
	bodyLen   int64
}

// chunkedReq is a GET whose chunked body is body.
func chunkedReq(body string, headers ...string) string {
	h := strings.Join(append([]string{"Host: x", "Transfer-Encoding: chunked"}, headers...), "\r\n")
	return "GET /c HTTP/1.1\r\n" + h + "\r\n\r\n" + body
}

// withTE is a GET with the given Transfer-Encoding lines and an empty
// chunked body.
func withTE(version string, lines ...string) string {
	var b strings.Builder
	b.WriteString("GET / " + version + "\r\nHost: x\r\n")
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n0\r\n\r\n")
	return b.String()
}

// bodyOf returns a valid chunked body of exactly total bytes on the wire:
// chunks of 256 bytes (263 with their framing), then a last chunk whose
// extension pads the whole to size.
func bodyOf(total int) string {
	const chunk = "100\r\n" // and 256 bytes and CRLF: 263 bytes
	const last = "0;pad=\r\n\r\n"
	var b strings.Builder
	for total-b.Len() >= 263+len(last) {
		b.WriteString(chunk + strings.Repeat("d", 0x100) + "\r\n")
	}
	b.WriteString("0;pad=" + strings.Repeat("p", total-b.Len()-len(last)) + "\r\n\r\n")
	return b.String()
}

var parseCases = []parseCase{
	{"simple GET 1.1", "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/a.txt", true, 0},
	{"HEAD", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 0, HEAD, "/", true, 0},
	{"query dropped", "GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/a", true, 0},
	{"bare LF lines", "GET / HTTP/1.1\nHost: x\n\n", 0, GET, "/", true, 0},
	{"1.1 close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, GET, "/", false, 0},
	{"1.1 close among options", "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n", 0, GET, "/", false, 0},
	{"1.0 closes", "GET / HTTP/1.0\r\n\r\n", 0, GET, "/", false, 0},
	{"1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, GET, "/", true, 0},
	{"leading CRLF ignored", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/", true, 0},
	{"many leading empty lines ignored", "\r\n\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/", true, 0},
	{"body length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", 0, GET, "/", true, 5},
	{"same length twice", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0, GET, "/", true, 5},
	{"value OWS trimmed", "GET / HTTP/1.1\r\nHost:   x  \r\nConnection:\tclose \r\n\r\n", 0, GET, "/", false, 0},
	{"HTTP/1.2 is read as 1.1", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 0, GET, "/", true, 0},
	{"HTTP/1.9 without Host", "GET / HTTP/1.9\r\n\r\n", 400, 0, "", false, 0},
	{"longest registered method", "UPDATEREDIRECTREF / HTTP/1.1\r\nHost: x\r\n\r\n", 501, 0, "", false, 0},
	{"a method longer than any registered", "UPDATEREDIRECTREFS / HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},

	// Hosts: RFC 9112 §3.2 wants exactly one, and a valid one.
	{"host and port", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", 0, GET, "/", true, 0},
	{"IPv6 host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 0, GET, "/", true, 0},
	{"empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0, GET, "/", true, 0},
	{"host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, 0, "", false, 0},
	{"host with userinfo", "GET / HTTP/1.1\r\nHost: u@x\r\n\r\n", 400, 0, "", false, 0},
	{"host with a bad port", "GET / HTTP/1.1\r\nHost: x:8o\r\n\r\n", 400, 0, "", false, 0},
	{"host with a slash", "GET / HTTP/1.1\r\nHost: x/y\r\n\r\n", 400, 0, "", false, 0},
	{"unclosed IPv6 host", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, 0, "", false, 0},
	{"empty IP literal", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400, 0, "", false, 0},
	{"IPv4 in brackets", "GET / HTTP/1.1\r\nHost: [1.2.3.4]\r\n\r\n", 400, 0, "", false, 0},
	{"not an IPv6 address", "GET / HTTP/1.1\r\nHost: [x::1]\r\n\r\n", 400, 0, "", false, 0},

	// Absolute form (RFC 9112 §3.2.2): accepted for http, path served.
	{"absolute form", "GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/a", true, 0},
	{"absolute form, port and query", "GET http://127.0.0.1:8080/1k.bin?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/1k.bin", true, 0},
	{"absolute form, upper-case scheme", "GET HTTP://X/a HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/a", true, 0},
	{"absolute form without a path", "GET http://x HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/", true, 0},
	{"absolute form with only a query", "GET http://x?a=b HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/", true, 0},
	{"absolute form, IPv6 host", "GET http://[::1]:80/a HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/a", true, 0},
	{"absolute form ignores Host", "GET http://other/a HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/a", true, 0},
	{"absolute form in HTTP/1.0", "GET http://x/a HTTP/1.0\r\n\r\n", 0, GET, "/a", false, 0},
	{"https is not ours", "GET https://x/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"another scheme", "GET ftp://x/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"empty host in the URI", "GET http:///a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"userinfo in the URI", "GET http://u:p@x/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"one slash after the scheme", "GET http:/x/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"only the scheme", "GET http:// HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"bad port in the URI", "GET http://x:y/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"empty IP literal in the URI", "GET http://[]/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},

	// OPTIONS (RFC 9110 §9.3.7), and the asterisk form (RFC 9112 §3.2.4).
	{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 0, OPTIONS, "*", true, 0},
	{"OPTIONS a path", "OPTIONS /a HTTP/1.1\r\nHost: x\r\n\r\n", 0, OPTIONS, "/a", true, 0},
	{"asterisk with GET", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"asterisk with POST", "POST * HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"asterisk and more", "OPTIONS *a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},

	// Chunked bodies (RFC 9112 §7.1): read, checked and thrown away.
	{"chunked body", chunkedReq("5\r\nhello\r\n0\r\n\r\n"), 0, GET, "/c", true, 0},
	{"chunked, several chunks", chunkedReq("5\r\nhello\r\n1\r\n \r\na\r\n0123456789\r\n0\r\n\r\n"), 0, GET, "/c", true, 0},
	{"chunked, only the last chunk", chunkedReq("0\r\n\r\n"), 0, GET, "/c", true, 0},
	{"chunked, upper-case hex and zeros", chunkedReq("000A\r\n0123456789\r\n000\r\n\r\n"), 0, GET, "/c", true, 0},
	{"chunked, extensions", chunkedReq("5;a=b;c=\"d e\" ; f\r\nhello\r\n0;last\r\n\r\n"), 0, GET, "/c", true, 0},
	{"chunked, whitespace before ; and CR", chunkedReq("5 \t;x\r\nhello\r\n0 \r\n\r\n"), 0, GET, "/c", true, 0},
	{"chunked, trailers", chunkedReq("5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-Other:\r\n\r\n"), 0, GET, "/c", true, 0},
	{"chunked, data with CRLF in it", chunkedReq("4\r\n\r\n\r\n\r\n0\r\n\r\n"), 0, GET, "/c", true, 0},
	{"chunked, case and spaces", withTE("HTTP/1.1", "Transfer-Encoding:  Chunked "), 0, GET, "/", true, 0},
	{"chunked, empty list elements", withTE("HTTP/1.1", "Transfer-Encoding: ,chunked,"), 0, GET, "/", true, 0},
	{"chunked, a body of exactly the limit", chunkedReq(bodyOf(MaxChunkedBody)), 0, GET, "/c", true, 0},
	{"chunked and Connection: close", chunkedReq("0\r\n\r\n", "Connection: close"), 0, GET, "/c", false, 0},
	{"chunked with Expect: 100-continue is not read", chunkedReq("", "Expect: 100-continue"), 0, GET, "/c", false, 0},
	{"a length with Expect: 100-continue is not read", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n", 0, GET, "/", false, 0},
	{"Expect: 100-continue without a body", "GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", 0, GET, "/", true, 0},
	{"Expect: 100-continue in HTTP/1.0 is ignored", "GET / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", 0, GET, "/", false, 5},
	{"chunked OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 0, OPTIONS, "*", true, 0},

	{"chunked body over the limit", chunkedReq(bodyOf(MaxChunkedBody + 1)), 413, 0, "", false, 0},
	{"chunk size over the limit", chunkedReq("1001\r\n"), 413, 0, "", false, 0},
	{"huge chunk size", chunkedReq("ffffffffffffffffffffffff\r\n"), 413, 0, "", false, 0},
	{"chunk size missing", chunkedReq("\r\nhello\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"chunk size not hex", chunkedReq("5x\r\nhello\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"chunk size with a sign", chunkedReq("+5\r\nhello\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"chunk size 0x", chunkedReq("0x5\r\nhello\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"digits after whitespace", chunkedReq("5 5\r\nhello\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"bare LF after the size", chunkedReq("5\nhello\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"bare CR after the size", chunkedReq("5\rhello\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"bare LF after the data", chunkedReq("5\r\nhello\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"data longer than its size", chunkedReq("5\r\nhello!\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"control byte in an extension", chunkedReq("5;a\x00\r\nhello\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"LF in an extension", chunkedReq("5;a\nb\r\nhello\r\n0\r\n\r\n"), 400, 0, "", false, 0},
	{"bare LF at the end", chunkedReq("0\r\n\n"), 400, 0, "", false, 0},
	{"trailer without a colon", chunkedReq("0\r\nX-Sum\r\n\r\n"), 400, 0, "", false, 0},
	{"trailer folded", chunkedReq("0\r\nX-Sum: 1\r\n 2\r\n\r\n"), 400, 0, "", false, 0},
	{"trailer with a control byte", chunkedReq("0\r\nX-Sum: \x01\r\n\r\n"), 400, 0, "", false, 0},
	{"trailer ending in a bare LF", chunkedReq("0\r\nX-Sum: 1\n\r\n"), 400, 0, "", false, 0},
	{"space before a trailer's colon", chunkedReq("0\r\nX-Sum : 1\r\n\r\n"), 400, 0, "", false, 0},

	// Transfer codings (RFC 9112 §6.1, §6.3): chunked, last and once.
	{"Transfer-Encoding with Content-Length", withTE("HTTP/1.1", "Transfer-Encoding: chunked", "Content-Length: 5"), 400, 0, "", false, 0},
	{"Content-Length with Transfer-Encoding", withTE("HTTP/1.1", "Content-Length: 0", "Transfer-Encoding: chunked"), 400, 0, "", false, 0},
	{"Transfer-Encoding in HTTP/1.0", withTE("HTTP/1.0", "Transfer-Encoding: chunked"), 400, 0, "", false, 0},
	{"only gzip", withTE("HTTP/1.1", "Transfer-Encoding: gzip"), 400, 0, "", false, 0},
	{"chunked then gzip", withTE("HTTP/1.1", "Transfer-Encoding: chunked, gzip"), 400, 0, "", false, 0},
	{"chunked twice", withTE("HTTP/1.1", "Transfer-Encoding: chunked, chunked"), 400, 0, "", false, 0},
	{"chunked twice, two lines", withTE("HTTP/1.1", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), 400, 0, "", false, 0},
	{"chunked with a parameter", withTE("HTTP/1.1", "Transfer-Encoding: chunked;q=1"), 400, 0, "", false, 0},
	{"empty Transfer-Encoding", withTE("HTTP/1.1", "Transfer-Encoding: "), 400, 0, "", false, 0},
	{"a coding that is no token", withTE("HTTP/1.1", "Transfer-Encoding: g(z), chunked"), 400, 0, "", false, 0},
	{"gzip then chunked", withTE("HTTP/1.1", "Transfer-Encoding: gzip, chunked"), 501, 0, "", false, 0},
	{"gzip then chunked, two lines", withTE("HTTP/1.1", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked"), 501, 0, "", false, 0},
	{"identity then chunked", withTE("HTTP/1.1", "Transfer-Encoding: identity, chunked"), 501, 0, "", false, 0},
	{"a coding with parameters then chunked", withTE("HTTP/1.1", "Transfer-Encoding: x;a=1, chunked"), 501, 0, "", false, 0},

	{"no version", "GET /\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"bad version", "GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, 0, "", false, 0},
	{"HTTP/0.9", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505, 0, "", false, 0},
	{"bare CR after the version", "GET / HTTP/1.1\rHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"no colon", "GET / HTTP/1.1\r\nHost: x\r\nBogus\r\n\r\n", 400, 0, "", false, 0},
	{"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, 0, "", false, 0},
	{"bad name char", "GET / HTTP/1.1\r\nHost: x\r\nX(y): z\r\n\r\n", 400, 0, "", false, 0},
	{"empty name", "GET / HTTP/1.1\r\nHost: x\r\n: z\r\n\r\n", 400, 0, "", false, 0},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400, 0, "", false, 0},
	{"control in value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", 400, 0, "", false, 0},
	{"missing Host 1.1", "GET / HTTP/1.1\r\n\r\n", 400, 0, "", false, 0},
	{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0, "", false, 0},
	{"conflicting lengths", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, 0, "", false, 0},
	{"negative length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, 0, "", false, 0},
	{"huge length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, 0, "", false, 0},
	{"target without a slash", "GET a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"raw byte >127 in target", "GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"fragment", "GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"POST", "POST / HTTP/1.1\r\nHost: x\r\n\r\n", 405, 0, "", false, 0},
	{"DELETE", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, 0, "", false, 0},
	{"unknown method", "BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 501, 0, "", false, 0},
	{"lower-case get is unknown", "get / HTTP/1.1\r\nHost: x\r\n\r\n", 501, 0, "", false, 0},
	{"bad method char", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"long request line", "GET /" + strings.Repeat("a", MaxRequestLine) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, 0, "", false, 0},
	{"long headers", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n", 431, 0, "", false, 0},
	{"too many fields", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X: y\r\n", MaxHeaderFields) + "\r\n", 431, 0, "", false, 0},
}

// parseOne parses in whole, passing over skipped bytes (blank lines before
// the request), and returns the request, the bytes used, and the error.
func parseOne(in []byte) (req Request, used int, err error) {
	var p Parser
	for {
		n, err := p.Parse(in[used:], &req)
		used += n
		if err != nil || req.Method != 0 || n == 0 {
			return req, used, err
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			req, n, err := parseOne([]byte(tc.in))
			if tc.status != 0 {
				e, ok := err.(*Error)
				if !ok || e.Status != tc.status {
					t.Fatalf("got n=%d err=%v, want status %d", n, err, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if n != len(tc.in) {
				t.Errorf("used %d bytes, want %d", n, len(tc.in))
			}
			if req.Method != tc.method || string(req.Path) != tc.path ||
				req.KeepAlive != tc.keepAlive || req.ContentLength != tc.bodyLen {
				t.Errorf("got %v %q keepAlive=%v len=%d", req.Method, req.Path, req.KeepAlive, req.ContentLength)
			}
		})
	}
}

// TestParseByteAtATime feeds every case one byte at a time: an accepted
// request must be "need more" until its last byte, then the same request;
// a refused one gets the same status as when it arrives whole.
func TestParseByteAtATime(t *testing.T) {
	for _, tc := range parseCases {
		var p Parser
		var req Request
		in := []byte(tc.in)
		start := 0
		got := false
		var err error
		for end := 1; end <= len(in) && !got && err == nil; end++ {
			var n int
			n, err = p.Parse(in[start:end], &req)
			start += n
			got = req.Method != 0
			if got && end != len(in) {
				t.Fatalf("%s: request complete at byte %d of %d", tc.name, end, len(in))
			}
		}
		if tc.status != 0 {
			if e, ok := err.(*Error); !ok || e.Status != tc.status {
				t.Errorf("%s: byte at a time: %v, want status %d", tc.name, err, tc.status)
			}
			continue
		}
		if err != nil || !got || string(req.Path) != tc.path {
			t.Fatalf("%s: err %v got=%v path %q", tc.name, err, got, req.Path)
		}
	}
}

// TestParseIncompleteLimits checks that a head that never ends is refused
// as soon as it passes a limit, not buffered forever.
func TestParseIncompleteLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		status int
	}{
		{"endless request line", "GET /" + strings.Repeat("a", MaxRequestLine+10), 414},
		{"endless headers", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", MaxHeaderBytes+10), 431},
		{"endless chunked body", chunkedReq("1000\r\n" + strings.Repeat("a", 0x1000)), 413},
		{"endless chunk extension", chunkedReq("1;" + strings.Repeat("a", MaxChunkedBody)), 413},
		{"endless trailers", chunkedReq("0\r\n" + strings.Repeat("X: y\r\n", MaxChunkedBody/6+1)), 413},
		{"within limits", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 100), 0},
		{"chunked body within limits", chunkedReq("10\r\n" + strings.Repeat("a", 10)), 0},
	} {
		var p Parser
		var req Request
		n, err := p.Parse([]byte(tc.in), &req)
		if tc.status == 0 {
			if n != 0 || err != nil {
				t.Errorf("%s: n=%d err=%v, want need-more", tc.name, n, err)
			}
			continue
		}
		if e, ok := err.(*Error); !ok || e.Status != tc.status {
			t.Errorf("%s: err=%v, want %d", tc.name, err, tc.status)
		}
	}
}

// TestParseEarlyReject checks that the parser refuses a request line as soon
// as its bytes can no longer begin a valid one — at the very byte that makes
// it impossible, with no wait for a line end that may never come — and that
// every byte before that one is "need more".
func TestParseEarlyReject(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ok, bad string // ok is fine so far; ok+bad is already refused
		status  int
	}{
		{"a TLS ClientHello", "", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400},
		{"an SSLv2 hello", "", "\x80\x2e\x01\x00\x02", 400},
		{"a NUL byte", "", "\x00", 400},
		{"a space first", "", " ", 400},
		{"an SSH banner", "SSH-2.0-OpenSSH_9", ".6p1", 400},
		{"a method longer than any registered", strings.Repeat("A", maxMethod), "A", 400},
		{"a control byte in the method", "GE", "\x01", 400},
		{"two spaces after the method", "GET ", " ", 400},
		{"a target that is no form", "GET ", "x", 400},
		{"a target that is not http", "GET http", "s://", 400},
		{"a control byte in the target", "GET /a", "\x01", 400},
		{"a non-ASCII byte in the target", "GET /a", "\xc3", 400},
		{"a fragment", "GET /a", "#", 400},
		{"more after the asterisk", "OPTIONS *", "x", 400},
		{"a line end in the target", "GET /a", "\n", 400},
		{"not HTTP", "GET / ", "X", 400},
		{"a lower-case version", "GET / H", "t", 400},
		{"letters in the version", "GET / HTTP/", "x", 400},
		{"more after the version", "GET / HTTP/1.1", " ", 400},
		{"a bare CR after the version", "GET / HTTP/1.1\r", "X", 400},
		{"a request line over the limit", "GET /" + strings.Repeat("a", MaxRequestLine-5), "a", 414},
	} {
		in := tc.ok + tc.bad
		var p Parser
		var req Request
		for end := 1; end <= len(in); end++ {
			n, err := p.Parse([]byte(in[:end]), &req)
			if end <= len(tc.ok) {
				if n != 0 || err != nil {
					t.Errorf("%s: %q: n=%d err=%v, want need-more", tc.name, in[:end], n, err)
				}
				continue
			}
			if e, ok := err.(*Error); !ok || e.Status != tc.status {
				t.Errorf("%s: %q: err=%v, want %d at once", tc.name, in[:end], err, tc.status)
			}
			break
		}
	}
}

// TestParsePipelinedWithBody checks that a body is skipped, however it is
// split across reads, and the next request starts right after it.
func TestParsePipelinedWithBody(t *testing.T) {
	for _, body := range []string{
		"Content-Length: 10\r\n\r\n0123456789",
		"Transfer-Encoding: chunked\r\n\r\n5;x=y\r\n01234\r\n5\r\n56789\r\n0\r\nT: v\r\n\r\n",
	} {
		in := "\r\nGET /a HTTP/1.1\r\nHost: x\r\n" + body + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
		for split := 0; split <= len(in); split++ {
			var p Parser
			var req Request
			var paths []string
			buf := []byte(in[:split])
			rest := []byte(in[split:])
			for i := 0; i < 20; i++ {
				n, err := p.Parse(buf, &req)
				if err != nil {
					t.Fatalf("split %d: %v", split, err)
				}
				buf = buf[n:]
				if req.Method != 0 {
					paths = append(paths, string(req.Path))
				}
				if n == 0 || len(buf) == 0 {
					if len(rest) == 0 {
						break
					}
					// A new slice, as a model's buffer moves its unused
					// bytes to the front: the parser must keep no
					// pointer into the old one.
					buf, rest = append(append([]byte(nil), buf...), rest...), nil
				}
			}
			if strings.Join(paths, ",") != "/a,/b" {
				t.Fatalf("%q split %d: got %v", body[:10], split, paths)
			}
		}
	}
}

// TestChunkedBodyLimit checks the exact bound: a body of MaxChunkedBody
// bytes on the wire is read, one byte more is 413, and the largest head with
// the largest body still fits the input buffer.
func TestChunkedBodyLimit(t *testing.T) {
	for _, total := range []int{MaxChunkedBody, MaxChunkedBody + 1} {
		body := bodyOf(total)
		if len(body) != total {
			t.Fatalf("bodyOf(%d) is %d bytes", total, len(body))
		}
		_, _, err := parseOne([]byte(chunkedReq(body)))
		if tooLarge := err != nil && err.(*Error).Status == 413; tooLarge != (total > MaxChunkedBody) {
			t.Errorf("a %d-byte chunked body: %v", total, err)
		}
	}
	line := "GET /" + strings.Repeat("a", MaxRequestLine-len("GET / HTTP/1.1")) + " HTTP/1.1\r\n"
	head := line + "Host: x\r\nTransfer-Encoding: chunked\r\nX: " +
		strings.Repeat("h", MaxHeaderBytes-len("Host: x\r\nTransfer-Encoding: chunked\r\nX: \r\n")) + "\r\n\r\n"
	in := head + bodyOf(MaxChunkedBody)
	req, n, err := parseOne([]byte(in))
	if err != nil || req.Method != GET || n != len(in) {
		t.Fatalf("the largest chunked request: n=%d of %d, %v", n, len(in), err)
	}
	if len(in) >= ReadBufferSize {
		t.Fatalf("the largest chunked request is %d bytes, the input buffer %d", len(in), ReadBufferSize)
	}
}

// splitCases are heads at the edges of what the request-line scan, the
// Host check and the header loop now decide between them, each with the
// very error (not only the status) it must get.
var splitCases = []struct {
	name string
	in   string
	err  *Error // nil: accepted
}{
	{"wrk's request", "GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1:18300\r\n\r\n", nil},
	{"query and fields", "GET /a/b.txt?x=1 HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\nIf-Modified-Since: x\r\n\r\n", nil},
	{"bare LF everywhere", "GET /a HTTP/1.1\nHost: x\nConnection: close\n\n", nil},
	{"CRLF line, bare LF blank line", "GET /a HTTP/1.1\r\nHost: x\r\n\n", nil},
	{"leading blank lines", "\r\n\n\r\nGET /a HTTP/1.0\r\n\r\n", nil},
	{"no fields", "GET /a HTTP/1.0\n\n", nil},
	{"absolute form", "HEAD HTTP://x:1/a?q HTTP/1.1\r\nHost: x\r\n\r\n", nil},
	{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", nil},
	{"IPv6 host", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", nil},
	{"empty host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", nil},
	{"longest request line", "GET /" + strings.Repeat("a", MaxRequestLine-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: x\r\n\r\n", nil},
	{"request line one too long", "GET /" + strings.Repeat("a", MaxRequestLine-len("GET / HTTP/1.1")+1) + " HTTP/1.1\r\nHost: x\r\n\r\n", errURITooLong},
	{"largest header section", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", MaxHeaderBytes-len("Host: x\r\nX: \r\n")) + "\r\n\r\n", nil},
	{"header section one too large", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", MaxHeaderBytes-len("Host: x\r\nX: \r\n")+1) + "\r\n\r\n", errHeaderTooLarge},
	{"most fields", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X: y\r\n", MaxHeaderFields-1) + "\r\n", nil},
	{"one field too many", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X: y\r\n", MaxHeaderFields) + "\r\n", errTooManyFields},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n", errBadHeader},
	{"obs-fold of the Host", "GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", errBadHeader},
	{"CR alone in a line", "GET / HTTP/1.1\r\nHost: x\r\n\r\r\n\r\n", errBadHeader},
	{"bare CR ends the request line", "GET / HTTP/1.1\r\r\nHost: x\r\n\r\n", errBadRequestLine},
	{"control byte in the Host", "GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n", errBadHeader},
	{"control byte in a second Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\x7f\r\n\r\n", errBadHeader},
	{"second Host", "GET / HTTP/1.1\r\nHost: a\r\nhOST: a\r\n\r\n", errNoHost},
	{"invalid Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", errBadHost},
	{"Host with two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", errBadHost},
	{"Host with only a port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", nil},
	{"space before the Host's colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", errBadHeader},
	{"short absolute form", "GET htt HTTP/1.1\r\nHost: x\r\n\r\n", errBadTarget},
	{"short absolute form, version first", "GET htt HTTP/2.0\r\nHost: x\r\n\r\n", errVersionNotSupported},
	{"asterisk with GET, version first", "GET * HTTP/3.1\r\nHost: x\r\n\r\n", errVersionNotSupported},
	{"unknown method after a good target", "BREW /a HTTP/1.1\r\nHost: x\r\n\r\n", errNotImplemented},
	{"asterisk with POST", "POST * HTTP/1.1\r\nHost: x\r\n\r\n", errBadTarget},
}

// TestParseSplitAtEveryByte reads each head in two reads, split at every
// byte, as a session does (the second call sees the first's bytes again,
// with more), and wants exactly what reading it whole gives: the same error,
// or the same request, field for field.
func TestParseSplitAtEveryByte(t *testing.T) {
	for _, tc := range splitCases {
		whole, used, err := parseOne([]byte(tc.in))
		if !isErr(err, tc.err) {
			t.Fatalf("%s: whole: %v, want %v", tc.name, err, tc.err)
		}
		if err == nil && used != len(tc.in) {
			t.Fatalf("%s: whole: used %d of %d bytes", tc.name, used, len(tc.in))
		}
		for cut := 1; cut < len(tc.in); cut = nextCut(cut, len(tc.in)) {
			var p Parser
			var req Request
			in := []byte(tc.in)
			start := 0
			var err error
			for _, end := range []int{cut, len(in)} {
				for err == nil && req.Method == 0 && start < end {
					n, e := p.Parse(in[start:end], &req)
					start, err = start+n, e
					if n == 0 {
						break
					}
				}
			}
			if !isErr(err, tc.err) {
				t.Fatalf("%s, cut at %d: %v, want %v", tc.name, cut, err, tc.err)
			}
			if err == nil && !sameRequest(req, whole) {
				t.Fatalf("%s, cut at %d: %+v, whole %+v", tc.name, cut, req, whole)
			}
		}
	}
}

// nextCut is the split after cut in a head of n bytes: every byte of a
// short head, and of a long one's first and last 300 bytes, where its
// request line and its end are; in between, every 61st.
func nextCut(cut, n int) int {
	if cut < 300 || cut >= n-300 {
		return cut + 1
	}
	return min(cut+61, n-300)
}

// isErr reports whether err is want, nil included (a nil *Error in an
// error is not a nil error).
func isErr(err error, want *Error) bool {
	if want == nil {
		return err == nil
	}
	return err == error(want)
}

func sameRequest(a, b Request) bool {
	return a.Method == b.Method && string(a.Path) == string(b.Path) &&
		string(a.Query) == string(b.Query) && (a.Query == nil) == (b.Query == nil) &&
		a.Minor == b.Minor && a.KeepAlive == b.KeepAlive &&
		string(a.IfModifiedSince) == string(b.IfModifiedSince) && string(a.Range) == string(b.Range) &&
		a.ContentLength == b.ContentLength && a.chunked == b.chunked && a.bodyUnread == b.bodyUnread
}

// TestValueEnd holds valueEnd, which looks at eight bytes at a time, to
// the rule it implements, one byte at a time: every byte value, at every
// place in a value long enough to need both its loops, after a tab or not.
func TestValueEnd(t *testing.T) {
	allowed := func(c byte) bool { return c >= ' ' && c != 0x7f || c == '\t' }
	for _, base := range []string{"Mozilla/5.0 (X11; Linux)", "a\tb\tc\td\te\tf\tg\th\ti\tj\tk\tl"} {
		for at := range len(base) {
			for c := range 256 {
				v := []byte(base)
				v[at] = byte(c)
				want := len(v)
				for i, b := range v {
					if !allowed(b) {
						want = i
						break
					}
				}
				if got := valueEnd(v); got != want {
					t.Fatalf("valueEnd(%q) = %d, want %d", v, got, want)
				}
			}
		}
	}
}
