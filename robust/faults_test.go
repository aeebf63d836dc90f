package robust

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"serverlab/servers"
)

// quick are the limits most faults run under: short, so that a fault the
// server must time out costs a fraction of a second. A row that must show
// which limit ended a connection sets the others to a minute, so that only
// the right one can act within the test's patience.
var quick = servers.Limits{
	HeaderTimeout: 300 * time.Millisecond,
	IdleTimeout:   300 * time.Millisecond,
	WriteTimeout:  300 * time.Millisecond,
}

func limits(header, idle, write time.Duration) servers.Limits {
	return servers.Limits{HeaderTimeout: header, IdleTimeout: idle, WriteTimeout: write}
}

// clientFault is one thing a client can do wrong, and what the server must
// do about it. run drives the client and checks the server's answer; the
// table's runner then checks that the server goes on serving and is back
// at rest, with nothing leaked.
type clientFault struct {
	name   string
	limits servers.Limits
	warm   []string // files the fault requests, opened before the rest state is taken
	run    func(t *testing.T, ts *testServer)
}

var clientFaults = []clientFault{
	{"reset mid-response", limits(quick.HeaderTimeout, quick.IdleTimeout, time.Minute), []string{"/16m.bin"}, resetMidResponse},
	{"reset mid-request", limits(time.Minute, time.Minute, time.Minute), nil, resetMidRequest},
	{"half-close after requests", quick, []string{"/16m.bin"}, halfCloseAfterRequests},
	{"silent after part of a head", limits(quick.HeaderTimeout, time.Minute, quick.WriteTimeout), nil, silentAfterPartialHead},
	{"head trickled a byte at a time", limits(quick.HeaderTimeout, time.Minute, quick.WriteTimeout), nil, trickledHead},
	{"silent on a kept-alive connection", limits(time.Minute, quick.IdleTimeout, quick.WriteTimeout), nil, silentKeptAlive},
	{"connects and says nothing", limits(quick.HeaderTimeout, time.Minute, quick.WriteTimeout), nil, connectsSilently},
	{"never reads a 16 MiB body", quick, []string{"/16m.bin"}, neverReads},
	{"pipelines 50 MiB without reading", limits(time.Minute, time.Minute, time.Minute), []string{"/1m.bin"}, pipelinesWithoutReading},
}

// TestClientFaults runs every client fault against every model.
func TestClientFaults(t *testing.T) {
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			for _, f := range clientFaults {
				t.Run(f.name, func(t *testing.T) {
					ts := startServer(t, m, serverOpts{limits: f.limits, warm: f.warm})
					f.run(t, ts)
					ts.get(t, "/hello.txt")
					ts.settled(t)
				})
			}
		})
	}
}

const (
	get16m    = "GET /16m.bin HTTP/1.1\r\nHost: robust\r\n\r\n"
	getHello  = "GET /hello.txt HTTP/1.1\r\nHost: robust\r\n\r\n"
	size16m   = 16 << 20
	pipelined = "GET /1m.bin HTTP/1.1\r\nHost: robust\r\n\r\n"
)

