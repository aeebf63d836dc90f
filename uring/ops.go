package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Filling in SQEs: one small function per operation, each the io_uring
// form of a system call a blocking server makes. Where an SQE points into
// our memory (a buffer, a path, an iovec), that memory must stay put and
// alive until the completion arrives — the kernel writes into it, or reads
// from it, long after the function returns. Go's garbage collector never
// moves heap objects, so it is enough that the connection keeps a
// reference to each one until then; nothing here points into a goroutine
// stack, which can move.

// ptr is the address of p's first byte, as the kernel wants it.
func ptr(p []byte) uint64 {
	if len(p) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&p[0])))
}

// nop does nothing and completes: the smallest round trip through the ring.
func (s *sqe) nop(ud uint64) {
	s.opcode, s.fd, s.userData = opNop, -1, ud
}

// acceptMulti is accept4(fd, NULL, NULL, SOCK_CLOEXEC), armed once and
// completed once per connection (each completion's result is the new
// socket), for as long as it is not cancelled and does not fail.
func (s *sqe) acceptMulti(fd int, ud uint64) {
	s.opcode, s.fd, s.userData = opAccept, int32(fd), ud
	s.ioprio = acceptMultishot
	s.opFlags = unix.SOCK_CLOEXEC
}

// recvSelect is recv(fd, buf, max, 0), where buf is not ours to give: the
// kernel takes one from the provided-buffer group when data arrives. Until
// then the request holds no memory at all.
func (s *sqe) recvSelect(fd int, max int, group uint16, ud uint64) {
	s.opcode, s.fd, s.userData = opRecv, int32(fd), ud
	s.len = uint32(max)
	s.flags = sqeBufferSelect
	s.bufGroup = group
}

// recv is recv(fd, p, len(p), 0) into a buffer of our own.
func (s *sqe) recv(fd int, p []byte, ud uint64) {
	s.opcode, s.fd, s.userData = opRecv, int32(fd), ud
	s.addr, s.len = ptr(p), uint32(len(p))
}

// send is send(fd, p, len(p), MSG_NOSIGNAL). MSG_NOSIGNAL: a send to a
// socket the client reset returns EPIPE instead of raising SIGPIPE.
func (s *sqe) send(fd int, p []byte, ud uint64) {
	s.opcode, s.fd, s.userData = opSend, int32(fd), ud
	s.addr, s.len = ptr(p), uint32(len(p))
	s.opFlags = unix.MSG_NOSIGNAL
}

// sendmsg is sendmsg(fd, msg, MSG_NOSIGNAL): a head and a body in one
// request, gathered from two buffers.
func (s *sqe) sendmsg(fd int, msg *unix.Msghdr, ud uint64) {
	s.opcode, s.fd, s.userData = opSendmsg, int32(fd), ud
	s.addr, s.len = uint64(uintptr(unsafe.Pointer(msg))), 1
	s.opFlags = unix.MSG_NOSIGNAL
}

// read is pread(fd, p, len(p), off).
func (s *sqe) read(fd int, p []byte, off int64, ud uint64) {
	s.opcode, s.fd, s.userData = opRead, int32(fd), ud
	s.addr, s.len, s.off = ptr(p), uint32(len(p)), uint64(off)
}

// openat2 is openat2(dirfd, path, how, sizeof *how). path must end in a
// NUL byte.
func (s *sqe) openat2(dirfd int, path []byte, how *unix.OpenHow, ud uint64) {
	s.opcode, s.fd, s.userData = opOpenat2, int32(dirfd), ud
	s.addr = ptr(path)
	s.len = uint32(unsafe.Sizeof(*how))
	s.off = uint64(uintptr(unsafe.Pointer(how)))
}

// fstatx is statx(fd, "", AT_EMPTY_PATH, mask, st): fstat(2) through the
// ring. empty must be a NUL byte that outlives the request.
func (s *sqe) fstatx(fd int, empty *byte, mask uint32, st *unix.Statx_t, ud uint64) {
	s.opcode, s.fd, s.userData = opStatx, int32(fd), ud
	s.addr = uint64(uintptr(unsafe.Pointer(empty)))
	s.len = mask
	s.off = uint64(uintptr(unsafe.Pointer(st)))
	s.opFlags = unix.AT_EMPTY_PATH
}

// close is close(fd).
func (s *sqe) close(fd int, ud uint64) {
	s.opcode, s.fd, s.userData = opClose, int32(fd), ud
}

// shutdown is shutdown(fd, how).
func (s *sqe) shutdown(fd, how int, ud uint64) {
	s.opcode, s.fd, s.userData = opShutdown, int32(fd), ud
	s.len = uint32(how)
}

// timeout completes when ts has passed (a duration, or with abs a point
// on CLOCK_MONOTONIC), with -ETIME.
func (s *sqe) timeout(ts *timespec, flags uint32, ud uint64) {
	s.opcode, s.fd, s.userData = opTimeout, -1, ud
	s.addr, s.len = uint64(uintptr(unsafe.Pointer(ts))), 1
	s.opFlags = flags
}

// updateTimeout moves the timeout whose user data is target to ts.
func (s *sqe) updateTimeout(target uint64, ts *timespec, flags uint32, ud uint64) {
	s.opcode, s.fd, s.userData = opTimeoutRemove, -1, ud
	s.addr = target
	s.off = uint64(uintptr(unsafe.Pointer(ts)))
	s.opFlags = timeoutUpdate | flags
}

// linkTimeout bounds the request linked before it: if that has not
// completed when ts passes, it is cancelled (and completes with
// -ECANCELED).
func (s *sqe) linkTimeout(ts *timespec, ud uint64) {
	s.opcode, s.fd, s.userData = opLinkTimeout, -1, ud
	s.addr, s.len = uint64(uintptr(unsafe.Pointer(ts))), 1
}

// cancel cancels the request whose user data is target.
func (s *sqe) cancel(target uint64, ud uint64) {
	s.opcode, s.fd, s.userData = opAsyncCancel, -1, ud
	s.addr = target
}

// cancelFd cancels every request in flight on descriptor fd.
func (s *sqe) cancelFd(fd int, ud uint64) {
	s.opcode, s.fd, s.userData = opAsyncCancel, int32(fd), ud
	s.opFlags = cancelFd | cancelAll
}

// durationSpec turns nanoseconds into a timespec.
func durationSpec(ns int64) timespec {
	if ns < 0 {
		ns = 0
	}
	return timespec{sec: ns / 1e9, nsec: ns % 1e9}
}
