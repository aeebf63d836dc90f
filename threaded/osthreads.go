package threaded

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"serverlab/blocking"
	"serverlab/internal/sock"
	"serverlab/servers"
)

// DefaultMaxOSThreads caps the OS-thread variant's connections when
// cfg.MaxConns is 0. Each connection holds a thread, and Go's runtime kills
// the whole process, not just the connection, when it needs more than
// 10,000 threads (runtime/debug.SetMaxThreads). Refusing the 2001st client
// keeps well away from that cliff, leaving room for the runtime's own
// threads, and still lets a class see hundreds of threads in /proc.
const DefaultMaxOSThreads = 2000

// osServer is the OS-thread-per-connection variant: Apache's worker model.
// Each connection gets a goroutine locked to its own OS thread, which runs
// the blocking model's per-connection loop with blocking system calls.
type osServer struct {
	cfg   servers.Config
	ln    *blocking.Listener
	conns *tracker
}

func newOSThreads(cfg servers.Config) (*osServer, error) {
	ln, err := blocking.Listen(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("threaded: %w", err)
	}
	max := cfg.MaxConns
	if max == 0 {
		max = DefaultMaxOSThreads
	}
	s := &osServer{cfg: cfg, ln: ln}
	s.conns = newTracker(&s.cfg, max)
	return s, nil
}

// Addr is the address listened on.
func (s *osServer) Addr() string { return s.ln.Addr() }

// Serve is lesson 00's second loop with real threads: accept in blocking
// mode, then start a thread to serve the connection.
func (s *osServer) Serve() error {
	if ok, err := s.conns.start(); !ok {
		return err
	}
	defer s.conns.served()
	for {
		began := s.cfg.Trace.Begin()
		fd, err := s.ln.Accept()
		s.cfg.Trace.Accepted("accept4", fd, err, began)
		if errors.Is(err, blocking.ErrListenerStopped) {
			return nil
		}
		if err != nil {
			s.conns.fail(s.ln.Stop)
			return err
		}
		if c, adm := s.conns.admit(s.cfg.Stats); adm == admitted {
			go s.handleConn(c, fd)
		} else {
			unix.Close(fd) // past the cap: refused at once
		}
	}
}

// handleConn is one connection's thread. LockOSThread wires this goroutine
// to the thread it runs on, and no other goroutine may run there; the
// blocking system calls inside Conn.ServeFd then hold that thread asleep in
// the kernel, exactly as a thread-per-connection server in C does.
//
// (Without the lock the runtime would still give each goroutine asleep in
// a system call a thread of its own; the lock makes it one thread per
// connection for the connection's whole life, not only while it waits.)
//
// We never unlock: a goroutine that ends locked takes its thread with it,
// so the process's thread count (Threads: in /proc/PID/status) rises and
// falls with its connections for all to see. The price is a thread created
// per connection; Apache keeps a pool of threads instead.
func (s *osServer) handleConn(c *blocking.Conn, fd int) {
	runtime.LockOSThread()
	sock.LimitUnsent(fd) // a large file is sent from this thread's core
	c.ServeFd(fd)
	s.conns.leave(c)
}

// Shutdown stops accepting, closes idle connections (shutdown(2) wakes their
// threads from read), lets the responses under way finish until ctx is
// done, then cuts off the rest.
func (s *osServer) Shutdown(ctx context.Context) error {
	return s.conns.shutdown(ctx, s.ln.Stop)
}
