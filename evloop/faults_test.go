package evloop

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/servers"
)

// A client that reads a 64 MiB file slowly forces the server through many
// partial writes (64 MiB is far more than the socket buffers hold); each
// must resume exactly where the last stopped, with sendfile and without.
func TestSlowReaderPartialWrites(t *testing.T) {
	dir := t.TempDir()
	const size = 64 << 20
	sum := writeBigFile(t, filepath.Join(dir, "big.bin"), size)
	for _, tc := range []struct {
		name       string
		noSendfile bool
		sendBuffer int
	}{
		{"sendfile", false, 0},
		{"nosendfile", true, 0},
		// A tiny send buffer: nearly every sendfile and write is partial.
		{"sendfile-tinysndbuf", false, 8 << 10},
		{"nosendfile-tinysndbuf", true, 8 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, serverOpts{root: dir, sendBuffer: tc.sendBuffer,
				cfg: func(c *servers.Config) { c.NoSendfile = tc.noSendfile }})
			c := dial(t, ts.Addr())
			c.(*net.TCPConn).SetReadBuffer(16 << 10) // a small window: the server fills it quickly
			io.WriteString(c, request("/big.bin"))
			br := bufio.NewReaderSize(c, 4<<10)
			resp, err := readHead(br)
			if err != nil || resp.StatusCode != 200 || resp.ContentLength != size {
				t.Fatalf("head: %v, %+v", err, resp)
			}
			// Slow for the first MiB (the server meets a full socket
			// again and again), then as fast as we can.
			h := sha256.New()
			chunk := make([]byte, 8<<10)
			for range 128 {
				n, err := io.ReadFull(br, chunk)
				h.Write(chunk[:n])
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond)
			}
			rest, err := io.Copy(h, io.LimitReader(br, size-128*8<<10))
			if err != nil || rest != size-128*8<<10 {
				t.Fatalf("copied %d: %v", rest, err)
			}
			var got [32]byte
			copy(got[:], h.Sum(nil))
			if got != sum {
				t.Fatal("sha256 of the body differs from the file's")
			}
		})
	}
}

// readHead reads a response head without its body (the caller reads it).
func readHead(br *bufio.Reader) (*resp, error) {
	r := &resp{ContentLength: -1}
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return nil, errors.New("bad status line " + line)
	}
	r.StatusCode, _ = strconv.Atoi(f[1])
	for {
		line, err = br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == "\r\n" {
			return r, nil
		}
		k, v, _ := strings.Cut(line, ":")
		if strings.EqualFold(k, "Content-Length") {
			r.ContentLength, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
}

type resp struct {
	StatusCode    int
	ContentLength int64
}

// A file truncated while it is being sent ends the connection (the client
// gets fewer bytes than promised, never wrong ones), counts an error, and
// leaves the server serving.
func TestFileShrinksMidSend(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
		noSend  bool
	}{
		{"sendfile", 0, false},
		{"pread", 0, true},
		{"pread-workers", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			const size = 32 << 20
			path := filepath.Join(dir, "shrink.bin")
			writeBigFile(t, path, size)
			if err := os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("still here\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			ts := startServer(t, serverOpts{root: dir, cfg: func(c *servers.Config) {
				c.NoSendfile = tc.noSend
			}, opt: Options{DiskWorkers: tc.workers}})
			c := dial(t, ts.Addr())
			c.(*net.TCPConn).SetReadBuffer(16 << 10)
			io.WriteString(c, request("/shrink.bin"))
			br := bufio.NewReader(c)
			if _, err := readHead(br); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(br, make([]byte, 1<<20)); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 2<<20); err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, br)
			if total := n + 1<<20; total >= size {
				t.Fatalf("got all %d bytes of a file truncated mid-send", total)
			}
			waitFor(t, "the aborted response to be counted", func() bool {
				s := ts.stats.Snapshot()
				return s.Errors == 1 && s.Open == 0 && s.InFlight == 0
			})
			c2 := dial(t, ts.Addr())
			io.WriteString(c2, request("/ok.txt"))
			r, body := readResponse(t, bufio.NewReader(c2), "GET")
			if r.StatusCode != 200 || string(body) != "still here\n" {
				t.Fatalf("after the truncation: status %d, body %q", r.StatusCode, body)
			}
		})
	}
}

// A request head that does not finish within HeaderTimeout is answered
// 408 and closed, even if the client keeps trickling bytes (slowloris).
func TestHeaderTimeout(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) { c.HeaderTimeout = 300 * time.Millisecond }})
	// The limit runs from accept, which comes after the client begins to
	// connect: the clock starts before the dial, or a client descheduled
	// between its connect and its clock would see the 408 "early".
	start := time.Now()
	c := dial(t, ts.Addr())
	c.(*net.TCPConn).SetNoDelay(true)
	stop := make(chan struct{})
	go func() {
		// One header byte every 50 ms: always some progress, never an end.
		io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	defer close(stop)
	br := bufio.NewReader(c)
	r, _ := readResponse(t, br, "GET")
	if r.StatusCode != 408 || !r.Close {
		t.Fatalf("status %d, close %v; want 408 and close", r.StatusCode, r.Close)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("408 after %v, before the 300ms limit", waited)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("connection still open after the 408")
	}
	if s := ts.stats.Snapshot(); s.Timeouts != 1 || s.Status4xx != 1 {
		t.Errorf("timeouts %d, 4xx %d; want 1 and 1", s.Timeouts, s.Status4xx)
	}
}

