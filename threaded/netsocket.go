package threaded

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/internal/sock"
	"serverlab/servers"
)

// netSocket is a connection as Go's net package gives it, plugged into the
// blocking model's per-connection loop (blocking.Conn). The loop is the
// same; what differs is underneath. nc.Read looks blocking, but the socket
// is non-blocking, and a Read with nothing to read parks only this
// goroutine until the runtime's netpoller (an epoll instance of its own)
// sees bytes arrive. Tens of thousands of such waits cost a few KiB of
// stack each and no thread.
type netSocket struct {
	nc  *net.TCPConn
	raw syscall.RawConn // for sendfile and FIONREAD; made on first use

	rd, wd time.Time // the read and write deadlines now set
}

func newNetSocket(nc *net.TCPConn) *netSocket { return &netSocket{nc: nc} }

// Read is nc.Read under the session's deadline. A connection closed under
// it (CloseIdle, Kill) is the end of input, like the client closing.
func (s *netSocket) Read(p []byte, deadline time.Time) (int, error) {
	if !deadline.Equal(s.rd) {
		s.nc.SetReadDeadline(deadline)
		s.rd = deadline
	}
	n, err := s.nc.Read(p)
	if n > 0 {
		return n, nil
	}
	if err == nil || errors.Is(err, net.ErrClosed) {
		err = io.EOF
	}
	return 0, err
}

// Write is nc.Write. The deadline, renewed before each write of at most
// one chunk, means "no progress for WriteTimeout ends the connection", not
// "the whole body in WriteTimeout", which would cut off a large file on a
// slow link.
//
// With more (a head whose body follows), nc.Write cannot say so, so it is
// one sendmsg(2) with MSG_MORE through the RawConn: TCP holds the head back
// to share a packet with the body instead of sending it alone (see
// blocking's fdSocket.Write). On loopback that lone small packet costs the
// client dearly: for a 1 MiB file, evloop's rate under wrk fell by a third
// and more without it (docs/results/peers-analysis.md).
func (s *netSocket) Write(p []byte, more bool, deadline time.Time) (int, error) {
	s.armWrite(deadline)
	if !more {
		return s.nc.Write(p)
	}
	return s.rawWrite(func(fd int) (int, error) {
		return unix.SendmsgN(fd, p, nil, nil, unix.MSG_MORE|unix.MSG_NOSIGNAL)
	})
}

func (s *netSocket) armWrite(deadline time.Time) {
	if !deadline.Equal(s.wd) {
		s.nc.SetWriteDeadline(deadline)
		s.wd = deadline
	}
}

// SendFile sends up to n bytes of f from off with sendfile(2).
//
// Why not io.Copy from the file to the connection, which uses sendfile(2)
// by itself? (*net.TCPConn).ReadFrom does so only for an *os.File, and it
// sends from the file's own position, moving it. servers.File is one
// descriptor shared by every connection sending that file, so it must be
// read only at explicit offsets, never through a shared position. So we
// call sendfile ourselves, through the connection's RawConn.
//
// RawConn.Write shows the netpoller at work: it calls our function with the
// descriptor; on a non-blocking socket sendfile sends what fits and fails
// with EAGAIN when the socket buffer is full. Returning false then says
// "not done": the runtime parks this goroutine until epoll reports the
// socket writable (or the write deadline passes) and calls the function
// again. That is the event loop's "wait for writable" step, done for us.
func (s *netSocket) SendFile(f *servers.File, off int64, n int, deadline time.Time) (int, error) {
	s.armWrite(deadline)
	return s.rawWrite(func(fd int) (int, error) {
		return unix.Sendfile(fd, f.Fd(), &off, n)
	})
}

// rawWrite runs call, one system call, on the connection's descriptor
// through its RawConn: again at once if a signal interrupted it (EINTR),
// and, on EAGAIN, again when the netpoller has parked the goroutine until
// the socket is writable (or the write deadline has passed).
func (s *netSocket) rawWrite(call func(fd int) (int, error)) (int, error) {
	raw, err := s.rawConn()
	if err != nil {
		return 0, err
	}
	var n int
	var cerr error
	err = raw.Write(func(fd uintptr) bool {
		for {
			n, cerr = call(int(fd))
			if cerr != unix.EINTR {
				return cerr != unix.EAGAIN // false: park until writable
			}
		}
	})
	if err == nil {
		err = cerr
	}
	return n, err
}

func (s *netSocket) rawConn() (syscall.RawConn, error) {
	if s.raw == nil {
		raw, err := s.nc.SyscallConn()
		if err != nil {
			return nil, err
		}
		s.raw = raw
	}
	return s.raw, nil
}

// Unread asks the kernel whether received bytes wait to be read.
func (s *netSocket) Unread() bool {
	raw, err := s.rawConn()
	if err != nil {
		return false
	}
	unread := false
	raw.Control(func(fd uintptr) { unread = sock.Unread(int(fd)) })
	return unread
}

func (s *netSocket) CloseWrite() error { return s.nc.CloseWrite() }

// Fd is the connection's descriptor, for a trace (-1 if it has none).
func (s *netSocket) Fd() int {
	fd := -1
	if raw, err := s.rawConn(); err == nil {
		raw.Control(func(d uintptr) { fd = int(d) })
	}
	return fd
}

// WakeRead is CloseRead, shutdown(SHUT_RD): the goroutine's Read returns
// io.EOF once any bytes already received are read, so a request that raced
// the shutdown is still answered.
func (s *netSocket) WakeRead() { s.nc.CloseRead() }

// Kill closes the connection: unlike a raw descriptor, a net.Conn may be
// closed from another goroutine safely, because the runtime keeps the
// descriptor alive until every Read and Write on it has returned, and the
// netpoller wakes the goroutines parked on it (with net.ErrClosed).
func (s *netSocket) Kill() { s.nc.Close() }

func (s *netSocket) Close() error { return s.nc.Close() }
