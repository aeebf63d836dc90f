package servers

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is everything a client receives for one request: the head and
// the body bytes, as a model would send them.
func answer(t *testing.T, s *Session, req string, now time.Time) (head, body string) {
	t.Helper()
	feed(s, req, now)
	if !s.Next() {
		t.Fatalf("%q: no answer", req)
	}
	fetch(s)
	head = string(s.Head())
	if s.x.folded { // a small cached body travels in Head
		_, _, n := s.body()
		head, body = head[:len(head)-int(n)], head[len(head)-int(n):]
	} else if f, off, n := s.Body(); f != nil {
		buf := make([]byte, n)
		for got := int64(0); got < n; {
			m, err := f.ReadAt(buf[got:], off+got)
			if err != nil || m == 0 {
				t.Fatalf("%q: body read at %d: %d, %v", req, off+got, m, err)
			}
			got += int64(m)
		}
		body = string(buf)
	}
	s.Sent(now)
	return head, body
}

// getBody is the status line and body of a GET of path at now.
func getBody(t *testing.T, s *Session, path string, now time.Time) (status, body string) {
	t.Helper()
	head, body := answer(t, s, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n", now)
	return head[:strings.IndexByte(head, '\r')], body
}

// TestSmallFileCacheHoldsSmallFiles: a file up to 64 KiB is kept in memory
// with its entry, a bigger one is not, and nothing is kept with the cache
// off or the disk slowed.
func TestSmallFileCacheHoldsSmallFiles(t *testing.T) {
	small, big := strings.Repeat("s", smallFile), strings.Repeat("b", smallFile+1)
	files := map[string]string{"small": small, "big": big, "empty": ""}
	for _, tc := range []struct {
		name  string
		opt   SiteOptions
		cache bool
	}{
		{"on", SiteOptions{}, true},
		{"off", SiteOptions{NoCache: true}, false},
		{"slow disk", SiteOptions{DiskDelay: time.Microsecond}, false},
	} {
		site := NewSiteFS(newMemFS(files), tc.opt)
		defer site.Close()
		if site.Caching() != tc.cache {
			t.Errorf("%s: Caching() = %v", tc.name, site.Caching())
		}
		for name, body := range files {
			r := resolve(site, Request{Method: GET, Path: []byte("/" + name)}, time.Now())
			held := r.File.Data() != nil
			if want := tc.cache && name == "small"; held != want {
				t.Errorf("%s: %s held in memory: %v, want %v", tc.name, name, held, want)
			}
			if held && string(r.File.Data()) != body {
				t.Errorf("%s: %s: the cached contents differ from the file", tc.name, name)
			}
			r.File.release()
		}
	}
}

// TestSmallFileCacheAnswersAsTheDisk: every answer from a cached entry —
// whole, HEAD, ranges, If-Modified-Since, folders — is byte for byte the
// answer with the cache off, on disk and with the same clock.
func TestSmallFileCacheAnswersAsTheDisk(t *testing.T) {
	_, root := testSite(t)
	on, err := NewSite(root, SiteOptions{})
	must(t, err)
	defer on.Close()
	off, err := NewSite(root, SiteOptions{NoCache: true})
	must(t, err)
	defer off.Close()
	now := time.Now()
	lastModified := string(resolveHead(t, off, "/a.txt", now, "Last-Modified"))
	reqs := []string{
		"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-5\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=-3\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=7-\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99999999999\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=10-\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=1-2,4-5\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: " + lastModified + "\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n",
		"GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\nRange: bytes=0-1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /sub HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /style.CSS HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	}
	// Twice each: the first answer fills the cache, the second comes from it.
	for round := range 2 {
		for _, req := range reqs {
			sOn := newTestSession(on, NewStats(), Limits{}, now)
			sOff := newTestSession(off, NewStats(), Limits{}, now)
			headOn, bodyOn := answer(t, sOn, req, now)
			headOff, bodyOff := answer(t, sOff, req, now)
			if headOn != headOff || bodyOn != bodyOff {
				t.Errorf("round %d, %q:\ncache on:  %q %q\ncache off: %q %q", round, req, headOn, bodyOn, headOff, bodyOff)
			}
		}
	}
	if r := resolve(on, Request{Method: GET, Path: []byte("/a.txt")}, now); r.File.Data() == nil {
		t.Error("a.txt is not in the small-file cache: the comparison compared nothing")
	} else {
		r.File.release()
	}
}

// resolveHead is the value of one header field in the answer to a GET.
func resolveHead(t *testing.T, site *Site, path string, now time.Time, field string) []byte {
	t.Helper()
	s := newTestSession(site, NewStats(), Limits{}, now)
	head, _ := answer(t, s, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n", now)
	i := strings.Index(head, "\r\n"+field+": ")
	if i < 0 {
		t.Fatalf("no %s in %q", field, head)
	}
	v := head[i+len(field)+4:]
	return []byte(v[:strings.IndexByte(v, '\r')])
}

// TestSmallFileCacheSeesChanges: checked at most once a second, a cached
// file edited in place is served new within a second and a little, one
// deleted becomes 404, and one replaced by a symbolic link that leads
// outside the root is refused (the check opens through the root jail like
// any open) — never served from memory.
func TestSmallFileCacheSeesChanges(t *testing.T) {
	site, root := testSite(t)
	p := filepath.Join(root, "a.txt")
	t0 := time.Now()
	s := newTestSession(site, NewStats(), Limits{}, t0)
	if st, body := getBody(t, s, "/a.txt", t0); st != "HTTP/1.1 200 OK" || body != "0123456789" {
		t.Fatalf("first: %s %q", st, body)
	}

	// Edited in place: the same inode and size; only the contents and the
	// modification time differ. (Set the time, so that a coarse clock
	// cannot give the edit the old one.)
	must(t, os.WriteFile(p, []byte("abcdefghij"), 0o644))
	mtime := time.Now().Add(time.Hour)
	must(t, os.Chtimes(p, mtime, mtime))
	if _, body := getBody(t, s, "/a.txt", t0.Add(cacheValid/2)); body != "0123456789" {
		// The file itself already says abcdefghij: only memory has this.
		t.Errorf("half a second after the edit: %q, want the cached copy", body)
	}
	if _, body := getBody(t, s, "/a.txt", t0.Add(1100*time.Millisecond)); body != "abcdefghij" {
		t.Errorf("1.1 s after the edit: %q, want the new contents", body)
	}

	// Deleted.
	must(t, os.Remove(p))
	if st, _ := getBody(t, s, "/a.txt", t0.Add(2200*time.Millisecond)); st != "HTTP/1.1 404 Not Found" {
		t.Errorf("after delete: %s, want 404", st)
	}

	// A cached file replaced by a symbolic link that leads outside.
	if st, body := getBody(t, s, "/style.CSS", t0.Add(2200*time.Millisecond)); st != "HTTP/1.1 200 OK" || body != "b{}" {
		t.Fatalf("style.CSS: %s %q", st, body)
	}
	css := filepath.Join(root, "style.CSS")
	must(t, os.Remove(css))
	must(t, os.Symlink("../secret", css))
	st, body := getBody(t, s, "/style.CSS", t0.Add(3300*time.Millisecond))
	if st != "HTTP/1.1 403 Forbidden" || strings.Contains(body, "SECRET") {
		t.Errorf("replaced by a link outside the root: %s %q, want 403", st, body)
	}
}

// TestSmallFileCacheBounds: a site with more files than the bounds keeps
// the cache within both, the bytes of contents held and the number of
// entries (each a descriptor), and it is the least recently used that leave.
func TestSmallFileCacheBounds(t *testing.T) {
	now := time.Now()
	t.Run("bytes", func(t *testing.T) {
		files := map[string]string{}
		for i := range 200 {
			files[fmt.Sprintf("f%03d", i)] = strings.Repeat("x", 1000)
		}
		site, m := memSiteFS(t, files)
		site.bodyLimit = 50 * 1000 // room for 50 files' contents
		s := newTestSession(site, NewStats(), Limits{}, now)
		opens := func(path string) int {
			before := m.openCount()
			get(t, s, path, now)
			return m.openCount() - before
		}
		// f000 is used again and again while the others stream past;
		// f001 is used once, at the start.
		opens("/f000")
		opens("/f001")
		for i := 2; i < 200; i++ {
			opens(fmt.Sprintf("/f%03d", i))
			if i%10 == 0 {
				opens("/f000")
			}
			if n, used := site.cacheSize(); used > site.bodyLimit || n > 50 {
				t.Fatalf("after %d files: %d entries, %d bytes; bound %d bytes", i+1, n, used, site.bodyLimit)
			}
		}
		if n, used := site.cacheSize(); n != 50 || used != site.bodyLimit {
			t.Errorf("full: %d entries, %d bytes, want 50 and %d", n, used, site.bodyLimit)
		}
		if got := opens("/f000"); got != 0 {
			t.Errorf("a file used all along was evicted (%d opens)", got)
		}
		if got := opens("/f001"); got != 1 {
			t.Errorf("the least recently used file is still cached (%d opens)", got)
		}
	})
	t.Run("entries", func(t *testing.T) {
		files := map[string]string{}
		for i := range cacheFiles + 50 {
			files[fmt.Sprintf("f%04d", i)] = "x"
		}
		site := memSite(t, files)
		s := newTestSession(site, NewStats(), Limits{}, now)
		for i := range cacheFiles + 50 {
			get(t, s, fmt.Sprintf("/f%04d", i), now)
		}
		if n, used := site.cacheSize(); n != cacheFiles || used != cacheFiles {
			t.Errorf("%d entries holding %d bytes, want %d and %d", n, used, cacheFiles, cacheFiles)
		}
	})
}

// TestSmallFileCacheConcurrent: sessions on many goroutines share one site
// while its files are replaced under them and the small bound forces
// evictions all the time. Every body must be exactly one of the versions
// written, never a mixture; -race checks the rest.
func TestSmallFileCacheConcurrent(t *testing.T) {
	_, root := testSite(t)
	site, err := NewSite(root, SiteOptions{})
	must(t, err)
	defer site.Close()
	site.bodyLimit = 3 * 1000

	const nfiles, versions = 8, 20
	version := func(f, v int) string { return strings.Repeat(fmt.Sprintf("%d.%d|", f, v), 1000)[:1000+v] }
	var valid sync.Map // body -> the file it belongs to
	write := func(f, v int) {
		body := version(f, v)
		valid.Store(body, f)
		p := filepath.Join(root, fmt.Sprintf("c%d", f))
		must(t, os.WriteFile(p+".tmp", []byte(body), 0o644))
		must(t, os.Rename(p+".tmp", p)) // a new inode: the old one is never half-written
	}
	for f := range nfiles {
		write(f, 0)
	}

	start := time.Now()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			s := newTestSession(site, NewStats(), Limits{}, start)
			for i := range 400 {
				// Each goroutine's clock runs on at its own pace, so that
				// entries are revalidated while others use them.
				now := start.Add(time.Duration(i*(g+1)) * 20 * time.Millisecond)
				f := (i + g) % nfiles
				st, body := getBody(t, s, fmt.Sprintf("/c%d", f), now)
				if owner, ok := valid.Load(body); st != "HTTP/1.1 200 OK" || !ok || owner != f {
					t.Errorf("c%d: %s, a body that was never written (%d bytes)", f, st, len(body))
					return
				}
			}
		})
	}
	wg.Go(func() {
		for v := 1; v < versions; v++ {
			write(v%nfiles, v)
			time.Sleep(time.Millisecond)
		}
	})
	wg.Wait()
	if _, used := site.cacheSize(); used > site.bodyLimit {
		t.Errorf("%d bytes cached, bound %d", used, site.bodyLimit)
	}
}