// A kept-alive connection that sends nothing for IdleTimeout is closed,
// without an answer; one that keeps sending requests is not.
func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) { c.IdleTimeout = 300 * time.Millisecond }})
	c := dial(t, ts.Addr())
	br := bufio.NewReader(c)
	// Requests spaced by less than the limit, for longer than the limit.
	// The idle clock starts when the server sends its last answer, which
	// is after the client sent its last request: that is the earliest
	// moment the test can measure from, however the scheduler delays it.
	var sent time.Time
	for range 8 {
		sent = time.Now()
		io.WriteString(c, request("/hello.txt"))
		if r, _ := readResponse(t, br, "GET"); r.StatusCode != 200 {
			t.Fatalf("status %d", r.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	n, err := br.Read(make([]byte, 1))
	if err != io.EOF {
		t.Fatalf("idle connection: read %d, %v; want EOF", n, err)
	}
	if waited := time.Since(sent); waited < 300*time.Millisecond {
		t.Fatalf("closed %v after the last request, before the limit", waited)
	}
	if s := ts.stats.Snapshot(); s.Timeouts != 1 || s.Requests != 8 {
		t.Errorf("timeouts %d, requests %d; want 1 and 8", s.Timeouts, s.Requests)
	}
}

// A client that connects and says nothing is a slow request, not an idle
// keep-alive connection (the rule of servers.Session.Deadline): it is
// closed HeaderTimeout after accept, without an answer, even though the
// idle limit is far longer.
func TestSilentNewConnection(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) {
		c.HeaderTimeout, c.IdleTimeout = 300*time.Millisecond, time.Hour
	}})
	start := time.Now() // before the dial: the limit runs from accept
	c := dial(t, ts.Addr())
	n, err := c.Read(make([]byte, 1))
	if err != io.EOF {
		t.Fatalf("silent connection: read %d, %v; want EOF and no answer", n, err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("closed after %v, before the 300ms limit", waited)
	}
	if s := ts.stats.Snapshot(); s.Timeouts != 1 || s.Requests != 0 {
		t.Errorf("timeouts %d, requests %d; want 1 and 0", s.Timeouts, s.Requests)
	}
}

// A client that stops reading its response is cut off after WriteTimeout.
func TestWriteTimeout(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) { c.WriteTimeout = 300 * time.Millisecond }})
	c := dial(t, ts.Addr())
	c.(*net.TCPConn).SetReadBuffer(16 << 10)
	io.WriteString(c, request("/16m.bin"))
	waitFor(t, "the stalled write to time out", func() bool {
		s := ts.stats.Snapshot()
		return s.Timeouts == 1 && s.Open == 0 && s.InFlight == 0
	})
	if s := ts.stats.Snapshot(); s.Errors != 1 {
		t.Errorf("errors %d, want 1 (the response was cut short)", s.Errors)
	}
}

// A client that pipelines requests for small files and stops reading is
// cut off by the write limit too, while the answers the loop gathered for
// one write (see hold) wait to go out — not by the far longer header and
// idle limits, although the Session counts those answers as sent. The
// batch ends with half a request, so that the answers go out by
// themselves (writingHeld), with no answer in progress.
func TestWriteTimeoutHeldAnswers(t *testing.T) {
	ts := startServer(t, serverOpts{sendBuffer: 4 << 10, cfg: func(c *servers.Config) {
		c.WriteTimeout, c.HeaderTimeout, c.IdleTimeout = 300*time.Millisecond, time.Hour, time.Hour
	}})
	// A receive buffer made small before the connection opens, so that
	// the window is small from the start: the 60 KiB of answers cannot
	// all be taken in.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<10) })
	}}
	c, err := d.Dial("tcp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, strings.Repeat(request("/1k.bin"), 48)+"GET /1k.bin HTTP/1.1\r\nHost:")
	waitFor(t, "the stalled held answers to time out", func() bool {
		s := ts.stats.Snapshot()
		return s.Timeouts == 1 && s.Open == 0
	})
	if s := ts.stats.Snapshot(); s.Errors != 1 || s.Requests < 2 {
		t.Errorf("errors %d, requests %d; want 1 error (the batch cut short) and several requests", s.Errors, s.Requests)
	}
}

