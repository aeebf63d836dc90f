package uring

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"serverlab/internal/sock"
	"serverlab/servers"
)

// server is model 4: one loop, one ring, one thread.
type server struct {
	cfg  servers.Config
	addr string
	loop *loop

	phase atomic.Int32 // phaseRunning, phaseDraining or phaseStopping

	mu      sync.Mutex
	serving bool
	closed  bool          // shut down before Serve ran
	done    chan struct{} // closed when the loop has exited
}

// The phases of a server's life, which Shutdown moves through and the loop
// reads when it is woken.
const (
	phaseRunning  = iota
	phaseDraining // no new connections or requests; responses under way finish
	phaseStopping // Shutdown's context is done: close everything now
)

// Options are the uring model's own knobs.
type Options struct {
	// OwnBuffers gives every waiting receive a buffer of its own, as a
	// plain completion loop does, instead of one picked by the kernel from
	// the shared ring of provided buffers: the memory trap, kept so that
	// it can be measured (serve -own-buffers).
	OwnBuffers bool
}

// New makes an io_uring server, already listening on cfg.Addr, or says in
// one line why io_uring cannot be used here (an error that is
// ErrUnavailable).
func New(cfg servers.Config, opt Options) (servers.Server, error) {
	return newServer(cfg, opt, tuning{})
}

// tuning are the knobs only tests turn.
type tuning struct {
	bufCount   uint16 // provided buffers, instead of recvBufs (to run out)
	sendBuffer int    // SO_SNDBUF for each connection (to force short sends)
}

func newServer(cfg servers.Config, opt Options, t tuning) (*server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	lfd, bound, err := sock.Listen(cfg.Addr, sock.Options{NonBlocking: true})
	if err != nil {
		return nil, fmt.Errorf("uring: %w", err)
	}
	s := &server{cfg: cfg, addr: bound, done: make(chan struct{})}
	if s.loop, err = newLoop(s, lfd, opt, t); err != nil {
		unix.Close(lfd)
		return nil, err
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *server) Addr() string { return s.addr }

// Serve runs the loop on the calling goroutine until it has drained after
// Shutdown.
func (s *server) Serve() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if s.serving {
		s.mu.Unlock()
		return errors.New("uring: Serve called twice")
	}
	s.serving = true
	s.mu.Unlock()
	defer close(s.done)

	// The loop is its thread, as in evloop; here the kernel insists on it
	// too: the ring was set up single-issuer, and the thread that enables
	// it is the only one that may ever submit to it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := s.loop.run()
	s.loop.close()
	return err
}

// Shutdown stops accepting, closes idle connections at once, lets the
// responses under way finish until ctx is done, then closes the rest.
func (s *server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.serving {
		if !s.closed {
			s.closed = true
			s.loop.close()
		}
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()

	s.phase.CompareAndSwap(phaseRunning, phaseDraining)
	s.loop.wake()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.phase.Store(phaseStopping)
		s.loop.wake()
		<-s.done
		return ctx.Err()
	}
}
