package uring

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"serverlab/internal/modeltest"
	"serverlab/servers"
)

// The model's own tests: what the conformance and robustness suites cannot
// see from outside — the memory an idle connection holds, the receive
// buffers running out, short sends, the slow disk waited inside the ring,
// cancellation — and the limits, run fast.

func TestKeepAliveExactBytes(t *testing.T) {
	ts := startServer(t, serverOpts{})
	c := modeltest.Dial(t, ts.Addr)
	for _, name := range []string{"hello.txt", "1k.bin", "64k.bin", "1m.bin", "hello.txt"} {
		c.Send(modeltest.Get("/" + name))
		resp, body := c.Response()
		modeltest.CheckBody(t, demoRoot, name, resp, body)
	}
}

func TestPipelinedTen(t *testing.T) {
	ts := startServer(t, serverOpts{})
	c := modeltest.Dial(t, ts.Addr)
	c.Send(strings.Repeat(modeltest.Get("/1k.bin"), 10))
	for range 10 {
		resp, body := c.Response()
		modeltest.CheckBody(t, demoRoot, "1k.bin", resp, body)
	}
}

func TestStateNames(t *testing.T) {
	for s := receivingRequest; s <= closing; s++ {
		if strings.Contains(s.String(), "?") {
			t.Errorf("state %d has no name", s)
		}
	}
}