// Past MaxConns, new connections are accepted and closed at once, and
// counted; when one closes, there is room again.
func TestMaxConns(t *testing.T) {
	ts := startServer(t, serverOpts{cfg: func(c *servers.Config) { c.MaxConns = 2 }})
	var held []net.Conn
	for range 2 {
		c := dial(t, ts.Addr())
		io.WriteString(c, request("/hello.txt"))
		readResponse(t, bufio.NewReader(c), "GET")
		held = append(held, c)
	}
	extra := dial(t, ts.Addr())
	io.WriteString(extra, request("/hello.txt"))
	if n, err := extra.Read(make([]byte, 100)); err == nil {
		t.Fatalf("third connection answered %d bytes, want closed", n)
	}
	if s := ts.stats.Snapshot(); s.Refused != 1 || s.Open != 2 {
		t.Fatalf("refused %d, open %d; want 1 and 2", s.Refused, s.Open)
	}
	held[0].Close()
	waitFor(t, "the closed connection to be counted", func() bool { return ts.stats.Snapshot().Open == 1 })
	c := dial(t, ts.Addr())
	io.WriteString(c, request("/hello.txt"))
	if r, _ := readResponse(t, bufio.NewReader(c), "GET"); r.StatusCode != 200 {
		t.Fatalf("after a slot freed: status %d", r.StatusCode)
	}
}

// A client that pipelines requests and never reads the answers is not read
// from once its answers back up: its writes stall, after a bounded amount.
func TestBackpressure(t *testing.T) {
	ts := startServer(t, serverOpts{})
	c := dial(t, ts.Addr())
	req := []byte(strings.Repeat(request("/64k.bin"), 256)) // 256 requests per write
	written := 0
	for {
		c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := c.Write(req)
		written += n
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			break // the server stopped reading: backpressure
		}
		if written > 64<<20 {
			t.Fatalf("wrote %d MiB of requests without the server pushing back", written>>20)
		}
	}
	// Everyone else is still served.
	c2 := dial(t, ts.Addr())
	io.WriteString(c2, request("/hello.txt"))
	if r, _ := readResponse(t, bufio.NewReader(c2), "GET"); r.StatusCode != 200 {
		t.Fatalf("other client: status %d", r.StatusCode)
	}
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	waitFor(t, "the stalled client to be closed", func() bool { return ts.stats.Snapshot().Open == 1 })
}

// With the process out of descriptors, the loop turns queued clients away
// with the spare-descriptor trick (or, without a spare, pauses accepting)
// instead of spinning, and serves again once descriptors are free.
func TestOutOfDescriptors(t *testing.T) {
	for _, withSpare := range []bool{true, false} {
		t.Run("spare="+strconv.FormatBool(withSpare), func(t *testing.T) {
			ts := startServer(t, serverOpts{noServe: true})
			if !withSpare {
				ts.loops[0].spare.Close()
			}
			// Clients queue in the listener's backlog before the loop
			// runs: no server descriptor is spent on them yet.
			const queued = 20
			var clients []net.Conn
			for range queued {
				clients = append(clients, dial(t, ts.Addr()))
			}
			release := exhaustDescriptors(t)
			// If the test fails half-way, the rest of the package
			// must not inherit an exhausted descriptor table.
			released := false
			t.Cleanup(func() {
				if !released {
					release()
				}
			})
			ts.start()

			if withSpare {
				// Every queued client is refused: closed at once.
				for i, c := range clients {
					c.SetReadDeadline(time.Now().Add(10 * time.Second))
					if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
						t.Fatalf("client %d: %v, want closed", i, err)
					}
				}
				if r := ts.stats.Snapshot().Refused; r != queued {
					t.Fatalf("refused %d, want %d", r, queued)
				}
			}
			// The loop must be asleep, not spinning on the listener.
			cpu := cpuTime(t)
			time.Sleep(500 * time.Millisecond)
			if used := cpuTime(t) - cpu; used > 200*time.Millisecond {
				t.Errorf("%v of CPU used in a quiet 500ms while out of descriptors", used)
			}
			release()
			released = true

			if !withSpare {
				// The queued clients waited, and are served now.
				for i, c := range clients {
					io.WriteString(c, request("/hello.txt"))
					c.SetReadDeadline(time.Now().Add(10 * time.Second))
					if r, _ := readResponse(t, bufio.NewReader(c), "GET"); r.StatusCode != 200 {
						t.Fatalf("queued client %d: status %d", i, r.StatusCode)
					}
				}
			}
			c := dial(t, ts.Addr())
			io.WriteString(c, request("/hello.txt"))
			if r, _ := readResponse(t, bufio.NewReader(c), "GET"); r.StatusCode != 200 {
				t.Fatalf("after recovery: status %d", r.StatusCode)
			}
		})
	}
}

// exhaustDescriptors lowers this process's descriptor limit and fills every
// free slot, and returns a function that undoes both.
func exhaustDescriptors(t *testing.T) (release func()) {
	t.Helper()
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = uint64(countFDs(t) + 64)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	var held []int
	for {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		held = append(held, fd)
	}
	return func() {
		for _, fd := range held {
			unix.Close(fd)
		}
		unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	}
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
