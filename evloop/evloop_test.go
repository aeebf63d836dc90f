package evloop

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"serverlab/servers"
)

// variants are the flag combinations of issue 6 that must all serve the same
// bytes: the behaviour tests below run against each.
var variants = []struct {
	name       string
	delay      time.Duration
	cfg        func(*servers.Config)
	opt        Options
	sendBuffer int
}{
	{name: "epoll+sendfile"},
	{name: "nosendfile", cfg: func(c *servers.Config) { c.NoSendfile = true }},
	{name: "loops2", opt: Options{Loops: 2}},
	{name: "poll", opt: Options{Poller: "poll"}},
	// A disk delay turns sendfile off: every chunk goes through ReadAt.
	{name: "slowdisk-workers0", delay: time.Millisecond},
	{name: "slowdisk-workers4", delay: time.Millisecond, opt: Options{DiskWorkers: 4}},
	// A small socket send buffer makes most large writes partial: the
	// head and first chunk in writev, the chunks, and sendfile. (Much
	// smaller, and loopback TCP itself stalls for delayed ACKs: a plain
	// net.Conn with sendfile takes seconds per 16 MiB too.)
	{name: "tinysndbuf", sendBuffer: 48 << 10},
	{name: "tinysndbuf-nosendfile", sendBuffer: 48 << 10, cfg: func(c *servers.Config) { c.NoSendfile = true }},
}

func forEachVariant(t *testing.T, test func(t *testing.T, ts *testServer)) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			test(t, startServer(t, serverOpts{delay: v.delay, cfg: v.cfg, opt: v.opt, sendBuffer: v.sendBuffer}))
		})
	}
}

// Every demo file, big and small, arrives byte for byte, one after another
// on one kept-alive connection.
func TestExactBytesKeepAlive(t *testing.T) {
	files := []string{"1k.bin", "64k.bin", "1m.bin", "16m.bin", "hello.txt", "empty.txt", "index.html"}
	forEachVariant(t, func(t *testing.T, ts *testServer) {
		c := dial(t, ts.Addr())
		br := bufio.NewReader(c)
		for _, name := range files {
			fmt.Fprint(c, request("/"+name))
			resp, body := readResponse(t, br, "GET")
			if resp.StatusCode != 200 || resp.Close {
				t.Fatalf("%s: status %d, close %v", name, resp.StatusCode, resp.Close)
			}
			if !bytes.Equal(body, demoFile(t, name)) {
				t.Fatalf("%s: %d bytes differ from the file", name, len(body))
			}
		}
		if got := ts.stats.Snapshot().Accepted; got != 1 {
			t.Errorf("accepted %d connections for one keep-alive client", got)
		}
	})
}

// Ten requests in one write are all answered, in order (RFC 9112 §9.3.2).
func TestPipelinedTen(t *testing.T) {
	names := []string{"1k.bin", "hello.txt", "64k.bin", "missing", "data.json",
		"1k.bin", "empty.txt", "1m.bin", "style.css", "hello.txt"}
	forEachVariant(t, func(t *testing.T, ts *testServer) {
		var all strings.Builder
		for _, n := range names {
			all.WriteString(request("/" + n))
		}
		c := dial(t, ts.Addr())
		io.WriteString(c, all.String())
		br := bufio.NewReader(c)
		for i, n := range names {
			resp, body := readResponse(t, br, "GET")
			if n == "missing" {
				if resp.StatusCode != 404 {
					t.Fatalf("response %d: status %d, want 404", i, resp.StatusCode)
				}
				continue
			}
			if resp.StatusCode != 200 || !bytes.Equal(body, demoFile(t, n)) {
				t.Fatalf("response %d (%s): status %d, %d bytes", i, n, resp.StatusCode, len(body))
			}
		}
	})
}

// A request arriving one byte at a time is parsed all the same.
func TestOneByteAtATime(t *testing.T) {
	forEachVariant(t, func(t *testing.T, ts *testServer) {
		c := dial(t, ts.Addr())
		c.(*net.TCPConn).SetNoDelay(true)
		req := request("/hello.txt")
		for i := range len(req) {
			if _, err := c.Write([]byte{req[i]}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Microsecond)
		}
		resp, body := readResponse(t, bufio.NewReader(c), "GET")
		if resp.StatusCode != 200 || !bytes.Equal(body, demoFile(t, "hello.txt")) {
			t.Fatalf("status %d, body %q", resp.StatusCode, body)
		}
	})
}