// heldBytes is how much more of Go's heap is in use with n idle keep-alive
// connections than before them. Each connection is served one request
// first, one at a time, so that what it holds afterwards is what idling
// costs it and not what a burst left in the pools. The clients are raw
// sockets, so that they add next to nothing to the same heap.
func heldBytes(t *testing.T, o Options, n int) (perConn float64) {
	ts := startServer(t, serverOpts{opt: o})
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	for range n {
		fd := modeltest.RawSocket(t)
		modeltest.ConnectRaw(t, fd, ts.Addr, modeltest.Get("/hello.txt"))
		if got := modeltest.ReadRaw(t, fd); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
			t.Fatalf("answer %q", got)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return float64(int64(ms.HeapInuse)-int64(before)) / float64(n)
}

// TestIdleConnectionsHoldNoBuffer is the completion model's memory trap,
// and its cure. A receive that brings its own buffer holds it while it
// waits: each idle connection pins its Session's 32 KiB input buffer. With
// provided buffers the waiting receive holds nothing, and the idle
// connection costs only its small struct; the provided buffers are shared,
// and outside Go's heap.
func TestIdleConnectionsHoldNoBuffer(t *testing.T) {
	const n = 300
	trap := heldBytes(t, Options{OwnBuffers: true}, n)
	cure := heldBytes(t, Options{}, n)
	t.Logf("Go heap per idle connection: %.0f bytes with a buffer per receive, %.0f with provided buffers", trap, cure)
	if trap < servers.ReadBufferSize {
		t.Errorf("with a buffer per receive, %.0f bytes per idle connection: the trap should hold a %d-byte buffer each", trap, servers.ReadBufferSize)
	}
	if cure > 2048 {
		t.Errorf("with provided buffers, %.0f bytes per idle connection, want under 2 KiB", cure)
	}
}

// TestServerBuffersRunOut serves many clients at once with only two
// provided buffers: receives come back with ENOBUFS, wait for the next
// batch, and every client is still answered.
func TestServerBuffersRunOut(t *testing.T) {
	ts := startServer(t, serverOpts{tun: tuning{bufCount: 2}})
	const clients = 40
	var wg sync.WaitGroup
	var conns []*modeltest.Client
	for range clients {
		conns = append(conns, modeltest.Dial(t, ts.Addr))
	}
	errs := make(chan error, clients)
	for _, c := range conns {
		wg.Go(func() {
			for range 20 {
				io.WriteString(c.C, modeltest.Get("/1k.bin"))
				resp, body, err := c.TryResponse()
				if err == nil && (resp.StatusCode != 200 || len(body) != 1024) {
					err = fmt.Errorf("status %d, %d bytes", resp.StatusCode, len(body))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	l := ts.stop()
	t.Logf("%d receives found no buffer and were retried", l.noBufs)
	if l.bufs.out != 0 {
		t.Errorf("%d provided buffers never given back", l.bufs.out)
	}
}

// A client that reads a large file slowly through a small window makes the
// socket take less than each send offers; every short send must resume
// exactly where it stopped.
func TestShortSendsResumed(t *testing.T) {
	dir := t.TempDir()
	const size = 16 << 20
	sum := writeBigFile(t, filepath.Join(dir, "big.bin"), size)
	ts := startServer(t, serverOpts{root: dir, tun: tuning{sendBuffer: 8 << 10}})
	c := modeltest.Dial(t, ts.Addr)
	c.C.SetReadBuffer(16 << 10)
	c.Send(modeltest.Get("/big.bin"))
	resp, err := http.ReadResponse(c.Br, nil)
	if err != nil || resp.StatusCode != 200 || resp.ContentLength != size {
		t.Fatalf("head: %v, %+v", err, resp)
	}
	h := sha256.New()
	chunk := make([]byte, 8<<10)
	for range 64 { // slowly at first: the socket is full again and again
		n, err := io.ReadFull(resp.Body, chunk)
		h.Write(chunk[:n])
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatal(err)
	}
	if [32]byte(h.Sum(nil)) != sum {
		t.Fatal("sha256 of the body differs from the file's")
	}
	if l := ts.stop(); l.shortSends == 0 {
		t.Error("no send was short: the test did not exercise resuming")
	}
}

// A file truncated while it is sent ends the connection (fewer bytes than
// promised, never wrong ones), counts an error, and the server goes on.
func TestFileShrinksMidSend(t *testing.T) {
	dir := t.TempDir()
	const size = 8 << 20
	path := filepath.Join(dir, "shrink.bin")
	writeBigFile(t, path, size)
	os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("still here\n"), 0o644)
	ts := startServer(t, serverOpts{root: dir})
	c := modeltest.Dial(t, ts.Addr)
	c.C.SetReadBuffer(16 << 10)
	c.Send(modeltest.Get("/shrink.bin"))
	resp, err := http.ReadResponse(c.Br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 2<<20); err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	if n+1<<20 >= size {
		t.Fatalf("got all %d bytes of a file truncated mid-send", n+1<<20)
	}
	modeltest.Eventually(t, "the aborted response to be counted", func() bool {
		s := ts.Stats.Snapshot()
		return s.Errors == 1 && s.Open == 0 && s.InFlight == 0
	})
	c2 := modeltest.Dial(t, ts.Addr)
	c2.Send(modeltest.Get("/ok.txt"))
	if resp, body := c2.Response(); resp.StatusCode != 200 || string(body) != "still here\n" {
		t.Fatalf("after the truncation: %d %q", resp.StatusCode, body)
	}
}

// TestSlowDiskInTheRing: with a slow disk and no worker threads, reads for
// different clients overlap, because each waits inside the ring (a timeout
// linked before its read), not on the loop's thread. evloop without
// workers takes clients × delay for the same requests.
func TestSlowDiskInTheRing(t *testing.T) {
	const (
		delay   = 300 * time.Millisecond
		clients = 8
		serial  = clients * delay
	)
	ts := startServer(t, serverOpts{delay: delay})
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			c, err := net.Dial("tcp", ts.Addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			io.WriteString(c, modeltest.Get("/1k.bin"))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				var body []byte
				body, err = io.ReadAll(resp.Body)
				if err == nil && (resp.StatusCode != 200 || len(body) != 1024) {
					err = fmt.Errorf("status %d, %d bytes", resp.StatusCode, len(body))
				}
			}
			errs <- err
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if took < delay {
		t.Errorf("%v for reads each delayed %v: the delay was not applied", took, delay)
	}
	if took >= serial {
		t.Errorf("%v for %d slow reads, no better than one at a time (%v)", took, clients, serial)
	}
	if l := ts.stop(); l.peakFetching < 2 {
		t.Errorf("at most %d reads under way at once, want them overlapping", l.peakFetching)
	}
}

// A request head that does not finish within HeaderTimeout is answered 408
// and closed, even if the client keeps trickling bytes (slowloris).
func TestHeaderTimeout(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) { c.HeaderTimeout = 300 * time.Millisecond }})
	// The clock starts before the dial: the server's starts when it
	// accepts, which may be before this goroutine sees Dial return.
	start := time.Now()
	c := modeltest.Dial(t, ts.Addr)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		io.WriteString(c.C, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := c.C.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	resp, _ := c.Response()
	if resp.StatusCode != 408 || !resp.Close {
		t.Fatalf("status %d, close %v; want 408 and close", resp.StatusCode, resp.Close)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("408 after %v, before the 300ms limit", waited)
	}
	c.ExpectEOF()
	if s := ts.Stats.Snapshot(); s.Timeouts != 1 || s.Status4xx != 1 {
		t.Errorf("timeouts %d, 4xx %d; want 1 and 1", s.Timeouts, s.Status4xx)
	}
}

// A kept-alive connection that sends nothing for IdleTimeout is closed
// without an answer; one that keeps sending requests is not.
func TestIdleTimeout(t *testing.T) {
	const limit = time.Second // ten times the gaps below: a loaded machine's late wake-ups fit
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) { c.IdleTimeout = limit }})
	c := modeltest.Dial(t, ts.Addr)
	var sent time.Time
	for range 8 {
		// The idle clock of the last request starts after this (at its
		// answer), so the close cannot come earlier than limit after it.
		sent = time.Now()
		c.Send(modeltest.Get("/hello.txt"))
		if resp, _ := c.Response(); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n, err := c.Br.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle connection: read %d, %v; want EOF", n, err)
	}
	if waited := time.Since(sent); waited < limit {
		t.Fatalf("closed %v after the last request, before the %v limit", waited, limit)
	}
	if s := ts.Stats.Snapshot(); s.Timeouts != 1 || s.Requests != 8 {
		t.Errorf("timeouts %d, requests %d; want 1 and 8", s.Timeouts, s.Requests)
	}
}

