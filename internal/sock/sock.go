// Package sock makes sockets from raw system calls, for the models that
// work below Go's net package. Doing it by hand shows the steps net.Listen
// hides: socket, setsockopt, bind, listen; and the options, and the spare
// descriptor, that an event loop's accepted connections need. It also makes
// the socketpairs a parent hands the server it starts (Pair).
package sock

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// Options choose how the listening socket behaves.
type Options struct {
	// NonBlocking makes accept(2) return EAGAIN instead of waiting: what
	// an event loop needs, since it must never wait anywhere but epoll.
	NonBlocking bool
	// ReusePort lets several sockets listen on one port, the kernel
	// spreading new connections between them (SO_REUSEPORT). It is how
	// several event loops each get their own accept queue.
	ReusePort bool
	// Backlog is the accept queue length; 0 means 4096.
	Backlog int
}

// Listen opens an IPv4 TCP socket listening on addr ("127.0.0.1:PORT"; port
// 0 picks a free one) and returns its descriptor and the address bound.
func Listen(addr string, opt Options) (fd int, bound string, err error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return -1, "", fmt.Errorf("listen %s: want an IPv4 address:port", addr)
	}
	typ := unix.SOCK_STREAM | unix.SOCK_CLOEXEC
	if opt.NonBlocking {
		typ |= unix.SOCK_NONBLOCK
	}
	fd, err = unix.Socket(unix.AF_INET, typ, 0)
	if err != nil {
		return -1, "", fmt.Errorf("socket: %w", err)
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	// SO_REUSEADDR lets a restarted server bind its port at once, instead
	// of waiting out the old connections' TIME_WAIT.
	if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return -1, "", fmt.Errorf("setsockopt SO_REUSEADDR: %w", err)
	}
	if opt.ReusePort {
		if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return -1, "", fmt.Errorf("setsockopt SO_REUSEPORT: %w", err)
		}
	}
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	if err = unix.Bind(fd, sa); err != nil {
		return -1, "", fmt.Errorf("bind %s: %w", addr, err)
	}
	backlog := opt.Backlog
	if backlog == 0 {
		backlog = 4096
	}
	if err = unix.Listen(fd, backlog); err != nil {
		return -1, "", fmt.Errorf("listen %s: %w", addr, err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return -1, "", fmt.Errorf("getsockname: %w", err)
	}
	in4 := got.(*unix.SockaddrInet4)
	bound = net.JoinHostPort(netip.AddrFrom4(in4.Addr).String(), fmt.Sprint(in4.Port))
	return fd, bound, nil
}

// SetNoDelay turns off Nagle's algorithm on a connection, so a small
// response head is sent at once instead of waiting to be merged with more
// data. Go's net package does the same for every TCP connection.
func SetNoDelay(fd int) error {
	return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
}

// UnsentLimit caps how much of a response may sit in a socket's send queue
// not yet sent (TCP_NOTSENT_LOWAT): a write or sendfile(2) stops queueing,
// and epoll stops saying "writable", while more than this waits to go out.
//
// Why it matters on loopback, where both ends share one machine. TCP sends
// what the window allows at once, inside the write, on the server's core;
// what it cannot send yet waits in the queue, and is pushed out later by
// the client's ACKs: in the client's softirq, on the CLIENT's core. Left
// alone, the kernel grows the send buffer to megabytes, so a 1 MiB answer
// is queued whole and most of its sending lands on the load generator,
// which saturates while the server idles. Capping only the UNSENT part
// keeps the big buffer for data in flight and keeps the server doing its
// own sending (docs/results/peers-analysis.md has the runs). Small answers
// are unaffected; the price is more wake-ups per large file.
const UnsentLimit = 128 << 10

// LimitUnsent applies UnsentLimit to the connection fd. A failure only
// leaves the kernel's default, so it is not reported.
func LimitUnsent(fd int) {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, UnsentLimit)
}

// Unread reports whether the kernel holds bytes received on the connection
// fd that have not been read yet (FIONREAD, which sockets call SIOCINQ): a
// server about to close asks it, because closing with unread input turns
// the close into a reset (see servers.Session.Linger).
func Unread(fd int) bool {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	return err == nil && n > 0
}

// Tune readies a connection just accepted by an event loop: no Nagle
// (SetNoDelay), so that a response head leaves at once; the unsent limit
// (LimitUnsent), so that a large body is sent from the server's core, not
// the client's; and, when sendBuffer > 0, that send buffer (SO_SNDBUF),
// which tests shrink to force short writes. A failure only leaves the
// kernel's default (the client already gone shows up on the first read).
func Tune(fd, sendBuffer int) {
	SetNoDelay(fd)
	LimitUnsent(fd)
	if sendBuffer > 0 {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sendBuffer)
	}
}

// Spare is a descriptor held in reserve for the moment accept(2) fails
// with EMFILE or ENFILE. The trap then: the client stays in the kernel's
// queue, so the listener stays ready, and a loop that just returns is told
// so again at once, for ever — 100% CPU doing nothing. The trick (from
// libev's documentation; nginx instead stops accepting for a while): close
// the spare, which frees one slot; accept the waiting client into it and
// close it at once, which tells it "no" instead of leaving it hanging;
// take the spare back. The zero Spare holds none.
type Spare struct {
	fd int // the descriptor plus one; 0: none held
}

// Take opens the spare, on /dev/null, if none is held. It may fail (the
// table is full): Held says.
func (s *Spare) Take() {
	if s.fd > 0 {
		return
	}
	if fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		s.fd = fd + 1
	}
}

// Held reports whether a spare is in hand.
func (s *Spare) Held() bool { return s.fd > 0 }

// Refuse spends the spare on one client waiting on the listening socket
// lfd: it accepts it into the slot the spare frees, calls refused (to count
// it: before the close, so that a client that sees its connection end also
// finds it counted), closes it, and takes the spare back. It returns
// accept's error: EAGAIN when no client was waiting.
func (s *Spare) Refuse(lfd int, refused func()) error {
	s.Close()
	fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	if err == nil {
		refused()
		unix.Close(fd)
	}
	s.Take()
	return err
}

// Close lets the spare go.
func (s *Spare) Close() {
	if s.fd > 0 {
		unix.Close(s.fd - 1)
		s.fd = 0
	}
}

// Pair makes a channel between a parent and the child process it starts:
// a pair of connected Unix stream sockets, the parent's end as a net.Conn,
// the child's as an *os.File to pass as one of exec.Cmd.ExtraFiles and
// close once the child has started. Both are close-on-exec: only the
// descriptor the child is given on purpose crosses exec. name names the
// ends (name, and name's child's end) and the errors.
func Pair(name string) (net.Conn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: socketpair: %w", name, err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), name), os.NewFile(uintptr(fds[1]), name+" (child's end)")
	conn, err := net.FileConn(ours)
	ours.Close() // FileConn made its own descriptor
	if err != nil {
		theirs.Close()
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return conn, theirs, nil
}
