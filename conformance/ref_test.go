//go:build conformance_ref

package conformance

import (
	"context"
	"net"
	"sync"
	"time"

	"serverlab/blocking"
	"serverlab/servers"
)

var variants = []variant{{name: "reference", new: newRef}, {name: "blocking", new: blocking.New, serial: true}}

type refServer struct {
	cfg  servers.Config
	ln   net.Listener
	mu   sync.Mutex
	idle map[net.Conn]bool
	done bool
	wg   sync.WaitGroup
}

func newRef(cfg servers.Config) (servers.Server, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	return &refServer{cfg: cfg, ln: ln, idle: map[net.Conn]bool{}}, nil
}

func (s *refServer) Addr() string { return s.ln.Addr().String() }

func (s *refServer) Serve() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.wg.Wait()
			return nil
		}
		s.cfg.Stats.ConnAccepted()
		s.wg.Add(1)
		go s.conn(c)
	}
}

func (s *refServer) setIdle(c net.Conn, idle bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done && idle {
		return false
	}
	s.idle[c] = idle
	return true
}

func (s *refServer) conn(c net.Conn) {
	defer s.wg.Done()
	defer s.cfg.Stats.ConnClosed()
	defer func() { s.mu.Lock(); delete(s.idle, c); s.mu.Unlock(); c.Close() }()
	sess := servers.NewSession(s.cfg.Site, s.cfg.Stats)
	buf := make([]byte, 64<<10)
	for {
		if !s.setIdle(c, sess.Buffered() == 0) {
			return
		}
		n, err := c.Read(sess.ReadSpace())
		if n == 0 && err != nil {
			return
		}
		s.setIdle(c, false)
		sess.Received(n)
		for sess.Next(time.Now()) {
			if _, err := c.Write(sess.Head()); err != nil {
				sess.Abort()
				return
			}
			s.cfg.Stats.Sent(int64(len(sess.Head())))
			if f, off, n := sess.Body(); f != nil {
				for n > 0 {
					m, err := f.ReadAt(buf[:min(int64(len(buf)), n)], off)
					if err == nil && m == 0 {
						err = context.Canceled
					}
					if err == nil {
						_, err = c.Write(buf[:m])
					}
					if err != nil {
						sess.Abort()
						return
					}
					s.cfg.Stats.Sent(int64(m))
					off += int64(m)
					n -= int64(m)
				}
			}
			if !sess.Done() {
				return
			}
		}
	}
}

func (s *refServer) Shutdown(ctx context.Context) error {
	s.ln.Close()
	s.mu.Lock()
	s.done = true
	for c, idle := range s.idle {
		if idle {
			c.Close()
		}
	}
	s.mu.Unlock()
	ch := make(chan struct{})
	go func() { s.wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
