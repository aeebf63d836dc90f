package servers

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newTestSession starts a session on site, for a connection accepted now.
func newTestSession(site *Site, stats *Stats, lim Limits, now time.Time) *Session {
	s := NewSession(&Config{Site: site, Stats: stats, Limits: lim})
	s.Start(now)
	return s
}

// fetch performs every file step the session asks for, at once, as the
// blocking models do.
func fetch(s *Session) {
	for op := s.Open(); op != nil; op = s.Open() {
		s.Opened(op.Do())
	}
}

// feed gives the session in as if one read had brought it, at now.
func feed(s *Session, in string, now time.Time) {
	n := copy(s.ReadSpace(), in)
	s.Received(n, now)
}

// statusLine is the first line of the session's head.
func statusLine(s *Session) string {
	head := s.Head()
	return string(head[:bytes.IndexByte(head, '\r')])
}

// drive feeds in to a session in chunks of size step and collects the
// status line of every response, as a model would.
func drive(t *testing.T, s *Session, in string, step int) []string {
	t.Helper()
	var got []string
	for len(in) > 0 {
		space := s.ReadSpace()
		n := min(step, len(in), len(space))
		copy(space, in[:n])
		in = in[n:]
		s.Received(n, time.Now())
		for s.Next() {
			fetch(s)
			got = append(got, statusLine(s))
			if !s.Sent(time.Now()) {
				return got
			}
		}
	}
	return got
}

func TestSessionPipelining(t *testing.T) {
	site, _ := testSite(t)
	req := "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
	in := strings.Repeat(req, 10)
	for _, step := range []int{1, 7, len(req), len(in)} {
		stats := NewStats()
		s := newTestSession(site, stats, Limits{}, time.Now())
		got := drive(t, s, in, step)
		if len(got) != 10 {
			t.Fatalf("step %d: %d responses, want 10", step, len(got))
		}
		snap := stats.Snapshot()
		if snap.Requests != 10 || snap.Status2xx != 10 || snap.InFlight != 0 {
			t.Fatalf("step %d: stats %+v", step, snap)
		}
	}
}

func TestSessionErrorCloses(t *testing.T) {
	site, _ := testSite(t)
	s := newTestSession(site, NewStats(), Limits{}, time.Now())
	got := drive(t, s, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 1000)
	want := []string{"HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q (nothing after the error)", got, want)
	}
}

func TestSessionBody(t *testing.T) {
	site, _ := testSite(t)
	s := NewSession(&Config{Site: site, Stats: NewStats()})
	for _, tc := range []struct {
		req  string
		body bool
	}{
		{"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT\r\n\r\n", false},
		{"GET /sub HTTP/1.1\r\nHost: x\r\n\r\n", false},
	} {
		s.Start(time.Now())
		feed(s, tc.req, time.Now())
		if !s.Next() {
			t.Fatalf("%q: no response", tc.req)
		}
		fetch(s)
		f, _, _ := s.body()
		if (f != nil) != tc.body {
			t.Errorf("%q: body %v, want %v", tc.req, f != nil, tc.body)
		}
		s.Sent(time.Now())
		s.Close()
	}
}

func TestSessionTimeout(t *testing.T) {
	site, _ := testSite(t)
	s := newTestSession(site, NewStats(), Limits{}, time.Now())
	if s.Expire(time.Now()) {
		t.Fatal("idle connection got a 408")
	}
	s.Start(time.Now())
	feed(s, "GET /a.txt HTTP/1.1\r\nHo", time.Now())
	if s.Next() {
		t.Fatal("partial request answered")
	}
	if !s.Expire(time.Now()) || !s.Next() || !bytes.HasPrefix(s.Head(), []byte("HTTP/1.1 408 ")) {
		t.Fatalf("partial request: %q, want a 408", s.Head())
	}
	if s.Sent(time.Now()) {
		t.Fatal("408 kept the connection alive")
	}
}

// TestKeepAliveAllocs is the zero-allocation promise of the core: once a
// file is in the open-file cache, a keep-alive request costs no allocation in
// parsing, resolving, encoding or bookkeeping.
func TestKeepAliveAllocs(t *testing.T) {
	site, _ := testSite(t)
	s := newTestSession(site, NewStats(), Limits{HeaderTimeout: time.Second, IdleTimeout: time.Minute}, time.Now())
	req := []byte("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n")
	round := func() {
		n := copy(s.ReadSpace(), req)
		s.Received(n, time.Now())
		if !s.Next() {
			t.Fatal("no response")
		}
		fetch(s)
		s.Wrote(len(s.Head()), time.Now())
		s.Sent(time.Now())
		s.Shrink()
	}
	round()
	if a := testing.AllocsPerRun(1000, round); a != 0 {
		t.Fatalf("%v allocations per keep-alive request, want 0", a)
	}
}

