package servers

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

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
		s.Received(n)
		for s.Next(time.Now()) {
			head := s.Head()
			got = append(got, string(head[:bytes.IndexByte(head, '\r')]))
			if !s.Done() {
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
		s := NewSession(site, stats)
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
	s := NewSession(site, NewStats())
	got := drive(t, s, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 1000)
	want := []string{"HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q (nothing after the error)", got, want)
	}
}

func TestSessionBody(t *testing.T) {
	site, _ := testSite(t)
	s := NewSession(site, NewStats())
	for _, tc := range []struct {
		req  string
		body bool
	}{
		{"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", true},
		{"HEAD /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"GET /missing HTTP/1.1\r\nHost: x\r\n\r\n", false},
		{"GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT\r\n\r\n", false},
	} {
		s.Reset()
		n := copy(s.ReadSpace(), tc.req)
		s.Received(n)
		if !s.Next(time.Now()) {
			t.Fatalf("%q: no response", tc.req)
		}
		f, _, _ := s.Body()
		if (f != nil) != tc.body {
			t.Errorf("%q: body %v, want %v", tc.req, f != nil, tc.body)
		}
		s.Done()
	}
}

func TestSessionTimeout(t *testing.T) {
	site, _ := testSite(t)
	s := NewSession(site, NewStats())
	if s.Timeout(time.Now()) {
		t.Fatal("idle connection got a 408")
	}
	n := copy(s.ReadSpace(), "GET /a.txt HTTP/1.1\r\nHo")
	s.Received(n)
	if s.Next(time.Now()) {
		t.Fatal("partial request answered")
	}
	if !s.Timeout(time.Now()) || !bytes.HasPrefix(s.Head(), []byte("HTTP/1.1 408 ")) {
		t.Fatalf("partial request: %q, want a 408", s.Head())
	}
	if s.Done() {
		t.Fatal("408 kept the connection alive")
	}
}

// TestKeepAliveAllocs is the zero-allocation promise of the core: once a
// file is in the open-file cache, a keep-alive request costs no allocation in
// parsing, resolving, encoding or bookkeeping.
func TestKeepAliveAllocs(t *testing.T) {
	site, _ := testSite(t)
	s := NewSession(site, NewStats())
	req := []byte("GET /a.txt HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n")
	round := func() {
		n := copy(s.ReadSpace(), req)
		s.Received(n)
		if !s.Next(time.Now()) {
			t.Fatal("no response")
		}
		s.Done()
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
	s := NewSession(site, NewStats())
	s.Shrink()
	if s.inBuf != nil {
		t.Fatal("a new session holds a buffer before reading")
	}
	n := copy(s.ReadSpace(), "GET /a.txt HTTP/1.1\r\nHo")
	s.Received(n)
	if s.Next(time.Now()) {
		t.Fatal("partial request answered")
	}
	s.Shrink()
	if s.inBuf == nil {
		t.Fatal("Shrink dropped a partial request")
	}
	n = copy(s.ReadSpace(), "st: x\r\n\r\n")
	s.Received(n)
	if !s.Next(time.Now()) {
		t.Fatal("request not completed after Shrink")
	}
	s.Shrink()
	if s.inBuf == nil {
		t.Fatal("Shrink took the buffer during a response")
	}
	s.Done()
	s.Shrink()
	if s.inBuf != nil || s.Buffered() != 0 {
		t.Fatal("an idle session kept its buffer")
	}
	if s.Next(time.Now()) {
		t.Fatal("an empty session answered")
	}
}

func TestSessionIdle(t *testing.T) {
	site, _ := testSite(t)
	s := NewSession(site, NewStats())
	if !s.Idle() {
		t.Fatal("a new session is not idle")
	}
	// A request with a body that has not fully arrived: answered, but the
	// parser still has body bytes to skip, so the session is not idle.
	n := copy(s.ReadSpace(), "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab")
	s.Received(n)
	if !s.Next(time.Now()) || s.Idle() {
		t.Fatal("idle during a response")
	}
	s.Done()
	if s.Next(time.Now()) || s.Idle() {
		t.Fatal("idle while 3 body bytes are still to come")
	}
	n = copy(s.ReadSpace(), "cde")
	s.Received(n)
	if s.Next(time.Now()) || !s.Idle() {
		t.Fatal("not idle after the body was skipped")
	}
}
