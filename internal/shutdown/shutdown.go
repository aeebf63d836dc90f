// Package shutdown is the graceful shutdown of an event-loop server, whose
// loops sleep in the kernel and must be woken to hear of it. A server moves
// through three phases: Running; Draining (Shutdown was called: no new
// connections or requests, the responses under way finish); Stopping
// (Shutdown's context is done, or a loop failed: close everything now).
// Shutdown moves the phase and wakes the loops; each loop, woken, reads
// the phase and acts on it.
package shutdown

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Phase is where a server is in its life.
type Phase int32

// The phases, in the order a server moves through them.
const (
	Running  Phase = iota
	Draining       // no new connections or requests; responses under way finish
	Stopping       // close everything now
)

// State is one server's phase, and whether Serve runs. Its zero value is a
// server that is Running and not yet served.
type State struct {
	phase atomic.Int32

	mu      sync.Mutex
	serving bool
	closed  bool          // shut down before Serve ran
	done    chan struct{} // closed when Serve's loops have all exited
}

// Phase is the phase the server is in now.
func (s *State) Phase() Phase { return Phase(s.phase.Load()) }

// Loop is one of a server's loops, as the phases need it.
type Loop interface {
	Drain() // stop accepting; close the connections between requests
	Stop()  // close every connection now
}

// Follow makes l, just woken, act on the phase: drain once Draining, and
// stop as well once Stopping.
func (s *State) Follow(l Loop) {
	switch s.Phase() {
	case Draining:
		l.Drain()
	case Stopping:
		l.Drain()
		l.Stop()
	}
}

// Stop moves the server to Stopping at once: a loop failed, and the others
// must close everything so that Serve can return. The caller wakes them.
func (s *State) Stop() { s.phase.Store(int32(Stopping)) }

// Serve records that the server named model runs, so that Shutdown waits
// for it. It reports false if Serve should return at once: with an error if
// it was called twice, with none if Shutdown came first. After true, the
// caller calls Served when its loops have all exited.
func (s *State) Serve(model string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return false, nil
	case s.serving:
		return false, errors.New(model + ": Serve called twice")
	}
	s.serving = true
	s.done = make(chan struct{})
	return true, nil
}

// Serving reports whether Serve has claimed the server: from then on,
// Shutdown waits for it rather than releasing the server itself.
func (s *State) Serving() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serving
}

// Served tells Shutdown that the loops have exited.
func (s *State) Served() { close(s.done) }

// Shutdown moves the server to Draining and wakes its loops with wake,
// then waits for Served; if ctx is done first, it moves to Stopping, wakes
// them again and waits. If Serve never ran, it calls release instead (once,
// however many times Shutdown is called) to let go of what New set up.
func (s *State) Shutdown(ctx context.Context, wake, release func()) error {
	s.mu.Lock()
	if !s.serving {
		if !s.closed {
			s.closed = true
			release()
		}
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()

	s.phase.CompareAndSwap(int32(Running), int32(Draining))
	wake()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.Stop()
		wake()
		<-s.done
		return ctx.Err()
	}
}
