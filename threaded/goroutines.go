package threaded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"serverlab/servers"
)

// Accept's pause when the process runs out of descriptors: 5 ms doubling to
// 1 s, as net/http's Server.Serve does. Retrying at once would spin: the
// connection that cannot be accepted stays in the backlog, and accept fails
// again immediately. The waiting clients are served once descriptors free up.
const (
	firstPause = 5 * time.Millisecond
	maxPause   = time.Second
)

// copyChunk is the pread+write buffer size; see writeBody.
const copyChunk = 64 << 10

// goServer is the goroutine-per-connection variant.
type goServer struct {
	cfg   servers.Config
	ln    *net.TCPListener
	conns *tracker
	stop  chan struct{} // closed by Shutdown, to cut short an accept pause

	// Pools, so that connections reuse what closed ones leave behind. A
	// session (with its 32 KiB input buffer) lives as long as its
	// connection; a copy buffer only while a body is being copied, so
	// idle keep-alive connections hold none.
	sessions sync.Pool // *servers.Session
	bufs     sync.Pool // *[]byte, copyChunk long
}

func newGoroutines(cfg servers.Config) (*goServer, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("threaded: %w", err)
	}
	s := &goServer{cfg: cfg, ln: ln.(*net.TCPListener), conns: newTracker(cfg.MaxConns), stop: make(chan struct{})}
	s.sessions.New = func() any { return servers.NewSession(cfg.Site, cfg.Stats) }
	s.bufs.New = func() any { b := make([]byte, copyChunk); return &b }
	return s, nil
}

// Addr is the address listened on.
func (s *goServer) Addr() string { return s.ln.Addr().String() }

// Serve is the seed's second loop: wait for a connection, hand it to a new
// goroutine, wait for the next. The loop itself never waits for a client's
// bytes, so a slow client holds up only its own goroutine.
func (s *goServer) Serve() error {
	if ok, err := s.conns.start(); !ok {
		return err
	}
	defer s.conns.served()
	for {
		c, err := s.acceptConn()
		if err != nil {
			if s.conns.isStopped() {
				return nil // Shutdown closed the listener
			}
			s.conns.fail(s.stopAccepting)
			return err
		}
		go c.serve() // "spawn a new thread doing handle_connection(socket)"
	}
}

// acceptConn waits for the next connection the server may serve. Past
// MaxConns a connection is accepted and closed at once, and counted as
// refused: the client learns now, instead of waiting in the backlog.
func (s *goServer) acceptConn() (*conn, error) {
	var pause time.Duration
	for {
		nc, err := s.ln.AcceptTCP()
		if err != nil {
			if !outOfResources(err) {
				return nil, fmt.Errorf("accept: %w", err)
			}
			pause = min(max(2*pause, firstPause), maxPause)
			if !s.sleep(pause) {
				return nil, net.ErrClosed
			}
			continue
		}
		pause = 0
		c := &conn{srv: s, nc: nc}
		switch s.conns.admit(c) {
		case admitted:
			s.cfg.Stats.ConnAccepted()
			c.open()
			return c, nil
		case refused:
			s.cfg.Stats.ConnRefused()
		}
		nc.Close()
	}
}

// sleep pauses for d, or less if Shutdown begins; it reports whether the
// server is still running.
func (s *goServer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	}
}

func (s *goServer) stopAccepting() {
	close(s.stop)
	s.ln.Close() // a goroutine in Accept wakes with net.ErrClosed
}

// Shutdown stops accepting, closes idle connections, lets the responses
// under way finish until ctx is done, then closes the rest.
//
// Here, unlike with raw descriptors, closing a net.Conn from another
// goroutine is safe and wakes its reader: the runtime keeps the descriptor
// alive until every Read and Write on it has returned, and the netpoller
// wakes the goroutines parked on it.
func (s *goServer) Shutdown(ctx context.Context) error {
	return s.conns.shutdown(ctx, s.stopAccepting)
}

// outOfResources reports accept errors that last until something else frees
// descriptors or memory.
func outOfResources(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}
