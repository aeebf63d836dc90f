// Package modeltest is the test bench the server models' own tests share:
// a demo site written once per test binary, a running server that is shut
// down (and must stop cleanly) when its test ends, and a raw client that
// sends exact bytes and reads responses. It is imported only by _test.go
// files; the conformance suite in package conformance has its own, stricter
// response reader.
package modeltest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"serverlab/demosite"
	"serverlab/servers"
)

// Main is a package's TestMain: it writes the demo site once into a
// temporary folder (its 16 MiB file makes writing it per test too slow for
// a shared two-core machine), stores the folder in *siteDir, runs the
// tests, removes the site, and fails the run if any goroutine outlives the
// servers the tests shut down.
func Main(m *testing.M, siteDir *string) {
	dir, err := os.MkdirTemp("", "serverlab-test-site-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := demosite.Write(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*siteDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Harness is one running server under test.
type Harness struct {
	T      *testing.T
	Srv    servers.Server
	Addr   string
	Stats  *servers.Stats
	served chan error
}

// Start runs the server that newServer makes over the site in dir, with
// site options opt; edit, if not nil, adjusts its Config. The server is
// shut down when the test ends, and Serve must then return nil.
func Start(t *testing.T, newServer func(servers.Config) (servers.Server, error), dir string,
	opt servers.SiteOptions, edit func(*servers.Config)) *Harness {
	t.Helper()
	site, err := servers.NewSite(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats()}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &Harness{T: t, Srv: srv, Addr: srv.Addr(), Stats: cfg.Stats, served: make(chan error, 1)}
	go func() { h.served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Srv.Shutdown(ctx)
		h.WaitServe()
	})
	return h
}

// WaitServe waits for Serve to return and checks that it returned nil.
func (h *Harness) WaitServe() {
	h.T.Helper()
	select {
	case err := <-h.served:
		if err != nil {
			h.T.Errorf("Serve returned %v, want nil", err)
		}
		h.served <- nil // for a later caller
	case <-time.After(15 * time.Second):
		h.T.Fatal("Serve did not return after Shutdown")
	}
}

// Eventually polls cond until it holds, failing the test after 10 s.
func Eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Client is one raw connection, so tests can send exact bytes.
type Client struct {
	T  *testing.T
	C  *net.TCPConn
	Br *bufio.Reader
}

// Dial connects to addr; the connection is closed when the test ends, and
// every read and write gives up after 30 s, so that a bug fails the test
// instead of hanging it.
func Dial(t *testing.T, addr string) *Client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &Client{T: t, C: c.(*net.TCPConn), Br: NewReader(c)}
}

// NewReader is the client's buffered reader over r.
func NewReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 64<<10) }

// Send writes s whole.
func (c *Client) Send(s string) {
	c.T.Helper()
	if _, err := io.WriteString(c.C, s); err != nil {
		c.T.Fatalf("send: %v", err)
	}
}

// Response reads one whole response to a GET.
func (c *Client) Response() (*http.Response, []byte) {
	c.T.Helper()
	resp, body, err := c.TryResponse()
	if err != nil {
		c.T.Fatal(err)
	}
	return resp, body
}

// TryResponse is Response for a goroutine that cannot fail the test itself.
func (c *Client) TryResponse() (*http.Response, []byte, error) {
	resp, err := http.ReadResponse(c.Br, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("read response: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("read body: %w", err)
	}
	return resp, body, nil
}

// ExpectEOF checks that the server has closed the connection.
func (c *Client) ExpectEOF() {
	c.T.Helper()
	var b [1]byte
	if n, err := c.Br.Read(b[:]); err == nil {
		c.T.Fatalf("read %q, want the connection closed", b[:n])
	}
}

// Get is a GET request for path, kept alive.
func Get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"
}

// Want is the exact content of the demo file name in the site at dir.
func Want(t *testing.T, dir, name string) []byte {
	t.Helper()
	if size, ok := demosite.Sizes[name]; ok {
		return demosite.Bytes(name, size)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CheckBody fails the test unless resp is a 200 whose body is exactly the
// demo file name.
func CheckBody(t *testing.T, dir, name string, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: status %d, want 200", name, resp.StatusCode)
	}
	if w := Want(t, dir, name); !bytes.Equal(body, w) {
		t.Fatalf("%s: got %d bytes that differ from the file's %d", name, len(body), len(w))
	}
}

// RawSocket makes a blocking TCP socket with the raw system calls, for tests
// that must control descriptors exactly (running out of them, say). Its
// reads give up after 20 s; it is closed when the test ends.
func RawSocket(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	tv := unix.NsecToTimeval(int64(20 * time.Second))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return fd
}

// ConnectRaw connects fd to addr and sends req.
func ConnectRaw(t *testing.T, fd int, addr, req string) {
	t.Helper()
	ap, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	sa := &unix.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	if err := unix.Connect(fd, sa); err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := unix.Write(fd, []byte(req)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// ReadRaw reads once from fd (up to 512 bytes).
func ReadRaw(t *testing.T, fd int) string {
	t.Helper()
	buf := make([]byte, 512)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			// Go's runtime signals its own threads (preemption), and a
			// read with a receive timeout set is never restarted.
			continue
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return string(buf[:n])
	}
}

// CPUTime is the CPU time this process has used, user and system.
func CPUTime(t *testing.T) time.Duration {
	t.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
