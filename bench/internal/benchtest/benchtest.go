// Package benchtest is what the bench packages' tests share: the serverlab
// binary, built once per test binary so that tests start real models
// exactly as `serverlab bench` does, and a tiny HTTP/1.1 server that
// misbehaves in exactly the way a test asks, so that the test knows what a
// correct client must report. It is imported only by _test.go files.
package benchtest

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

	"serverlab/bench/proc"
)

// binary is the serverlab binary Main built, and buildErr why it could not
// be built: set once by Main before any test runs, read-only after.
var binary string
var buildErr error

// Main is a test package's TestMain: it builds serverlab into a temporary
// folder, runs the tests and removes the folder. A failed build fails only
// the tests that need the binary (they call Binary), with the compiler's
// message.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "bench-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "serverlab")
	cmd := exec.Command("go", "build", "-o", binary, "serverlab")
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build serverlab: %v\n%s", err, out)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Binary is the path of the serverlab binary Main built.
func Binary(t testing.TB) string {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if binary == "" {
		t.Fatal("benchtest.Binary without benchtest.Main in TestMain")
	}
	return binary
}

// StartModel starts a real model as a child process, stopped at the end of
// the test.
func StartModel(t *testing.T, model string, args ...string) *proc.Server {
	t.Helper()
	s, err := proc.Start(context.Background(), proc.Spec{Model: model, Binary: Binary(t), Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(5 * time.Second) })
	return s
}

// Server is a tiny HTTP/1.1 server written for the tests, so a test can
// make a server misbehave in exactly one way (stall once, send a short
// body, reset) and know precisely what a correct client must report.
type Server struct {
	ln      net.Listener
	respond func(path string, w net.Conn) bool // false: close the connection
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
}

// NewServer serves each request with respond until the test ends.
func NewServer(t testing.TB, respond func(path string, w net.Conn) bool) *Server {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, respond: respond, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.close)
	return s
}

// Addr is where the server listens, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.ln.Addr().String() }

func (s *Server) accept() {
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
func (s *Server) serve(c net.Conn) {
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

func (s *Server) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// OKResponse is a correct keep-alive answer with a body of n bytes.
func OKResponse(n int) []byte {
	return append([]byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n", n)), make([]byte, n)...)
}

// Fixed answers every request with the same bytes.
func Fixed(resp []byte) func(string, net.Conn) bool {
	return func(_ string, c net.Conn) bool {
		_, err := c.Write(resp)
		return err == nil
	}
}

// UnusedAddr is a loopback address nobody listens on: a port just freed.
func UnusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// WaitFor polls cond every 20 ms until it holds or the (generous) limit
// passes, and reports whether it held.
func WaitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}
