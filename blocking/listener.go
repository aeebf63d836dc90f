package blocking

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/internal/backoff"
	"serverlab/internal/sock"
)

// ErrListenerStopped is what Accept returns once Stop has been called.
var ErrListenerStopped = errors.New("blocking: listener stopped")

// AcceptPause is the pause before accepting again when the process has run
// out of descriptors: 5 ms, doubling up to 1 s, the same steps as
// net/http's Server.Serve. The threaded model pauses the same way, so that
// the two behave alike under the same shortage.
func AcceptPause() backoff.Doubling {
	return backoff.Doubling{First: 5 * time.Millisecond, Max: time.Second}
}

// Listener is a listening socket in blocking mode: Accept sleeps in the
// kernel until a client connects. The threaded model's OS-thread variant
// accepts through it too.
//
// A thread asleep in accept(2) cannot be woken by close(2) on Linux: the call
// holds its own reference to the socket, so closing the descriptor from
// another thread leaves it asleep (and frees the number for reuse under its
// feet). shutdown(2) on the listening socket does wake it: accept returns
// EINVAL. That is how Stop ends a blocked Accept, and why the descriptor is
// closed only by whichever side is sure no accept(2) is using it.
type Listener struct {
	addr string
	stop chan struct{} // closed by Stop, to cut short a pause in Accept

	mu        sync.Mutex
	fd        int  // -1 once closed
	stopped   bool // Stop was called
	accepting bool // a goroutine is inside accept(2)
}

// Listen opens a blocking listening socket on addr ("127.0.0.1:0" picks a
// free port).
func Listen(addr string) (*Listener, error) {
	fd, bound, err := sock.Listen(addr, sock.Options{})
	if err != nil {
		return nil, err
	}
	return &Listener{fd: fd, addr: bound, stop: make(chan struct{})}, nil
}

// Addr is the address listened on, "127.0.0.1:PORT".
func (l *Listener) Addr() string { return l.addr }

// Accept waits for the next connection and returns its descriptor, in
// blocking mode and close-on-exec. Only one goroutine may call it at a time.
//
// Errors that belong to one failed handshake are retried at once. Running
// out of descriptors (EMFILE, ENFILE) or kernel memory is retried after a
// pause that grows while the shortage lasts: retrying at once would spin at
// 100% CPU, because the connection that cannot be accepted stays in the
// backlog and accept(2) fails again immediately.
//
// The other cure, the "spare descriptor" trick (keep /dev/null open; on
// EMFILE close it, accept, close the new connection, reopen the spare),
// turns the waiting client away with a clean close. We pause instead: the
// clients are not lost but wait in the backlog and are served once
// descriptors come back, which for a short shortage is the kinder answer,
// and it keeps the blocking and threaded models alike.
func (l *Listener) Accept() (int, error) {
	pause := AcceptPause()
	for {
		fd, err := l.accept()
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, ErrListenerStopped):
			return -1, err
		case retryNow(err):
			continue
		case outOfResources(err):
			if !l.sleep(pause.Next()) {
				return -1, ErrListenerStopped
			}
		default:
			return -1, fmt.Errorf("accept on %s: %w", l.addr, err)
		}
	}
}

// accept is one accept(2), with the bookkeeping that lets Stop know whether
// it must wake this call or may close the descriptor itself.
func (l *Listener) accept() (int, error) {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return -1, ErrListenerStopped
	}
	l.accepting = true
	lfd := l.fd
	l.mu.Unlock()

	fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)

	l.mu.Lock()
	defer l.mu.Unlock()
	l.accepting = false
	if l.stopped {
		// Stop woke us with shutdown(2), or came just after a client did.
		// Either way this listener is finished, and so is the client that
		// slipped in: it is closed unanswered, like those still in the
		// backlog.
		if err == nil {
			unix.Close(fd)
		}
		l.release()
		return -1, ErrListenerStopped
	}
	return fd, err
}

// Stop ends the listener: a blocked Accept returns ErrListenerStopped, and
// so does every later one. The clients waiting in the backlog are reset by
// the kernel. Stop may be called more than once, from any goroutine.
func (l *Listener) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	l.stopped = true
	close(l.stop)
	if l.accepting {
		unix.Shutdown(l.fd, unix.SHUT_RDWR) // accept wakes with EINVAL and releases
	} else {
		l.release()
	}
}

// release closes the listening descriptor, once. l.mu must be held.
func (l *Listener) release() {
	if l.fd >= 0 {
		unix.Close(l.fd)
		l.fd = -1
	}
}

// sleep pauses for d, or less if Stop is called; it reports whether the
// listener is still running.
func (l *Listener) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.stop:
		return false
	}
}

// retryNow reports errors that concern only the connection being accepted,
// or nothing at all. accept(2)'s manual asks Linux callers to treat the
// network errors of a handshake gone wrong like EAGAIN and simply try again.
func retryNow(err error) bool {
	switch err {
	case unix.EINTR, unix.EAGAIN, unix.ECONNABORTED, unix.EPROTO,
		unix.ENETDOWN, unix.ENOPROTOOPT, unix.EHOSTDOWN, unix.ENONET,
		unix.EHOSTUNREACH, unix.EOPNOTSUPP, unix.ENETUNREACH:
		return true
	}
	return false
}

// outOfResources reports errors that will last until something else frees
// descriptors or memory: retrying at once would only fail again.
func outOfResources(err error) bool {
	switch err {
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		return true
	}
	return false
}