// TestAppendHeadFields: the end of a 200's head that a File makes once is
// exactly what the head encoder writes for the whole file, keep-alive or
// not, and a part of the file (a 206) does not use it.
func TestAppendHeadFields(t *testing.T) {
	site, _ := testSite(t)
	r := resolve(site, Request{Method: GET, Path: []byte("/a.txt")}, time.Now())
	defer r.File.release()
	tails := r.File.okTail
	for _, keepAlive := range []bool{false, true} {
		r.KeepAlive = keepAlive
		r.File.okTail = [2][]byte{}
		slow := AppendHead(nil, &r, []byte("date"))
		r.File.okTail = tails
		fast := AppendHead(nil, &r, []byte("date"))
		if !bytes.Equal(slow, fast) || !bytes.HasSuffix(fast, tails[boolInt(keepAlive)]) {
			t.Fatalf("keep-alive %v: made once:\n%q\nmade each time:\n%q", keepAlive, fast, slow)
		}
	}
	r.Status, r.Offset, r.Length = 206, 1, 2
	if part := AppendHead(nil, &r, []byte("date")); bytes.Contains(part, tails[1]) || !bytes.Contains(part, []byte("Content-Length: 2\r\n")) {
		t.Fatalf("a 206 used the whole file's head:\n%q", part)
	}
}

