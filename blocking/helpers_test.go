package blocking

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"serverlab/demosite"
	"serverlab/servers"
)

// siteDir is the demo site every test serves, written once for the whole
// package: its 16 MiB file makes writing it per test too slow for a shared
// two-core machine. Tests only read it.
var siteDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "blocking-test-site-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := demosite.Write(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	siteDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		// No goroutine may outlive the servers the tests shut down.
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// harness is one running server under test.
type harness struct {
	t      *testing.T
	srv    servers.Server
	addr   string
	stats  *servers.Stats
	served chan error
}

// start runs a blocking server over the demo site; edit adjusts its Config.
// The server is shut down when the test ends, and must have stopped cleanly.
func start(t *testing.T, edit func(*servers.Config)) *harness {
	t.Helper()
	return startSite(t, servers.SiteOptions{}, edit)
}

// startSite is start with a choice of site options (a slow disk).
func startSite(t *testing.T, opt servers.SiteOptions, edit func(*servers.Config)) *harness {
	t.Helper()
	site, err := servers.NewSite(siteDir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats()}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, addr: srv.Addr(), stats: cfg.Stats, served: make(chan error, 1)}
	go func() { h.served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.srv.Shutdown(ctx)
		h.waitServe()
	})
	return h
}

// waitServe waits for Serve to return and checks that it returned nil.
func (h *harness) waitServe() {
	h.t.Helper()
	select {
	case err := <-h.served:
		if err != nil {
			h.t.Errorf("Serve returned %v, want nil", err)
		}
		h.served <- nil // for a later caller
	case <-time.After(15 * time.Second):
		h.t.Fatal("Serve did not return after Shutdown")
	}
}

// eventually polls cond until it holds, failing the test after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// client is one raw connection, so tests can send exact bytes.
type client struct {
	t  *testing.T
	c  *net.TCPConn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// A bug must fail the test, not hang it.
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &client{t: t, c: c.(*net.TCPConn), br: bufio.NewReaderSize(c, 64<<10)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// response reads one whole response to a GET.
func (c *client) response() (*http.Response, []byte) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	return resp, body
}

// expectEOF checks that the server has closed the connection.
func (c *client) expectEOF() {
	c.t.Helper()
	var b [1]byte
	if n, err := c.br.Read(b[:]); err == nil {
		c.t.Fatalf("read %q, want the connection closed", b[:n])
	}
}

// get is a GET request for path, kept alive.
func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"
}

// want is the exact content of a demo file.
func want(t *testing.T, name string) []byte {
	t.Helper()
	if size, ok := demosite.Sizes[name]; ok {
		return demosite.Bytes(name, size)
	}
	b, err := os.ReadFile(siteDir + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkBody(t *testing.T, name string, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: status %d, want 200", name, resp.StatusCode)
	}
	if w := want(t, name); !bytes.Equal(body, w) {
		t.Fatalf("%s: got %d bytes that differ from the file's %d", name, len(body), len(w))
	}
}
