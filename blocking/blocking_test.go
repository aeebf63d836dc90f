package blocking

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"serverlab/servers"
)

func TestGetExactBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  servers.SiteOptions
		edit func(*servers.Config)
	}{
		{"sendfile", servers.SiteOptions{}, nil},
		{"pread+write", servers.SiteOptions{}, func(c *servers.Config) { c.NoSendfile = true }},
		{"slow disk", servers.SiteOptions{DiskDelay: time.Millisecond}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startWith(t, Options{KeepAlive: true}, tc.opt, tc.edit)
			for _, name := range []string{"1k.bin", "1m.bin", "hello.txt", "empty.txt"} {
				c := dial(t, h.Addr)
				c.Send(get("/" + name))
				resp, body := c.Response()
				checkBody(t, name, resp, body)
				// Hang up: while this keep-alive connection stays open
				// the one loop stays with it, and the next client
				// would never be accepted.
				c.C.Close()
			}
			if got := h.Stats.Snapshot().Requests; got != 4 {
				t.Errorf("requests counted: %d, want 4", got)
			}
		})
	}
}

func TestKeepAlive(t *testing.T) {
	h := startKeepAlive(t, nil)
	c := dial(t, h.Addr)
	for _, name := range []string{"1k.bin", "hello.txt"} {
		c.Send(get("/" + name))
		resp, body := c.Response()
		checkBody(t, name, resp, body)
		if resp.Close {
			t.Fatalf("%s: the server asked to close a keep-alive connection", name)
		}
	}
	if got := h.Stats.Snapshot().Accepted; got != 1 {
		t.Errorf("accepted %d connections for two keep-alive requests, want 1", got)
	}
}

func TestPipelinedTenInOneWrite(t *testing.T) {
	h := startKeepAlive(t, nil)
	names := []string{"hello.txt", "1k.bin", "style.css", "64k.bin", "data.json",
		"1k.bin", "app.js", "logo.svg", "index.html", "64k.bin"}
	var all strings.Builder
	for _, n := range names {
		all.WriteString(get("/" + n))
	}
	c := dial(t, h.Addr)
	c.Send(all.String())
	for _, n := range names {
		resp, body := c.Response()
		checkBody(t, n, resp, body)
	}
}

// TestAnswerThenClose is the default, lesson 00's first loop: every answer
// says "Connection: close", the connection then ends with a FIN (not a
// reset, even with requests still unread), and so a client that keeps its
// connection open cannot hold the one loop from the next client.
func TestAnswerThenClose(t *testing.T) {
	h := start(t, nil)
	c := dial(t, h.Addr)
	c.Send(get("/1k.bin") + get("/hello.txt")) // two requests: only one is answered
	resp, body := c.Response()
	checkBody(t, "1k.bin", resp, body)
	if !resp.Close {
		t.Fatal("the answer does not say Connection: close")
	}
	c.ExpectEOF()

	idle := dial(t, h.Addr) // a browser's spare keep-alive connection
	idle.Send(get("/hello.txt"))
	idle.Response()
	other := dial(t, h.Addr)
	other.C.SetReadDeadline(time.Now().Add(time.Second))
	other.Send(get("/1k.bin"))
	resp, body = other.Response()
	checkBody(t, "1k.bin", resp, body)
	if got := h.Stats.Snapshot().Accepted; got != 3 {
		t.Errorf("accepted %d, want 3", got)
	}
}

func TestHalfCloseStillAnswered(t *testing.T) {
	h := start(t, nil)
	c := dial(t, h.Addr)
	c.Send(get("/1m.bin"))
	if err := c.C.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, body := c.Response()
	checkBody(t, "1m.bin", resp, body)
	c.ExpectEOF() // our FIN was seen: after the answer, the server closes
}

func TestResetMidBody(t *testing.T) {
	h := startKeepAlive(t, nil)
	for range 20 {
		c := dial(t, h.Addr)
		c.Send(get("/16m.bin"))
		if _, err := io.ReadFull(c.Br, make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
		c.C.SetLinger(0) // close with RST, not FIN
		c.C.Close()
	}
	c := dial(t, h.Addr)
	c.Send(get("/1m.bin"))
	resp, body := c.Response()
	checkBody(t, "1m.bin", resp, body)
	eventually(t, "only the last client is open", func() bool { return h.Stats.Snapshot().Open == 1 })
	if s := h.Stats.Snapshot(); s.Errors == 0 {
		t.Errorf("20 resets counted no errors: %+v", s)
	}
}

func TestShutdownClosesIdleConnection(t *testing.T) {
	h := startKeepAlive(t, nil)
	c := dial(t, h.Addr)
	c.Send(get("/hello.txt"))
	c.Response()
	// The connection is idle now, the server asleep in read(2).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	begin := time.Now()
	if err := h.Srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v, want nil (nothing was in flight)", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("Shutdown took %v with only an idle connection open", d)
	}
	h.WaitServe()
	c.ExpectEOF()
	if got := h.Stats.Snapshot().Open; got != 0 {
		t.Errorf("%d connections still counted open", got)
	}
	goleak.VerifyNone(t)
}

