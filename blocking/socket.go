package blocking

import (
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/internal/sock"
	"serverlab/servers"
)

// Socket is how a Conn waits and moves bytes. This package's own, fdSocket,
// is a raw descriptor in blocking mode: every call sleeps in the kernel
// until it can be done. The threaded model plugs in a net.Conn instead, whose
// calls look the same but park a goroutine in Go's netpoller. The loop in
// conn.go is the same for both: only the waiting differs.
//
// Read and the writes each make one attempt, waiting no later than
// deadline (zero: for ever); a deadline passed is os.ErrDeadlineExceeded,
// and the end of input (the client closed, or WakeRead shut our side) is
// io.EOF. WakeRead and Kill may be called from another goroutine, to reach
// a call asleep on the socket.
type Socket interface {
	Read(p []byte, deadline time.Time) (int, error)
	// Write sends some of p; more says that the body follows at once.
	Write(p []byte, more bool, deadline time.Time) (int, error)
	// SendFile sends up to n bytes of f from off, the kernel copying them.
	SendFile(f *servers.File, off int64, n int, deadline time.Time) (int, error)
	// Unread reports whether the kernel holds received bytes not read yet.
	Unread() bool
	// CloseWrite sends our FIN: a lingering close begins with it.
	CloseWrite() error
	// WakeRead ends a Read asleep on the socket, as if the client closed.
	WakeRead()
	// Kill ends every call asleep on the socket.
	Kill()
	Close() error
}

// fdSocket is a connected socket in blocking mode, driven with raw system
// calls so that each step reads as lesson 00's first loop.
type fdSocket struct {
	fd int
	// The SO_RCVTIMEO and SO_SNDTIMEO now set (0: none).
	rcvTimeo, sndTimeo time.Duration
}

// armSlack is how much later than its deadline a call may give up before
// the timeout option is set again. SO_RCVTIMEO and SO_SNDTIMEO are
// timeouts per call, not deadlines, so each call is given the time left;
// but a call made right after progress has almost exactly the whole limit
// left, as the last one had, and the slack spares a setsockopt(2) per call.
// A call never gives up EARLY: that would end a connection in time.
const armSlack = time.Millisecond

// arm sets the timeout option opt so that the next call waits no later
// than deadline, or returns os.ErrDeadlineExceeded if it has passed.
func (s *fdSocket) arm(opt int, cur *time.Duration, deadline time.Time) error {
	var d time.Duration
	if !deadline.IsZero() {
		if d = time.Until(deadline); d <= 0 {
			return os.ErrDeadlineExceeded
		}
		// A timeval of zero means "no timeout": never round down to it.
		d = max(d, time.Microsecond)
	}
	if d == *cur || (d > 0 && d <= *cur && *cur-d < armSlack) {
		return nil
	}
	tv := unix.NsecToTimeval(int64(d))
	if err := unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, opt, &tv); err != nil {
		return err
	}
	*cur = d
	return nil
}

// Read is one read(2).
func (s *fdSocket) Read(p []byte, deadline time.Time) (int, error) {
	for {
		if err := s.arm(unix.SO_RCVTIMEO, &s.rcvTimeo, deadline); err != nil {
			return 0, err
		}
		n, err := unix.Read(s.fd, p)
		switch {
		case err == unix.EINTR:
			// A signal cuts a read short when SO_RCVTIMEO is set
			// (signal(7): such calls are never restarted). Go's runtime
			// sends signals to its own threads, so this is not rare.
			continue
		case err == unix.EAGAIN:
			return 0, os.ErrDeadlineExceeded // SO_RCVTIMEO expired
		case err != nil:
			return 0, err // ECONNRESET and the like: the client is gone
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Write is one sendmsg(2). A blocking write may still send only part of p
// (a signal, or SO_SNDTIMEO expiring after some progress); Conn.send loops.
//
// MSG_MORE tells TCP that more data follows at once, so it holds a head back
// to share a packet with the first bytes of the body instead of sending a
// small packet of headers alone (TCP_NODELAY would otherwise send it now).
//
// MSG_NOSIGNAL: writing to a connection the client has reset raises SIGPIPE,
// whose default action kills the process. Go's runtime already ignores it
// for sockets, but a server should not depend on who installed which
// handler; with the flag the write simply fails with EPIPE. (sendfile(2)
// takes no flags, and there the runtime's handler is what saves us.)
func (s *fdSocket) Write(p []byte, more bool, deadline time.Time) (int, error) {
	flags := unix.MSG_NOSIGNAL
	if more {
		flags |= unix.MSG_MORE
	}
	for {
		if err := s.arm(unix.SO_SNDTIMEO, &s.sndTimeo, deadline); err != nil {
			return 0, err
		}
		n, err := unix.SendmsgN(s.fd, p, nil, nil, flags)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, os.ErrDeadlineExceeded // SO_SNDTIMEO: the client read nothing
		}
		return n, err // EPIPE or ECONNRESET: the client left
	}
}

// SendFile is one sendfile(2): the kernel moves the bytes from the page
// cache to the socket, and they never enter our memory. The call blocks
// until its chunk is sent, or SO_SNDTIMEO expires.
func (s *fdSocket) SendFile(f *servers.File, off int64, n int, deadline time.Time) (int, error) {
	for {
		if err := s.arm(unix.SO_SNDTIMEO, &s.sndTimeo, deadline); err != nil {
			return 0, err
		}
		sent, err := unix.Sendfile(s.fd, f.Fd(), &off, n)
		switch {
		case err == unix.EINTR:
			continue // nothing was sent; off is unchanged
		case err == unix.EAGAIN:
			return 0, os.ErrDeadlineExceeded
		}
		return sent, err
	}
}

func (s *fdSocket) Unread() bool { return sock.Unread(s.fd) }

func (s *fdSocket) CloseWrite() error { return unix.Shutdown(s.fd, unix.SHUT_WR) }

// WakeRead is shutdown(SHUT_RD): a read(2) asleep on the socket returns 0,
// end of input, as if the client had closed. Bytes the client managed to
// send just before still come out first, so a request that raced it is
// answered rather than lost. close(2) would not wake the read: the call
// holds its own reference to the socket.
func (s *fdSocket) WakeRead() { unix.Shutdown(s.fd, unix.SHUT_RD) }

// Kill is shutdown(SHUT_RDWR): a sleeping read returns 0 and a sleeping
// write or sendfile fails with EPIPE, so the loop returns at once and
// closes the descriptor itself.
func (s *fdSocket) Kill() { unix.Shutdown(s.fd, unix.SHUT_RDWR) }

func (s *fdSocket) Close() error { return unix.Close(s.fd) }
