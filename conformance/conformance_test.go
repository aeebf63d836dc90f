package conformance

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"serverlab/servers"
)

// variant is one server to run the suite against: a model and its flags.
type variant struct {
	name string
	new  func(servers.Config) (servers.Server, error)
	// tune sets the model's own flags on the Config.
	tune func(*servers.Config)
	// limits are the protections the model runs with.
	limits servers.Limits
	// diskDelay simulates a slow disk (and so turns sendfile off).
	diskDelay time.Duration
	// serial marks a model that serves one connection at a time, which
	// cannot hold an idle connection while it serves another.
	serial bool
}

// protected are the limits `serverlab serve` gives the threaded and evloop
// models by default. None of them fires in the suite (every exchange takes
// milliseconds), but they make the models arm and cancel their timers on
// every request, which is the path that must not break a normal exchange.
var protected = servers.Limits{
	HeaderTimeout: 10 * time.Second,
	IdleTimeout:   60 * time.Second,
	WriteTimeout:  30 * time.Second,
}

// diskDelay is the simulated disk latency of the disk-workers variant: large
// enough to make every file read go through the workers' slow path, small
// enough that the 64 MiB file still takes a few seconds, not minutes.
const diskDelay = time.Millisecond

// testServer is a running variant with its own fresh site.
type testServer struct {
	variant
	root   string
	addr   string
	stats  *servers.Stats
	srv    servers.Server
	served chan error
	// dials counts the connections the suite opened, to compare with the
	// connections the server says it accepted.
	dials atomic.Int64
	// shutDown is set once the shutdown subtest has stopped the server.
	shutDown bool
}

// start builds a site and starts the variant on it, in this process, on a
// free loopback port. The server is shut down when the test ends.
func start(t *testing.T, v variant) *testServer {
	t.Helper()
	s := &testServer{variant: v, root: buildSite(t), stats: servers.NewStats(), served: make(chan error, 1)}
	site, err := servers.NewSite(s.root, servers.SiteOptions{DiskDelay: v.diskDelay})
	if err != nil {
		t.Fatal(err)
	}
	cfg := servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: s.stats, Limits: v.limits}
	if v.tune != nil {
		v.tune(&cfg)
	}
	s.srv, err = v.new(cfg)
	if err != nil {
		site.Close()
		t.Fatalf("%s: New: %v", v.name, err)
	}
	s.addr = s.srv.Addr()
	go func() { s.served <- s.srv.Serve() }()
	t.Cleanup(func() {
		if !s.shutDown {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.srv.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			select {
			case err := <-s.served:
				if err != nil {
					t.Errorf("Serve returned %v after Shutdown, want nil", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("Serve did not return after Shutdown")
			}
		}
		site.Close()
	})
	return s
}

// TestConformance runs every row, and every behaviour no row can state,
// against every variant. Variants run in parallel, each on its own server
// and site; within a variant the steps run one after another, because the
// blocking model serves one connection at a time.
func TestConformance(t *testing.T) {
	table := rows()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, v)
			for _, r := range table {
				t.Run(r.name, func(t *testing.T) { s.runRow(t, r) })
			}
			t.Run("64 MiB file, exact bytes and sha256", s.testBigFile)
			t.Run("16 MiB from an odd offset to a slow reader", s.testSlowReader)
			t.Run("50 resets mid-body, then a normal request", s.testResets)
			t.Run("200 concurrent clients all answered", s.testConcurrent)
			t.Run("net/http client reuses its connection", s.testNetHTTP)
			t.Run("every connection closed and counted", s.testBalanced)
			t.Run("shutdown finishes the response in flight", s.testShutdown)
		})
	}
}

// probe is the request used to show that a connection, or the server, still
// serves: a small file whose every byte is checked.
var probe = getReq("/hello.txt")

