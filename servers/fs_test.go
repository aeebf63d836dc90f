package servers

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// memSite serves files from memory.
func memSite(t *testing.T, files map[string]string) *Site {
	t.Helper()
	site, _ := memSiteFS(t, files)
	return site
}

func memSiteFS(t *testing.T, files map[string]string) (*Site, *memFS) {
	t.Helper()
	m := newMemFS(files)
	site := NewSiteFS(m, SiteOptions{})
	t.Cleanup(func() { site.Close() })
	return site, m
}

// get asks s for path at now, performing each file step at once, and
// returns the status line and how many file steps it took.
func get(t *testing.T, s *Session, path string, now time.Time) (status string, steps int) {
	t.Helper()
	feed(s, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n", now)
	if !s.Next() {
		t.Fatalf("%s: no answer", path)
	}
	for op := s.Open(); op != nil; op = s.Open() {
		steps++
		s.Opened(op.Do())
	}
	status = statusLine(s)
	s.Sent(now)
	return status, steps
}

// TestFileSteps: the core asks the model to open a file only when its
// cache cannot answer, and then exactly the file the request names, beneath
// the root; a folder's index is a second step.
func TestFileSteps(t *testing.T) {
	site, m := memSiteFS(t, map[string]string{"a.txt": "abc", "sub/index.html": "<p>", "sub/b.css": "b{}"})
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s := newTestSession(site, NewStats(), Limits{}, now)

	feed(s, "GET /sub/../a.txt?x HTTP/1.1\r\nHost: x\r\n\r\n", now)
	s.Next()
	op := s.Open()
	if op == nil || op.Path != "a.txt" {
		t.Fatalf("file step %+v, want a.txt", op)
	}
	if _, ok := op.Root(); ok {
		t.Error("a site in memory claims a root descriptor")
	}
	if s.Deadline() != (time.Time{}) {
		t.Error("a deadline while the disk, not the client, is awaited")
	}
	s.Opened(op.Do())
	if s.Open() != nil || statusLine(s) != "HTTP/1.1 200 OK" {
		t.Fatalf("after the step: %q", s.Head())
	}
	if f, off, n := s.body(); f == nil || off != 0 || n != 3 || f.Fd() != -1 {
		t.Fatalf("body %v %d %d", f, off, n)
	}
	s.Sent(now)

	for _, tc := range []struct {
		path   string
		at     time.Duration
		status string
		steps  int
	}{
		{"/a.txt", 0, "HTTP/1.1 200 OK", 0},                       // in the cache: no step, no system call
		{"/a.txt", cacheValid, "HTTP/1.1 200 OK", 1},              // too old to trust: checked again
		{"/sub/", cacheValid, "HTTP/1.1 200 OK", 2},               // the folder, then its index
		{"/sub/", cacheValid, "HTTP/1.1 200 OK", 0},               // both cached now
		{"/sub", cacheValid, "HTTP/1.1 301 Moved Permanently", 0}, // a folder without its slash
		{"/sub/b.css", cacheValid, "HTTP/1.1 200 OK", 1},          // beside the index
		{"/nothing", cacheValid, "HTTP/1.1 404 Not Found", 1},     // misses are not cached
		{"/nothing", cacheValid, "HTTP/1.1 404 Not Found", 1},     //
		{"/%2e%2e/x", cacheValid, "HTTP/1.1 400 Bad Request", 0},  // refused before any step
	} {
		before := m.openCount()
		status, steps := get(t, s, tc.path, now.Add(tc.at))
		if status != tc.status || steps != tc.steps || m.openCount()-before != steps {
			t.Errorf("%s: %q in %d steps (%d opens), want %q in %d", tc.path, status, steps, m.openCount()-before, tc.status, tc.steps)
		}
		if status == "HTTP/1.1 400 Bad Request" {
			break // the connection is over
		}
	}
}

// TestFileStepsSeeChanges: a file replaced is served anew once its entry is
// too old to trust; an unchanged one keeps the File (and descriptor) the
// cache holds; a removed one becomes 404; a FIFO or a folder where the
// index should be is refused.
func TestFileStepsSeeChanges(t *testing.T) {
	site, m := memSiteFS(t, map[string]string{"a.txt": "abc", "d/index.html/x": ""})
	m.add("fifo", unix.S_IFIFO, "")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	first := resolve(site, Request{Method: GET, Path: []byte("/a.txt")}, now)
	again := resolve(site, Request{Method: GET, Path: []byte("/a.txt")}, now.Add(2*cacheValid))
	if first.File != again.File {
		t.Error("an unchanged file was opened anew")
	}
	first.File.release()
	again.File.release()

	m.write("a.txt", "abcdef")
	if r := resolve(site, Request{Method: GET, Path: []byte("/a.txt")}, now.Add(cacheValid/2)); r.Length != 3 {
		t.Errorf("within cacheValid: length %d, want the cached 3", r.Length)
	} else {
		r.File.release()
	}
	if r := resolve(site, Request{Method: GET, Path: []byte("/a.txt")}, now.Add(4*cacheValid)); r.Status != 200 || r.Length != 6 {
		t.Errorf("after replace: %d %d, want 200 6", r.Status, r.Length)
	} else {
		r.File.release()
	}
	m.remove("a.txt")
	if r := resolve(site, Request{Method: GET, Path: []byte("/a.txt")}, now.Add(6*cacheValid)); r.Status != 404 {
		t.Errorf("after delete: %d, want 404", r.Status)
	}
	for path, want := range map[string]int{"/fifo": 403, "/d/": 403} {
		if r := resolve(site, Request{Method: GET, Path: []byte(path)}, now); r.Status != want {
			t.Errorf("%s: %d, want %d", path, r.Status, want)
		}
	}
}

// TestFileStepsOnDisk: the disk's step names the root descriptor and the
// path, so that a model can make the system calls itself, and Adopt takes
// its results as Do would.
func TestFileStepsOnDisk(t *testing.T) {
	site, _ := testSite(t)
	s := newTestSession(site, NewStats(), Limits{}, time.Now())
	op, fd, err := openAsAModel(t, s, "/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS, &stx); err != nil {
		t.Fatal(err)
	}
	s.Opened(op.Adopt(fd, StatFromStatx(&stx), nil))
	f, _, n := s.body()
	if f == nil || f.Fd() != fd || n != 10 {
		t.Fatalf("adopted: %v fd %d, %d bytes", f, f.Fd(), n)
	}
	buf := make([]byte, 10)
	if m, err := f.ReadAt(buf, 0); err != nil || string(buf[:m]) != "0123456789" {
		t.Fatalf("read %q, %v", buf[:m], err)
	}
	s.Sent(time.Now())

	// An errno from the kernel becomes the same answer Do gives.
	op, _, err = openAsAModel(t, s, "/escape")
	s.Opened(op.Adopt(-1, Stat{}, err))
	if !strings.HasPrefix(statusLine(s), "HTTP/1.1 403 ") {
		t.Fatalf("escape: %q, want 403", statusLine(s))
	}
	s.Sent(time.Now())

	// An open that worked and a stat that failed: 403, as Do answers a
	// failed fstat, whatever the errno; and Adopt closes the descriptor.
	// (Not /a.txt again: the open-file cache answers that without a step.)
	op, fd, err = openAsAModel(t, s, "/inside")
	if err != nil {
		t.Fatal(err)
	}
	s.Opened(op.Adopt(fd, Stat{}, unix.EIO))
	if !strings.HasPrefix(statusLine(s), "HTTP/1.1 403 ") {
		t.Fatalf("failed stat: %q, want 403", statusLine(s))
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("the descriptor of a failed stat is still open (fcntl: %v)", err)
	}
}

// openAsAModel asks s for path and makes the step's open itself, as
// io_uring's model does: openat2 beneath the root the step names.
func openAsAModel(t *testing.T, s *Session, path string) (*OpenStep, int, error) {
	t.Helper()
	feed(s, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n", time.Now())
	s.Next()
	op := s.Open()
	if op == nil {
		t.Fatalf("%s: no file step (the cache had it?)", path)
	}
	root, ok := op.Root()
	if !ok {
		t.Fatal("a site on disk has no root descriptor")
	}
	fd, err := unix.Openat2(root, op.Path, &unix.OpenHow{Flags: OpenFlags, Resolve: ResolveFlags})
	return op, fd, err
}

// TestSlowDiskHoldsTheThread: the simulated disk delay is spent in the
// kernel on the reading thread, like a real slow disk, so a thread per
// connection really runs out of threads. nanosleep shows in the thread's
// system time being charged nothing and its wall time passing; we check
// that the delay is paid, per read.
func TestSlowDiskDelay(t *testing.T) {
	m := newMemFS(map[string]string{"a.txt": "abc"})
	site := NewSiteFS(m, SiteOptions{DiskDelay: 20 * time.Millisecond})
	defer site.Close()
	r := resolve(site, Request{Method: GET, Path: []byte("/a.txt")}, time.Now())
	defer r.File.release()
	start := time.Now()
	buf := make([]byte, 3)
	for range 3 {
		r.File.ReadAt(buf, 0)
	}
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Fatalf("three reads took %v, want at least 3 × 20ms", d)
	}
}
