package evloop

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"serverlab/demosite"
	"serverlab/servers"
)

// Shutdown with only idle connections closes them at once and returns
// without waiting for its context: nothing was in flight.
func TestShutdownIdle(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			ts := startServer(t, serverOpts{delay: v.delay, cfg: v.cfg, opt: v.opt, sendBuffer: v.sendBuffer})
			var idle []net.Conn
			for range 10 {
				c := dial(t, ts.Addr())
				io.WriteString(c, request("/hello.txt"))
				readResponse(t, bufio.NewReader(c), "GET")
				idle = append(idle, c)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := ts.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if err := <-ts.served; err != nil {
				t.Fatalf("Serve: %v", err)
			}
			ts.started = false // already collected
			for i, c := range idle {
				if _, err := c.Read(make([]byte, 1)); err != io.EOF {
					t.Fatalf("idle conn %d: %v, want EOF", i, err)
				}
			}
			if _, err := net.Dial("tcp", ts.Addr()); err == nil {
				t.Fatal("a new connection was accepted after Shutdown")
			}
		})
	}
}

// Shutdown lets a response in flight finish (the client gets every byte),
// closes the idle connections meanwhile, refuses new ones, and returns nil
// once the response is done.
func TestShutdownWaitsForInFlight(t *testing.T) {
	for _, noSendfile := range []bool{false, true} {
		ts := startServer(t, serverOpts{cfg: func(c *servers.Config) { c.NoSendfile = noSendfile }})
		idle := dial(t, ts.Addr())
		busy := dial(t, ts.Addr())
		busy.(*net.TCPConn).SetReadBuffer(16 << 10)
		io.WriteString(busy, request("/16m.bin"))
		br := bufio.NewReader(busy)
		if r, err := readHead(br); err != nil || r.StatusCode != 200 {
			t.Fatalf("head: %v %+v", err, r)
		}
		h := sha256.New()
		if _, err := io.CopyN(h, br, 1<<20); err != nil {
			t.Fatal(err)
		}

		returned := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			returned <- ts.Shutdown(ctx)
		}()
		if _, err := idle.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("idle connection during shutdown: %v, want EOF", err)
		}
		if _, err := net.Dial("tcp", ts.Addr()); err == nil {
			t.Fatal("a new connection was accepted while draining")
		}
		select {
		case err := <-returned:
			t.Fatalf("Shutdown returned (%v) with 15 MiB still unsent", err)
		default:
		}

		if _, err := io.Copy(h, br); err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(demosite.Bytes("16m.bin", 16<<20))
		if [32]byte(h.Sum(nil)) != want {
			t.Fatal("the response finished during shutdown has the wrong bytes")
		}
		if err := <-returned; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if err := <-ts.served; err != nil {
			t.Fatalf("Serve: %v", err)
		}
		ts.started = false
		if s := ts.stats.Snapshot(); s.Errors != 0 || s.Open != 0 {
			t.Errorf("errors %d, open %d after a clean drain", s.Errors, s.Open)
		}
	}
}

// When Shutdown's context ends first, the connections still busy are
// closed, Shutdown returns the context's error and Serve returns nil.
func TestShutdownDeadline(t *testing.T) {
	ts := startServer(t, serverOpts{})
	stuck := dial(t, ts.Addr())
	stuck.(*net.TCPConn).SetReadBuffer(16 << 10)
	io.WriteString(stuck, request("/16m.bin")) // and never read
	waitFor(t, "the response to start", func() bool { return ts.stats.Snapshot().InFlight == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
	}
	if err := <-ts.served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	ts.started = false
	if s := ts.stats.Snapshot(); s.Open != 0 || s.Errors != 1 {
		t.Errorf("open %d, errors %d; want 0 and 1", s.Open, s.Errors)
	}
	stuck.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, stuck)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("stuck client: %v, want the connection closed", err)
	}
	if n >= 16<<20 {
		t.Fatalf("stuck client got all %d bytes", n)
	}
}

// Shutdown before Serve releases the listener, and Serve then returns nil.
func TestShutdownBeforeServe(t *testing.T) {
	ts := startServer(t, serverOpts{noServe: true})
	if err := ts.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := ts.Serve(); err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", ts.Addr()); err == nil {
		t.Fatal("still listening after Shutdown")
	}
}