func TestShutdownWaitsForResponseInFlight(t *testing.T) {
	h := start(t, nil)
	c := dial(t, h.Addr)
	c.Send(get("/16m.bin"))
	head := make([]byte, 1<<20) // the head and the first MiB: the response is under way
	if _, err := io.ReadFull(c.Br, head); err != nil {
		t.Fatal(err)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shut <- h.Srv.Shutdown(ctx)
	}()
	// No new clients: the listener goes first.
	eventually(t, "the listener is closed", func() bool {
		nc, err := net.Dial("tcp", h.Addr)
		if err == nil {
			nc.Close()
		}
		return err != nil
	})
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a response was still being sent", err)
	case <-time.After(300 * time.Millisecond):
	}
	rest, err := io.ReadAll(c.Br)
	if err != nil {
		t.Fatal(err)
	}
	full := append(head, rest...)
	body := full[len(full)-16<<20:]
	if w := want(t, "16m.bin"); string(body) != string(w) {
		t.Fatal("the response finished during shutdown is not the file")
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v, want nil", err)
	}
	h.WaitServe()
}

func TestShutdownDeadlineCutsOffSlowReader(t *testing.T) {
	h := start(t, nil)
	c := dial(t, h.Addr)
	c.Send(get("/16m.bin"))
	if _, err := io.ReadFull(c.Br, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	// The client now reads nothing: the server is asleep in sendfile(2).
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := h.Srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the context's deadline", err)
	}
	h.WaitServe()
	if s := h.Stats.Snapshot(); s.Open != 0 || s.InFlight != 0 {
		t.Errorf("after a forced shutdown: %d open, %d in flight", s.Open, s.InFlight)
	}
	goleak.VerifyNone(t)
}

func TestShutdownBeforeServe(t *testing.T) {
	site, err := servers.NewSite(siteDir, servers.SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	srv, err := New(servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatalf("Serve after Shutdown: %v, want nil", err)
	}
	if _, err := net.Dial("tcp", srv.Addr()); err == nil {
		t.Fatal("still listening after Shutdown")
	}
}

// TestSlowClientFreezesEveryone is the lesson of this model: with no
// timeouts, a client that sends half a request holds the only loop, and a
// second client is not even accepted until the first one is done.
func TestSlowClientFreezesEveryone(t *testing.T) {
	h := start(t, nil)
	slow := dial(t, h.Addr)
	slow.Send("GET /hello.txt HTTP/1.1\r\n") // and then nothing, for now
	eventually(t, "the slow client is accepted", func() bool { return h.Stats.Snapshot().Accepted == 1 })

	other := dial(t, h.Addr)
	other.Send(get("/1k.bin"))
	other.C.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := other.Br.Peek(1); !isTimeout(err) {
		t.Fatalf("the second client got an answer (%v) while the first held the server", err)
	}
	other.C.SetReadDeadline(time.Now().Add(30 * time.Second))

	slow.Send("Host: test\r\n\r\n") // the slow client finishes at last
	resp, body := slow.Response()
	checkBody(t, "hello.txt", resp, body)
	slow.C.Close() // and leaves: now the loop can get to the next client
	resp, body = other.Response()
	checkBody(t, "1k.bin", resp, body)
}

func TestHeaderTimeoutEndsSlowloris(t *testing.T) {
	const limit = 300 * time.Millisecond
	h := start(t, func(c *servers.Config) { c.HeaderTimeout = limit })
	begin := time.Now() // before the dial: the limit runs from accept
	c := dial(t, h.Addr)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		// A header line every 50 ms: each read succeeds, so only a
		// deadline on the whole head can stop it.
		io.WriteString(c.C, "GET /hello.txt HTTP/1.1\r\nHost: test\r\n")
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := io.WriteString(c.C, "X-Slow: yes\r\n"); err != nil {
				return
			}
		}
	}()
	resp, _ := c.Response()
	if resp.StatusCode != 408 {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	if d := time.Since(begin); d < limit*2/3 || d > 10*time.Second {
		t.Errorf("the 408 came after %v with a %v header timeout", d, limit)
	}
	c.ExpectEOF()
	if got := h.Stats.Snapshot().Timeouts; got != 1 {
		t.Errorf("timeouts counted: %d, want 1", got)
	}
	// And the server is free for the next client.
	c2 := dial(t, h.Addr)
	c2.Send(get("/1k.bin"))
	resp, body := c2.Response()
	checkBody(t, "1k.bin", resp, body)
}

