package robust

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// shutdownGrace is how long `serverlab serve` lets responses in flight
// finish after SIGTERM (serve.go).
const shutdownGrace = 5 * time.Second

// TestSIGTERMUnderLoad stops each model with SIGTERM while 20 clients
// fetch 1 MiB files in a loop and a slow client is part-way through 16 MiB.
// Every response that had begun must arrive whole, byte for byte; the
// process must exit 0, within the grace period, having cut nothing off.
// Requests that had not been answered yet may be lost: the server closes
// idle connections at once, and a request racing that close is the
// client's to retry.
func TestSIGTERMUnderLoad(t *testing.T) {
	t.Parallel()
	for _, v := range processModels {
		t.Run(v.name, func(t *testing.T) {
			// The idle and write limits are long: they count from the
			// last byte the server handed to the kernel, and a client
			// slowed by a loaded machine (the race detector, other
			// tests) can take seconds to read a 1 MiB answer. A limit
			// that fired then would be right, and look like a lost or
			// cut-off request; the limits have their own tests.
			args := append([]string{"-header-timeout", "2s", "-idle-timeout", "30s", "-write-timeout", "30s"}, v.args...)
			sigtermUnderLoad(t, v.name, startChild(t, childOpts{args: args}))
		})
	}
}

func sigtermUnderLoad(t *testing.T, name string, ch *child) {
	var (
		stopping atomic.Bool  // set just before SIGTERM
		answered atomic.Int64 // whole 1 MiB responses
		lost     atomic.Int64 // requests the shutdown closed unanswered
		wg       sync.WaitGroup
		failMu   sync.Mutex
		failures []string
	)
	fail := func(format string, args ...any) {
		failMu.Lock()
		defer failMu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	want1m, want16m := demoFile(t, "/1m.bin"), demoFile(t, "/16m.bin")

	for i := range 20 {
		wg.Go(func() {
			// At most 100 connections of 5 requests each: bounded,
			// whatever happens to the server.
			for conn := 0; conn < 100 && !stopping.Load(); conn++ {
				if !loadConn(ch.addr, want1m, &stopping, &answered, &lost, func(err error) { fail("client %d: %v", i, err) }) {
					return
				}
			}
		})
	}

	// The slow client reads 2 MiB, says it is ready, then takes the rest
	// 256 KiB at a time, 10 ms apart: well under a second's work in all,
	// but certain to be in flight when the signal comes.
	ready := make(chan struct{})
	slow := make(chan error, 1)
	go func() { slow <- slowDownload(ch.addr, want16m, ready) }()

	eventually(t, "the slow download to start", func() bool {
		select {
		case <-ready:
			return true
		case err := <-slow:
			t.Fatalf("slow download: %v", err)
		default:
		}
		return false
	})
	eventually(t, "20 answers under load", func() bool { return answered.Load() >= 20 })
	stopping.Store(true)
	sent := time.Now()
	if err := ch.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exitErr := ch.wait(t, 2*shutdownGrace)
	took := time.Since(sent)
	wg.Wait()
	slowErr := <-slow

	if exitErr != nil {
		t.Errorf("exit after SIGTERM: %v, want 0", exitErr)
	}
	if took > shutdownGrace {
		t.Errorf("exited %v after SIGTERM, beyond the %v grace", took, shutdownGrace)
	}
	if strings.Contains(ch.stderr.String(), "shutdown") {
		t.Errorf("the grace ran out; stderr:\n%s", ch.stderr)
	}
	if slowErr != nil {
		t.Errorf("the 16 MiB download in flight at SIGTERM: %v", slowErr)
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%s: exit %v after SIGTERM; %d whole 1 MiB answers, %d requests closed unanswered",
		name, took.Round(time.Millisecond), answered.Load(), lost.Load())
}

// loadConn sends up to 5 requests for /1m.bin on one connection, one after
// the other (fewer if the server says it closes), and checks each answer
// is whole. It reports whether the
// client should go on.
func loadConn(addr string, want []byte, stopping *atomic.Bool, answered, lost *atomic.Int64, fail func(error)) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		if !stopping.Load() {
			fail(fmt.Errorf("dial: %w", err))
		}
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(c, 64<<10)
	body := make([]byte, len(want))
	for range 5 {
		if stopping.Load() {
			return false
		}
		io.WriteString(c, "GET /1m.bin HTTP/1.1\r\nHost: robust\r\n\r\n")
		h, err := readHead(br)
		if err != nil {
			if stopping.Load() && ended(err) {
				lost.Add(1) // not begun when the server closed: allowed
				return false
			}
			fail(fmt.Errorf("response head: %w", err))
			return false
		}
		if h.status != 200 || h.length != int64(len(want)) {
			fail(fmt.Errorf("status %d, length %d", h.status, h.length))
			return false
		}
		if n, err := io.ReadFull(br, body); err != nil {
			fail(fmt.Errorf("a response begun was cut off after %d of %d bytes: %w", n, len(want), err))
			return false
		}
		if !bytes.Equal(body, want) {
			fail(fmt.Errorf("the body differs from /1m.bin"))
			return false
		}
		answered.Add(1)
		if h.close {
			return true // the server said it closes: go on, on a new connection
		}
	}
	return true
}

func slowDownload(addr string, want []byte, ready chan<- struct{}) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(c, "GET /16m.bin HTTP/1.1\r\nHost: robust\r\nConnection: close\r\n\r\n")
	br := bufio.NewReaderSize(c, 64<<10)
	h, err := readHead(br)
	if err != nil || h.status != 200 || h.length != int64(len(want)) {
		return fmt.Errorf("head %+v, %v", h, err)
	}
	got := make([]byte, len(want))
	const start, step = 2 << 20, 256 << 10
	if _, err := io.ReadFull(br, got[:start]); err != nil {
		return err
	}
	close(ready)
	for off := start; off < len(got); off += step {
		if n, err := io.ReadFull(br, got[off:min(off+step, len(got))]); err != nil {
			return fmt.Errorf("cut off after %d of %d bytes: %w", off+n, len(got), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("the body differs from /16m.bin")
	}
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		return fmt.Errorf("after the body: read %d, %v; want EOF", n, err)
	}
	return nil
}
