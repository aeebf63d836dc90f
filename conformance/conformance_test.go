package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"serverlab/servers"
	"serverlab/uring"
)

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
	// received counts the body bytes of the streamed downloads, which
	// the server's own count of bytes sent cannot be below.
	received atomic.Int64
	// shutDown is set once the shutdown subtest has stopped the server.
	shutDown bool
}

// start builds a site and starts the variant on it, in this process, on a
// free loopback port. The server is shut down when the test ends.
func start(t *testing.T, v variant) *testServer {
	t.Helper()
	s := &testServer{variant: v, root: buildSite(t), stats: servers.NewStats(), served: make(chan error, 1)}
	site, err := servers.NewSite(s.root, servers.SiteOptions{DiskDelay: v.diskDelay, NoCache: v.noCache})
	if err != nil {
		t.Fatal(err)
	}
	cfg := servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: s.stats, Limits: v.limits}
	if v.tune != nil {
		v.tune(&cfg)
	}
	s.srv, err = v.new(cfg)
	if errors.Is(err, uring.ErrUnavailable) {
		site.Close()
		t.Skip(err) // this machine cannot run the model: say why, test the rest
	}
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
			t.Run("20 clients leave without reading their answers", s.testLeavers)
			t.Run("200 concurrent clients all answered", s.testConcurrent)
			t.Run("a second client is answered while a first keep-alive client idles", s.testSecondClient)
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
	wants, end := r.want, r.end
	if s.closes {
		// A model that closes after every answer gives the first reply
		// only, says so, and then closes, whatever the client wished.
		wants = []reply{wants[0]}
		if _, said := wants[0].header["Connection"]; said {
			wants[0] = wants[0].with("Connection", "close")
		}
		if end == open {
			end = closed
		}
	}
	var last *response
	for i, w := range wants {
		resp, err := c.read(w.head)
		if err != nil {
			c.Close()
			t.Fatalf("reply %d of %d: %v", i+1, len(wants), err)
		}
		// Every reply but the last is followed by another on the same
		// connection, so it must have announced keep-alive.
		if i < len(wants)-1 && resp.get("Connection") != "keep-alive" {
			t.Errorf("reply %d: Connection: %q, want keep-alive (more replies follow)", i+1, resp.get("Connection"))
		}
		for _, p := range s.check(w, resp) {
			t.Errorf("reply %d (%s): %s", i+1, resp.statusLine(), p)
		}
		last = resp
	}

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
		// The server may close before it has read all we sent, so a
		// failed write is no fault here; closing ends any write still
		// blocked.
		c.Close()
		<-sent
	} else {
		if err := <-sent; err != nil {
			t.Errorf("sending the request: %v", err)
		}
		s.expectServes(t, c, "the same connection")
		c.Close()
	}
	// Whatever this row did to its connection, the server serves the
	// next client.
	fresh := s.dial(t)
	defer fresh.Close()
	s.expectServes(t, fresh, "a new connection")
}

// expectAnother checks what becomes of c after a long answer: it serves
// the next request, or, for a model that closes after every answer, it is
// closed cleanly.
func (s *testServer) expectAnother(t *testing.T, c *client, what string) {
	t.Helper()
	if !s.closes {
		s.expectServes(t, c, what)
	} else if err := c.expectClosed(); err != nil {
		t.Errorf("%s: %v", what, err)
	}
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
	204: "No Content",
	206: "Partial Content",
	301: "Moved Permanently",
	304: "Not Modified",
	400: "Bad Request",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	413: "Content Too Large",
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
	switch {
	case r.status == 204:
		// RFC 9110 §8.6: a 204 MUST NOT carry a Content-Length.
		if length >= 0 {
			fail("a 204 with a Content-Length")
		}
	case length < 0 && r.status != 304:
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
	case 204:
		// The answer to OPTIONS: what may be done here, and no body.
		want("Allow", allowed)
	case 301:
		// A redirect names a path on this server: one leading slash.
		// "//name/" would send a browser to the host "name".
		if loc := r.get("Location"); !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
			fail("Location %q is not a path on this server", loc)
		}
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
			want("Allow", allowed)
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
