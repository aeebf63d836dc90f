package blocking

import (
	"errors"
	"io"
	"time"

	"serverlab/servers"
	"serverlab/trace"
)

// Tracing (serverlab trace, the dashboard's trace pane). When the server has
// a tracer, each connection's Socket is wrapped in tracedSocket, which
// reports every call it makes — what it returned and how long it blocked —
// and, in slow motion, waits before each one for the teacher's step. The
// loop in conn.go does not change; with no tracer, nothing is wrapped and
// the hooks below are calls that return on a nil check. The threaded model,
// which runs this same loop over net.Conn, is traced the same way.

// traced gives s and its connection a trace, if the server has a tracer.
func (c *Conn) traced(s Socket) Socket {
	c.tr = c.cfg.Trace
	if c.tr == nil {
		return s
	}
	c.id = c.tr.Conn()
	c.ts = tracedSocket{Socket: s, c: c, calls: netCalls, fd: -1}
	if raw, ok := s.(*fdSocket); ok {
		c.ts.calls, c.ts.fd = rawCalls, raw.fd
	} else if f, ok := s.(interface{ Fd() int }); ok {
		c.ts.fd = f.Fd()
	}
	return &c.ts
}

// callNames are what a Socket's calls are called in a trace: the system
// call for this package's raw descriptor, the Go method for a net.Conn
// (under which the runtime makes the system calls, and parks the goroutine
// on EAGAIN). writeMore is a write that says more follows (MSG_MORE), which
// a net.Conn makes through its RawConn.
type callNames struct{ read, write, writeMore, sendfile, closeWrite, close string }

var (
	rawCalls = callNames{"read", "sendmsg", "sendmsg", "sendfile", "shutdown(SHUT_WR)", "close"}
	netCalls = callNames{"conn.Read", "conn.Write", "raw.Write(sendmsg)", "raw.Write(sendfile)", "conn.CloseWrite", "conn.Close"}
)

// tracedSocket is a Socket that reports each call to its Conn's tracer.
type tracedSocket struct {
	Socket
	c     *Conn
	calls callNames
	fd    int
}

func (s *tracedSocket) Read(p []byte, deadline time.Time) (int, error) {
	began := s.c.tr.Begin() // in slow motion, one call per step
	n, err := s.Socket.Read(p, deadline)
	s.emit(s.calls.read, n, 0, readErr(n, err), began)
	return n, err
}

func (s *tracedSocket) Write(p []byte, more bool, deadline time.Time) (int, error) {
	began := s.c.tr.Begin()
	n, err := s.Socket.Write(p, more, deadline)
	call := s.calls.write
	if more {
		call = s.calls.writeMore
	}
	s.emit(call, n, len(p), trace.Errno(err), began)
	return n, err
}

func (s *tracedSocket) SendFile(f *servers.File, off int64, n int, deadline time.Time) (int, error) {
	began := s.c.tr.Begin()
	sent, err := s.Socket.SendFile(f, off, n, deadline)
	s.emit(s.calls.sendfile, sent, n, trace.Errno(err), began)
	return sent, err
}

func (s *tracedSocket) CloseWrite() error {
	began := s.c.tr.Begin()
	err := s.Socket.CloseWrite()
	s.emit(s.calls.closeWrite, 0, 0, trace.Errno(err), began)
	return err
}

func (s *tracedSocket) Close() error {
	began := s.c.tr.Begin()
	err := s.Socket.Close()
	s.emit(s.calls.close, 0, 0, trace.Errno(err), began)
	return err
}

func (s *tracedSocket) emit(call string, n, want int, errName string, began time.Time) {
	if s.c.tr.On() {
		s.c.tr.Emit(trace.Event{Kind: trace.Call, Conn: s.c.id, Fd: s.fd, Call: call,
			N: int64(n), Of: int64(want), Err: errName, Took: trace.Since(began)})
	}
}

// readErr names a read's outcome: io.EOF is the peer closing.
func readErr(n int, err error) string {
	if n == 0 && errors.Is(err, io.EOF) {
		return trace.EOF
	}
	return trace.Errno(err)
}

// traceOpen reports a file step done here: an open.
func (c *Conn) traceOpen(op *servers.OpenStep) {
	if c.tr.On() {
		c.tr.Emit(trace.Event{Kind: trace.File, Conn: c.id, Fd: c.ts.fd, Text: "opened (openat2, fstat) " + op.Path})
	}
}
