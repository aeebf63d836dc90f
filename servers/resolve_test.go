package servers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCleanPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		status   int
	}{
		{"/", "", 0},
		{"/a/b.txt", "a/b.txt", 0},
		{"/a//b/./c", "a/b/c", 0},
		{"/a/../b", "b", 0},
		{"/a/b/../../c", "c", 0},
		{"/a/", "a", 0},
		{"/%41%62", "Ab", 0},
		{"/a%20b", "a b", 0},
		{"/a%2fb", "a/b", 0},
		{"/..", "", 400},
		{"/../etc/passwd", "", 400},
		{"/a/../../etc", "", 400},
		{"/%2e%2e/etc", "", 400},
		{"/%2E%2E%2Fetc", "", 400},
		{"/..%2f..%2fetc", "", 400},
		{"/a%5c..%5c..", "", 400},
		{"/a\\b", "", 400},
		{"/a%00b", "", 400},
		{"/a%zz", "", 400},
		{"/a%2", "", 400},
		{"/%252e%252e/x", "%2e%2e/x", 0}, // decoded once only, as it must be
		// Paths at the edge of what isClean passes unchanged.
		{"/a", "a", 0},
		{"/.a/..b/...", ".a/..b/...", 0},
		{"/a/.", "a", 0},
		{"/a/..", "", 0},
		{"/./a", "a", 0},
		{"//a", "a", 0},
		{"/a%2e", "a.", 0},
	} {
		got, err := cleanPath(nil, []byte(tc.in))
		if tc.status != 0 {
			if e, ok := err.(*Error); !ok || e.Status != tc.status {
				t.Errorf("%q: got %q, %v; want status %d", tc.in, got, err, tc.status)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// testSite makes a small site with a secret next to (outside) it.
func testSite(t *testing.T) (*Site, string) {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	for name, body := range testFiles {
		p := filepath.Join(root, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(body), 0o644))
	}
	must(t, os.WriteFile(filepath.Join(base, "secret"), []byte("SECRET"), 0o644))
	must(t, os.Symlink("../secret", filepath.Join(root, "escape")))
	must(t, os.Symlink("/etc/passwd", filepath.Join(root, "abs")))
	must(t, os.Symlink("a.txt", filepath.Join(root, "inside")))
	site, err := NewSite(root, SiteOptions{})
	must(t, err)
	t.Cleanup(func() { site.Close() })
	return site, root
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// resolve decides the answer to req as a session does, performing every
// file step at once. The caller releases resp.File.
func resolve(site *Site, req Request, now time.Time) Response {
	s := NewSession(&Config{Site: site, Stats: NewStats()})
	s.Start(now)
	s.ReadSpace()
	s.x.req = req
	s.begin()
	fetch(s)
	resp := s.x.resp
	resp.Location = append([]byte(nil), resp.Location...)
	s.x.resp = Response{} // the caller holds the file's reference now
	s.Close()
	return resp
}

// testFiles is testSite's folder, for the same table in memory.
var testFiles = map[string]string{
	"index.html":     "<h1>home</h1>",
	"a.txt":          "0123456789",
	"style.CSS":      "b{}",
	"noext":          "x",
	"sub/index.html": "sub",
	"empty/.keep":    "",
}

// TestResolve is the table of answers, run against a folder on disk (with
// its symbolic links, for the jail) and the same files in memory.
func TestResolve(t *testing.T) {
	disk, _ := testSite(t)
	t.Run("disk", func(t *testing.T) { testResolve(t, disk, true) })
	t.Run("memory", func(t *testing.T) { testResolve(t, memSite(t, testFiles), false) })
}

func testResolve(t *testing.T, site *Site, onDisk bool) {
	now := time.Now()
	for _, tc := range []struct {
		path, rng, ims string
		status         int
		off, n         int64
		ctype          string
		loc            string
		diskOnly       bool
	}{
		{path: "/a.txt", status: 200, n: 10, ctype: "text/plain; charset=utf-8"},
		{path: "/", status: 200, n: 13, ctype: "text/html; charset=utf-8"},
		{path: "/sub", status: 301, loc: "/sub/"},
		{path: "//sub", status: 301, loc: "/sub/"}, // not "//sub/", the host "sub"
		{path: "/sub", rng: "?a=1&b", status: 301, loc: "/sub/?a=1&b"},
		{path: "/sub/", status: 200, n: 3, ctype: "text/html; charset=utf-8"},
		{path: "/sub/./", status: 200, n: 3},
		{path: "/empty/", status: 404},
		{path: "/missing", status: 404},
		{path: "/a.txt/x", status: 404},
		{path: "/style.CSS", status: 200, n: 3, ctype: "text/css; charset=utf-8"},
		{path: "/noext", status: 200, n: 1, ctype: "application/octet-stream"},
		{path: "/inside", status: 200, n: 10, diskOnly: true},
		{path: "/escape", status: 403, diskOnly: true},
		{path: "/abs", status: 403, diskOnly: true},
		{path: "/../secret", status: 400},
		{path: "/a.txt", rng: "bytes=2-4", status: 206, off: 2, n: 3},
		{path: "/a.txt", rng: "bytes=7-", status: 206, off: 7, n: 3},
		{path: "/a.txt", rng: "bytes=-4", status: 206, off: 6, n: 4},
		{path: "/a.txt", rng: "bytes=-40", status: 206, off: 0, n: 10},
		{path: "/a.txt", rng: "bytes=5-100", status: 206, off: 5, n: 5},
		{path: "/a.txt", rng: "bytes=10-", status: 416},
		{path: "/a.txt", rng: "bytes=-0", status: 416},
		{path: "/a.txt", rng: "bytes=1-2,4-5", status: 200, n: 10}, // several: ignored
		{path: "/a.txt", rng: "bytes=4-2", status: 200, n: 10},     // invalid: ignored
		{path: "/a.txt", rng: "items=1-2", status: 200, n: 10},
		{path: "/a.txt", ims: "Thu, 01 Jan 2099 00:00:00 GMT", status: 304},
		{path: "/a.txt", ims: "Thu, 01 Jan 1970 00:00:00 GMT", status: 200, n: 10},
		{path: "/a.txt", ims: "garbage", status: 200, n: 10},
	} {
		if tc.diskOnly && !onDisk {
			continue
		}
		req := Request{Method: GET, Path: []byte(tc.path), KeepAlive: true}
		if q, ok := strings.CutPrefix(tc.rng, "?"); ok {
			req.Query = []byte(q)
		} else if tc.rng != "" {
			req.Range = []byte(tc.rng)
		}
		if tc.ims != "" {
			req.IfModifiedSince = []byte(tc.ims)
		}
		resp := resolve(site, req, now)
		if resp.Status != tc.status {
			t.Errorf("%s %s %s: status %d, want %d", tc.path, tc.rng, tc.ims, resp.Status, tc.status)
		}
		if tc.status < 300 && (resp.Offset != tc.off || resp.Length != tc.n) {
			t.Errorf("%s %s: range %d+%d, want %d+%d", tc.path, tc.rng, resp.Offset, resp.Length, tc.off, tc.n)
		}
		if tc.ctype != "" && (resp.File == nil || resp.File.contentType != tc.ctype) {
			t.Errorf("%s: wrong content type", tc.path)
		}
		if string(resp.Location) != tc.loc {
			t.Errorf("%s: Location %q, want %q", tc.path, resp.Location, tc.loc)
		}
		if resp.File != nil {
			resp.File.release()
		}
	}
}

func TestNotModifiedEchoesLastModified(t *testing.T) {
	site, _ := testSite(t)
	req := Request{Method: GET, Path: []byte("/a.txt")}
	resp := resolve(site, req, time.Now())
	req.IfModifiedSince = append([]byte(nil), resp.File.lastModified...)
	resp.File.release()
	resp = resolve(site, req, time.Now())
	if resp.Status != 304 {
		t.Fatalf("echoing Last-Modified: %d, want 304", resp.Status)
	}
	resp.File.release()
}

// TestCacheSeesChanges checks the open-file cache: a file replaced on disk is
// served anew once the cache entry is older than cacheValid, and a file
// deleted is then 404.
func TestCacheSeesChanges(t *testing.T) {
	site, root := testSite(t)
	p := filepath.Join(root, "a.txt")
	get := func(now time.Time) (int, int64) {
		resp := resolve(site, Request{Method: GET, Path: []byte("/a.txt")}, now)
		if resp.File != nil {
			defer resp.File.release()
		}
		return resp.Status, resp.Length
	}
	now := time.Now()
	if st, n := get(now); st != 200 || n != 10 {
		t.Fatalf("first: %d %d", st, n)
	}
	tmp := p + ".new"
	must(t, os.WriteFile(tmp, []byte("abc"), 0o644))
	must(t, os.Rename(tmp, p))
	if st, n := get(now.Add(2 * cacheValid)); st != 200 || n != 3 {
		t.Fatalf("after replace: %d %d, want 200 3", st, n)
	}
	must(t, os.Remove(p))
	if st, _ := get(now.Add(4 * cacheValid)); st != 404 {
		t.Fatalf("after delete: %d, want 404", st)
	}
}

func TestAppendHead(t *testing.T) {
	site, _ := testSite(t)
	date := []byte("Thu, 26 Nov 2026 05:00:00 GMT")
	resp := resolve(site, Request{Method: GET, Path: []byte("/a.txt"), Range: []byte("bytes=2-4"), KeepAlive: true}, time.Now())
	head := string(AppendHead(nil, &resp, date))
	resp.File.release()
	for _, want := range []string{
		"HTTP/1.1 206 Partial Content\r\n", "Server: serverlab\r\n",
		"Date: Thu, 26 Nov 2026 05:00:00 GMT\r\n", "Content-Type: text/plain; charset=utf-8\r\n",
		"Content-Length: 3\r\n", "Content-Range: bytes 2-4/10\r\n", "Accept-Ranges: bytes\r\n",
		"Last-Modified: ", "Connection: keep-alive\r\n\r\n",
	} {
		if !strings.Contains(head, want) {
			t.Errorf("head lacks %q:\n%s", want, head)
		}
	}
	ErrorResponse(errMethodNotAllowed, &resp)
	head = string(AppendHead(nil, &resp, date))
	if !strings.Contains(head, "Allow: GET, HEAD, OPTIONS\r\n") || !strings.HasSuffix(head, "\r\n\r\nMethod Not Allowed\n") ||
		!strings.Contains(head, "Content-Length: 19\r\n") || !strings.Contains(head, "Connection: close\r\n") {
		t.Errorf("405 head wrong:\n%s", head)
	}
	resp = resolve(site, Request{Method: GET, Path: []byte("/sub"), Query: []byte("x=1"), KeepAlive: true}, time.Now())
	head = string(AppendHead(nil, &resp, date))
	if !strings.HasPrefix(head, "HTTP/1.1 301 Moved Permanently\r\n") || !strings.Contains(head, "Location: /sub/?x=1\r\n") ||
		!strings.Contains(head, "Content-Length: 0\r\n") || !strings.HasSuffix(head, "Connection: keep-alive\r\n\r\n") {
		t.Errorf("301 head wrong:\n%s", head)
	}
}

func TestContentTypeOf(t *testing.T) {
	for name, want := range map[string]string{
		"a.html": "text/html; charset=utf-8", "a.js": "text/javascript; charset=utf-8",
		"a.json": "application/json", "a.png": "image/png", "a.JPG": "image/jpeg",
		"a.gif": "image/gif", "a.svg": "image/svg+xml", "a.ico": "image/x-icon",
		"a.wasm": "application/wasm", "a.pdf": "application/pdf", "a.mp4": "video/mp4",
		"a.woff2": "font/woff2", "a.css": "text/css; charset=utf-8", "a.txt": "text/plain; charset=utf-8",
		"a.bin": "application/octet-stream", "dir.d/file": "application/octet-stream",
		"a.verylongextension": "application/octet-stream",
	} {
		if got := contentTypeOf(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
