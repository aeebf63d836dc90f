package uring

import (
	"context"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"serverlab/internal/shutdown"
	"serverlab/internal/sock"
	"serverlab/servers"
)

// server is model 4: one loop, one ring, one thread.
type server struct {
	cfg  servers.Config
	addr string
	loop *loop

	life shutdown.State // the phase, which Shutdown moves and the loop reads when woken
}

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
	s := &server{cfg: cfg, addr: bound}
	if s.loop, err = newLoop(s, lfd, opt, t); err != nil {
		unix.Close(lfd)
		return nil, err
	}
	return s, nil
}

// Serve runs the loop on the calling goroutine until it has drained after
// Shutdown.
func (s *server) Serve() error {
	if ok, err := s.life.Serve("uring"); !ok {
		return err // called twice, or already shut down
	}
	defer s.life.Served()

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
	return s.life.Shutdown(ctx, s.loop.wake, s.loop.close)
}

// Addr is the address the server listens on.
func (s *server) Addr() string { return s.addr }
