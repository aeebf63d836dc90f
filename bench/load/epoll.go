package load

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// epollSet is an epoll set that waits the way a goroutine should: parked
// in Go's own network poller, not blocked in epoll_wait(2).
//
// Why not simply call unix.EpollWait with a timeout? A goroutine blocked
// in a system call keeps its processor (P) until the runtime's monitor
// thread notices and hands it on, and the monitor looks less often the
// quieter the process is: up to every 10 ms. The load generator is pinned
// to one CPU, so it has a single P, and while one of its loops slept in
// epoll_wait, every other goroutine (the open-loop clients waiting for
// their next due time, the sampler) could wait up to 10 ms for it. That
// showed as 10-15 ms tails in open-loop runs against a server idling at
// 10,000 requests/s, and vanished when the generator was not pinned. So
// the set's own descriptor, which is readable whenever the set has events
// to report, is handed to Go's poller, and a loop with nothing to do parks
// like any goroutine blocked on a socket. When there are events, a wait
// costs one epoll_wait with a zero timeout, exactly as before.
type epollSet struct {
	fd int             // the epoll instance, for epoll_ctl
	f  *os.File        // the same descriptor, registered with Go's poller
	rc syscall.RawConn // f's, to wait on
}

func newEpollSet() (*epollSet, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	// Go's poller takes only non-blocking descriptors.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("epoll set non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(fd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("epoll set: %w", err)
	}
	return &epollSet{fd: fd, f: f, rc: rc}, nil
}

// ctl adds, changes or removes fd's interest, the event carrying id.
func (s *epollSet) ctl(op, fd int, events uint32, id int32) error {
	ev := unix.EpollEvent{Events: events, Fd: id}
	if err := unix.EpollCtl(s.fd, op, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// wait fills events with what is ready, waiting until something is or
// until the deadline (zero: no deadline), and returns how many. Reaching
// the deadline is not an error: it returns 0.
func (s *epollSet) wait(events []unix.EpollEvent, deadline time.Time) (int, error) {
	if err := s.f.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	var n int
	var werr error
	err := s.rc.Read(func(fd uintptr) bool {
		// Poll, never block: if nothing is ready, returning false
		// parks the goroutine until the set becomes readable.
		n, werr = unix.EpollWait(int(fd), events, 0)
		return n > 0 || (werr != nil && werr != unix.EINTR)
	})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case err != nil:
		return 0, err
	case werr != nil:
		return 0, fmt.Errorf("epoll_wait: %w", werr)
	}
	return n, nil
}

// close closes the set; a wait in progress returns an error.
func (s *epollSet) close() error { return s.f.Close() }
