package uring

// The kernel's io_uring interface, as the uapi header linux/io_uring.h
// defines it: the few structs and constants this model uses, written out
// by hand because golang.org/x/sys/unix has only the three system call
// numbers. Field order and sizes must match the C structs exactly; the
// test TestABISizes checks the sizes.

// sqe is one submission queue entry, 64 bytes: what to do, on which
// descriptor, with which buffer, and the user data to hand back when it is
// done. Many C fields are unions; each is named here after its most common
// use, and the prep functions in ops.go say which meaning they give it.
type sqe struct {
	opcode   uint8  // IORING_OP_*
	flags    uint8  // IOSQE_*
	ioprio   uint16 // for accept and recv/send: their own flags (multishot)
	fd       int32
	off      uint64 // file offset; or addr2: a second pointer
	addr     uint64 // buffer, path or timespec pointer
	len      uint32 // buffer length; or a count
	opFlags  uint32 // the op's own flags: msg_flags, timeout_flags, ...
	userData uint64 // handed back, unchanged, in the completion
	bufGroup uint16 // buf_index / buf_group: which provided-buffer group
	_        uint16 // personality
	fileIdx  int32  // splice_fd_in / file_index
	addr3    uint64
	_        uint64
}

// cqe is one completion queue entry, 16 bytes: whose request (the user
// data), its result (what the system call would have returned, or -errno),
// and flags (more to come; which provided buffer it used).
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// params is struct io_uring_params: what we ask io_uring_setup for, and
// what it answers — the ring sizes, the features, and where in the mapped
// memory each field of the rings lives.
type params struct {
	sqEntries    uint32
	cqEntries    uint32
	flags        uint32
	sqThreadCPU  uint32
	sqThreadIdle uint32
	features     uint32
	wqFd         uint32
	_            [3]uint32
	sqOff        sqRingOffsets
	cqOff        cqRingOffsets
}

type sqRingOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, _ uint32
	userAddr                                                    uint64
}

type cqRingOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, _ uint32
	userAddr                                                    uint64
}

// Operation codes (enum io_uring_op). Only the ones used here.
const (
	opNop           = 0
	opSendmsg       = 9
	opTimeout       = 11
	opTimeoutRemove = 12
	opAccept        = 13
	opAsyncCancel   = 14
	opLinkTimeout   = 15
	opOpenat        = 18
	opClose         = 19
	opStatx         = 21
	opRead          = 22
	opSend          = 26
	opRecv          = 27
	opOpenat2       = 28
	opShutdown      = 34
)

// opNames names the operations, for messages.
var opNames = map[uint8]string{
	opNop: "NOP", opSendmsg: "SENDMSG", opTimeout: "TIMEOUT", opTimeoutRemove: "TIMEOUT_REMOVE",
	opAccept: "ACCEPT", opAsyncCancel: "ASYNC_CANCEL", opLinkTimeout: "LINK_TIMEOUT",
	opOpenat: "OPENAT", opClose: "CLOSE", opStatx: "STATX", opRead: "READ", opSend: "SEND",
	opRecv: "RECV", opOpenat2: "OPENAT2", opShutdown: "SHUTDOWN",
}

// sqe.flags (IOSQE_*).
const (
	sqeIOLink       = 1 << 2 // the next SQE starts only when this one succeeds
	sqeIOHardlink   = 1 << 3 // ... or when it fails, too
	sqeAsync        = 1 << 4 // go straight to a kernel worker
	sqeBufferSelect = 1 << 5 // the kernel picks a buffer from bufGroup
	sqeCQESkip      = 1 << 6 // no completion if it succeeds
)

// io_uring_setup flags (IORING_SETUP_*).
const (
	setupCQSize       = 1 << 3  // we choose the CQ size (bigger than the SQ)
	setupClamp        = 1 << 4  // clamp the sizes to the kernel's maximum
	setupRDisabled    = 1 << 6  // start disabled: no submissions until enabled
	setupSubmitAll    = 1 << 7  // a failing SQE does not stop the batch
	setupCoopTaskrun  = 1 << 8  // no interrupt to run completions
	setupSingleIssuer = 1 << 12 // one thread submits
	setupDeferTaskrun = 1 << 13 // completions are run only when we wait
)

// Features the kernel reports (IORING_FEAT_*).
const (
	featSingleMmap   = 1 << 0 // both rings in one mapping
	featNoDrop       = 1 << 1 // a full CQ keeps completions, never drops them
	featSubmitStable = 1 << 2 // what an SQE points to is copied at submit
	featExtArg       = 1 << 8
)

// The SQ ring's flags word (IORING_SQ_*).
const (
	sqNeedWakeup = 1 << 0
	sqCQOverflow = 1 << 1 // completions are waiting in the kernel's overflow list
	sqTaskrun    = 1 << 2 // completions are waiting to be run
)

// io_uring_enter flags.
const enterGetEvents = 1 << 0

// cqe.flags.
const (
	cqeFBuffer       = 1 << 0 // the upper 16 bits are the provided buffer's ID
	cqeFMore         = 1 << 1 // the request stays armed: more completions follow
	cqeFSockNonempty = 1 << 2
	cqeBufferShift   = 16
)

// Op-specific flags.
const (
	acceptMultishot = 1 << 0 // sqe.ioprio of ACCEPT: one request, a completion per client
	recvPollFirst   = 1 << 0 // sqe.ioprio of RECV: wait for data before trying

	timeoutAbs          = 1 << 0 // the timespec is a point on the clock, not a duration
	timeoutUpdate       = 1 << 1 // TIMEOUT_REMOVE: move the timeout instead
	timeoutEtimeSuccess = 1 << 5 // expiring counts as success for the link that follows

	cancelAll      = 1 << 0 // every match, not just the first
	cancelFd       = 1 << 1 // match on the descriptor, not the user data
	cancelAny      = 1 << 2
	cancelUserData = 1 << 4
)

// io_uring_register opcodes.
const (
	registerProbe       = 8
	registerEnableRings = 12
	registerPbufRing    = 22
	unregisterPbufRing  = 23
)

// mmap offsets of the rings (IORING_OFF_*).
const (
	offSQRing = 0
	offSQEs   = 0x10000000
)

// probeOp is struct io_uring_probe_op; probeHeader is io_uring_probe
// without its flexible array.
type probeOp struct {
	op    uint8
	_     uint8
	flags uint16 // opSupported
	_     uint32
}

type probeHeader struct {
	lastOp uint8
	opsLen uint8
	_      uint16
	_      [3]uint32
}

const opSupported = 1 << 0

// bufReg is struct io_uring_buf_reg, the argument that registers a ring of
// provided buffers.
type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	_           [6]uint32 // min_left and resv
}

// bufEntry is struct io_uring_buf, one slot of a provided-buffer ring.
type bufEntry struct {
	addr uint64
	len  uint32
	bid  uint16
	_    uint16 // slot 0's is the ring's tail (see bufring.go)
}

// timespec is struct __kernel_timespec.
type timespec struct {
	sec  int64
	nsec int64
}