// resetMidResponse: the client takes part of a 16 MiB body, then closes
// with SO_LINGER 0, which sends a reset instead of a FIN. The server's next
// write fails (EPIPE or ECONNRESET, never a SIGPIPE death); the response is
// counted as an error, not a timeout: the reset, not the minute-long write
// limit, is what ended it.
func resetMidResponse(t *testing.T, ts *testServer) {
	c := ts.dial(t)
	c.SetReadBuffer(64 << 10) // the server cannot push the whole body into our buffers
	io.WriteString(c, get16m)
	br := bufio.NewReader(c)
	if h, err := readHead(br); err != nil || h.status != 200 || h.length != size16m {
		t.Fatalf("head: %+v, %v", h, err)
	}
	if _, err := io.ReadFull(br, make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	c.SetLinger(0)
	c.Close()
	eventually(t, "the server to close the reset connection", func() bool { return ts.snap().Open == 0 })
	if s := ts.snap(); s.Errors != 1 || s.Timeouts != 0 {
		t.Errorf("errors %d, timeouts %d; want 1 and 0", s.Errors, s.Timeouts)
	}
}

// resetMidRequest: the client sends half a request head and resets. The
// server, waiting for the rest under a minute-long header limit, must
// notice the reset itself.
func resetMidRequest(t *testing.T, ts *testServer) {
	c := ts.dial(t)
	io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: rob")
	eventually(t, "the server to accept", func() bool { return ts.snap().Accepted == 1 })
	c.SetLinger(0)
	c.Close()
	eventually(t, "the server to close the reset connection", func() bool { return ts.snap().Open == 0 })
	if s := ts.snap(); s.Timeouts != 0 || s.Requests != 0 {
		t.Errorf("timeouts %d, requests %d; want 0 and 0 (the half head is no request)", s.Timeouts, s.Requests)
	}
}

// halfCloseAfterRequests: the client pipelines two requests and shuts down
// its sending side, as `curl` or a proxy may. End of input is not the end
// of the conversation: both answers must arrive in full, then the FIN.
func halfCloseAfterRequests(t *testing.T, ts *testServer) {
	ts.model.keepsAlive(t)
	c := ts.dial(t)
	io.WriteString(c, get16m+getHello)
	c.CloseWrite()
	br := bufio.NewReader(c)
	for _, path := range []string{"/16m.bin", "/hello.txt"} {
		h, body, err := readFull(br)
		if err != nil || h.status != 200 || !bytes.Equal(body, demoFile(t, path)) {
			t.Fatalf("%s after a half-close: status %d, %d bytes, %v", path, h.status, len(body), err)
		}
	}
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after both answers: read %d, %v; want EOF", n, err)
	}
}

// silentAfterPartialHead: the client sends part of a head and then
// nothing, neither bytes nor a FIN, as a client that lost its network
// does. The header limit must reclaim the connection with a 408 (RFC 9110
// §15.5.9), however long the idle limit.
func silentAfterPartialHead(t *testing.T, ts *testServer) {
	start := time.Now()
	c := ts.dial(t)
	io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: robust\r\n")
	expect408(t, ts, c, start)
}

// trickledHead is slowloris: a head that never ends, a byte every 20 ms.
// Each byte is progress, but the header limit runs from the head's first
// byte, so the trickle buys no time.
func trickledHead(t *testing.T, ts *testServer) {
	start := time.Now()
	c := ts.dial(t)
	c.SetNoDelay(true)
	io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: robust\r\nX-Slow: ")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	})
	defer wg.Wait()
	defer close(stop)
	expect408(t, ts, c, start)
}

// expect408 reads the answer to a head that did not arrive in time: a 408
// that closes the connection, no sooner than the limit, counted once.
func expect408(t *testing.T, ts *testServer, c io.Reader, start time.Time) {
	t.Helper()
	br := bufio.NewReader(c)
	h, _, err := readFull(br)
	if err != nil || h.status != 408 || !h.close {
		t.Fatalf("got status %d, close %v, %v; want a 408 that closes", h.status, h.close, err)
	}
	if waited := time.Since(start); waited < quick.HeaderTimeout {
		t.Errorf("408 after %v, before the %v limit", waited, quick.HeaderTimeout)
	}
	if n, err := br.Read(make([]byte, 1)); !ended(err) {
		t.Fatalf("after the 408: read %d, %v; want the connection closed", n, err)
	}
	if s := ts.snap(); s.Timeouts != 1 || s.Status4xx != 1 {
		t.Errorf("timeouts %d, 4xx %d; want 1 and 1", s.Timeouts, s.Status4xx)
	}
}

// silentKeptAlive: after an answer, the client keeps the connection and
// says nothing more. The idle limit closes it, without a word: there is no
// request to answer.
func silentKeptAlive(t *testing.T, ts *testServer) {
	ts.model.keepsAlive(t)
	c := ts.dial(t)
	io.WriteString(c, getHello)
	br := bufio.NewReader(c)
	if h, _, err := readFull(br); err != nil || h.status != 200 {
		t.Fatalf("status %d, %v", h.status, err)
	}
	expectSilentClose(t, ts, br)
}

// connectsSilently: a client that connects and never sends a byte. The
// models' shared rule (servers.Session.Deadline) counts it as a slow
// request whose head began at accept, not as an idle keep-alive
// connection, so the header limit reclaims it, however long the idle one.
func connectsSilently(t *testing.T, ts *testServer) {
	expectSilentClose(t, ts, bufio.NewReader(ts.dial(t)))
}

