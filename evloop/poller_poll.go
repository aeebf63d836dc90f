package evloop

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// pollPoller is the poll(2) backend (Options.Poller "poll"). The interest list
// lives in user space, in fds, and is handed to the kernel whole on every
// wait: the kernel checks every entry, and then the loop scans every entry
// again to find the ones that are ready. With ten thousand idle connections
// and one busy one, each turn of the loop still walks ten thousand entries
// twice — the cost epoll was invented to remove.
type pollPoller struct {
	fds []unix.PollFd
	// at[fd] is fd's index in fds, or -1. Removing an entry moves the last
	// one into its place, so add and del are O(1).
	at []int32
}

func newPollPoller() *pollPoller { return &pollPoller{} }

func (p *pollPoller) add(fd int, ev events) error {
	for fd >= len(p.at) {
		p.at = append(p.at, -1)
	}
	p.at[fd] = int32(len(p.fds))
	p.fds = append(p.fds, unix.PollFd{Fd: int32(fd), Events: pollMask(ev)})
	return nil
}

func (p *pollPoller) mod(fd int, ev events) error {
	p.fds[p.at[fd]].Events = pollMask(ev)
	return nil
}

func (p *pollPoller) del(fd int) error {
	if fd >= len(p.at) || p.at[fd] < 0 {
		return fmt.Errorf("poll: fd %d is not watched", fd)
	}
	i, last := p.at[fd], len(p.fds)-1
	p.fds[i] = p.fds[last]
	p.at[p.fds[i].Fd] = i
	p.fds = p.fds[:last]
	p.at[fd] = -1
	return nil
}

func pollMask(ev events) int16 {
	var m int16
	if ev&readable != 0 {
		m |= unix.POLLIN
	}
	if ev&writable != 0 {
		m |= unix.POLLOUT
	}
	return m
}

func (p *pollPoller) wait(ready []event, msec int) (int, error) {
	n, err := unix.Poll(p.fds, msec)
	if err != nil || n <= 0 {
		return 0, err
	}
	// Here is the scan that epoll avoids: every watched descriptor is
	// looked at to find the n that are ready.
	k := 0
	for _, pfd := range p.fds {
		if pfd.Revents == 0 {
			continue
		}
		var ev events
		if pfd.Revents&unix.POLLIN != 0 {
			ev |= readable
		}
		if pfd.Revents&unix.POLLOUT != 0 {
			ev |= writable
		}
		// As in the epoll backend: an error is handed to the ordinary
		// read and write paths, which will meet it.
		if pfd.Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			ev |= readable | writable
		}
		ready[k] = event{fd: int(pfd.Fd), ev: ev}
		k++
		if k == len(ready) {
			break // the rest are still ready next turn (level-triggered)
		}
	}
	return k, nil
}

func (p *pollPoller) close() error { return nil }

func (p *pollPoller) name() string { return "poll" }
