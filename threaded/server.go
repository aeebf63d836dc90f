package threaded

import (
	"context"
	"errors"
	"sync"

	"serverlab/blocking"
	"serverlab/servers"
)

// Options are the threaded model's own knobs.
type Options struct {
	// OSThreads locks each connection's goroutine to its own OS thread,
	// with blocking system calls: Apache's worker model.
	OSThreads bool
}

// New makes a threaded server listening on cfg.Addr: a goroutine per
// connection over package net, or with opt.OSThreads an OS thread per
// connection over blocking system calls.
func New(cfg servers.Config, opt Options) (servers.Server, error) {
	// Each branch checks its error itself: returning a nil *osServer
	// straight through would make a non-nil servers.Server holding nil.
	if opt.OSThreads {
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

// admission is the answer to a connection that knocks.
type admission int

const (
	admitted admission = iota
	refused            // MaxConns are open already
	stopping           // Shutdown has begun
)

// tracker keeps a server's open connections and its life cycle: the
// bookkeeping both variants share, for MaxConns and for Shutdown. Both
// serve each connection with the blocking model's own loop, blocking.Conn,
// and pool those, with their Sessions, for the next connections.
type tracker struct {
	max  int           // cap on open connections; 0: none
	done chan struct{} // closed when Serve has returned

	pool   sync.Pool       // idle *blocking.Conn
	chunks blocking.Chunks // their copy buffers, lent while a body is copied

	mu      sync.Mutex
	open    map[*blocking.Conn]struct{}
	serving bool
	stopped bool
	wg      sync.WaitGroup // one count per connection being served
}

func newTracker(cfg *servers.Config, max int) *tracker {
	t := &tracker{max: max, done: make(chan struct{}), open: make(map[*blocking.Conn]struct{})}
	t.pool.New = func() any { return blocking.NewConn(cfg, blocking.Options{KeepAlive: true}, &t.chunks) }
	return t
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

// admit decides whether a new connection may be served, and gives it the
// Conn that will serve it. Only the accept loop calls it, so every wg.Add
// happens before Serve's final wg.Wait. A connection refused is counted.
func (t *tracker) admit(stats *servers.Stats) (*blocking.Conn, admission) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.stopped:
		return nil, stopping
	case t.max > 0 && len(t.open) >= t.max:
		// Counted before the close, so that a client that sees its
		// connection end also finds it counted.
		stats.ConnRefused()
		return nil, refused
	}
	c := t.pool.Get().(*blocking.Conn)
	t.open[c] = struct{}{}
	t.wg.Add(1)
	return c, admitted
}

// leave forgets a connection that has closed, and keeps its Conn for the
// next one.
func (t *tracker) leave(c *blocking.Conn) {
	t.mu.Lock()
	delete(t.open, c)
	t.mu.Unlock()
	t.pool.Put(c)
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
	t.each((*blocking.Conn).CloseIdle)
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
	}
	t.each((*blocking.Conn).Kill)
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
	t.each((*blocking.Conn).Kill)
}

func (t *tracker) each(f func(*blocking.Conn)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c := range t.open {
		f(c)
	}
}
