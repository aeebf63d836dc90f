package evloop

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"serverlab/internal/sock"
	"serverlab/servers"
)

// server is model 3: cfg.Loops event loops, each with its own listening
// socket on the same port, and optionally a pool of disk workers.
type server struct {
	cfg      servers.Config
	addr     string
	sendfile bool
	loops    []*loop
	disk     *diskPool // nil without -disk-workers

	// sendBuffer, if set, fixes each accepted socket's send buffer
	// (SO_SNDBUF); tests shrink it, before Serve, to force partial writes.
	sendBuffer int

	open  atomic.Int64 // connections open across all loops, for MaxConns
	phase atomic.Int32 // phaseRunning, phaseDraining or phaseStopping

	mu      sync.Mutex
	serving bool
	closed  bool          // shut down before Serve ran
	done    chan struct{} // closed when Serve's loops have all exited
}

// The phases of a server's life, which Shutdown moves through and every
// loop reads when it is woken.
const (
	phaseRunning  = iota
	phaseDraining // no new connections or requests; responses under way finish
	phaseStopping // Shutdown's context is done: close everything now
)

// unsentLimit caps how much of a response may sit in a socket's send queue
// not yet sent (TCP_NOTSENT_LOWAT): sendfile(2) stops queueing, and epoll
// stops saying "writable", while more than this is waiting to go out.
//
// Why it matters on loopback, where both ends share one machine. TCP sends
// what the window allows at once, inside the sendfile call, on the
// server's core; whatever it cannot send yet waits in the queue, and is
// pushed out later by the client's ACKs — in the client's softirq, on the
// CLIENT's core. Left alone, the kernel grows the send buffer to 4 MiB, so
// a 1 MiB response is queued whole and most of its sending lands on the
// load generator, which saturates while the server idles: evloop served
// about 1,750 1 MiB responses/s with its core half busy. A fixed 256 KiB
// SO_SNDBUF helped a little (about 1,950/s); shrinking the buffer further
// is a cliff (at 32 KiB, under one loopback segment, throughput collapsed
// to a few hundred). Capping only the UNSENT part keeps the big buffer for
// data in flight, and keeps the server doing its own sending: about 3,600/s,
// with nginx at about 2,600 in the same minutes (wrk -c50 /1m.bin, pinned;
// see docs/results/peers-analysis.md). Small responses are unaffected. The
// price is more writable events per large file, each one a turn of the loop.
const unsentLimit = 128 << 10

// New makes an event-loop server, already listening on cfg.Addr. With
// cfg.Loops > 1 each loop gets its own listening socket on the same port
// (SO_REUSEPORT), and the kernel spreads new connections between them.
func New(cfg servers.Config) (servers.Server, error) {
	if cfg.Poller != "" && cfg.Poller != "epoll" && cfg.Poller != "poll" {
		return nil, fmt.Errorf("evloop: unknown poller %q (want epoll or poll)", cfg.Poller)
	}
	s := &server{cfg: cfg, sendfile: cfg.UseSendfile(), done: make(chan struct{})}
	n := max(cfg.Loops, 1)
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
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if s.serving {
		s.mu.Unlock()
		return errors.New("evloop: Serve called twice")
	}
	s.serving = true
	s.mu.Unlock()
	defer close(s.done)

	if s.cfg.DiskWorkers > 0 {
		s.disk = startDiskPool(s.cfg.DiskWorkers)
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

// runLoop runs one loop on a thread of its own.
func (s *server) runLoop(l *loop) error {
	// LockOSThread keeps this goroutine on one OS thread for its whole
	// life, as a C event loop is its thread: the loop then shows up in
	// /proc and in top as one busy thread, and never migrates. The Go
	// scheduler still has other threads for the rest of the program.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := l.run()
	l.close()
	if err != nil {
		// One loop failed: stop the others, so Serve can return.
		s.phase.Store(phaseStopping)
		s.wakeAll()
	}
	return err
}

// Shutdown stops accepting, closes idle connections at once, lets the
// responses under way finish until ctx is done, then closes the rest.
func (s *server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.serving {
		if !s.closed {
			s.closed = true
			s.closeLoops()
		}
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()

	s.phase.CompareAndSwap(phaseRunning, phaseDraining)
	s.wakeAll()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.phase.Store(phaseStopping)
		s.wakeAll()
		<-s.done
		return ctx.Err()
	}
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
