package threaded

import (
	"context"
	"errors"
	"sync"

	"serverlab/servers"
)

// New makes a threaded server listening on cfg.Addr: a goroutine per
// connection over package net, or with cfg.OSThreads an OS thread per
// connection over blocking system calls.
func New(cfg servers.Config) (servers.Server, error) {
	// Each branch checks its error itself: returning a nil *osServer
	// straight through would make a non-nil servers.Server holding nil.
	if cfg.OSThreads {
		s, err := newOSThreads(cfg)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := newGoroutines(cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// stopper is what Shutdown needs of a connection, whichever variant serves
// it. The two differ only in how a connection asleep in a read is reached:
// CloseRead on a net.Conn, shutdown(2) on a raw descriptor.
type stopper interface {
	// CloseIdle closes the connection now if it waits between requests,
	// and after its response under way otherwise.
	CloseIdle()
	// Kill ends the connection now, whatever it is doing.
	Kill()
}

// admission is the answer to a connection that knocks.
type admission int

const (
	admitted admission = iota
	refused            // MaxConns are open already
	stopping           // Shutdown has begun
)

// tracker keeps a server's open connections and its life cycle: the
// bookkeeping both variants share, for MaxConns and for Shutdown.
type tracker struct {
	max  int           // cap on open connections; 0: none
	done chan struct{} // closed when Serve has returned

	mu      sync.Mutex
	open    map[stopper]struct{}
	serving bool
	stopped bool
	wg      sync.WaitGroup // one count per connection being served
}

func newTracker(max int) *tracker {
	return &tracker{max: max, done: make(chan struct{}), open: make(map[stopper]struct{})}
}

// start records that Serve runs, so that Shutdown waits for it. It reports
// false if Serve should return at once.
func (t *tracker) start() (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.serving:
		return false, errors.New("threaded: Serve called twice")
	case t.stopped:
		return false, nil
	}
	t.serving = true
	return true, nil
}

// admit decides whether a new connection may be served. Only the accept
// loop calls it, so every wg.Add happens before Serve's final wg.Wait.
func (t *tracker) admit(c stopper) admission {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.stopped:
		return stopping
	case t.max > 0 && len(t.open) >= t.max:
		return refused
	}
	t.open[c] = struct{}{}
	t.wg.Add(1)
	return admitted
}

// leave forgets a connection that has closed.
func (t *tracker) leave(c stopper) {
	t.mu.Lock()
	delete(t.open, c)
	t.mu.Unlock()
	t.wg.Done()
}

// isStopped reports whether Shutdown has begun: an accept error after it is
// the listener closing, not a failure.
func (t *tracker) isStopped() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopped
}

// served is deferred by Serve: Serve returns only when its last connection
// has closed, so that nothing of the server outlives it.
func (t *tracker) served() {
	t.wg.Wait()
	close(t.done)
}

// shutdown is Shutdown for both variants: stop accepting, close the idle
// connections, give the busy ones until ctx is done, then kill what is left
// and wait for Serve to return.
func (t *tracker) shutdown(ctx context.Context, stopAccepting func()) error {
	t.mu.Lock()
	first := !t.stopped
	t.stopped = true
	serving := t.serving
	t.mu.Unlock()
	if first {
		stopAccepting()
	}
	if !serving {
		return nil
	}
	t.each(stopper.CloseIdle)
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
	}
	t.each(stopper.Kill)
	<-t.done
	return ctx.Err()
}

// fail ends everything at once, for a Serve whose listener has failed.
func (t *tracker) fail(stopAccepting func()) {
	t.mu.Lock()
	first := !t.stopped
	t.stopped = true
	t.mu.Unlock()
	if first {
		stopAccepting()
	}
	t.each(stopper.Kill)
}

func (t *tracker) each(f func(stopper)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.open {
		f(c)
	}
}
