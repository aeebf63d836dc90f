package robust

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"serverlab/blocking"
	"serverlab/demosite"
	"serverlab/evloop"
	"serverlab/servers"
	"serverlab/threaded"
	"serverlab/uring"
)

// demoRoot is the demo site written once for the package (its 16 MiB file
// is worth not rewriting per test); tests that change files make their own
// folder. binary is `serverlab` built once with the race detector, for the
// tests that need a whole process.
var demoRoot, binary string

func TestMain(m *testing.M) {
	code, err := runTests(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "robust:", err)
		code = 1
	}
	os.Exit(code)
}

func runTests(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "robust-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	demoRoot = filepath.Join(tmp, "site")
	if err := demosite.Write(demoRoot); err != nil {
		return 0, err
	}
	binary = filepath.Join(tmp, "serverlab")
	if out, err := exec.Command("go", "build", "-race", "-o", binary, "serverlab").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build serverlab: %v\n%s", err, out)
	}
	code := m.Run()
	if code == 0 {
		// Whatever each test checked, nothing may outlive them all.
		if err := goleak.Find(); err != nil {
			return 1, fmt.Errorf("goroutines leaked: %w", err)
		}
	}
	return code, nil
}

// model is one way of serving: a constructor and the knobs it is run
// with. The variants beyond the three models exercise code paths of their
// own: OS threads with blocking system calls, and the event loop with two
// loops and disk workers copying file data through user space.
type model struct {
	name     string
	new      func(servers.Config) (servers.Server, error)
	tune     func(*servers.Config)
	blocking bool // serves one connection at a time, by design
	closes   bool // ends every connection after one answer (blocking's default)
}

// keepsAlive skips a test that needs a connection kept alive between
// answers, which a model that closes after each one never has; its
// keep-alive variant runs the test instead.
func (m model) keepsAlive(t *testing.T) {
	t.Helper()
	if m.closes {
		t.Skipf("%s closes every connection after one answer; %s-keepalive runs this", m.name, m.name)
	}
}

var models = []model{
	{name: "blocking", new: blockingWith(blocking.Options{}), blocking: true, closes: true},
	{name: "blocking-keepalive", new: blockingWith(blocking.Options{KeepAlive: true}), blocking: true},
	{name: "threaded", new: threadedWith(threaded.Options{})},
	{name: "threaded-osthreads", new: threadedWith(threaded.Options{OSThreads: true})},
	{name: "evloop", new: evloopWith(evloop.Options{})},
	{name: "evloop-workers", new: evloopWith(evloop.Options{Loops: 2, DiskWorkers: 2}),
		tune: func(c *servers.Config) { c.NoSendfile = true }},
	{name: "uring", new: uringWith(uring.Options{})},
}

// The constructors, each model with its own options.
func blockingWith(o blocking.Options) func(servers.Config) (servers.Server, error) {
	return func(c servers.Config) (servers.Server, error) { return blocking.New(c, o) }
}

func threadedWith(o threaded.Options) func(servers.Config) (servers.Server, error) {
	return func(c servers.Config) (servers.Server, error) { return threaded.New(c, o) }
}

func evloopWith(o evloop.Options) func(servers.Config) (servers.Server, error) {
	return func(c servers.Config) (servers.Server, error) { return evloop.New(c, o) }
}

func uringWith(o uring.Options) func(servers.Config) (servers.Server, error) {
	return func(c servers.Config) (servers.Server, error) { return uring.New(c, o) }
}

// testServer is one model serving in this process, over real sockets.
type testServer struct {
	servers.Server
	model model
	stats *servers.Stats

	// The server's resting state, after it has served one request for
	// each file the test uses (so their descriptors are in the Site's
	// cache): what settled compares against.
	fdBase, grBase int
	grIgnore       goleak.Option
	// rest is the server's counters at rest: a fault counts from there
	// (see snap).
	rest servers.Snapshot

	clients []net.Conn
}

// serverOpts describe the server a test wants.
type serverOpts struct {
	root   string // default: the demo site
	limits servers.Limits
	cfg    func(*servers.Config)
	warm   []string // paths requested once before the resting state is taken
}