// runRow sends a row's bytes on a new connection and checks every reply,
// the connection's fate, and that the server still serves a new connection.
func (s *testServer) runRow(t *testing.T, r row) {
	if r.needsUnreadable {
		if why := unreadableSkipReason(s.root); why != "" {
			t.Skip(why)
		}
	}
	c := s.dial(t)
	sent := c.sendAsync([]byte(r.send), r.chunk, r.halfClose)
	var last *response
	for i, w := range r.want {
		resp, err := c.read(w.head)
		if err != nil {
			c.Close()
			t.Fatalf("reply %d of %d: %v", i+1, len(r.want), err)
		}
		// Every reply but the last is followed by another on the same
		// connection, so it must have announced keep-alive.
		if i < len(r.want)-1 && resp.get("Connection") != "keep-alive" {
			t.Errorf("reply %d: Connection: %q, want keep-alive (more replies follow)", i+1, resp.get("Connection"))
		}
		for _, p := range s.check(w, resp) {
			t.Errorf("reply %d (%s): %s", i+1, resp.statusLine(), p)
		}
		last = resp
	}

	end := r.end
	if end == asSaid {
		end = open
		if last.get("Connection") == "close" {
			end = closed
		}
	}
	switch said := last.get("Connection"); {
	case end == open && said != "keep-alive":
		t.Errorf("last reply says Connection: %q, but the connection must stay open", said)
	case end == closed && said != "close" && !r.halfClose:
		// A half-closed client tells the server it will send nothing
		// more only after the request, so the server may rightly have
		// announced keep-alive before it saw the end of input.
		t.Errorf("last reply says Connection: %q, but the connection must close", said)
	}
	if end == closed {
		if err := c.expectClosed(); err != nil {
			t.Error(err)
		}
	} else {
		s.expectServes(t, c, "the same connection")
	}
	c.Close()
	if err := <-sent; err != nil && end == open && !t.Failed() {
		t.Errorf("sending the request: %v", err)
	}
	// Whatever this row did to its connection, the server serves the
	// next client.
	fresh := s.dial(t)
	defer fresh.Close()
	s.expectServes(t, fresh, "a new connection")
}

// expectServes sends the probe on c and checks the answer.
func (s *testServer) expectServes(t *testing.T, c *client, what string) {
	t.Helper()
	if err := c.send([]byte(probe), 0, false); err != nil {
		t.Errorf("%s: probe: %v", what, err)
		return
	}
	resp, err := c.read(false)
	if err != nil {
		t.Errorf("%s: probe: %v", what, err)
		return
	}
	for _, p := range s.check(ok("hello.txt"), resp) {
		t.Errorf("%s: probe: %s", what, p)
	}
}

// reasons are the reason phrases of RFC 9110 §15 (and RFC 6585 for 431).
// net/http's StatusText is not used: it still says "Requested Range Not
// Satisfiable", the name RFC 9110 replaced.
var reasons = map[int]string{
	200: "OK",
	206: "Partial Content",
	304: "Not Modified",
	400: "Bad Request",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	414: "URI Too Long",
	416: "Range Not Satisfiable",
	431: "Request Header Fields Too Large",
	500: "Internal Server Error",
	501: "Not Implemented",
	503: "Service Unavailable",
	505: "HTTP Version Not Supported",
}

// check compares a response with the reply a row expects, and with the
// rules every response obeys, and returns what is wrong.
func (s *testServer) check(w reply, r *response) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	want := func(name, value string) {
		if got := r.get(name); got != value {
			fail("%s: %q, want %q", name, got, value)
		}
	}

	if containsSecret(r.body) {
		fail("THE BODY CONTAINS THE SECRET FROM OUTSIDE THE ROOT: %s", excerpt(r.body))
	}
	switch {
	case w.status == refused && !slices.Contains([]int{400, 403, 404}, r.status):
		fail("status %d, want a refusal (400, 403 or 404)", r.status)
	case w.status != refused && r.status != w.status:
		fail("status %d, want %d", r.status, w.status)
	}

	// Every response: HTTP/1.1, the standard reason phrase, Server, a
	// well-formed Date, a Connection that says what will happen, and no
	// field sent twice.
	if r.proto != "HTTP/1.1" {
		fail("version %q, want HTTP/1.1 (a server sends its own highest version, RFC 9110 §2.5)", r.proto)
	}
	if reason, known := reasons[r.status]; known && r.reason != reason {
		fail("reason phrase %q, want %q", r.reason, reason)
	}
	want("Server", "serverlab")
	if d, err := time.Parse(http.TimeFormat, r.get("Date")); err != nil {
		fail("Date %q is not an IMF-fixdate: %v", r.get("Date"), err)
	} else if age := time.Since(d); age > 24*time.Hour || age < -24*time.Hour {
		fail("Date %q is not today", r.get("Date"))
	}
	if c := r.get("Connection"); c != "keep-alive" && c != "close" {
		fail("Connection: %q, want keep-alive or close", c)
	}
	for name, values := range r.header {
		if len(values) > 1 {
			fail("%s sent %d times: %q", name, len(values), values)
		}
	}
	length, err := r.contentLength()
	if err != nil {
		fail("%v", err)
	}
	if length < 0 && r.status != 304 {
		fail("no Content-Length")
	}

	// Then what each status promises.
	switch r.status {
	case 200, 206:
		if w.file == "" {
			fail("the row names no file for a %d", r.status)
			break
		}
		content, err := s.content(w.file)
		if err != nil {
			fail("%v", err)
			break
		}
		if r.status == 206 {
			if w.to >= int64(len(content)) || w.from > w.to {
				fail("the row's range %d-%d does not fit %s", w.from, w.to, w.file)
				break
			}
			want("Content-Range", fmt.Sprintf("bytes %d-%d/%d", w.from, w.to, len(content)))
			content = content[w.from : w.to+1]
		}
		if length != int64(len(content)) {
			fail("Content-Length %d, want %d", length, len(content))
		}
		if !w.head {
			if i := firstDiff(r.body, content); i >= 0 {
				fail("body differs from %s at byte %d: got %s", w.file, i, excerpt(r.body))
			}
		}
		want("Content-Type", mimeOf(w.file))
		want("Last-Modified", lastModified)
		want("Accept-Ranges", "bytes")
	case 304:
		// No body (the reader took none; the next request on the
		// connection proves none was sent), and the validator again.
		want("Last-Modified", lastModified)
	case 416:
		if length != 0 {
			fail("Content-Length %d, want 0", length)
		}
		if !r.has("Content-Range") {
			fail("no Content-Range (RFC 9110 §15.5.17 wants bytes */SIZE)")
		}
	default:
		if r.status >= 400 {
			// An error's body is its reason phrase, so curl and a
			// browser show something readable.
			body := reasons[r.status] + "\n"
			want("Content-Type", "text/plain; charset=utf-8")
			if length != int64(len(body)) {
				fail("Content-Length %d, want %d", length, len(body))
			}
			if !w.head && string(r.body) != body {
				fail("body %s, want %q", excerpt(r.body), body)
			}
		}
		if r.status == 405 {
			want("Allow", "GET, HEAD")
		}
	}
	for name, value := range w.header {
		want(name, value)
	}
	return bad
}

