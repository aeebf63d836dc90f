package threaded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"serverlab/servers"
)

// startV starts the variant chosen, with edit's changes to the Config.
func startV(t *testing.T, osThreads bool, edit func(*servers.Config)) *harness {
	t.Helper()
	return startSite(t, osThreads, servers.SiteOptions{}, edit)
}

func TestGetExactBytes(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
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
				h := startSite(t, osThreads, tc.opt, tc.edit)
				for _, name := range []string{"1k.bin", "1m.bin", "hello.txt", "empty.txt"} {
					c := dial(t, h.Addr)
					c.Send(get("/" + name))
					resp, body := c.Response()
					checkBody(t, name, resp, body)
				}
				if got := h.Stats.Snapshot().Requests; got != 4 {
					t.Errorf("requests counted: %d, want 4", got)
				}
			})
		}
	})
}

func TestKeepAlive(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
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
	})
}

func TestPipelinedTenInOneWrite(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
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
	})
}

func TestHalfCloseStillAnswered(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
		c := dial(t, h.Addr)
		c.Send(get("/1m.bin"))
		if err := c.C.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		resp, body := c.Response()
		checkBody(t, "1m.bin", resp, body)
		c.ExpectEOF()
	})
}

func TestResetMidBody(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
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
		if s := h.Stats.Snapshot(); s.Errors == 0 || s.InFlight != 0 {
			t.Errorf("after 20 resets: %d errors (want some), %d in flight (want 0)", s.Errors, s.InFlight)
		}
	})
}

func TestFiftyConcurrentClients(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
		names := []string{"1k.bin", "64k.bin", "hello.txt", "1m.bin", "index.html"}
		wants := map[string][]byte{}
		for _, n := range names {
			wants[n] = want(t, n)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- fetchAll(h.Addr, names[i%len(names):], wants)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if s := h.Stats.Snapshot(); s.Accepted != 50 {
			t.Errorf("accepted %d, want 50", s.Accepted)
		}
	})
}

// fetchAll gets each file in turn on one keep-alive connection and checks
// its bytes. It runs on its own goroutine, so it returns errors instead of
// failing the test.
func fetchAll(addr string, names []string, wants map[string][]byte) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	c := &client{C: nc.(*net.TCPConn)}
	c.Br = newReader(nc)
	for _, n := range names {
		if _, err := io.WriteString(nc, get("/"+n)); err != nil {
			return err
		}
		resp, body, err := c.TryResponse()
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		if resp.StatusCode != 200 || !bytes.Equal(body, wants[n]) {
			return fmt.Errorf("%s: status %d, %d bytes, not the file", n, resp.StatusCode, len(body))
		}
	}
	return nil
}

// TestSlowClientHoldsOnlyItself is the cure for the blocking model's
// lesson: a client stuck half-way through its request does not stop
// anyone else being served.
func TestSlowClientHoldsOnlyItself(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
		slow := dial(t, h.Addr)
		slow.Send("GET /hello.txt HTTP/1.1\r\n")
		for range 5 {
			c := dial(t, h.Addr)
			c.Send(get("/1k.bin"))
			resp, body := c.Response()
			checkBody(t, "1k.bin", resp, body)
		}
		slow.Send("Host: test\r\n\r\n")
		resp, body := slow.Response()
		checkBody(t, "hello.txt", resp, body)
	})
}

func TestShutdownClosesIdleConnection(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
		var idle []*client
		for range 3 {
			c := dial(t, h.Addr)
			c.Send(get("/hello.txt"))
			c.Response()
			idle = append(idle, c)
		}
		fresh := dial(t, h.Addr) // connected, nothing sent yet
		eventually(t, "all four are accepted", func() bool { return h.Stats.Snapshot().Accepted == 4 })
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		begin := time.Now()
		if err := h.Srv.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v, want nil (nothing was in flight)", err)
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("Shutdown took %v with only idle connections open", d)
		}
		h.WaitServe()
		for _, c := range append(idle, fresh) {
			c.ExpectEOF()
		}
		if got := h.Stats.Snapshot().Open; got != 0 {
			t.Errorf("%d connections still counted open", got)
		}
		goleak.VerifyNone(t)
	})
}