// A client that connects and says nothing is a slow request: closed
// HeaderTimeout after accept, without an answer, though the idle limit is
// far longer.
func TestSilentNewConnection(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) {
		c.HeaderTimeout, c.IdleTimeout = 300*time.Millisecond, time.Hour
	}})
	start := time.Now() // before the dial, as the server's clock starts at accept
	c := modeltest.Dial(t, ts.Addr)
	if n, err := c.C.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("silent connection: read %d, %v; want EOF and no answer", n, err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the 300ms limit", waited)
	}
	if s := ts.Stats.Snapshot(); s.Timeouts != 1 || s.Requests != 0 {
		t.Errorf("timeouts %d, requests %d; want 1 and 0", s.Timeouts, s.Requests)
	}
}

// A client that stops reading its response is cut off after WriteTimeout:
// the send waiting in the ring is cancelled.
func TestWriteTimeout(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) { c.WriteTimeout = 300 * time.Millisecond }})
	c := modeltest.Dial(t, ts.Addr)
	c.C.SetReadBuffer(16 << 10)
	c.Send(modeltest.Get("/16m.bin"))
	modeltest.Eventually(t, "the stalled send to time out", func() bool {
		s := ts.Stats.Snapshot()
		return s.Timeouts == 1 && s.Open == 0 && s.InFlight == 0
	})
	if s := ts.Stats.Snapshot(); s.Errors != 1 {
		t.Errorf("errors %d, want 1 (the response was cut short)", s.Errors)
	}
}

// Past MaxConns, new connections are accepted and closed at once, and
// counted; when one closes, there is room again.
func TestMaxConns(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) { c.MaxConns = 2 }})
	var held []*modeltest.Client
	for range 2 {
		c := modeltest.Dial(t, ts.Addr)
		c.Send(modeltest.Get("/hello.txt"))
		c.Response()
		held = append(held, c)
	}
	extra := modeltest.Dial(t, ts.Addr)
	extra.Send(modeltest.Get("/hello.txt"))
	extra.ExpectEOF()
	if s := ts.Stats.Snapshot(); s.Refused != 1 || s.Open != 2 {
		t.Fatalf("refused %d, open %d; want 1 and 2", s.Refused, s.Open)
	}
	held[0].C.Close()
	modeltest.Eventually(t, "the closed connection to be counted", func() bool { return ts.Stats.Snapshot().Open == 1 })
	c := modeltest.Dial(t, ts.Addr)
	c.Send(modeltest.Get("/hello.txt"))
	if resp, _ := c.Response(); resp.StatusCode != 200 {
		t.Fatalf("after a slot freed: status %d", resp.StatusCode)
	}
}

