package threaded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"serverlab/blocking"
	"serverlab/internal/sock"
	"serverlab/servers"
)

// goServer is the goroutine-per-connection variant.
type goServer struct {
	cfg   servers.Config
	ln    *net.TCPListener
	conns *tracker
	stop  chan struct{} // closed by Shutdown, to cut short an accept pause
}

func newGoroutines(cfg servers.Config) (*goServer, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("threaded: %w", err)
	}
	s := &goServer{cfg: cfg, ln: ln.(*net.TCPListener), stop: make(chan struct{})}
	s.conns = newTracker(&s.cfg, cfg.MaxConns)
	return s, nil
}

// Addr is the address listened on.
func (s *goServer) Addr() string { return s.ln.Addr().String() }

// Serve is lesson 00's second loop: wait for a connection, hand it to a new
// goroutine, wait for the next. The loop itself never waits for a client's
// bytes, so a slow client holds up only its own goroutine.
func (s *goServer) Serve() error {
	if ok, err := s.conns.start(); !ok {
		return err
	}
	defer s.conns.served()
	for {
		nc, err := s.acceptConn()
		if err != nil {
			if s.conns.isStopped() {
				return nil // Shutdown closed the listener
			}
			s.conns.fail(s.stopAccepting)
			return err
		}
		switch c, adm := s.conns.admit(s.cfg.Stats); adm {
		case admitted:
			limitUnsent(nc)
			// Start a flow of control that serves this connection with
			// the blocking model's loop, from first request to close.
			go func() {
				c.Serve(newNetSocket(nc))
				s.conns.leave(c)
			}()
		default:
			// Past MaxConns, or shutting down: the client learns now,
			// instead of waiting in the backlog.
			nc.Close()
		}
	}
}

// acceptConn waits for the next connection. Out of descriptors, it pauses
// before trying again, as blocking.Listener does: retrying at once would
// spin, because the connection that cannot be accepted stays in the backlog
// and accept fails again immediately. The waiting clients are served once
// descriptors free up.
func (s *goServer) acceptConn() (*net.TCPConn, error) {
	pause := blocking.AcceptPause()
	for {
		began := s.cfg.Trace.Begin()
		nc, err := s.ln.AcceptTCP()
		s.traceAccept(nc, err, began)
		if err == nil {
			return nc, nil
		}
		if !outOfResources(err) {
			return nil, fmt.Errorf("accept: %w", err)
		}
		select {
		case <-time.After(pause.Next()):
		case <-s.stop: // Shutdown cuts the pause short
			return nil, net.ErrClosed
		}
	}
}

// limitUnsent caps how much of an answer may wait unsent in nc's send queue
// (sock.UnsentLimit, as evloop does), so that a large file is sent from
// this server's core, not pushed out later by the client's ACKs.
func limitUnsent(nc *net.TCPConn) {
	if raw, err := nc.SyscallConn(); err == nil {
		raw.Control(func(fd uintptr) { sock.LimitUnsent(int(fd)) })
	}
}

func (s *goServer) stopAccepting() {
	close(s.stop)
	s.ln.Close() // a goroutine in Accept wakes with net.ErrClosed
}

// Shutdown stops accepting, closes idle connections, lets the responses
// under way finish until ctx is done, then closes the rest.
func (s *goServer) Shutdown(ctx context.Context) error {
	return s.conns.shutdown(ctx, s.stopAccepting)
}

// outOfResources reports accept errors that last until something else frees
// descriptors or memory.
func outOfResources(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}