// TestSessionShrink checks that an idle session gives its input buffer back
// and takes one again when there is something to read, without losing a
// partial request in between.
func TestSessionShrink(t *testing.T) {
	site, _ := testSite(t)
	s := newTestSession(site, NewStats(), Limits{}, time.Now())
	s.Shrink()
	if s.x != nil {
		t.Fatal("a new session holds a buffer before reading")
	}
	feed(s, "GET /a.txt HTTP/1.1\r\nHo", time.Now())
	if s.Next() {
		t.Fatal("partial request answered")
	}
	s.Shrink()
	if s.x == nil {
		t.Fatal("Shrink dropped a partial request")
	}
	feed(s, "st: x\r\n\r\n", time.Now())
	if !s.Next() {
		t.Fatal("request not completed after Shrink")
	}
	s.Shrink()
	if s.x == nil {
		t.Fatal("Shrink took the buffer during a response")
	}
	fetch(s)
	s.Sent(time.Now())
	s.Shrink()
	if s.x != nil || s.Buffered() != 0 {
		t.Fatal("an idle session kept its buffer")
	}
	if s.Next() {
		t.Fatal("an empty session answered")
	}
}

func TestSessionIdle(t *testing.T) {
	site, _ := testSite(t)
	s := newTestSession(site, NewStats(), Limits{}, time.Now())
	if !s.Idle() {
		t.Fatal("a new session is not idle")
	}
	// A request with a body that has not fully arrived: answered, but the
	// parser still has body bytes to skip, so the session is not idle.
	feed(s, "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab", time.Now())
	if !s.Next() || s.Idle() {
		t.Fatal("idle during a response")
	}
	fetch(s)
	s.Sent(time.Now())
	if s.Next() || s.Idle() {
		t.Fatal("idle while 3 body bytes are still to come")
	}
	feed(s, "cde", time.Now())
	if s.Next() || !s.Idle() {
		t.Fatal("not idle after the body was skipped")
	}
}

// clock is a fake clock for the session's timeouts: the tests below move
// it by hand, and no test waits.
type clock struct{ t time.Time }

func (c *clock) now() time.Time                { return c.t }
func (c *clock) add(d time.Duration) time.Time { c.t = c.t.Add(d); return c.t }

var testLimits = Limits{HeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, WriteTimeout: 30 * time.Second}

// TestSessionDeadlines walks one connection through every wait, checking
// the deadline the session gives for each: the rules that every model
// enforces alike.
func TestSessionDeadlines(t *testing.T) {
	site := memSite(t, map[string]string{"a.txt": "0123456789"})
	c := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	accept := c.now()
	s := newTestSession(site, NewStats(), testLimits, accept)
	want := func(what string, d time.Time) {
		t.Helper()
		if got := s.Deadline(); !got.Equal(d) {
			t.Fatalf("%s: deadline %v, want %v", what, got, d)
		}
	}
	// A new connection that says nothing is a slow request: its head's
	// clock started at accept, and the header limit is the shorter.
	want("new connection", accept.Add(testLimits.HeaderTimeout))
	c.add(3 * time.Second)
	feed(s, "GET /a.txt HTTP/1.1\r\n", c.now())
	want("first head, partly in", accept.Add(testLimits.HeaderTimeout))
	feed(s, "Host: x\r\n\r\n", c.add(time.Second))
	if !s.Next() {
		t.Fatal("no request")
	}
	fetch(s)
	begun := c.now()
	want("response begun", begun.Add(testLimits.WriteTimeout))
	s.Wrote(100, c.add(20*time.Second))
	want("after progress", c.now().Add(testLimits.WriteTimeout))
	s.Fetched(c.add(25 * time.Second)) // a slow disk: its time is not the client's
	want("after a file read", c.now().Add(testLimits.WriteTimeout))
	sent := c.add(time.Second)
	if !s.Sent(sent) {
		t.Fatal("keep-alive response closed the connection")
	}
	want("idle keep-alive connection", sent.Add(testLimits.IdleTimeout))
	first := c.add(45 * time.Second)
	feed(s, "GET /a", first)
	want("second head, partly in", first.Add(testLimits.HeaderTimeout))

	for _, zero := range []Limits{{}, {WriteTimeout: time.Second}} {
		s := newTestSession(site, NewStats(), zero, accept)
		if d := s.Deadline(); !d.IsZero() {
			t.Fatalf("limits %+v: deadline %v, want none", zero, d)
		}
	}
}