func expectSilentClose(t *testing.T, ts *testServer, br *bufio.Reader) {
	t.Helper()
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read %d, %v; want the connection closed without an answer", n, err)
	}
	if s := ts.snap(); s.Timeouts != 1 {
		t.Errorf("timeouts %d, want 1", s.Timeouts)
	}
}

// neverReads: the client asks for 16 MiB and reads none of it. The write
// limit must end the response (counted as a timeout and as an error: it
// was cut short), and the client then finds fewer bytes than promised and
// a closed connection, never a hang.
func neverReads(t *testing.T, ts *testServer) {
	c := ts.dial(t)
	c.SetReadBuffer(16 << 10)
	io.WriteString(c, get16m)
	eventually(t, "the response to start", func() bool { return ts.snap().InFlight == 1 })

	other := ts.dial(t)
	io.WriteString(other, getHello)
	h, _, err := readFull(bufio.NewReader(other))
	if err != nil || h.status != 200 {
		t.Fatalf("another client: status %d, %v", h.status, err)
	}
	if ts.model.blocking {
		// The blocking model is frozen while the client that never reads
		// holds its only thread, by design: the other client waited in
		// the backlog and can only have been answered after the write
		// limit cut the stalled response off. That is the lesson, and
		// the write limit is what makes it recoverable.
		if s := ts.snap(); s.Timeouts != 1 {
			t.Errorf("blocking answered another client while frozen (timeouts %d)", s.Timeouts)
		}
	}
	other.Close()
	eventually(t, "the write limit to end the stalled response", func() bool {
		s := ts.snap()
		return s.Timeouts == 1 && s.Open == 0 && s.InFlight == 0
	})
	if s := ts.snap(); s.Errors != 1 {
		t.Errorf("errors %d, want 1 (the response was cut short)", s.Errors)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	if h, err := readHead(br); err != nil || h.length != size16m {
		t.Fatalf("head of the stalled response: %+v, %v", h, err)
	}
	n, err := io.Copy(io.Discard, br)
	if n >= size16m || (err != nil && !ended(err)) {
		t.Fatalf("stalled client read %d of %d bytes, then %v; want fewer and a closed connection", n, size16m, err)
	}
}

// pipelinesWithoutReading: the client writes 50 MiB of pipelined requests
// for a 1 MiB file and reads nothing: a million mebibytes of answers owed.
// A server that kept reading would have to buffer either the requests or
// the answers. Instead it must stop reading from this client while its
// output is stuck (backpressure), so that the client's writes block once
// the kernel's socket buffers are full, and the server's memory stays
// small. The limits are a minute here, so that the writes block rather
// than fail: with a short header limit, a request cut in two by the
// client's writes could meet it whenever a loaded scheduler held the
// client back between the two halves.
func pipelinesWithoutReading(t *testing.T, ts *testServer) {
	ts.model.keepsAlive(t)
	c := ts.dial(t)
	chunk := bytes.Repeat([]byte(pipelined), (64<<10)/len(pipelined))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	written, blocked := 0, false
	for written < 50<<20 && !blocked {
		c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Write(chunk)
		written += n
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("after %d bytes of requests: %v", written, err)
			}
			blocked = true
		}
	}
	if !blocked {
		t.Fatalf("wrote 50 MiB of requests without blocking: the server reads all it is sent")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	owed := int64(written/len(pipelined)) << 20
	grew := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("%s: writes blocked after %.1f MiB of requests (%.0f GiB of answers owed); heap in use grew %d KiB; %d answers begun",
		ts.model.name, float64(written)/(1<<20), float64(owed)/(1<<30), grew>>10, ts.snap().Requests)
	if grew > 16<<20 {
		t.Errorf("heap in use grew %d MiB while the client read nothing", grew>>20)
	}
	if !ts.model.blocking {
		// Everyone else is still served. (Not in the blocking model:
		// this client holds its only thread until it goes away; with no
		// write limit that is for ever, which is the lesson.)
		ts.get(t, "/hello.txt")
	}
	c.SetLinger(0)
	c.Close()
	eventually(t, "the server to close the reset connection", func() bool { return ts.snap().Open == 0 })
}
