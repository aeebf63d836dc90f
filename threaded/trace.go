package threaded

import (
	"net"
	"time"
)

// Tracing: the connections are traced by the loop they run, blocking.Conn
// (see blocking/trace.go), each event tagged with its connection and the
// OS thread that ran it, so that a trace shows Go's runtime interleaving
// the goroutines on threads of its choosing. Only the accept is this
// package's own.

// traceAccept reports listener.Accept: under it, the runtime's accept4 on
// a non-blocking socket, and a parked goroutine while nobody connects.
func (s *goServer) traceAccept(nc *net.TCPConn, err error, began time.Time) {
	if tr := s.cfg.Trace; tr.On() {
		fd := -1
		if err == nil {
			fd = newNetSocket(nc).Fd()
		}
		tr.Accepted("listener.Accept", fd, err, began)
	}
}
