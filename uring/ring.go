package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring is one io_uring instance: two queues in memory shared with the
// kernel.
//
//	      we write                              the kernel writes
//	+-----------------------+             +-----------------------+
//	| submission queue (SQ) |  enter(2)   | completion queue (CQ) |
//	| SQEs: "recv on fd 7,  | ----------> | CQEs: "user data X:   |
//	|  user data X"         |             |  result 312 bytes"    |
//	+-----------------------+             +-----------------------+
//	 we move the tail,                     the kernel moves the tail,
//	 the kernel the head                   we move the head
//
// Each queue is a ring of slots with a head and a tail counter, which only
// ever grow (they wrap at 2^32; a slot is counter & mask). One side
// produces at the tail, the other consumes at the head, and neither ever
// takes a lock: the order of the memory accesses around the two counters
// is the whole protocol (see publish and completions).
//
// A ring belongs to one goroutine, locked to its OS thread: nothing here is
// safe for concurrent use, and with IORING_SETUP_SINGLE_ISSUER the kernel
// itself refuses a second thread.
type ring struct {
	fd       int
	features uint32
	flags    uint32 // the setup flags the kernel accepted
	enabled  bool   // submissions allowed (see ringOptions.disabled)

	mem  []byte // the SQ and CQ rings, one mapping (IORING_FEAT_SINGLE_MMAP)
	sqeM []byte // the SQE array, a second mapping

	// The submission queue. khead, ktail and kflags point into mem.
	sqHead, sqTail, sqFlags *uint32
	sqMask, sqEntries       uint32
	sqes                    []sqe
	tail                    uint32 // our tail: SQEs filled in, not yet published

	// The completion queue.
	cqHead, cqTail, cqOverflow *uint32
	cqMask, cqEntries          uint32
	cqes                       []cqe

	// backlog holds SQEs the submission queue had no room for, even after
	// a submit (the kernel answered EBUSY or EAGAIN: it is short of memory,
	// or has completions it cannot post until we read ours). They are moved
	// into the queue, in order, by the next submit: never lost.
	backlog []sqe
	spill   int // the next spill SQEs go to the backlog (see reserve)

	// Counts, for tests and the lesson's "system calls per request".
	enters, submitted, completed, overflowSeen uint64
}

// ringOptions choose how a ring is set up.
type ringOptions struct {
	entries   uint32 // SQ slots (a power of two)
	cqEntries uint32 // CQ slots: more than the SQ, so bursts of completions fit
	// singleIssuer sets IORING_SETUP_SINGLE_ISSUER and DEFER_TASKRUN: the
	// kernel then runs completions only when the ring's thread waits for
	// them, in a batch, instead of interrupting it whenever one is ready.
	// Both need one thread to do every submission: the one that made the
	// ring or, with disabled, the one that calls enable.
	singleIssuer bool
	// disabled starts the ring disabled (IORING_SETUP_R_DISABLED), so that
	// one goroutine may set it up and register its buffers, and the loop's
	// own thread, later, enable it and become its one submitter.
	disabled bool
}