func TestHeaderTimeoutEndsSilentConnection(t *testing.T) {
	h := start(t, func(c *servers.Config) { c.HeaderTimeout = 200 * time.Millisecond })
	c := dial(t, h.Addr) // connects, and never says a word
	c.ExpectEOF()
	if n := c.Br.Buffered(); n != 0 {
		t.Errorf("got %d bytes; a connection that sent nothing gets no 408", n)
	}
	if got := h.Stats.Snapshot().Timeouts; got != 1 {
		t.Errorf("timeouts counted: %d, want 1", got)
	}
}

func TestIdleTimeoutClosesKeepAlive(t *testing.T) {
	h := startKeepAlive(t, func(c *servers.Config) { c.IdleTimeout = 200 * time.Millisecond })
	c := dial(t, h.Addr)
	c.Send(get("/hello.txt"))
	resp, body := c.Response()
	checkBody(t, "hello.txt", resp, body)
	c.ExpectEOF()
	if got := h.Stats.Snapshot().Timeouts; got != 1 {
		t.Errorf("timeouts counted: %d, want 1", got)
	}
}

// TestWriteTimeoutFreesTheLoop: a client that asks for a big file and reads
// nothing holds the loop in sendfile(2) until SO_SNDTIMEO gives up on it.
func TestWriteTimeoutFreesTheLoop(t *testing.T) {
	for _, noSendfile := range []bool{false, true} {
		h := start(t, func(c *servers.Config) {
			c.WriteTimeout = 300 * time.Millisecond
			c.NoSendfile = noSendfile
		})
		stuck := dial(t, h.Addr)
		stuck.Send(get("/16m.bin")) // never read
		eventually(t, "the reader is accepted", func() bool { return h.Stats.Snapshot().Accepted == 1 })

		c := dial(t, h.Addr)
		c.Send(get("/1k.bin"))
		resp, body := c.Response()
		checkBody(t, "1k.bin", resp, body)
		if s := h.Stats.Snapshot(); s.Timeouts != 1 || s.Errors != 1 {
			t.Errorf("sendfile=%v: %d timeouts and %d errors, want 1 and 1", !noSendfile, s.Timeouts, s.Errors)
		}
	}
}

// TestOutOfDescriptorsDoesNotSpin lowers the process's descriptor limit
// below the descriptors already open, so that every accept(2) fails with
// EMFILE, and checks that the loop waits rather than spins, and recovers.
func TestOutOfDescriptorsDoesNotSpin(t *testing.T) {
	h := start(t, nil)
	c := dial(t, h.Addr)
	c.Send(get("/hello.txt"))
	c.Response()
	c.C.Close()
	eventually(t, "the loop is back in accept", func() bool { return h.Stats.Snapshot().Open == 0 })

	// Client sockets made now, connected once descriptors have run out.
	// (A blocked accept(2) has already reserved the descriptor it will
	// return, so the first of them is still accepted; the second is not.)
	first, second := rawSocket(t), rawSocket(t)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	low := old
	low.Cur = 3 // below stdin, stdout and stderr: no new descriptor at all
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
			restored = true
		}
	}
	defer restore()

	// The first asks to close, so that the loop goes straight back to
	// accept(2) after answering it, and finds no descriptor for the second.
	connectRaw(t, first, h.Addr, "GET /hello.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
	connectRaw(t, second, h.Addr, get("/hello.txt"))
	cpu := cpuTime(t)
	time.Sleep(time.Second)
	used := cpuTime(t) - cpu
	accepted := h.Stats.Snapshot().Accepted
	restore()

	if used > 300*time.Millisecond {
		t.Errorf("the process used %v of CPU in a second without descriptors: the accept loop spins", used)
	}
	if accepted != 2 {
		t.Errorf("accepted %d connections while out of descriptors, want 2 (the warm-up and the first)", accepted)
	}
	// The first was served while descriptors were short: from the
	// open-file cache (200), or, if its entry needed re-opening, with a 503
	// — either way answered, not dropped.
	if got := readRaw(t, first); !strings.HasPrefix(got, "HTTP/1.1 200 ") && !strings.HasPrefix(got, "HTTP/1.1 503 ") {
		t.Errorf("first client: %q, want a 200 or a 503", got)
	}
	if got := readRaw(t, second); !strings.HasPrefix(got, "HTTP/1.1 200 ") {
		t.Errorf("after descriptors came back: %q, want a 200", got)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