// A client that shuts down its sending side after its request still gets
// the whole answer, and then the server closes.
func TestHalfClose(t *testing.T) {
	forEachVariant(t, func(t *testing.T, ts *testServer) {
		c := dial(t, ts.Addr())
		io.WriteString(c, request("/1m.bin"))
		c.(*net.TCPConn).CloseWrite()
		br := bufio.NewReader(c)
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 200 || !bytes.Equal(body, demoFile(t, "1m.bin")) {
			t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
		}
		if n, err := br.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("after the response: %d bytes, %v; want EOF", n, err)
		}
	})
}

// Twenty clients reset their connection in the middle of a large body; the
// server counts each as an error, closes each, and serves the next client.
func TestResetsMidBody(t *testing.T) {
	forEachVariant(t, func(t *testing.T, ts *testServer) {
		for range 20 {
			c, err := net.Dial("tcp", ts.Addr())
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, request("/16m.bin"))
			if _, err := io.ReadFull(c, make([]byte, 100<<10)); err != nil {
				t.Fatal(err)
			}
			c.(*net.TCPConn).SetLinger(0) // close with RST, not FIN
			c.Close()
		}
		waitFor(t, "the reset connections to close", func() bool {
			s := ts.stats.Snapshot()
			return s.Open == 0 && s.Errors == 20
		})
		c := dial(t, ts.Addr())
		io.WriteString(c, request("/64k.bin"))
		resp, body := readResponse(t, bufio.NewReader(c), "GET")
		if resp.StatusCode != 200 || !bytes.Equal(body, demoFile(t, "64k.bin")) {
			t.Fatalf("after the resets: status %d, %d bytes", resp.StatusCode, len(body))
		}
	})
}

// Two hundred clients at once are all answered correctly.
func TestConcurrentClients(t *testing.T) {
	forEachVariant(t, func(t *testing.T, ts *testServer) {
		const clients = 200
		names := []string{"1k.bin", "64k.bin"}
		wants := [][]byte{demoFile(t, names[0]), demoFile(t, names[1])}
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for i := range clients {
			wg.Go(func() { errs <- oneClient(ts.Addr(), names[i%2], wants[i%2], 2) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if s := ts.stats.Snapshot(); s.Accepted != clients || s.Status2xx != 2*clients {
			t.Errorf("accepted %d, 2xx %d; want %d and %d", s.Accepted, s.Status2xx, clients, 2*clients)
		}
	})
}

// oneClient makes requests for name on one connection and checks the
// bytes. It reports errors instead of failing, because it runs off the test
// goroutine.
func oneClient(addr, name string, want []byte, requests int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	for range requests {
		io.WriteString(c, request("/"+name))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || !bytes.Equal(body, want) {
			return fmt.Errorf("%s: %d bytes, %v", name, len(body), err)
		}
	}
	return nil
}

// Go's own client reuses the kept-alive connection.
func TestNetHTTPClientReuse(t *testing.T) {
	forEachVariant(t, func(t *testing.T, ts *testServer) {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		reused := 0
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if i.Reused {
				reused++
			}
		}}
		for _, name := range []string{"1k.bin", "64k.bin", "hello.txt", "1m.bin"} {
			req, _ := http.NewRequest("GET", "http://"+ts.Addr()+"/"+name, nil)
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(body, demoFile(t, name)) {
				t.Fatalf("%s: status %d, %d bytes", name, resp.StatusCode, len(body))
			}
		}
		if reused != 3 {
			t.Errorf("connection reused %d times, want 3", reused)
		}
	})
}

// HEAD gets the headers of the body without the body, and the connection
// stays usable.
func TestHeadThenGet(t *testing.T) {
	ts := startServer(t, serverOpts{})
	c := dial(t, ts.Addr())
	br := bufio.NewReader(c)
	io.WriteString(c, "HEAD /64k.bin HTTP/1.1\r\nHost: x\r\n\r\n"+request("/hello.txt"))
	resp, body := readResponse(t, br, "HEAD")
	if resp.StatusCode != 200 || resp.ContentLength != 64<<10 || len(body) != 0 {
		t.Fatalf("HEAD: status %d, length %d, %d body bytes", resp.StatusCode, resp.ContentLength, len(body))
	}
	resp, body = readResponse(t, br, "GET")
	if resp.StatusCode != 200 || !bytes.Equal(body, demoFile(t, "hello.txt")) {
		t.Fatalf("GET after HEAD: status %d, body %q", resp.StatusCode, body)
	}
}

// A bad request is answered with its status, and the connection closed.
func TestBadRequestCloses(t *testing.T) {
	ts := startServer(t, serverOpts{})
	c := dial(t, ts.Addr())
	io.WriteString(c, "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n"+request("/hello.txt"))
	br := bufio.NewReader(c)
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 501 || !resp.Close {
		t.Fatalf("status %d, close %v; want 501 and close", resp.StatusCode, resp.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the error: %v, want EOF", err)
	}
}