// newRing sets up a ring: io_uring_setup(2), then mmap(2) of its queues.
func newRing(o ringOptions) (*ring, error) {
	base := uint32(setupCQSize | setupClamp | setupSubmitAll)
	if o.disabled {
		base |= setupRDisabled
	}
	p := params{flags: base | setupCoopTaskrun, cqEntries: o.cqEntries}
	if o.singleIssuer {
		p.flags = base | setupSingleIssuer | setupDeferTaskrun
	}
	fd, err := setup(o.entries, &p)
	if err == unix.EINVAL && o.singleIssuer {
		// DEFER_TASKRUN came in Linux 6.1: without it, the default.
		p = params{flags: base | setupCoopTaskrun, cqEntries: o.cqEntries}
		fd, err = setup(o.entries, &p)
	}
	if err != nil {
		return nil, setupError(err)
	}
	r := &ring{fd: fd, features: p.features, flags: p.flags, enabled: !o.disabled}
	if err := r.mapQueues(&p); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func setup(entries uint32, p *params) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// mapQueues maps the rings into our memory. The kernel tells us, in
// params, at which offset of the mapping each counter and array lives.
func (r *ring) mapQueues(p *params) error {
	if p.features&featSingleMmap == 0 || p.features&featNoDrop == 0 {
		return errors.New("the kernel lacks IORING_FEAT_SINGLE_MMAP or IORING_FEAT_NODROP (Linux 5.5+)")
	}
	sqSize := p.sqOff.array + p.sqEntries*4
	cqSize := p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(cqe{}))
	size := max(sqSize, cqSize)
	var err error
	// MAP_POPULATE: touch the pages now, so the first requests do not
	// take page faults in the kernel's submission path.
	r.mem, err = unix.Mmap(r.fd, offSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("io_uring: mmap rings: %w", err)
	}
	r.sqeM, err = unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("io_uring: mmap SQEs: %w", err)
	}
	u32 := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.mem[off])) }
	r.sqHead, r.sqTail, r.sqFlags = u32(p.sqOff.head), u32(p.sqOff.tail), u32(p.sqOff.flags)
	r.sqMask, r.sqEntries = *u32(p.sqOff.ringMask), *u32(p.sqOff.ringEntries)
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&r.sqeM[0])), p.sqEntries)
	r.cqHead, r.cqTail, r.cqOverflow = u32(p.cqOff.head), u32(p.cqOff.tail), u32(p.cqOff.overflow)
	r.cqMask, r.cqEntries = *u32(p.cqOff.ringMask), *u32(p.cqOff.ringEntries)
	r.cqes = unsafe.Slice((*cqe)(unsafe.Pointer(&r.mem[p.cqOff.cqes])), p.cqEntries)
	// The SQ has one more level of indirection than the CQ: an array of
	// indices into the SQE array, so that an application may fill SQEs
	// in any order. We fill them in ring order, so slot i holds index i,
	// written once here.
	array := unsafe.Slice((*uint32)(unsafe.Pointer(&r.mem[p.sqOff.array])), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.tail = atomic.LoadUint32(r.sqTail)
	return nil
}

// enable starts a ring set up disabled. With SINGLE_ISSUER, the calling
// thread becomes the only one that may submit.
func (r *ring) enable() error {
	if r.enabled {
		return nil
	}
	if err := r.register(registerEnableRings, nil, 0); err != nil {
		return fmt.Errorf("io_uring: IORING_REGISTER_ENABLE_RINGS: %w", err)
	}
	r.enabled = true
	return nil
}

// close unmaps the rings and closes the ring. The kernel cancels whatever
// is still in flight.
func (r *ring) close() {
	if r.sqeM != nil {
		unix.Munmap(r.sqeM)
		r.sqeM = nil
	}
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
}

// space is how many SQ slots are free.
func (r *ring) space() uint32 {
	// Acquire: the kernel moves the head once it has copied an SQE out of
	// its slot, and only then may we write a new one there.
	return r.sqEntries - (r.tail - atomic.LoadUint32(r.sqHead))
}

// get returns a zeroed SQE to fill in. When the queue is full it first
// submits what is queued; if the kernel cannot take that now either, the
// SQE goes to the backlog, to be queued by the next submit.
func (r *ring) get() *sqe {
	if r.spill == 0 && len(r.backlog) == 0 {
		if r.space() == 0 {
			r.submit()
		}
		if r.space() > 0 {
			s := &r.sqes[r.tail&r.sqMask]
			*s = sqe{}
			r.tail++
			return s
		}
	}
	if r.spill > 0 {
		r.spill--
	}
	r.backlog = append(r.backlog, sqe{})
	return &r.backlog[len(r.backlog)-1]
}

// reserve makes sure the next n SQEs go into the queue together, before a
// chain of n linked requests is filled in. A chain must reach the kernel in
// one submit: the link ends where a submit ends.
func (r *ring) reserve(n int) {
	if len(r.backlog) > 0 || r.spill > 0 {
		r.spill = max(r.spill, n)
		return
	}
	if r.space() < uint32(n) {
		r.submit()
	}
	if r.space() < uint32(n) {
		r.spill = n
	}
}

// publish makes the filled-in SQEs visible to the kernel, moving the
// backlog in first as far as there is room for whole chains.
func (r *ring) publish() {
	if len(r.backlog) > 0 {
		r.unspill()
	}
	// Store-release: every write to the SQEs before this line is visible
	// to the kernel before the new tail is. The kernel loads the tail with
	// acquire semantics and only then reads the slots; in the other order
	// it could read an SQE we have not finished writing.
	atomic.StoreUint32(r.sqTail, r.tail)
}

func (r *ring) unspill() {
	room := int(r.space())
	n := 0 // SQEs that fit, ending on a chain's end
	for i := range r.backlog {
		if i >= room {
			break
		}
		if r.backlog[i].flags&(sqeIOLink|sqeIOHardlink) == 0 {
			n = i + 1
		}
	}
	for _, s := range r.backlog[:n] {
		r.sqes[r.tail&r.sqMask] = s
		r.tail++
	}
	r.backlog = append(r.backlog[:0], r.backlog[n:]...)
}

