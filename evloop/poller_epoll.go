package evloop

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// epollPoller is the epoll(7) backend, the default. The interest list lives in
// the kernel: epoll_ctl changes it one descriptor at a time, and epoll_wait
// returns only the descriptors that are ready, however many are watched.
type epollPoller struct {
	epfd   int
	events []unix.EpollEvent // filled by epoll_wait, reused every turn
}

func newEpollPoller(maxEvents int) (*epollPoller, error) {
	// EPOLL_CLOEXEC: a child process (the tests' serve, say) must not
	// inherit the loop's epoll instance.
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	return &epollPoller{epfd: fd, events: make([]unix.EpollEvent, maxEvents)}, nil
}

func (p *epollPoller) add(fd int, ev events) error { return p.ctl(unix.EPOLL_CTL_ADD, fd, ev) }
func (p *epollPoller) mod(fd int, ev events) error { return p.ctl(unix.EPOLL_CTL_MOD, fd, ev) }
func (p *epollPoller) del(fd int) error            { return p.ctl(unix.EPOLL_CTL_DEL, fd, 0) }

func (p *epollPoller) ctl(op, fd int, ev events) error {
	// No EPOLLET flag: level-triggered (doc.go explains the choice). The
	// event carries the descriptor itself, which indexes the loop's
	// connection table: no pointer has to round-trip through the kernel.
	e := unix.EpollEvent{Fd: int32(fd)}
	if ev&readable != 0 {
		e.Events |= unix.EPOLLIN
	}
	if ev&writable != 0 {
		e.Events |= unix.EPOLLOUT
	}
	// DEL ignores the event, but kernels before 2.6.9 wanted a non-nil one.
	if err := unix.EpollCtl(p.epfd, op, fd, &e); err != nil {
		return fmt.Errorf("epoll_ctl fd %d: %w", fd, err)
	}
	return nil
}

func (p *epollPoller) wait(ready []event, msec int) (int, error) {
	n, err := unix.EpollWait(p.epfd, p.events[:len(ready)], msec)
	if err != nil {
		return 0, err // EINTR included: the loop decides what it means
	}
	for i, e := range p.events[:n] {
		var ev events
		if e.Events&unix.EPOLLIN != 0 {
			ev |= readable
		}
		if e.Events&unix.EPOLLOUT != 0 {
			ev |= writable
		}
		// An error or a hang-up is reported as both readable and
		// writable, as redis's ae_epoll.c does: whichever step the
		// connection is in then calls read or write, and that call
		// returns the error through the ordinary path. No special
		// error-handling path is needed.
		if e.Events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			ev |= readable | writable
		}
		ready[i] = event{fd: int(e.Fd), ev: ev}
	}
	return n, nil
}

func (p *epollPoller) close() error { return unix.Close(p.epfd) }

func (p *epollPoller) name() string { return "epoll_wait" }