// TestSmallBodyTravelsInHead: a body the cache holds, up to foldLimit, is
// sent as part of Head, so that a model writes the whole answer at once,
// and Body has nothing left for it; a larger one, or one not cached, is
// Body's to send, and a HEAD answer carries none.
func TestSmallBodyTravelsInHead(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("b", foldLimit+1)
	must(t, writeTestFile(dir+"/small.txt", "0123456789"))
	must(t, writeTestFile(dir+"/big.txt", big))
	for _, cache := range []bool{true, false} {
		site, err := NewSite(dir, SiteOptions{NoCache: !cache})
		must(t, err)
		defer site.Close()
		for _, tc := range []struct {
			req, body string
			folded    bool
		}{
			{"GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n", "0123456789", cache},
			{"GET /small.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=2-4\r\n\r\n", "234", cache},
			{"HEAD /small.txt HTTP/1.1\r\nHost: x\r\n\r\n", "", false},
			{"GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n", big, false},
		} {
			s := newTestSession(site, NewStats(), Limits{}, time.Now())
			head, body := answer(t, s, tc.req, time.Now())
			if body != tc.body || !strings.HasSuffix(head, "\r\n\r\n") {
				t.Errorf("cache %v, %q: head %q, body of %d bytes, want %d", cache, tc.req, head, len(body), len(tc.body))
			}
			feed(s, tc.req, time.Now())
			s.Next()
			fetch(s)
			f, _, _ := s.Body()
			if folded := f == nil && tc.body != ""; folded != tc.folded || s.x.folded != tc.folded {
				t.Errorf("cache %v, %q: body in Head %v, want %v", cache, tc.req, folded, tc.folded)
			}
			s.Sent(time.Now())
		}
	}
}