// pending is how many published-or-filled SQEs the kernel has not taken.
func (r *ring) pending() uint32 {
	return r.tail - atomic.LoadUint32(r.sqHead)
}

// submit hands the queued SQEs to the kernel without waiting for any
// completion.
func (r *ring) submit() error { return r.enter(0) }

// wait submits what is queued and sleeps until at least one completion is
// there to read: the one place the loop sleeps.
func (r *ring) wait() error { return r.enter(1) }

// enter is io_uring_enter(2): submit, and wait for minComplete completions.
func (r *ring) enter(minComplete uint32) error {
	for {
		r.publish()
		toSubmit := r.pending()
		var flags uintptr
		if minComplete > 0 || r.needsFlush() {
			// GETEVENTS also makes the kernel move completions from its
			// overflow list into the CQ, and (with DEFER_TASKRUN) run
			// the completions it has deferred until now.
			flags = enterGetEvents
		}
		if minComplete > 0 && r.ready() > 0 {
			minComplete = 0 // something to read already: don't sleep
		}
		if toSubmit == 0 && flags == 0 {
			return nil
		}
		r.enters++
		n, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit),
			uintptr(minComplete), flags, 0, 0)
		if errno == 0 {
			r.submitted += uint64(n)
			if len(r.backlog) > 0 && r.space() > 0 {
				continue // room again: queue the backlog too
			}
			return nil
		}
		switch errno {
		case unix.EINTR:
			// A signal (Go's runtime preempts goroutines with SIGURG).
			// If we were waiting and something arrived, that is enough.
			if minComplete == 0 || r.ready() > 0 {
				return nil
			}
		case unix.EBUSY, unix.EAGAIN:
			// The kernel cannot take more requests until we read
			// completions (EBUSY: its overflow list is full; EAGAIN:
			// out of memory for requests). What is queued stays
			// queued; the caller reads the CQ and calls again.
			if r.ready() > 0 || minComplete == 0 {
				return nil
			}
			// Nothing to read yet: wait for a completion alone.
			if err := r.waitOnly(); err != nil {
				return err
			}
			return nil
		default:
			return fmt.Errorf("io_uring_enter: %w", errno)
		}
	}
}

// waitOnly waits for one completion without submitting anything.
func (r *ring) waitOnly() error {
	for {
		r.enters++
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), 0, 1, enterGetEvents, 0, 0)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			if r.ready() > 0 {
				return nil
			}
		default:
			return fmt.Errorf("io_uring_enter: %w", errno)
		}
	}
}

// needsFlush reports whether completions wait in the kernel rather than in
// the CQ: overflowed (the CQ was full when they finished) or deferred.
func (r *ring) needsFlush() bool {
	f := atomic.LoadUint32(r.sqFlags)
	if f&sqCQOverflow != 0 {
		r.overflowSeen++
	}
	return f&(sqCQOverflow|sqTaskrun) != 0
}

// ready is how many completions are in the CQ, waiting to be read.
func (r *ring) ready() uint32 {
	return atomic.LoadUint32(r.cqTail) - *r.cqHead
}

// completions yields each completion in the CQ, oldest first, and then any
// the kernel still holds (overflowed, or deferred until we ask). A
// completion's slot is handed back before it is yielded, so the handler may
// submit, and even wait, freely.
func (r *ring) completions(yield func(cqe) bool) {
	for {
		// Load-acquire of the tail: the kernel writes a CQE, then
		// store-releases the tail past it. Acquiring the tail makes
		// every CQE before it visible to us; reading a slot before
		// loading the tail could see an old entry.
		tail := atomic.LoadUint32(r.cqTail)
		head := *r.cqHead // only we write the head
		if head == tail {
			if !r.needsFlush() {
				return
			}
			// Completions wait in the kernel: GETEVENTS without waiting
			// brings them into the CQ.
			if r.enter(0) != nil || r.ready() == 0 {
				return
			}
			continue
		}
		for ; head != tail; head++ {
			c := r.cqes[head&r.cqMask]
			// Store-release of the head: our copy of the slot is
			// complete before the kernel may reuse it.
			atomic.StoreUint32(r.cqHead, head+1)
			r.completed++
			if !yield(c) {
				return
			}
		}
	}
}

// register is io_uring_register(2).
func (r *ring) register(op uintptr, arg unsafe.Pointer, n uintptr) error {
	_, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), op, uintptr(arg), n, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