// content returns the bytes of a file of the site.
func (s *testServer) content(name string) ([]byte, error) {
	if name == bigName {
		return bigData, nil
	}
	b, err := os.ReadFile(filepath.Join(s.root, name))
	if err != nil {
		return nil, fmt.Errorf("the row's file: %w", err)
	}
	return b, nil
}

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
func (c *client) readBody(v *verifier, n int64, timeout time.Duration) error {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	got, err := io.CopyBuffer(v, io.LimitReader(c.br, n), make([]byte, 256<<10))
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
// second; the margin is for the race detector, eight variants sharing two
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
	if err := c.readBody(v, bigSize, bigTimeout); err != nil {
		t.Fatal(err)
	}
	if got := [32]byte(v.sum.Sum(nil)); got != bigSum {
		t.Fatalf("sha256 %x, want %x", got, bigSum)
	}
	s.expectServes(t, c, "after 64 MiB, the same connection")
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
	if err := c.readBody(v, n, bigTimeout); err != nil {
		t.Fatal(err)
	}
	s.expectServes(t, c, "after a slow read, the same connection")
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
	// Session.Abort counts each response that could not be finished. The
	// server may learn of a reset only at its next write, so wait for it.
	if got := waitFor(func() bool { return s.stats.Snapshot().Errors-before >= 50 }); !got {
		t.Errorf("stats count %d errors for 50 reset downloads, want at least 50 (is Session.Abort called?)",
			s.stats.Snapshot().Errors-before)
	}
}

// testConcurrent opens 200 connections, sends a request on each, and only
// then reads the answers, so that all 200 are open at once.
func (s *testServer) testConcurrent(t *testing.T) {
	const n = 200
	want, err := s.content("1k.bin")
	if err != nil {
		t.Fatal(err)
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
		if err := c.send([]byte(getReq("/1k.bin")), 0, false); err != nil {
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
			case string(r.body) != string(want):
				errs[i] = fmt.Errorf("body differs from 1k.bin")
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
		if i > 0 && !reused {
			t.Errorf("%s (request %d): net/http opened a new connection instead of reusing its idle one", name, i+1)
		}
	}
	if got := s.dials.Load() - dialsBefore; got != 1 {
		t.Errorf("net/http dialled %d connections for %d requests, want 1", got, len(steps))
	}
	if got := s.stats.Snapshot().Accepted - acceptedBefore; got != 1 {
		t.Errorf("the server accepted %d connections for net/http's %d requests, want 1", got, len(steps))
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
	if received := int64(bigSize + 16<<20); snap.BytesSent < received {
		t.Errorf("%d bytes sent counted; the suite received more than %d in two downloads alone", snap.BytesSent, received)
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
	if err := busy.readBody(v, 1, ioTimeout); err != nil { // the response is now surely in flight
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
	if err := busy.readBody(v, bigSize-1, bigTimeout); err != nil {
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
