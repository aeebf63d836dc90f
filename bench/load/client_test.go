package load

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"serverlab/bench/internal/benchtest"
)

func TestParseHead(t *testing.T) {
	tests := []struct {
		name   string
		head   string
		status int
		length int64
		close  bool
		kind   ErrorKind // ErrOther: no error expected
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n", 200, 1024, false, ErrOther},
		{"case-insensitive names", "HTTP/1.1 200 OK\r\ncontent-length:  7 \r\nCONNECTION: Close\r\n\r\n", 200, 7, true, ErrOther},
		{"connection list", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: foo, close\r\n\r\n", 200, 0, true, ErrOther},
		{"1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", 200, 3, true, ErrOther},
		{"1.0 keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n", 200, 3, false, ErrOther},
		{"304 has no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", 304, 0, false, ErrOther},
		{"body to EOF", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 200, -1, true, ErrOther},
		{"no length, keep-alive", "HTTP/1.1 200 OK\r\n\r\n", 200, -1, false, ErrBadResponse},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, 0, false, ErrBadResponse},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", 200, 0, false, ErrBadResponse},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 200, 0, false, ErrBadResponse},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", 0, 0, false, ErrBadResponse},
		{"bad status digits", "HTTP/1.1 2x0 OK\r\n\r\n", 0, 0, false, ErrBadResponse},
		{"no colon", "HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\n", 200, 0, false, ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := parseHead([]byte(tt.head))
			if tt.kind != ErrOther {
				if err == nil || classify(err) != tt.kind {
					t.Fatalf("err = %v, want kind %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.status || resp.Length != tt.length || resp.Close != tt.close || resp.HeadLen != len(tt.head) {
				t.Errorf("got %+v, want status %d length %d close %v", resp, tt.status, tt.length, tt.close)
			}
		})
	}
}

