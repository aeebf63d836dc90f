package evloop

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"serverlab/servers"
)

// The slow-disk lesson. Eight clients ask for a file at once, and each read
// of it takes 200 ms. A loop that reads files itself does them one after
// another — at least 8 x 200 ms, however fast the machine — while four disk
// workers overlap them.
func TestDiskWorkersOverlapSlowReads(t *testing.T) {
	const (
		delay   = 200 * time.Millisecond
		clients = 8
		serial  = clients * delay
	)
	elapsed := func(workers int) time.Duration {
		ts := startServer(t, serverOpts{delay: delay, opt: Options{DiskWorkers: workers}})
		want := demoFile(t, "1k.bin")
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		start := time.Now()
		for range clients {
			wg.Go(func() { errs <- oneClient(ts.Addr(), "1k.bin", want, 1) })
		}
		wg.Wait()
		took := time.Since(start)
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		return took
	}
	if took := elapsed(0); took < serial {
		t.Errorf("without workers: %v for %d slow reads; they cannot overlap, so at least %v", took, clients, serial)
	}
	if took := elapsed(4); took >= serial {
		t.Errorf("with 4 workers: %v, no better than reading one at a time (%v)", took, serial)
	}
}

// With two loops, the kernel spreads connections over both listening
// sockets (SO_REUSEPORT), and each loop serves the ones it accepted.
func TestLoopsShareConnections(t *testing.T) {
	ts := startServer(t, serverOpts{opt: Options{Loops: 2}})
	want := demoFile(t, "hello.txt")
	for range 64 {
		if err := oneClient(ts.Addr(), "hello.txt", want, 1); err != nil {
			t.Fatal(err)
		}
	}
	shutdownNow(t, ts)
	a, b := ts.loops[0].accepted, ts.loops[1].accepted
	if a+b != 64 || a == 0 || b == 0 {
		// The kernel hashes each connection's addresses; with 64
		// different client ports, one loop getting none has odds of
		// about 2 in 10^19.
		t.Errorf("loop 0 accepted %d, loop 1 %d; want both some, 64 in all", a, b)
	}
}

// poll(2) serves the same with many idle connections watched; each turn
// just costs more (that cost is what the dashboard's figure shows).
func TestPollManyIdle(t *testing.T) {
	ts := startServer(t, serverOpts{opt: Options{Poller: "poll"}})
	var idle []net.Conn
	for range 500 {
		idle = append(idle, dial(t, ts.Addr()))
	}
	waitFor(t, "500 connections to be accepted", func() bool { return ts.stats.Snapshot().Open == 500 })
	// Close some in the middle of the poll list: its entries move.
	for _, c := range idle[100:200] {
		c.Close()
	}
	waitFor(t, "100 closes to be seen", func() bool { return ts.stats.Snapshot().Open == 400 })
	for _, c := range idle[300:310] {
		io.WriteString(c, request("/hello.txt"))
		r, body := readResponse(t, bufio.NewReader(c), "GET")
		if r.StatusCode != 200 || !bytes.Equal(body, demoFile(t, "hello.txt")) {
			t.Fatalf("status %d, body %q", r.StatusCode, body)
		}
	}
}

// Every named state has its name: the dashboard and the lessons print them.
func TestStateNames(t *testing.T) {
	want := []string{"readingRequest", "openingFile", "fetchingFile", "writingHead", "writingBody", "writingHeld", "closing", "closed"}
	for s, name := range want {
		if got := state(s).String(); got != name {
			t.Errorf("state %d is %q, want %q", s, got, name)
		}
	}
}

// The keep-alive path allocates nothing per request, on each way of sending
// a body: from the small-file cache with the head, pread+writev with the
// head (small files, cache off), 64 KiB chunks (no sendfile), and sendfile.
// Allocations are counted by the runtime's own counter; the only other
// activity in this process is the test's client, which allocates nothing
// per request either once warm.
func TestKeepAliveZeroAllocs(t *testing.T) {
	for _, tc := range []struct {
		file                string
		noSendfile, noCache bool
		requests            int
	}{
		{"1k.bin", false, false, 1000},
		{"1k.bin", false, true, 1000},
		{"64k.bin", true, true, 1000},
		{"1m.bin", false, false, 200},
	} {
		t.Run(fmt.Sprintf("%s/nosendfile=%v/nocache=%v", tc.file, tc.noSendfile, tc.noCache), func(t *testing.T) {
			ts := startServer(t, serverOpts{noCache: tc.noCache, cfg: func(c *servers.Config) { c.NoSendfile = tc.noSendfile }})
			c := dial(t, ts.Addr())
			req := []byte(request("/" + tc.file))
			buf := make([]byte, keepAliveWarmUp(t, c, req, int64(len(demoFile(t, tc.file)))))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			for range tc.requests {
				if _, err := c.Write(req); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					t.Fatal(err)
				}
			}
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			allocs := after.Mallocs - before.Mallocs
			t.Logf("%d allocations in %d requests (%v)", allocs, tc.requests, took)
			// Not zero exactly: the open-file cache revalidates a file
			// once a second (a handful of allocations), and the runtime
			// allocates now and then. One per request would be hundreds.
			if budget := 20 + 10*uint64(took/time.Second+1); allocs > budget {
				t.Errorf("%d allocations for %d keep-alive requests, want about 0 (at most %d)",
					allocs, tc.requests, budget)
			}
		})
	}
}

// keepAliveWarmUp sends a few requests (filling the pools) and returns the
// length of a whole response with a body of size bytes, which stays the same
// from one response to the next (the Date header has a fixed width).
func keepAliveWarmUp(t testing.TB, c net.Conn, req []byte, size int64) int {
	br := bufio.NewReader(c)
	for range 10 {
		c.Write(req)
		resp, err := readHead(br)
		if err != nil {
			t.Fatal(err)
		}
		io.CopyN(io.Discard, br, resp.ContentLength)
	}
	c.Write(req)
	head := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		head += len(line)
		if line == "\r\n" {
			break
		}
	}
	if _, err := io.CopyN(io.Discard, br, size); err != nil || br.Buffered() != 0 {
		t.Fatalf("warm-up response: %v, %d bytes too many", err, br.Buffered())
	}
	return head + int(size)
}

// BenchmarkKeepAlive1k measures one request/response round trip on a kept-
// alive connection over loopback, client and server in one process. The
// allocs/req metric is the whole process's allocations per request; it
// should be 0 (run with -benchmem; B/op and allocs/op count the client
// only, as the server runs on its own goroutine).
func BenchmarkKeepAlive1k(b *testing.B) {
	site, err := servers.NewSite(demoRoot, servers.SiteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer site.Close()
	s, err := New(servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats()}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	defer func() {
		s.Shutdown(b.Context())
		<-served
	}()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte(request("/1k.bin"))
	buf := make([]byte, keepAliveWarmUp(b, c, req, 1<<10))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		c.Write(req)
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs/req")
}

// shutdownNow stops ts and collects Serve's result, so the test can look
// at the loops' own counters without racing them.
func shutdownNow(t *testing.T, ts *testServer) {
	t.Helper()
	if err := ts.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-ts.served; err != nil {
		t.Fatal(err)
	}
	ts.started = false
}