func TestShutdownWaitsForResponseInFlight(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
		idle := dial(t, h.Addr)
		idle.Send(get("/hello.txt"))
		idle.Response()
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
		idle.ExpectEOF() // the idle one goes at once, while the other is still sending
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
		if body := full[len(full)-16<<20:]; !bytes.Equal(body, want(t, "16m.bin")) {
			t.Fatal("the response finished during shutdown is not the file")
		}
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v, want nil", err)
		}
		h.WaitServe()
	})
}

func TestShutdownDeadlineCutsOffSlowReader(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
		c := dial(t, h.Addr)
		c.Send(get("/16m.bin"))
		if _, err := io.ReadFull(c.Br, make([]byte, 1024)); err != nil {
			t.Fatal(err)
		}
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
	})
}

func TestHeaderTimeoutEndsSlowloris(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		const limit = 300 * time.Millisecond
		h := startV(t, osThreads, func(c *servers.Config) { c.HeaderTimeout = limit })
		begin := time.Now() // before the dial: the limit runs from accept
		c := dial(t, h.Addr)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
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
	})
}

func TestHeaderTimeoutEndsSilentConnection(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, func(c *servers.Config) { c.HeaderTimeout = 200 * time.Millisecond })
		c := dial(t, h.Addr)
		c.ExpectEOF()
		if n := c.Br.Buffered(); n != 0 {
			t.Errorf("got %d bytes; a connection that sent nothing gets no 408", n)
		}
		if got := h.Stats.Snapshot().Timeouts; got != 1 {
			t.Errorf("timeouts counted: %d, want 1", got)
		}
	})
}

func TestIdleTimeoutClosesKeepAlive(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, func(c *servers.Config) { c.IdleTimeout = 200 * time.Millisecond })
		c := dial(t, h.Addr)
		c.Send(get("/hello.txt"))
		resp, body := c.Response()
		checkBody(t, "hello.txt", resp, body)
		c.ExpectEOF()
		if got := h.Stats.Snapshot().Timeouts; got != 1 {
			t.Errorf("timeouts counted: %d, want 1", got)
		}
	})
}

func TestWriteTimeoutEndsNonReader(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		for _, noSendfile := range []bool{false, true} {
			h := startV(t, osThreads, func(c *servers.Config) {
				c.WriteTimeout = 300 * time.Millisecond
				c.NoSendfile = noSendfile
			})
			stuck := dial(t, h.Addr)
			stuck.Send(get("/16m.bin")) // never read
			eventually(t, "the non-reader is given up on", func() bool {
				s := h.Stats.Snapshot()
				return s.Timeouts == 1 && s.Open == 0
			})
			if s := h.Stats.Snapshot(); s.Errors != 1 || s.InFlight != 0 {
				t.Errorf("sendfile=%v: %d errors and %d in flight, want 1 and 0", !noSendfile, s.Errors, s.InFlight)
			}
		}
	})
}

func TestMaxConnsRefusesBeyondCap(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, func(c *servers.Config) { c.MaxConns = 3 })
		var held []*client
		for range 3 {
			c := dial(t, h.Addr)
			c.Send(get("/hello.txt"))
			c.Response() // served, so surely counted open
			held = append(held, c)
		}
		extra := dial(t, h.Addr)
		extra.Send(get("/hello.txt"))
		extra.ExpectEOF() // closed without an answer (EOF, or a reset)
		if n := extra.Br.Buffered(); n != 0 {
			t.Errorf("the refused client got %d bytes", n)
		}
		if s := h.Stats.Snapshot(); s.Refused != 1 || s.Accepted != 3 {
			t.Errorf("refused %d, accepted %d; want 1 and 3", s.Refused, s.Accepted)
		}
		held[0].C.Close()
		eventually(t, "a place frees up", func() bool { return h.Stats.Snapshot().Open == 2 })
		c := dial(t, h.Addr)
		c.Send(get("/1k.bin"))
		resp, body := c.Response()
		checkBody(t, "1k.bin", resp, body)
	})
}