// TestWholeAnswerShared checks the usual answer, all of a small cached
// file: two sessions in the same second send the very same bytes, made
// once, for each value of keep-alive; the next second makes them again
// with its own Date; and they are what the general encoder makes.
func TestWholeAnswerShared(t *testing.T) {
	dir := t.TempDir()
	must(t, writeTestFile(dir+"/small.txt", "0123456789"))
	site, err := NewSite(dir, SiteOptions{})
	must(t, err)
	defer site.Close()
	now := time.Unix(1_800_000_000, 0)
	head := func(req string, at time.Time) []byte {
		s := newTestSession(site, NewStats(), Limits{}, at)
		feed(s, req, at)
		if !s.Next() {
			t.Fatalf("%q: no answer", req)
		}
		fetch(s)
		h := s.Head()
		if f, _, _ := s.Body(); f != nil {
			t.Fatalf("%q: the body did not travel in the head", req)
		}
		want := AppendHead(nil, s.Response(), []byte(at.UTC().Format(TimeFormat)))
		if want = append(want, "0123456789"...); !bytes.Equal(h, want) {
			t.Errorf("%q: sent\n%q, want\n%q", req, h, want)
		}
		s.Sent(at)
		return h
	}
	get := "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
	closing := "GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	head(get, now) // the first opens the file; the cache has it from now on
	a, b := head(get, now), head(get, now.Add(time.Second/2))
	if &a[0] != &b[0] {
		t.Errorf("two answers in one second were made twice, not shared")
	}
	if c := head(closing, now); &c[0] == &a[0] || !bytes.Contains(c, []byte("Connection: close")) {
		t.Errorf("the closing answer is not its own: %q", c)
	}
	later := now.Add(time.Second)
	if d := head(get, later); &d[0] == &a[0] || !bytes.Contains(d, []byte(later.UTC().Format(TimeFormat))) {
		t.Errorf("the next second's answer is the old one: %q", d)
	}
}