// TestConnErrors checks that each way an answer can be wrong is caught and
// sorted into the right kind, against a server that is wrong on purpose.
func TestConnErrors(t *testing.T) {
	body := benchtest.OKResponse(100)
	tests := []struct {
		name    string
		respond func(string, net.Conn) bool
		wantLen int64
		kind    ErrorKind
	}{
		{"bad status", benchtest.Fixed([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")), -1, ErrBadStatus},
		{"short body", func(_ string, c net.Conn) bool { c.Write(body[:len(body)-10]); return false }, -1, ErrShortBody},
		{"wrong length", benchtest.Fixed(benchtest.OKResponse(99)), 100, ErrBadResponse},
		{"bytes after body", benchtest.Fixed(append(benchtest.OKResponse(5), "junk"...)), -1, ErrBadResponse},
		{"closed before answering", func(string, net.Conn) bool { return false }, -1, ErrReset},
		{"closed mid-head", func(_ string, c net.Conn) bool { c.Write([]byte("HTTP/1.1 200 OK\r\nCont")); return false }, -1, ErrReset},
		{"reset", func(_ string, c net.Conn) bool { c.(*net.TCPConn).SetLinger(0); return false }, -1, ErrReset},
		{"no answer", func(string, net.Conn) bool { time.Sleep(time.Second); return false }, -1, ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := benchtest.NewServer(t, tt.respond)
			c := &conn{Timeout: 300 * time.Millisecond}
			if err := c.Dial(context.Background(), srv.Addr()); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			req := newRequest(srv.Addr(), "/x", false)
			req.WantLen = tt.wantLen
			_, _, err := c.Do(req)
			if err == nil || classify(err) != tt.kind {
				t.Fatalf("err = %v (kind %v), want kind %v", err, classify(err), tt.kind)
			}
		})
	}
}

func TestConnRefused(t *testing.T) {
	addr := benchtest.UnusedAddr(t)
	var c conn
	err := c.Dial(context.Background(), addr)
	if classify(err) != ErrRefused {
		t.Fatalf("err = %v, want refused", err)
	}
}

// TestConnKeepAlive checks the byte accounting over several requests on one
// connection, including an answer that arrives a byte at a time.
func TestConnKeepAlive(t *testing.T) {
	resp := benchtest.OKResponse(3000)
	srv := benchtest.NewServer(t, func(path string, c net.Conn) bool {
		if path == "/dribble" {
			for i := range resp {
				if _, err := c.Write(resp[i : i+1]); err != nil {
					return false
				}
			}
			return true
		}
		_, err := c.Write(resp)
		return err == nil
	})
	var gauge atomic.Int64
	c := &conn{Timeout: 2 * time.Second, Gauge: &gauge}
	if err := c.Dial(context.Background(), srv.Addr()); err != nil {
		t.Fatal(err)
	}
	if gauge.Load() != 1 {
		t.Errorf("gauge = %d after dial, want 1", gauge.Load())
	}
	for _, path := range []string{"/a", "/dribble", "/b"} {
		r, n, err := c.Do(newRequest(srv.Addr(), path, false))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if n != int64(len(resp)) || r.Length != 3000 || r.Close {
			t.Fatalf("%s: %d bytes, %+v; want %d bytes", path, n, r, len(resp))
		}
	}
	c.Close()
	c.Close()
	if gauge.Load() != 0 {
		t.Errorf("gauge = %d after close, want 0", gauge.Load())
	}
}

// TestConnStopsOnCancel checks that cancelling the context unblocks a
// client stuck in a read, which is how a Load stops its clients.
func TestConnStopsOnCancel(t *testing.T) {
	release := make(chan struct{})
	srv := benchtest.NewServer(t, func(string, net.Conn) bool { <-release; return false })
	t.Cleanup(func() { close(release) }) // runs before the server's own cleanup
	ctx, cancel := context.WithCancel(context.Background())
	var c conn
	if err := c.Dial(ctx, srv.Addr()); err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	_, _, err := c.Do(newRequest(srv.Addr(), "/", false))
	if err == nil {
		t.Fatal("Do succeeded on a server that never answers")
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("Do took %v after cancel; the socket was not closed under it", time.Since(start))
	}
	c.Close()
}

func TestNewRequest(t *testing.T) {
	got := string(newRequest("127.0.0.1:8080", "/1k.bin", true).Bytes())
	want := "GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: serverlab-bench\r\nConnection: close\r\n\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.Contains(string(newRequest("h", "/", false).Bytes()), "Connection") {
		t.Error("keep-alive request should not send Connection")
	}
}

// BenchmarkDo is the hot path of every timed client: one request and one
// small answer on a keep-alive loopback connection. allocs/op must be 0.
// The server is a bare loop (one read, one write per request) so that the
// figures are the client's, not a test server's.
func BenchmarkDo(b *testing.B) {
	resp := benchtest.OKResponse(1024)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		sc, err := ln.Accept()
		if err != nil {
			return
		}
		defer sc.Close()
		buf := make([]byte, 4096)
		for {
			// Each request arrives whole in one segment: the client
			// sends it with one write and waits for the answer.
			if _, err := sc.Read(buf); err != nil {
				return
			}
			if _, err := sc.Write(resp); err != nil {
				return
			}
		}
	}()
	addr := ln.Addr().String()
	c := &conn{Timeout: 5 * time.Second}
	if err := c.Dial(context.Background(), addr); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := newRequest(addr, "/1k.bin", false)
	req.WantLen = 1024
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		if _, _, err := c.Do(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseHead is the client's share of the work per answer.
func BenchmarkParseHead(b *testing.B) {
	head := []byte("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nContent-Type: application/octet-stream\r\n" +
		"Date: Mon, 01 Jan 2025 00:00:00 GMT\r\nLast-Modified: Mon, 01 Jan 2025 00:00:00 GMT\r\nServer: serverlab\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseHead(head); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecord is the meter's cost per answer, from many goroutines.
func BenchmarkRecord(b *testing.B) {
	m := newMeter()
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.record(now, now, now.Add(37*time.Microsecond), 1200)
		}
	})
}
