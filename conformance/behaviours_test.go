package conformance

// The behaviours a table row cannot state: large and slow transfers,
// misbehaving clients, many clients at once, a real HTTP client, the
// server's own counters, and shutdown.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// verifier is an io.Writer that checks a stream against the bytes it should
// be, without holding the stream: it remembers where the first difference
// was, and hashes what it saw.
type verifier struct {
	want []byte
	off  int
	diff int // offset of the first wrong byte, or -1
	sum  hash.Hash
}

func newVerifier(want []byte) *verifier {
	return &verifier{want: want, diff: -1, sum: sha256.New()}
}

func (v *verifier) Write(p []byte) (int, error) {
	if v.diff < 0 {
		if i := firstDiff(p, v.want[v.off:min(v.off+len(p), len(v.want))]); i >= 0 {
			v.diff = v.off + i
		}
	}
	v.sum.Write(p)
	v.off += len(p)
	return len(p), nil
}

// readBody streams a response body of n bytes into v.
func (s *testServer) readBody(c *client, v *verifier, n int64, timeout time.Duration) error {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	got, err := io.CopyBuffer(v, io.LimitReader(c.br, n), make([]byte, 256<<10))
	s.received.Add(got)
	if err == nil && got < n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("body: got %d of %d bytes: %w", got, n, err)
	}
	if v.diff >= 0 {
		return fmt.Errorf("body differs from the file at byte %d", v.diff)
	}
	return nil
}

// bigTimeout bounds one 64 MiB transfer. Loopback moves it in well under a
// second; the margin is for the race detector, ten variants sharing two
// cores, and the disk-workers variant's simulated slow disk.
const bigTimeout = 2 * time.Minute

// testBigFile downloads the 64 MiB file and checks every byte and the
// SHA-256, then checks the connection is still in step.
func (s *testServer) testBigFile(t *testing.T) {
	c := s.dial(t)
	defer c.Close()
	if err := c.send([]byte(getReq("/"+bigName)), 0, false); err != nil {
		t.Fatal(err)
	}
	r, err := c.readHead()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.check(ok(bigName).asHead(), r) { // the head only: the body is streamed below
		t.Error(p)
	}
	v := newVerifier(bigData)
	if err := s.readBody(c, v, bigSize, bigTimeout); err != nil {
		t.Fatal(err)
	}
	if got := [32]byte(v.sum.Sum(nil)); got != bigSum {
		t.Fatalf("sha256 %x, want %x", got, bigSum)
	}
	s.expectAnother(t, c, "after 64 MiB, the same connection")
}

// testSlowReader asks for 16 MiB from an odd offset with a small receive
// buffer, so the server's socket is full most of the time: its sendfile or
// write calls return short counts and EAGAIN again and again, and every
// partial send must resume exactly where the last one stopped.
func (s *testServer) testSlowReader(t *testing.T) {
	const from, n = 1001, 16 << 20
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			// Before connect, so the small window is what the server sees
			// from the first byte.
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10)
		})
		return errors.Join(err, serr)
	}}
	conn, err := d.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	s.dials.Add(1)
	c := &client{conn: conn.(*net.TCPConn), br: bufio.NewReader(conn)}
	defer c.Close()
	req := getReq("/"+bigName, fmt.Sprintf("Range: bytes=%d-%d", from, from+n-1))
	if err := c.send([]byte(req), 0, false); err != nil {
		t.Fatal(err)
	}
	r, err := c.readHead()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.check(part(bigName, from, from+n-1).asHead(), r) {
		t.Error(p)
	}
	v := newVerifier(bigData[from : from+n])
	if err := s.readBody(c, v, n, bigTimeout); err != nil {
		t.Fatal(err)
	}
	s.expectAnother(t, c, "after a slow read, the same connection")
}