// Clients that reset mid-download leave their sends to fail (EPIPE,
// ECONNRESET); each connection is closed and counted, its provided buffers
// are all back, and the server serves on.
func TestResetsMidBody(t *testing.T) {
	ts := startServer(t, serverOpts{})
	for range 30 {
		c := modeltest.Dial(t, ts.Addr)
		c.Send(modeltest.Get("/16m.bin"))
		io.ReadFull(c.Br, make([]byte, 64<<10))
		c.C.SetLinger(0)
		c.C.Close()
	}
	modeltest.Eventually(t, "every reset connection to be closed", func() bool {
		s := ts.Stats.Snapshot()
		return s.Open == 0 && s.InFlight == 0
	})
	c := modeltest.Dial(t, ts.Addr)
	c.Send(modeltest.Get("/hello.txt"))
	resp, body := c.Response()
	modeltest.CheckBody(t, demoRoot, "hello.txt", resp, body)
	if l := ts.stop(); l.bufs.out != 0 || l.nconns != 0 {
		t.Errorf("after the resets: %d buffers out, %d connections in the table", l.bufs.out, l.nconns)
	}
}

// TestStaleCompletion checks the user data's generation: a completion for
// a slot's previous occupant is not delivered to the connection there now.
func TestStaleCompletion(t *testing.T) {
	l := &loop{cfg: &servers.Config{Stats: servers.NewStats()}}
	a := l.newConn(7)
	idx, old := a.idx, userData(kRecv, a)
	l.release(a)      // a closes; its slot (and its struct) are free
	b := l.newConn(8) // the slot, reused
	if b.idx != idx {
		t.Fatalf("slot %d not reused (got %d)", idx, b.idx)
	}
	if got := l.connOf(old); got != nil {
		t.Fatalf("a completion of the slot's previous connection went to the new one (fd %d)", got.fd)
	}
	if got := l.connOf(userData(kRecv, b)); got != b {
		t.Fatal("the new connection's own completion was not delivered")
	}
}

// Shutdown with idle connections closes them at once (their receives are
// cancelled), refuses new ones, and returns without waiting.
func TestShutdownIdle(t *testing.T) {
	ts := startServer(t, serverOpts{})
	var idle []*modeltest.Client
	for range 10 {
		c := modeltest.Dial(t, ts.Addr)
		c.Send(modeltest.Get("/hello.txt"))
		c.Response()
		idle = append(idle, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ts.Srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ts.WaitServe()
	for i, c := range idle {
		if _, err := c.C.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("idle conn %d: %v, want EOF", i, err)
		}
	}
	if _, err := net.Dial("tcp", ts.Addr); err == nil {
		t.Fatal("a new connection was accepted after Shutdown")
	}
}

// Shutdown lets a response under way finish, every byte of it.
func TestShutdownWaitsForInFlight(t *testing.T) {
	ts := startServer(t, serverOpts{})
	busy := modeltest.Dial(t, ts.Addr)
	busy.C.SetReadBuffer(16 << 10)
	busy.Send(modeltest.Get("/16m.bin"))
	resp, err := http.ReadResponse(busy.Br, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ts.Srv.Shutdown(context.Background()) }()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil || n != 16<<20 {
		t.Fatalf("the response under way: %d bytes, %v", n, err)
	}
	if [32]byte(h.Sum(nil)) != sha256.Sum256(modeltest.Want(t, demoRoot, "16m.bin")) {
		t.Fatal("the response under way differs from the file")
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	busy.ExpectEOF()
}

// When Shutdown's context ends first, what is under way is cancelled and
// closed.
func TestShutdownDeadline(t *testing.T) {
	ts := startServer(t, serverOpts{})
	stuck := modeltest.Dial(t, ts.Addr)
	stuck.C.SetReadBuffer(16 << 10)
	stuck.Send(modeltest.Get("/16m.bin")) // and never read
	modeltest.Eventually(t, "the response to start", func() bool { return ts.Stats.Snapshot().InFlight == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := ts.Srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
	}
	ts.WaitServe()
	if s := ts.Stats.Snapshot(); s.Open != 0 || s.Errors != 1 {
		t.Errorf("open %d, errors %d; want 0 and 1", s.Open, s.Errors)
	}
	n, err := io.Copy(io.Discard, stuck.C)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("stuck client: %v, want the connection closed", err)
	}
	if n >= 16<<20 {
		t.Fatalf("stuck client got all %d bytes", n)
	}
}

// Shutdown before Serve releases the listener, and Serve then returns nil.
func TestShutdownBeforeServe(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	site, err := servers.NewSite(demoRoot, servers.SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	s, err := New(servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", s.Addr()); err == nil {
		t.Fatal("still listening after Shutdown")
	}
}