// TestSessionHold: answers a model holds to write together (pipelining)
// keep the connection under the write limit, from the last progress, until
// the model says they are out; a deadline passed meanwhile is a stalled
// write, whatever the session reads.
func TestSessionHold(t *testing.T) {
	site := memSite(t, map[string]string{"a.txt": "0123456789"})
	c := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	stats := NewStats()
	s := newTestSession(site, stats, testLimits, c.now())
	feed(s, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a", c.now())
	s.Next()
	fetch(s)
	s.Sent(c.add(time.Second))
	s.Hold(true)
	if d, want := s.Deadline(), c.now().Add(testLimits.WriteTimeout); !d.Equal(want) {
		t.Fatalf("holding: deadline %v, want the write limit %v", d, want)
	}
	s.Wrote(100, c.add(10*time.Second))
	if d, want := s.Deadline(), c.now().Add(testLimits.WriteTimeout); !d.Equal(want) {
		t.Fatalf("holding, after progress: deadline %v, want %v", d, want)
	}
	s.Hold(false)
	if d, want := s.Deadline(), c.now().Add(testLimits.HeaderTimeout); !d.Equal(want) {
		t.Fatalf("written: deadline %v, want the header limit %v for the half-arrived request", d, want)
	}
	s.Hold(true)
	if s.Expire(c.add(testLimits.WriteTimeout)) || s.Next() {
		t.Fatal("a stalled write of held answers was answered (a 408?), want the close")
	}
	if snap := stats.Snapshot(); snap.Timeouts != 1 || snap.Errors != 1 {
		t.Errorf("timeouts %d, errors %d; want 1 and 1", snap.Timeouts, snap.Errors)
	}
}

// TestSessionExpire: what each passed deadline leads to, and how it is
// counted.
func TestSessionExpire(t *testing.T) {
	site := memSite(t, map[string]string{"a.txt": "0123456789"})
	c := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}

	// Half a head, then silence: a 408, sent the usual way, then a
	// lingering close, itself bounded.
	stats := NewStats()
	s := newTestSession(site, stats, testLimits, c.now())
	feed(s, "GET /a.txt HTTP/1.1\r\nHo", c.add(time.Second))
	if !s.Expire(c.add(10 * time.Second)) {
		t.Fatal("half a head: no answer")
	}
	if s.Open() != nil || !s.Next() || statusLine(s) != "HTTP/1.1 408 Request Timeout" {
		t.Fatalf("half a head: %q, want a 408", s.Head())
	}
	if s.Sent(c.now()) {
		t.Fatal("408 kept the connection")
	}
	if !s.Linger(c.now(), false) {
		t.Fatal("the close after a 408 does not linger: the rest of the head is unread")
	}
	if d := s.Deadline(); !d.Equal(c.now().Add(lingerTimeout)) {
		t.Fatalf("linger deadline %v", d)
	}
	if len(s.ReadSpace()) != ReadBufferSize {
		t.Fatal("lingering keeps the unread head in the buffer")
	}
	if s.Expire(c.add(lingerTimeout)) {
		t.Fatal("the end of a linger has an answer")
	}
	s.Close()
	if snap := stats.Snapshot(); snap.Timeouts != 1 || snap.Status4xx != 1 || snap.Errors != 0 || snap.Open != 0 || snap.InFlight != 0 {
		t.Fatalf("stats %+v", snap)
	}

	// Idle after a response: closed without a word, and no linger.
	stats = NewStats()
	s = newTestSession(site, stats, testLimits, c.now())
	feed(s, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", c.now())
	s.Next()
	fetch(s)
	s.Sent(c.now())
	if s.Expire(c.add(testLimits.IdleTimeout)) || s.Linger(c.now(), true) {
		t.Fatal("an idle connection got an answer or a linger")
	}
	s.Close()
	if snap := stats.Snapshot(); snap.Timeouts != 1 || snap.Errors != 0 || snap.Open != 0 {
		t.Fatalf("stats %+v", snap)
	}

	// A client that stops reading its response: cut short, counted as a
	// timeout and an error.
	stats = NewStats()
	s = newTestSession(site, stats, testLimits, c.now())
	feed(s, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", c.now())
	s.Next()
	fetch(s)
	if s.Expire(c.add(testLimits.WriteTimeout)) || s.Linger(c.now(), true) {
		t.Fatal("a stalled write got an answer or a linger")
	}
	s.Close()
	if snap := stats.Snapshot(); snap.Timeouts != 1 || snap.Errors != 1 || snap.InFlight != 0 || snap.Open != 0 {
		t.Fatalf("stats %+v", snap)
	}
}

// TestSessionLinger: which closes linger, and the bound on what lingering
// throws away.
func TestSessionLinger(t *testing.T) {
	site := memSite(t, map[string]string{"a.txt": "0123456789"})
	for _, tc := range []struct {
		name      string
		in        string
		keepAlive bool // the server's policy
		pending   bool // the kernel holds bytes not read yet
		linger    bool
	}{
		{"client closes, all read", "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true, false, false},
		{"HTTP/1.0, all read", "GET /a.txt HTTP/1.0\r\n\r\n", true, false, false},
		{"client closes, more pipelined", "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /", true, false, true},
		{"client closes, body unread", "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 99\r\n\r\nab", true, false, true},
		{"refused", "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", true, false, true},
		{"a 404, client closes, all read", "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true, false, false},
		{"a bad path, all read", "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", true, false, false},
		{"server closes a kept connection, all read", "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", false, false, false},
		{"server closes a kept connection, more in the kernel", "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", false, true, true},
	} {
		s := newTestSession(site, NewStats(), Limits{}, time.Now())
		s.SetKeepAlive(tc.keepAlive)
		feed(s, tc.in, time.Now())
		if !s.Next() {
			t.Fatalf("%s: no answer", tc.name)
		}
		fetch(s)
		if !tc.keepAlive && !bytes.Contains(s.Head(), []byte("Connection: close\r\n")) {
			t.Errorf("%s: head does not say close:\n%s", tc.name, s.Head())
		}
		if s.Sent(time.Now()) {
			t.Fatalf("%s: the connection stays open", tc.name)
		}
		if got := s.Linger(time.Now(), tc.pending); got != tc.linger {
			t.Errorf("%s: linger %v, want %v", tc.name, got, tc.linger)
		}
	}
	s := newTestSession(site, NewStats(), Limits{}, time.Now())
	feed(s, "PUT / HTTP/1.1\r\nHost: x\r\n\r\n", time.Now())
	s.Next()
	s.Sent(time.Now())
	s.Linger(time.Now(), false)
	read := 0
	for s.Discarded(64 << 10) {
		if read += 64 << 10; read > 2*lingerLimit {
			t.Fatal("lingering reads without end")
		}
	}
	// A broken connection has nothing to protect.
	s = newTestSession(site, NewStats(), Limits{}, time.Now())
	feed(s, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", time.Now())
	s.Next()
	fetch(s)
	s.Fail(unix.ECONNRESET)
	if s.Linger(time.Now(), true) {
		t.Fatal("a reset connection lingers")
	}
}

// TestSessionFail: each way a connection breaks is counted once, as an
// error, and as a timeout when a write limit ended it.
func TestSessionFail(t *testing.T) {
	site := memSite(t, map[string]string{"a.txt": "0123456789"})
	for _, tc := range []struct {
		err      error
		timeouts int64
	}{
		{unix.ECONNRESET, 0},
		{unix.EAGAIN, 1},               // SO_SNDTIMEO on a blocking socket
		{os.ErrDeadlineExceeded, 1},    // a net.Conn's write deadline
		{errors.New("file shrank"), 0}, // the file got shorter mid-send
	} {
		stats := NewStats()
		s := newTestSession(site, stats, Limits{}, time.Now())
		feed(s, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", time.Now())
		s.Next()
		fetch(s)
		s.Fail(tc.err)
		s.Close()
		if snap := stats.Snapshot(); snap.Errors != 1 || snap.Timeouts != tc.timeouts || snap.InFlight != 0 || snap.Open != 0 {
			t.Errorf("%v: stats %+v", tc.err, snap)
		}
	}
}

// TestSessionCloseMidResponse: a connection closed with its response under
// way (a server that stops at once) counts the response as cut short.
func TestSessionCloseMidResponse(t *testing.T) {
	site := memSite(t, map[string]string{"a.txt": "0123456789"})
	stats := NewStats()
	s := newTestSession(site, stats, Limits{}, time.Now())
	feed(s, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", time.Now())
	s.Next()
	fetch(s)
	s.Close()
	s.Close() // twice is harmless
	if snap := stats.Snapshot(); snap.Errors != 1 || snap.InFlight != 0 || snap.Open != 0 || snap.Accepted != 1 {
		t.Fatalf("stats %+v", snap)
	}
}
