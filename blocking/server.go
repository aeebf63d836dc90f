package blocking

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"serverlab/servers"
)

// server is the blocking model: one listening socket, one Conn, one loop.
type server struct {
	cfg    servers.Config
	ln     *Listener
	conn   *Conn         // the one connection being served, reused for the next
	chunks Chunks        // the copy buffer, when sendfile is off
	done   chan struct{} // closed when Serve returns

	mu      sync.Mutex
	serving bool // Serve has started
	stopped bool // Shutdown has started
}

// New makes a blocking server listening on cfg.Addr, with the blocking
// model's own options. It serves nothing until Serve is called.
//
// cfg.MaxConns has nothing to do here: this model holds one connection at a
// time by construction, so any cap of one or more is already met. The other
// clients are not refused but left in the listen backlog, the kernel's queue
// of connections that have finished their handshake and wait for accept(2);
// each is served in its turn. Nothing is counted as refused.
func New(cfg servers.Config, opt Options) (servers.Server, error) {
	ln, err := Listen(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("blocking: %w", err)
	}
	s := &server{cfg: cfg, ln: ln, done: make(chan struct{})}
	s.conn = NewConn(&s.cfg, opt, &s.chunks)
	return s, nil
}

// Addr is the address listened on.
func (s *server) Addr() string { return s.ln.Addr() }

// Serve is the whole server: wait for a connection, serve it to the end,
// wait for the next. While one client is served, the others wait in the
// backlog, however little the one being served is doing.
func (s *server) Serve() error {
	if ok, err := s.start(); !ok {
		return err // called twice, or already shut down
	}
	defer close(s.done)
	for {
		began := s.cfg.Trace.Begin()
		fd, err := s.ln.Accept() // wait for a client to connect
		s.cfg.Trace.Accepted("accept4", fd, err, began)
		if errors.Is(err, ErrListenerStopped) {
			return nil
		}
		if err != nil {
			s.ln.Stop()
			return err
		}
		s.conn.ServeFd(fd) // read request, fetch file, write head, write body; again or close
	}
}

// start records that Serve runs, so that Shutdown knows to wait for it. It
// reports false if Serve should return at once: called twice (an error),
// or after Shutdown.
func (s *server) start() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serving {
		return false, errors.New("blocking: Serve called twice")
	}
	s.serving = !s.stopped
	return s.serving, nil
}

// Shutdown stops the loop. The loop is asleep in one of two places, and each
// needs its own wake-up call: in accept(2), woken by shutdown(2) on the
// listening socket (Listener.Stop), or in read(2) on an idle connection,
// woken by shutdown(SHUT_RD) on it (Conn.CloseIdle). A response being sent
// is left to finish until ctx is done; then Conn.Kill cuts it off.
func (s *server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	serving := s.serving
	s.mu.Unlock()

	s.ln.Stop()
	if !serving {
		return nil
	}
	s.conn.CloseIdle()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
	}
	s.conn.Kill()
	<-s.done
	return ctx.Err()
}