// startServer makes, starts and warms up a server for m, and registers
// with t.Cleanup its shutdown and the final leak check: once the server is
// shut down and its Site closed, the process has no more descriptors or
// goroutines than it had before.
func startServer(t *testing.T, m model, o serverOpts) *testServer {
	t.Helper()
	checkLeaks(t)
	root := o.root
	if root == "" {
		root = demoRoot
	}
	site, err := servers.NewSite(root, servers.SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats(), Limits: o.limits}
	if m.tune != nil {
		m.tune(&cfg)
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	srv, err := m.new(cfg)
	if errors.Is(err, uring.ErrUnavailable) {
		t.Skip(err) // this machine cannot run the model: say why, test the rest
	}
	if err != nil {
		t.Fatalf("%s: %v", m.name, err)
	}
	ts := &testServer{Server: srv, model: m, stats: cfg.Stats}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ts.closeClients()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("%s: Shutdown: %v", m.name, err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("%s: Serve: %v", m.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: Serve did not return after Shutdown", m.name)
		}
	})

	// One connection per request, which every model keeps to the end. The
	// server runs under the fault's limits already, and a client that the
	// scheduler holds back between its connect and its write can meet a
	// 300 ms header limit in a loaded machine: such a warm-up is closed
	// unanswered, and is simply made again. The fault's own counting
	// starts after it (snap).
	for _, p := range append(o.warm, "/hello.txt") {
		for try := 1; ; try++ {
			c := ts.dial(t)
			fmt.Fprintf(c, "HEAD %s HTTP/1.1\r\nHost: robust\r\nConnection: close\r\n\r\n", p)
			h, err := readHead(bufio.NewReader(c))
			ts.closeClients()
			if err == nil && h.status != 0 {
				break // answered (a folder's 301 too)
			}
			if try == 5 {
				t.Fatalf("%s: warm-up HEAD %s: status %d, %v", m.name, p, h.status, err)
			}
		}
	}
	eventually(t, "the warm-up connections to close", func() bool { return ts.stats.Snapshot().Open == 0 })
	ts.fdBase, ts.grBase = countFDs(t), steadyGoroutines()
	ts.grIgnore = goleak.IgnoreCurrent()
	ts.rest = ts.stats.Snapshot()
	return ts
}

// snap is the server's counters since it came to rest, after the warm-up:
// what the fault did, whatever the warm-up took. Open and InFlight are
// levels, not counts, and stay as they are.
func (ts *testServer) snap() servers.Snapshot {
	s, r := ts.stats.Snapshot(), ts.rest
	s.Accepted -= r.Accepted
	s.Requests -= r.Requests
	s.Status1xx, s.Status2xx, s.Status3xx = s.Status1xx-r.Status1xx, s.Status2xx-r.Status2xx, s.Status3xx-r.Status3xx
	s.Status4xx, s.Status5xx = s.Status4xx-r.Status4xx, s.Status5xx-r.Status5xx
	s.BytesSent -= r.BytesSent
	s.Errors -= r.Errors
	s.Refused -= r.Refused
	s.Timeouts -= r.Timeouts
	return s
}

// settled is the leak check that ends a fault: the server has closed every
// connection and finished every response, and the process is back to the
// descriptors and goroutines it had at rest. It closes the test's own
// connections first.
func (ts *testServer) settled(t *testing.T) {
	t.Helper()
	ts.closeClients()
	eventually(t, "every connection closed and response finished", func() bool {
		s := ts.stats.Snapshot()
		return s.Open == 0 && s.InFlight == 0
	})
	eventually(t, fmt.Sprintf("descriptors back to %d", ts.fdBase), func() bool { return countFDs(t) <= ts.fdBase })
	eventually(t, fmt.Sprintf("goroutines back to %d", ts.grBase), func() bool { return runtime.NumGoroutine() <= ts.grBase })
	goleak.VerifyNone(t, ts.grIgnore)
}

// dial connects a client that closeClients (and the test's end) will close.
func (ts *testServer) dial(t *testing.T) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", ts.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", ts.Addr(), err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second)) // no test may hang on a socket
	ts.clients = append(ts.clients, c)
	return c.(*net.TCPConn)
}