// testResets starts 50 downloads of the 64 MiB file and resets each after
// its first 64 KiB: the server's next write fails with ECONNRESET or EPIPE,
// and it must count an error, close the connection, and go on serving.
func (s *testServer) testResets(t *testing.T) {
	before := s.stats.Snapshot().Errors
	buf := make([]byte, 64<<10)
	for i := range 50 {
		c := s.dial(t)
		if err := c.send([]byte(getReq("/"+bigName)), 0, false); err != nil {
			c.Close()
			t.Fatalf("client %d: %v", i, err)
		}
		r, err := c.readHead()
		if err == nil && r.status != 200 {
			err = fmt.Errorf("status %d, want 200", r.status)
		}
		if err == nil {
			_, err = io.ReadFull(c.br, buf)
		}
		if err != nil {
			c.Close()
			t.Fatalf("client %d: %v", i, err)
		}
		if err := c.reset(); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	c := s.dial(t)
	defer c.Close()
	s.expectServes(t, c, "after 50 resets, a new connection")
	// Session.Fail counts each response that could not be finished. The
	// server may learn of a reset only at its next write, so wait for it.
	if got := waitFor(func() bool { return s.stats.Snapshot().Errors-before >= 50 }); !got {
		t.Errorf("stats count %d errors for 50 reset downloads, want at least 50 (is Session.Fail called?)",
			s.stats.Snapshot().Errors-before)
	}
}

// testLeavers sends ten pipelined requests for 1 MiB and closes at once,
// twenty times. The close with answers unread makes the client's kernel
// reset the connection, so the server's writes fail midway (EPIPE or
// ECONNRESET, never a SIGPIPE that kills it); it must drop the remaining
// requests, close, and go on serving.
func (s *testServer) testLeavers(t *testing.T) {
	req := []byte(strings.Repeat(getReq("/1m.bin"), 10))
	for i := range 20 {
		c := s.dial(t)
		err := c.send(req, 0, false)
		c.Close()
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	c := s.dial(t)
	defer c.Close()
	s.expectServes(t, c, "after 20 clients left, a new connection")
}

// testConcurrent opens 200 connections, sends a request on each, and only
// then reads the answers, so that all 200 are open at once. Every tenth asks
// for 1 MiB rather than 1 KiB, so that large responses are in progress on
// many connections at the same time (an event loop interleaves their
// partial writes).
func (s *testServer) testConcurrent(t *testing.T) {
	const n = 200
	fileOf := func(i int) string {
		if i%10 == 0 {
			return "1m.bin"
		}
		return "1k.bin"
	}
	want := map[string][]byte{}
	for _, f := range []string{"1k.bin", "1m.bin"} {
		b, err := s.content(f)
		if err != nil {
			t.Fatal(err)
		}
		want[f] = b
	}
	conns := make([]*client, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		c, err := s.tryDial()
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		conns[i] = c
		if err := c.send([]byte(getReq("/"+fileOf(i))), 0, false); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, c := range conns {
		wg.Go(func() {
			// Each closes once answered: the blocking model moves on to
			// the next connection only then.
			defer c.Close()
			r, err := c.read(false)
			switch {
			case err != nil:
				errs[i] = err
			case r.status != 200:
				errs[i] = fmt.Errorf("status %d", r.status)
			case !bytes.Equal(r.body, want[fileOf(i)]):
				errs[i] = fmt.Errorf("body differs from %s", fileOf(i))
			}
		})
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("client %d: %v", i, err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d clients not answered correctly", failed, n)
	}
}

// testNetHTTP uses Go's own HTTP client, a strict and real one, for a series
// of requests that must all travel on one connection.
func (s *testServer) testNetHTTP(t *testing.T) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err == nil {
				s.dials.Add(1)
			}
			return c, err
		},
		MaxIdleConnsPerHost:   1,
		DisableCompression:    true,
		ResponseHeaderTimeout: ioTimeout,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: ioTimeout}
	dialsBefore := s.dials.Load()
	acceptedBefore := s.stats.Snapshot().Accepted

	steps := []struct {
		method, path string
		header       []string // name, value, ...
		status       int
		file         string // whose bytes the body is, if any
		from, to     int
	}{
		{"GET", "/hello.txt", nil, 200, "hello.txt", 0, -1},
		{"GET", "/", nil, 200, "index.html", 0, -1},
		{"HEAD", "/data.json", nil, 200, "", 0, 0},
		{"GET", "/range.txt", []string{"Range", "bytes=2-5"}, 206, "range.txt", 2, 5},
		{"GET", "/hello.txt", []string{"If-Modified-Since", lastModified}, 304, "", 0, 0},
		{"GET", "/no-such-file.txt", nil, 404, "", 0, 0},
		{"GET", "/1m.bin", nil, 200, "1m.bin", 0, -1},
		{"GET", "/docs/", nil, 200, "docs/index.html", 0, -1},
	}
	for i, st := range steps {
		name := st.method + " " + st.path
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
			st.method, "http://"+s.addr+st.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j+1 < len(st.header); j += 2 {
			req.Header.Set(st.header[j], st.header[j+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: read body: %v", name, err)
		}
		if resp.StatusCode != st.status {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, st.status)
		}
		if st.file != "" {
			want, err := s.content(st.file)
			if err != nil {
				t.Fatal(err)
			}
			if st.to >= 0 {
				want = want[st.from : st.to+1]
			}
			if string(body) != string(want) || resp.ContentLength != int64(len(want)) {
				t.Errorf("%s: got %d bytes (Content-Length %d), want the %d of %s",
					name, len(body), resp.ContentLength, len(want), st.file)
			}
		}
		switch {
		case s.closes && reused:
			t.Errorf("%s (request %d): net/http reused a connection the server said it would close", name, i+1)
		case !s.closes && i > 0 && !reused:
			t.Errorf("%s (request %d): net/http opened a new connection instead of reusing its idle one", name, i+1)
		}
	}
	conns := int64(1)
	if s.closes {
		conns = int64(len(steps)) // one per answer, each closed cleanly
	}
	if got := s.dials.Load() - dialsBefore; got != conns {
		t.Errorf("net/http dialled %d connections for %d requests, want %d", got, len(steps), conns)
	}
	if got := s.stats.Snapshot().Accepted - acceptedBefore; got != conns {
		t.Errorf("the server accepted %d connections for net/http's %d requests, want %d", got, len(steps), conns)
	}
}

// testBalanced checks the server's own counters against what the suite
// did, once every client connection is closed: no connection still open
// (a leaked descriptor), no request still in flight, and exactly as many
// accepted as the suite dialled.
func (s *testServer) testBalanced(t *testing.T) {
	if !waitFor(func() bool { return s.stats.Snapshot().Open == 0 }) {
		t.Errorf("%d connections still open on the server after every client closed", s.stats.Snapshot().Open)
	}
	snap := s.stats.Snapshot()
	if snap.InFlight != 0 {
		t.Errorf("%d requests still in flight", snap.InFlight)
	}
	if snap.Accepted != s.dials.Load() {
		t.Errorf("server accepted %d connections, the suite dialled %d", snap.Accepted, s.dials.Load())
	}
	if sum := snap.Status1xx + snap.Status2xx + snap.Status3xx + snap.Status4xx + snap.Status5xx; sum != snap.Requests {
		t.Errorf("requests %d, but the status classes add up to %d", snap.Requests, sum)
	}
	if received := s.received.Load(); snap.BytesSent < received {
		t.Errorf("the server counts %d bytes sent, but the suite received %d in its large downloads alone", snap.BytesSent, received)
	}
}

// testShutdown stops the server while a 64 MiB response is under way and,
// for the models that can hold one, while another connection sits idle:
// the idle one must be closed at once, the download must finish intact,
// Shutdown and Serve must return nil, and nothing new may be served.
func (s *testServer) testShutdown(t *testing.T) {
	var idle *client
	if !s.serial {
		idle = s.dial(t)
		defer idle.Close()
		s.expectServes(t, idle, "the connection left idle")
	}
	busy := s.dial(t)
	defer busy.Close()
	if err := busy.send([]byte(getReq("/"+bigName)), 0, false); err != nil {
		t.Fatal(err)
	}
	r, err := busy.readHead()
	if err != nil {
		t.Fatal(err)
	}
	if r.status != 200 {
		t.Fatalf("status %d, want 200", r.status)
	}
	v := newVerifier(bigData)
	if err := s.readBody(busy, v, 1, ioTimeout); err != nil { // the response is now surely in flight
		t.Fatal(err)
	}

	s.shutDown = true
	ctx, cancel := context.WithTimeout(context.Background(), bigTimeout)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- s.srv.Shutdown(ctx) }()

	if idle != nil {
		if err := idle.expectClosed(); err != nil {
			t.Errorf("idle keep-alive connection: %v", err)
		}
	}
	if err := s.readBody(busy, v, bigSize-1, bigTimeout); err != nil {
		t.Errorf("the response in flight: %v", err)
	} else if err := busy.expectClosed(); err != nil {
		t.Errorf("after the response in flight: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Shutdown: %v, want nil", err)
	}
	select {
	case err := <-s.served:
		if err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("Serve did not return after Shutdown")
	}
	// The listening socket is closed: a new client is refused, or at the
	// very least not answered.
	if c, err := s.tryDial(); err == nil {
		defer c.Close()
		c.send([]byte(probe), 0, false)
		if r, err := c.read(false); err == nil {
			t.Errorf("after Shutdown a new connection was answered: %s", r.statusLine())
		}
	}
}

// waitFor polls cond until it holds or a generous deadline passes: for
// counters a server updates just after the client has seen its answer.
func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(closeTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
