package sock

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// EpollWait is epoll_wait(2) for a busy event loop: it first asks the
// kernel for ready events without waiting, and only if there are none does
// it wait up to msec milliseconds (-1: no limit) as unix.EpollWait does.
//
// Why it matters. Go's scheduler must know when a goroutine may block in
// the kernel, so an ordinary system call (unix.EpollWait, unix.Read) tells
// the runtime on the way in and out. If the call lasts a while, the
// runtime's monitor thread hands the goroutine's processor to another
// thread so other goroutines can run; when the call returns, the goroutine
// must win a processor back. For a loop that calls epoll_wait a hundred
// thousand times a second, most calls find events already waiting, yet each
// one risks that handoff: thread switches, futex wake-ups, cache misses,
// all on a core the loop needed. A poll with a zero timeout cannot block,
// so it may skip the runtime's bookkeeping (RawSyscall6), and under load it
// is the only call made. gnet's poller does the same.
//
// An interrupted raw poll (a signal, such as the runtime preempting a
// goroutine that ran too long) returns EINTR, like any epoll_wait.
func EpollWait(epfd int, events []unix.EpollEvent, msec int) (int, error) {
	if len(events) == 0 {
		return 0, unix.EINVAL
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	if n > 0 || msec == 0 {
		return int(n), nil
	}
	return unix.EpollWait(epfd, events, msec)
}