func (ts *testServer) closeClients() {
	for _, c := range ts.clients {
		c.Close()
	}
	ts.clients = nil
}

// get fetches path on a new connection and checks the answer is 200 with
// the file's exact contents: the "server goes on" check after a fault.
func (ts *testServer) get(t *testing.T, path string) {
	t.Helper()
	c := ts.dial(t)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: robust\r\nConnection: close\r\n\r\n", path)
	r, body, err := readFull(bufio.NewReader(c))
	if err != nil || r.status != 200 || string(body) != string(demoFile(t, path)) {
		t.Fatalf("%s: GET %s after the fault: status %d, %d bytes, %v", ts.model.name, path, r.status, len(body), err)
	}
	c.Close()
}

// checkLeaks records the process's descriptors and goroutines now and, when
// the test ends, fails if more remain after a generous settle time.
func checkLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	fds, gs := countFDs(t), runtime.NumGoroutine()
	t.Cleanup(func() {
		if t.Failed() {
			return // the first failure is the one worth reading
		}
		eventually(t, fmt.Sprintf("descriptors back to %d after shutdown", fds), func() bool { return countFDs(t) <= fds })
		eventually(t, fmt.Sprintf("goroutines back to %d after shutdown", gs), func() bool { return runtime.NumGoroutine() <= gs })
		goleak.VerifyNone(t, ignore)
	})
}

// steadyGoroutines is the goroutine count once it has stopped changing for
// 50 ms. A server's own goroutines (loops, disk workers) start during Serve,
// and a threaded connection's goroutine ends a moment after the connection
// is counted closed; the count at rest is the one taken after both.
func steadyGoroutines() int {
	n, same := runtime.NumGoroutine(), 0
	for deadline := time.Now().Add(10 * time.Second); same < 10 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		if m := runtime.NumGoroutine(); m == n {
			same++
		} else {
			n, same = m, 0
		}
	}
	return n
}

func countFDs(t *testing.T) int {
	t.Helper()
	return countDir(t, "/proc/self/fd")
}

func countDir(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("count %s: %v", dir, err)
	}
	return len(ents)
}

// eventually polls cond until it holds, and fails the test if it does not
// within a limit far beyond any reasonable machine's need.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// demoFile is the demo site's file at path ("/1m.bin"), as TestMain wrote
// it from demosite. (Reading it back is much faster than making its bytes
// again with the race detector on.)
func demoFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(demoRoot, filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// head is a response head, as much of it as these tests look at.
type head struct {
	status int
	length int64 // Content-Length, -1 if absent
	close  bool  // Connection: close
}

// readHead reads a response head from br, leaving br at its body.
func readHead(br *bufio.Reader) (head, error) {
	h := head{length: -1}
	line, err := br.ReadString('\n')
	if err != nil {
		return h, err
	}
	proto, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	code, _, _ := strings.Cut(rest, " ")
	if h.status, err = strconv.Atoi(code); proto != "HTTP/1.1" || err != nil {
		return h, fmt.Errorf("bad status line %q", line)
	}
	for {
		line, err = br.ReadString('\n')
		if err != nil {
			return h, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return h, nil
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return h, fmt.Errorf("bad header line %q", line)
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "content-length":
			if h.length, err = strconv.ParseInt(v, 10, 64); err != nil {
				return h, fmt.Errorf("bad Content-Length %q", v)
			}
		case "connection":
			h.close = strings.EqualFold(v, "close")
		}
	}
}

// readFull reads one response to a GET, head and whole body.
func readFull(br *bufio.Reader) (head, []byte, error) {
	h, err := readHead(br)
	if err != nil {
		return h, nil, err
	}
	if h.length < 0 {
		return h, nil, errors.New("no Content-Length")
	}
	body := make([]byte, h.length)
	_, err = io.ReadFull(br, body)
	return h, body, err
}

// ended reports whether err is how a connection the server closed ends
// for its client: a clean EOF, or a reset when it closed with our bytes
// unread. A deadline is not an end: it is a hang.
func ended(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
