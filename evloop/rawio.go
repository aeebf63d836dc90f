package evloop

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The loop's reads and writes on its sockets, made as raw system calls.
//
// Go's usual system call (syscall.Syscall, under unix.Read and friends)
// tells the scheduler "this thread may block in the kernel": on the way in
// it marks the goroutine as in a system call, so that if the call lasts,
// the runtime's monitor (sysmon) can hand the goroutine's P, its right to
// run Go code, to another thread; on the way out it takes the P back. That
// is right for a call that may sleep, and wasted on one that cannot: every
// socket here is non-blocking, so read and write return at once, with data
// or EAGAIN. Worse, a write to a loopback socket runs the receiving side's
// TCP processing in the same call, tens of microseconds, long enough for
// sysmon to take the P away from a loop that was never going to sleep
// (see "The loop and the Go runtime" in doc.go). RawSyscall skips all of
// that: the runtime sees a goroutine running Go code.
//
// They call the standard library's syscall.RawSyscall, not unix.RawSyscall:
// the latter is an assembly stub that jumps to the former through an ABI
// wrapper, two calls more on every read and write for nothing.
//
// The one wait that does sleep, epoll_wait, stays an ordinary system call:
// while the loop sleeps there, its P must be free for the rest of the
// program, the garbage collector included.

// rawRead is read(2) on a non-blocking descriptor.
func rawRead(fd int, p []byte) (int, error) {
	return rawRW(unix.SYS_READ, fd, p)
}

// rawWrite is write(2) on a non-blocking descriptor.
func rawWrite(fd int, p []byte) (int, error) {
	return rawRW(unix.SYS_WRITE, fd, p)
}

func rawRW(trap uintptr, fd int, p []byte) (int, error) {
	var buf unsafe.Pointer
	if len(p) > 0 {
		buf = unsafe.Pointer(&p[0])
	}
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(buf), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// rawWritev is writev(2) of the non-empty slices of bufs on a non-blocking
// descriptor, with iov as the kernel's argument (kept by the caller, so
// that a write allocates nothing).
func rawWritev(fd int, iov []unix.Iovec, bufs ...[]byte) (int, error) {
	n := fillIovec(iov, bufs)
	if n == 0 {
		return 0, nil
	}
	w, _, errno := syscall.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
	clear(iov[:n]) // no pointers into buffers left for the collector to keep
	if errno != 0 {
		return 0, errno
	}
	return int(w), nil
}

// rawSendMore is sendmsg(2) of the non-empty slices of bufs with MSG_MORE:
// "more follows at once". A head sent alone, with TCP_NODELAY on, would
// leave as a packet of its own, a few hundred bytes, ahead of the body's
// full-sized ones; with MSG_MORE the kernel holds it back to share the
// first packet of the sendfile(2) that follows, whose last part is sent
// without the flag and pushes everything out. nginx does the same with
// TCP_CORK (its tcp_nopush), at the price of two setsockopt calls per
// response.
func rawSendMore(fd int, iov []unix.Iovec, bufs ...[]byte) (int, error) {
	n := fillIovec(iov, bufs)
	if n == 0 {
		return 0, nil
	}
	msg := unix.Msghdr{Iov: &iov[0]}
	msg.SetIovlen(n)
	w, _, errno := syscall.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_MORE)
	clear(iov[:n])
	if errno != 0 {
		return 0, errno
	}
	return int(w), nil
}

// fillIovec points iov at the non-empty slices of bufs, and says how many.
func fillIovec(iov []unix.Iovec, bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		if len(b) > 0 {
			iov[n].Base = &b[0]
			iov[n].SetLen(len(b))
			n++
		}
	}
	return n
}