func TestOSThreadsDefaultCap(t *testing.T) {
	site, err := servers.NewSite(siteDir, servers.SiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	s, err := newOSThreads(servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if s.conns.max != DefaultMaxOSThreads {
		t.Errorf("cap with MaxConns 0: %d, want %d", s.conns.max, DefaultMaxOSThreads)
	}
}

// TestOSThreadsHoldAThreadEach shows the price of the OS-thread variant:
// every open connection, even an idle one, holds an OS thread, and the
// thread goes when the connection does.
func TestOSThreadsHoldAThreadEach(t *testing.T) {
	h := startV(t, true, nil)
	const n = 20
	before := threads(t)
	var cs []*client
	for range n {
		c := dial(t, h.Addr)
		c.Send(get("/hello.txt"))
		c.Response()
		cs = append(cs, c)
	}
	// Not "before+n": idle threads left by earlier tests may be reused.
	// But n connections each asleep in read(2) on their own locked
	// thread, plus sysmon and at least one thread running Go code, is a
	// floor no reuse can lower.
	eventually(t, fmt.Sprintf("at least %d threads (was %d)", n+2, before), func() bool { return threads(t) >= n+2 })
	peak := threads(t)
	for _, c := range cs {
		c.C.Close()
	}
	eventually(t, fmt.Sprintf("threads fall from %d as connections close", peak), func() bool {
		return threads(t) <= peak-n/2
	})
}

// threads is this process's thread count, from /proc/self/status.
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads: line in /proc/self/status")
	return 0
}

// TestOutOfDescriptorsDoesNotSpin lowers the process's descriptor limit
// below the descriptors already open, so that every accept fails with
// EMFILE, and checks that the accept loop waits rather than spins, and
// serves the waiting client once descriptors come back.
func TestOutOfDescriptorsDoesNotSpin(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		h := startV(t, osThreads, nil)
		held := dial(t, h.Addr) // a connection it holds throughout, still served
		held.Send(get("/hello.txt"))
		held.Response()

		waiting := rawSocket(t)
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

		connectRaw(t, waiting, h.Addr, get("/hello.txt"))
		cpu := cpuTime(t)
		// The connections it has are still served: from the open-file
		// cache (200), or, if the entry needed re-opening, with a 503.
		held.Send(get("/hello.txt"))
		if resp, _ := held.Response(); resp.StatusCode != 200 && resp.StatusCode != 503 {
			t.Errorf("a held connection got %d, want 200 or 503", resp.StatusCode)
		}
		time.Sleep(time.Second)
		used := cpuTime(t) - cpu
		// A blocked accept(2) may have reserved its descriptor before the
		// limit fell, and then accepted the waiting client: at most one.
		accepted := h.Stats.Snapshot().Accepted
		restore()
		t.Logf("CPU used in a second without descriptors: %v", used)

		if used > 300*time.Millisecond {
			t.Errorf("the process used %v of CPU in a second without descriptors: the accept loop spins", used)
		}
		// The waiting client is served once descriptors come back (or,
		// if the OS-thread variant's accept got it early, during the
		// shortage, which may make it a 503).
		got := readRaw(t, waiting)
		if !strings.HasPrefix(got, "HTTP/1.1 200 ") && !(osThreads && strings.HasPrefix(got, "HTTP/1.1 503 ")) {
			t.Errorf("the client that waited out the shortage got %q, want a 200", got)
		}
		if !osThreads && accepted != 1 {
			t.Errorf("accepted %d while out of descriptors, want only the first", accepted)
		}
	})
}

func TestShutdownBeforeServe(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		site, err := servers.NewSite(siteDir, servers.SiteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer site.Close()
		srv, err := New(servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats()}, Options{OSThreads: osThreads})
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
	})
}

func TestNewFailsCleanly(t *testing.T) {
	forEachVariant(t, func(t *testing.T, osThreads bool) {
		site, err := servers.NewSite(siteDir, servers.SiteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer site.Close()
		srv, err := New(servers.Config{Addr: "not an address", Site: site, Stats: servers.NewStats()}, Options{OSThreads: osThreads})
		if err == nil || srv != nil {
			t.Fatalf("New with a bad address: %v, %v; want nil and an error", srv, err)
		}
	})
}
