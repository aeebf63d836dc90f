package evloop

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"serverlab/internal/shutdown"
	"serverlab/internal/sock"
	"serverlab/servers"
)

// Options are the event loop's own knobs.
type Options struct {
	// Loops is the number of event loops, each with its own thread,
	// epoll instance and SO_REUSEPORT socket. 0 means 1.
	Loops int
	// Poller chooses the readiness API: "epoll" (the default, also for
	// "") or "poll".
	Poller string
	// DiskWorkers hands the loop's file-system calls (open, fstat, pread)
	// to that many worker threads (0: the loop makes them itself, and a
	// slow disk stalls it).
	DiskWorkers int
}

// Check reports options that cannot work, in one line.
func (o Options) Check() error {
	switch {
	case o.Poller != "" && o.Poller != "epoll" && o.Poller != "poll":
		return fmt.Errorf("unknown poller %q (want epoll or poll)", o.Poller)
	case o.Loops < 0, o.DiskWorkers < 0:
		return errors.New("loops and disk workers cannot be negative")
	}
	return nil
}

// server is model 3: opt.Loops event loops, each with its own listening
// socket on the same port, and optionally a pool of disk workers.
type server struct {
	cfg      servers.Config
	opt      Options
	addr     string
	sendfile bool
	loops    []*loop
	disk     *diskPool // nil without -disk-workers

	// sendBuffer, if set, fixes each accepted socket's send buffer
	// (SO_SNDBUF); tests shrink it, before Serve, to force partial writes.
	sendBuffer int

	open atomic.Int64   // connections open across all loops, for MaxConns
	life shutdown.State // the phase, which Shutdown moves and every loop reads when woken
}

// New makes an event-loop server, already listening on cfg.Addr. With
// opt.Loops > 1 each loop gets its own listening socket on the same port
// (SO_REUSEPORT), and the kernel spreads new connections between them.
func New(cfg servers.Config, opt Options) (servers.Server, error) {
	if err := opt.Check(); err != nil {
		return nil, fmt.Errorf("evloop: %w", err)
	}
	s := &server{cfg: cfg, opt: opt, sendfile: cfg.UseSendfile()}
	n := max(opt.Loops, 1)
	addr := cfg.Addr
	for i := range n {
		lfd, bound, err := sock.Listen(addr, sock.Options{NonBlocking: true, ReusePort: n > 1})
		if err != nil {
			s.closeLoops()
			return nil, fmt.Errorf("evloop: %w", err)
		}
		if i == 0 {
			// With port 0 the kernel has just picked a port; the other
			// loops must listen on that one, not pick their own.
			s.addr, addr = bound, bound
		}
		l, err := newLoop(i, s, lfd)
		if err != nil {
			s.closeLoops()
			return nil, err
		}
		s.loops = append(s.loops, l)
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *server) Addr() string { return s.addr }

// Serve runs the loops, the first on the caller's goroutine, until they
// have all exited after Shutdown; it returns the first loop's error, if any.
func (s *server) Serve() error {
	if ok, err := s.life.Serve("evloop"); !ok {
		return err // called twice, or already shut down
	}
	defer s.life.Served()

	if s.opt.DiskWorkers > 0 {
		s.disk = startDiskPool(s.opt.DiskWorkers)
	}
	errs := make(chan error, len(s.loops))
	for _, l := range s.loops[1:] {
		go func() { errs <- s.runLoop(l) }()
	}
	first := s.runLoop(s.loops[0])
	for range s.loops[1:] {
		if err := <-errs; first == nil {
			first = err
		}
	}
	if s.disk != nil {
		s.disk.stop()
	}
	return first
}

// runLoop runs one loop, on its goroutine. It does not lock the goroutine
// to its thread (runtime.LockOSThread), although a C event loop is its
// thread: a locked goroutine pays for every trip through the scheduler
// with a hand-over between two threads, and the loop makes that trip once
// every 4 ms (see "The loop and the Go runtime" in doc.go). Left
// alone, it stays on one thread anyway while it has work.
func (s *server) runLoop(l *loop) error {
	err := l.run()
	l.close()
	if err != nil {
		// One loop failed: stop the others, so Serve can return.
		s.life.Stop()
		s.wakeAll()
	}
	return err
}

// Shutdown stops accepting, closes idle connections at once, lets the
// responses under way finish until ctx is done, then closes the rest.
func (s *server) Shutdown(ctx context.Context) error {
	return s.life.Shutdown(ctx, s.wakeAll, s.closeLoops)
}

// wakeAll makes every loop look at the phase.
func (s *server) wakeAll() {
	for _, l := range s.loops {
		l.mu.Lock()
		l.signal()
		l.mu.Unlock()
	}
}

func (s *server) closeLoops() {
	for _, l := range s.loops {
		l.close()
	}
}
