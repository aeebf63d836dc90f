package servers

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse checks the parser's promises on any input: it never panics,
// never claims more bytes than it was given, answers every error with a
// status the server can send, and reaches the same verdict however the
// bytes are split.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), uint8(3))
	}
	for _, s := range diffSeeds {
		f.Add([]byte(s), uint8(5))
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.0\r\n\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		whole := parseAll(t, in, len(in)+1)
		split := parseAll(t, in, int(step)%17+1)
		if whole != split {
			t.Fatalf("verdict depends on how bytes arrive:\nwhole: %s\nsplit: %s", whole, split)
		}
	})
}

// parseAll parses everything in, fed step bytes at a time, and describes
// the requests and the final error.
func parseAll(t *testing.T, in []byte, step int) string {
	var p Parser
	var req Request
	var out bytes.Buffer
	var buf []byte
	for fed := 0; ; {
		n, err := p.Parse(buf, &req)
		if n < 0 || n > len(buf) {
			t.Fatalf("used %d of %d bytes", n, len(buf))
		}
		if err != nil {
			e, ok := err.(*Error)
			if !ok || StatusText(e.Status) == "Unknown" || e.Status < 400 {
				t.Fatalf("error %v is not a status to send", err)
			}
			out.WriteString("error " + StatusText(e.Status))
			return out.String()
		}
		if req.Method != 0 {
			out.WriteString(req.Method.String() + " " + string(req.Path) + ";")
			if (len(req.Path) == 0 || req.Path[0] != '/') && (string(req.Path) != "*" || req.Method != OPTIONS) {
				t.Fatalf("%v %q: a path must start with /, or be * for OPTIONS", req.Method, req.Path)
			}
		}
		buf = buf[n:]
		if n == 0 || len(buf) == 0 {
			if fed == len(in) {
				return out.String()
			}
			next := min(fed+step, len(in))
			buf = append(buf, in[fed:next]...)
			fed = next
		}
	}
}

// FuzzCleanPath checks the root jail: whatever the path, the cleaned result
// is relative, has no "." or ".." segment, no NUL and no backslash, so it can
// never name anything above the root.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/../x", "/%2e%2e/x", "/a/./b/../c", "/%00", "/a%5cb", "//a//", "/%252e", "/a/b.c", "/a/.b", "/a/..b/c", "/a/b/.", "/a/b/.."} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		out, err := cleanPath(nil, p)
		if isClean(p) {
			// The shortcut must give what the full work gives.
			if full, ferr := decodePath(nil, p); ferr != nil || !bytes.Equal(full, out) {
				t.Fatalf("%q: shortcut gave %q, the full cleaning %q, %v", p, out, full, ferr)
			}
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v carries no status", err)
			}
			return
		}
		if bytes.HasPrefix(out, []byte("/")) || bytes.IndexByte(out, 0) >= 0 || bytes.IndexByte(out, '\\') >= 0 {
			t.Fatalf("cleaned %q to %q", p, out)
		}
		for _, seg := range bytes.Split(out, []byte("/")) {
			if string(seg) == ".." || string(seg) == "." || (len(seg) == 0 && len(out) > 0) {
				t.Fatalf("cleaned %q to %q: bad segment", p, out)
			}
		}
	})
}

// FuzzResolve runs the whole resolver against a real folder with a secret
// outside it: no path may ever open the secret.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"/a.txt", "/../secret", "/escape", "/%2e%2e/secret", "/sub/../a.txt", "/sub/"} {
		f.Add([]byte(s))
	}
	base := f.TempDir()
	root := filepath.Join(base, "root")
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		f.Fatal(err)
	}
	for name, body := range map[string]string{"root/a.txt": "aaa", "root/sub/index.html": "sub", "secret": "SECRET!"} {
		if err := writeTestFile(filepath.Join(base, name), body); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Symlink("../secret", filepath.Join(root, "escape")); err != nil {
		f.Fatal(err)
	}
	site, err := NewSite(root, SiteOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path []byte) {
		resp := resolve(site, Request{Method: GET, Path: path}, time.Now())
		if resp.File == nil {
			return
		}
		defer resp.File.release()
		buf := make([]byte, 16)
		n, _ := resp.File.ReadAt(buf, 0)
		if string(buf[:n]) == "SECRET!" {
			t.Fatalf("path %q opened the file outside the root", path)
		}
	})
}

func writeTestFile(path, body string) error {
	return os.WriteFile(path, []byte(body), 0o644)
}

// FuzzLineScan holds the request line's two roads to a verdict together:
// lineScan.whole, taken when the line arrives whole in the usual shape, and
// the scan byte by byte, taken when it arrives in pieces. Both must find
// the same end and the same parts, or the same fault.
func FuzzLineScan(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
	for _, s := range []string{"GET /a HTTP/1.1\n", "GET /a HTTP/1.1\r\r\n", "GET /a HTTP/1.1 \r\n", "G\x00T / HTTP/1.1\r\n",
		"GET /a#b HTTP/1.1\r\n", "GET //a HTTP/1.10\r\n", "GET / HTTP/1.1\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var whole, pieces lineScan
		n, err := whole.scan(in)
		m, perr := -1, error(nil)
		for i := 1; i <= len(in) && m < 0 && perr == nil; i++ {
			m, perr = pieces.scan(in[:i])
		}
		if n != m || err != perr {
			t.Fatalf("%q: whole gives %d, %v; in pieces %d, %v", in, n, err, m, perr)
		}
		if n >= 0 && (whole.methodEnd != pieces.methodEnd || whole.targetEnd != pieces.targetEnd) {
			t.Fatalf("%q: whole finds the parts at %d and %d, in pieces at %d and %d",
				in, whole.methodEnd, whole.targetEnd, pieces.methodEnd, pieces.targetEnd)
		}
	})
}
