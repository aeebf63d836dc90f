package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serverlabBin is the serverlab binary built once for the whole package, so
// that the tests start real models exactly as `serverlab bench` does.
var serverlabBin string

// buildErr is why the binary could not be built, reported by every test
// that needs it.
var buildErr error

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bench-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverlabBin = filepath.Join(dir, "serverlab")
	cmd := exec.Command("go", "build", "-o", serverlabBin, "serverlab")
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build serverlab: %v\n%s", err, out)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startModel starts a real model as a child process, stopped at the end of
// the test.
func startModel(t *testing.T, model string, args ...string) *Server {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	s, err := StartServer(context.Background(), ServerSpec{Model: model, Binary: serverlabBin, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(5 * time.Second) })
	return s
}

// testServer is a tiny HTTP/1.1 server written for the tests, so a test can
// make a server misbehave in exactly one way (stall once, send a short
// body, reset) and know precisely what a correct client must report.
type testServer struct {
	ln      net.Listener
	respond func(path string, w net.Conn) bool // false: close the connection
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
}

// newTestServer serves each request with respond until the test ends.
func newTestServer(t testing.TB, respond func(path string, w net.Conn) bool) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{ln: ln, respond: respond, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

func (s *testServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

// serve reads requests (up to the blank line; the tests send no bodies)
// and answers each with respond.
func (s *testServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 4096)
	for {
		i := bytes.Index(buf, []byte("\r\n\r\n"))
		if i < 0 {
			n, err := c.Read(tmp)
			if err != nil {
				return
			}
			buf = append(buf, tmp[:n]...)
			continue
		}
		line, _, _ := bytes.Cut(buf, []byte("\r\n"))
		fields := strings.Fields(string(line))
		path := "/"
		if len(fields) > 1 {
			path = fields[1]
		}
		buf = buf[:copy(buf, buf[i+4:])]
		if !s.respond(path, c) {
			return
		}
	}
}

func (s *testServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// okResponse is a correct keep-alive answer with a body of n bytes.
func okResponse(n int) []byte {
	return append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n", n)), make([]byte, n)...)
}

// fixed answers every request with the same bytes.
func fixed(resp []byte) func(string, net.Conn) bool {
	return func(_ string, c net.Conn) bool {
		_, err := c.Write(resp)
		return err == nil
	}
}

// runLoad runs mix on target for d and returns the summary and intervals.
func runLoad(t *testing.T, target Target, mix Mix, d time.Duration) (Summary, []Interval) {
	t.Helper()
	var mu sync.Mutex
	var ivs []Interval
	l, err := Start(target, mix, Options{
		Interval: 100 * time.Millisecond,
		OnInterval: func(iv Interval) {
			mu.Lock()
			ivs = append(ivs, iv)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	s := l.Stop()
	mu.Lock()
	defer mu.Unlock()
	return s, ivs
}

// unusedAddr is a loopback address nobody listens on: a port just freed.
func unusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// waitFor polls cond every 20 ms until it holds or the (generous) limit
// passes, and reports whether it held.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}
