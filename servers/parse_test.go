package servers

import (
	"strings"
	"testing"
)

// parseCases is the parser's specification: raw bytes in, status out (0 for
// a request accepted), and for accepted ones what the parser understood.
var parseCases = []struct {
	name      string
	in        string
	status    int
	method    Method
	path      string
	keepAlive bool
	bodyLen   int64
}{
	{"simple GET 1.1", "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/a.txt", true, 0},
	{"HEAD", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 0, HEAD, "/", true, 0},
	{"query dropped", "GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/a", true, 0},
	{"bare LF lines", "GET / HTTP/1.1\nHost: x\n\n", 0, GET, "/", true, 0},
	{"1.1 close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0, GET, "/", false, 0},
	{"1.1 close among options", "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n", 0, GET, "/", false, 0},
	{"1.0 closes", "GET / HTTP/1.0\r\n\r\n", 0, GET, "/", false, 0},
	{"1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, GET, "/", true, 0},
	{"leading CRLF ignored", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, GET, "/", true, 0},
	{"body length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", 0, GET, "/", true, 5},
	{"same length twice", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 0, GET, "/", true, 5},
	{"value OWS trimmed", "GET / HTTP/1.1\r\nHost:   x  \r\nConnection:\tclose \r\n\r\n", 0, GET, "/", false, 0},

	{"no version", "GET /\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"bad version", "GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, 0, "", false, 0},
	{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505, 0, "", false, 0},
	{"no colon", "GET / HTTP/1.1\r\nHost: x\r\nBogus\r\n\r\n", 400, 0, "", false, 0},
	{"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, 0, "", false, 0},
	{"bad name char", "GET / HTTP/1.1\r\nHost: x\r\nX(y): z\r\n\r\n", 400, 0, "", false, 0},
	{"empty name", "GET / HTTP/1.1\r\nHost: x\r\n: z\r\n\r\n", 400, 0, "", false, 0},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400, 0, "", false, 0},
	{"control in value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", 400, 0, "", false, 0},
	{"missing Host 1.1", "GET / HTTP/1.1\r\n\r\n", 400, 0, "", false, 0},
	{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0, "", false, 0},
	{"transfer-encoding", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0, "", false, 0},
	{"conflicting lengths", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400, 0, "", false, 0},
	{"negative length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, 0, "", false, 0},
	{"huge length", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, 0, "", false, 0},
	{"absolute form", "GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
	{"asterisk form", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0, "", false, 0},
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

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			var req Request
			n, err := p.Parse([]byte(tc.in), &req)
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

// TestParseByteAtATime feeds every accepted case one byte at a time: the
// parser must say "need more" until the last byte, then give the same request.
func TestParseByteAtATime(t *testing.T) {
	for _, tc := range parseCases {
		if tc.status != 0 {
			continue
		}
		var p Parser
		var req Request
		in := []byte(tc.in)
		start := 0
		got := false
		for end := 1; end <= len(in) && !got; end++ {
			n, err := p.Parse(in[start:end], &req)
			if err != nil {
				t.Fatalf("%s: at byte %d: %v", tc.name, end, err)
			}
			start += n
			got = req.Method != 0
			if got && end != len(in) {
				t.Fatalf("%s: request complete at byte %d of %d", tc.name, end, len(in))
			}
		}
		if !got || string(req.Path) != tc.path {
			t.Fatalf("%s: got=%v path %q", tc.name, got, req.Path)
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
		{"within limits", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 100), 0},
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

// TestParsePipelinedWithBody checks that a body is skipped, however it is
// split across reads, and the next request starts right after it.
func TestParsePipelinedWithBody(t *testing.T) {
	in := "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789" +
		"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
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
				buf, rest = append(buf, rest...), nil
			}
		}
		if strings.Join(paths, ",") != "/a,/b" {
			t.Fatalf("split %d: got %v", split, paths)
		}
	}
}
