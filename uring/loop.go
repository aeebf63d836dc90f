package uring

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/internal/sock"
	"serverlab/internal/spares"
	"serverlab/internal/timers"
	"serverlab/servers"
	"serverlab/trace"
)

// loop is the one event loop: its ring, its listening socket, and every
// connection. Everything in it is touched only by the loop's own thread,
// except the fields under mu, which Shutdown uses to wake it.
type loop struct {
	srv  *server
	cfg  *servers.Config
	opt  Options
	ring *ring
	bufs *bufRing      // the provided receive buffers
	tr   *trace.Tracer // nil unless tracing: see trace.go

	lfd    int        // listening socket, -1 once closed
	wakeFd int        // eventfd: Shutdown wakes the loop through a READ on it
	spare  sock.Spare // a descriptor held in reserve for EMFILE; see outOfDescriptors

	sendBuffer int // SO_SNDBUF for each connection, if set (tests: short sends)

	now time.Time // read once per batch of completions

	// The connection table. A slot's index and generation are the user
	// data of every request made for its connection (see userData).
	conns  []*conn
	gens   []uint32 // each slot's generation, bumped when it is freed
	slots  []uint32 // free slot indices
	nconns int
	free   spares.Stack[*conn] // closed connections' structs, kept for reuse

	outs        spares.Stack[*response] // responses in progress no connection is using
	chunks      spares.Stack[[]byte]    // spare file buffers, chunkSize
	smallChunks spares.Stack[[]byte]    // and smallChunk
	timers      timers.Heap[*conn]
	// starved are connections whose receive came back with ENOBUFS (the
	// provided buffers were all taken at that moment); they try again after
	// this batch, when the buffers it used are back in the ring.
	starved []*conn

	acceptArmed  bool // the multishot accept is in the ring
	acceptPaused bool
	acceptResume time.Time
	draining     bool // no new connections or requests; finish what is under way

	wakeArmed bool
	wakeBuf   [8]byte

	// The alarm: one TIMEOUT request, for the earliest of every
	// connection's deadlines (timer.go).
	alarmArmed bool
	alarmAt    time.Time
	alarmTs    timespec
	delayTs    timespec // the simulated disk's wait before each file read
	empty      byte     // the "" path of a STATX on a descriptor

	// Counts of the rarer paths, for the tests (read after Serve returns)
	// and for the lesson.
	noBufs, shortSends     int
	fetching, peakFetching int // connections in fetchingFile: now, and at most

	mu     sync.Mutex
	closed bool // the eventfd is closed: wake must not write to it
}

// Sizes of the loop's rings and tables.
const (
	sqEntries = 1024
	// cqEntries is large so that a burst of completions fits. If it
	// overflows anyway the kernel keeps the rest (IORING_FEAT_NODROP) and
	// ring.completions fetches them: slower, never lost.
	cqEntries = 16384
	// The provided receive buffers, 2 MiB in all however many connections
	// are open: the pool need only cover the receives that complete in one
	// batch. A request head is usually a few hundred bytes, so 2 KiB takes
	// most in one receive; a longer one takes two or three, which the
	// Session pieces together as from any read.
	recvBufSize   = 2 << 10
	recvBufs      = 1024
	bufGroup      = 1
	maxSpareConns = 1024
	acceptPause   = 100 * time.Millisecond
)

// The kinds of request, the top byte of the user data.
const (
	kAccept   uint8 = iota + 1 // the multishot accept
	kWake                      // the READ on the eventfd
	kAlarm                     // the loop's TIMEOUT
	kAlarmSet                  // moving the alarm (TIMEOUT_REMOVE with UPDATE)
	kRecv                      // a connection's receive
	kOpen                      // an OPENAT2 of a file to serve
	kStatx                     // a STATX of the file opened
	kDelay                     // the simulated disk's wait, linked before a read
	kRead                      // a read of file data
	kSend                      // a send of head and body
	kShutdown                  // a lingering close's shutdown(SHUT_WR)
	kClose                     // a connection's close
	kCancel                    // an ASYNC_CANCEL
)

// userData names a connection's request in the ring, 64 bits:
//
//	 63     56 55              32 31                 0
//	+---------+------------------+--------------------+
//	|  kind   |    generation    |     slot index     |
//	+---------+------------------+--------------------+
//
// Index AND generation, not a pointer: the kernel hands the user data back
// long after the request was made, perhaps after the connection has closed
// and its slot has been given to another. A pointer could then name memory
// reused for something else. The index finds the slot; the generation,
// bumped each time the slot is freed, tells whether the completion is for
// the connection there now. A slot is freed only once no request of its
// connection can be in flight, so a stale completion is one that says
// nothing that matters (a cancel that found nothing, the delay of a read
// that was cancelled); it is dropped, and any buffer it carries goes back.
func userData(kind uint8, c *conn) uint64 {
	return uint64(kind)<<56 | uint64(c.gen&genMask)<<32 | uint64(c.idx)
}

const genMask = 1<<24 - 1

func kindOf(ud uint64) uint8 { return uint8(ud >> 56) }

// connOf finds the live connection a completion is for, or nil.
func (l *loop) connOf(ud uint64) *conn {
	idx, gen := uint32(ud), uint32(ud>>32)&genMask
	if int(idx) >= len(l.conns) {
		return nil
	}
	if c := l.conns[idx]; c != nil && c.gen&genMask == gen {
		return c
	}
	return nil
}

// newLoop sets up the ring, its buffers and the loop's descriptors around
// the listening socket lfd. The ring starts disabled; run enables it on the
// loop's own thread.
func newLoop(s *server, lfd int, o Options, t tuning) (*loop, error) {
	l := &loop{srv: s, cfg: &s.cfg, opt: o, lfd: lfd, wakeFd: -1, sendBuffer: t.sendBuffer,
		tr: s.cfg.Trace.Loop(0)}
	var err error
	l.ring, err = newRing(ringOptions{entries: sqEntries, cqEntries: cqEntries, singleIssuer: true, disabled: true})
	if err != nil {
		return nil, fmt.Errorf("uring: %w", err)
	}
	n := uint16(recvBufs)
	if t.bufCount > 0 {
		n = t.bufCount
	}
	if l.bufs, err = newBufRing(l.ring, bufGroup, n, recvBufSize); err != nil {
		l.ring.close()
		return nil, fmt.Errorf("uring: %w", err)
	}
	if l.wakeFd, err = unix.Eventfd(0, unix.EFD_CLOEXEC); err != nil {
		l.bufs.unregister(l.ring)
		l.ring.close()
		return nil, fmt.Errorf("uring: eventfd: %w", err)
	}
	l.spare.Take()
	l.delayTs = durationSpec(int64(s.cfg.Site.DiskDelay()))
	return l, nil
}

// run is the event loop as the classic pseudocode writes it: wait for the
// next event — here, a completion — and react to it. It returns when the
// loop has drained after Shutdown, or on an error from the ring.
func (l *loop) run() error {
	if err := l.ring.enable(); err != nil {
		return err
	}
	l.now = time.Now()
	l.armAccept()
	l.armWake()
	for !l.finished() {
		l.armAlarm()
		l.tr.Turn() // in slow motion, the loop waits here for a step
		// Submit every request the last batch made, and sleep until at
		// least one completes: one system call for both.
		err := l.ring.wait()
		l.tr.Wait("io_uring_enter", int(l.ring.ready()), err)
		if err != nil {
			return fmt.Errorf("uring: %w", err)
		}
		l.now = time.Now()
		for c := range l.ring.completions {
			switch kindOf(c.userData) {
			case kAccept:
				l.acceptConn(c) // NEW_TCP_CONNECTION
			case kWake:
				l.wakeUp() // Shutdown
			case kAlarm:
				l.alarmArmed = false // a limit is due: expireTimers, below
			case kAlarmSet, kCancel:
				// Their results matter to no one: a cancel that found
				// nothing means its target had finished already.
			default:
				// FINISHED_READING_FROM_SOCKET, _FROM_DISK,
				// FINISHED_WRITING_TO_SOCKET: the connection named by
				// the user data moves on.
				l.completed(c)
			}
		}
		l.retryStarved()
		l.expireTimers() // the header, idle, write and linger limits
	}
	return nil
}

// finished reports whether a draining loop has nothing left to do.
func (l *loop) finished() bool {
	return l.draining && l.nconns == 0 && !l.acceptArmed
}

// completed hands a completion to its connection, or drops it if the
// connection is gone.
func (l *loop) completed(e cqe) {
	c := l.connOf(e.userData)
	if c == nil {
		if e.flags&cqeFBuffer != 0 {
			l.bufs.taken()
			l.bufs.put(uint16(e.flags >> cqeBufferShift))
		}
		return
	}
	l.traceComplete(c, &e)
	l.complete(c, kindOf(e.userData), e.res, e.flags)
}

// armAccept puts the multishot accept in the ring: one request, which
// completes once for every client that connects.
func (l *loop) armAccept() {
	if l.acceptArmed || l.acceptPaused || l.draining || l.lfd < 0 {
		return
	}
	l.ring.get().acceptMulti(l.lfd, uint64(kAccept)<<56)
	l.acceptArmed = true
}

// acceptConn is one completion of the accept: a new connection, or why
// there is none.
func (l *loop) acceptConn(e cqe) {
	l.traceAccept(&e)
	res := e.res
	if e.flags&cqeFMore == 0 {
		// The kernel ended the multishot request (it does after any
		// error); it must be armed again to hear of the next client.
		l.acceptArmed = false
	}
	switch err := unix.Errno(-res); {
	case res >= 0:
		l.openConn(int(res))
	case err == unix.ECANCELED:
		// drain cancelled it: the listener can close now.
		if l.draining && l.lfd >= 0 {
			unix.Close(l.lfd)
			l.lfd = -1
		}
		return
	case err == unix.EMFILE || err == unix.ENFILE:
		l.outOfDescriptors()
		return
	case err == unix.ECONNABORTED || err == unix.EINTR:
		// A client that gave up while queued.
	default:
		// ENOBUFS, ENOMEM and the like: the kernel is short of memory.
		// Step back for a moment rather than spin on it.
		l.pauseAccept()
		return
	}
	l.armAccept()
}

// openConn sets up a connection just accepted, and starts receiving its
// first request.
func (l *loop) openConn(fd int) {
	if l.draining || (l.cfg.MaxConns > 0 && l.nconns >= l.cfg.MaxConns) {
		// Counted before the close, so that a client that sees its
		// connection end also finds it counted.
		l.cfg.Stats.ConnRefused()
		unix.Close(fd)
		return
	}
	sock.Tune(fd, l.sendBuffer)
	c := l.newConn(fd)
	c.id = l.tr.Conn()  // its number in a trace
	c.sess.Start(l.now) // the clocks start, and the connection is counted
	l.advance(c, receivingRequest)
}

// outOfDescriptors handles EMFILE/ENFILE from accept. Two traps here.
// The client stays in the kernel's queue, unanswered. And io_uring's accept
// takes a descriptor slot BEFORE it looks at the queue, so while the table
// is full an accept armed again fails again at once, queue or no queue:
// re-arming it straight away would be a busy loop of EMFILE completions.
//
// So: the spare-descriptor trick (sock.Spare), as in evloop, for each of
// the clients queued now, until the queue is empty — and then a pause: the
// accept is armed again when a connection closes (a slot is free) or after
// acceptPause, whichever comes first.
func (l *loop) outOfDescriptors() {
	for range maxRefusals {
		if !l.spare.Held() || l.spare.Refuse(l.lfd, l.cfg.Stats.ConnRefused) == unix.EAGAIN {
			break // no spare, or the queue is empty
		}
	}
	l.pauseAccept()
}

// maxRefusals bounds one round of the spare-descriptor trick, so that a
// flood of clients cannot keep the loop from everyone else.
const maxRefusals = 256

func (l *loop) pauseAccept() {
	l.acceptPaused = true
	l.acceptResume = l.now.Add(acceptPause)
}

func (l *loop) resumeAccept() {
	l.acceptPaused = false
	l.spare.Take()
	l.armAccept()
}

// armWake puts a READ on the eventfd in the ring, so that Shutdown, from
// another goroutine, can wake the loop: it writes to the eventfd, and the
// READ completes.
func (l *loop) armWake() {
	l.ring.get().read(l.wakeFd, l.wakeBuf[:], 0, uint64(kWake)<<56)
	l.wakeArmed = true
}

// wake is Shutdown's way in: it makes the loop's READ on the eventfd
// complete. Under mu: close closes the eventfd under the same lock, so a
// late wake can never write to a closed descriptor, or to another that
// reused its number.
func (l *loop) wake() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	one := [8]byte{1}
	unix.Write(l.wakeFd, one[:])
}

// wakeUp handles the eventfd's READ: Shutdown has moved the server's phase.
func (l *loop) wakeUp() {
	l.wakeArmed = false
	l.srv.life.Follow(l)
	if !l.finished() {
		l.armWake()
	}
}

// Drain starts a graceful shutdown: stop accepting, close every connection
// between requests, and let the responses under way finish (each then
// closes instead of reading another request).
func (l *loop) Drain() {
	if l.draining {
		return
	}
	l.draining = true
	if l.acceptArmed {
		l.ring.get().cancel(uint64(kAccept)<<56, uint64(kCancel)<<56)
	} else if l.lfd >= 0 {
		unix.Close(l.lfd)
		l.lfd = -1
	}
	for _, c := range l.conns {
		if c != nil && c.state == receivingRequest {
			l.interrupt(c, closing)
		}
	}
}

// Stop closes every connection now: Shutdown's context is done.
func (l *loop) Stop() {
	for _, c := range l.conns {
		if c != nil {
			l.interrupt(c, closing)
		}
	}
}

// newConn gives a connection a slot in the table.
func (l *loop) newConn(fd int) *conn {
	c, ok := l.free.Get()
	if !ok {
		c = &conn{sess: servers.NewSession(l.cfg)}
	}
	if n := len(l.slots); n > 0 {
		c.idx = l.slots[n-1]
		l.slots = l.slots[:n-1]
	} else {
		c.idx = uint32(len(l.conns))
		l.conns = append(l.conns, nil)
		l.gens = append(l.gens, 0)
	}
	c.fd, c.gen = fd, l.gens[c.idx]
	l.conns[c.idx] = c
	l.nconns++
	return c
}

// release frees c's slot: its close has completed, and nothing of it is
// left in the ring.
func (l *loop) release(c *conn) {
	l.conns[c.idx] = nil
	l.gens[c.idx]++ // completions still carrying the old generation are stale
	l.slots = append(l.slots, c.idx)
	l.nconns--
	if l.acceptPaused {
		l.resumeAccept() // a descriptor is free again
	}
	*c = conn{sess: c.sess}
	l.free.Put(c, maxSpareConns)
}

// close releases everything the loop holds. It runs on the loop's thread
// after run returns (or from Shutdown, if Serve never ran).
func (l *loop) close() {
	if l.ring == nil {
		return
	}
	if l.ring.enabled {
		l.cancelLoopRequests()
	}
	l.mu.Lock()
	l.closed = true
	unix.Close(l.wakeFd)
	l.mu.Unlock()
	for _, c := range l.conns {
		// Only after a failure of the ring itself: a drained loop has
		// none left.
		if c != nil {
			c.sess.Close()
			unix.Close(c.fd)
		}
	}
	l.bufs.unregister(l.ring)
	l.ring.close()
	l.ring = nil
	if l.lfd >= 0 {
		unix.Close(l.lfd)
		l.lfd = -1
	}
	l.spare.Close()
}

// cancelLoopRequests cancels the loop's own requests (the eventfd READ,
// the alarm) and waits for them to come back, so that the kernel is done
// with the memory they point to before it is let go.
func (l *loop) cancelLoopRequests() {
	for range 100 { // bounded: each cancel completes at once
		if !l.wakeArmed && !l.alarmArmed && !l.acceptArmed {
			return
		}
		if l.wakeArmed {
			l.ring.get().cancel(uint64(kWake)<<56, uint64(kCancel)<<56)
		}
		if l.alarmArmed {
			l.ring.get().cancel(uint64(kAlarm)<<56, uint64(kCancel)<<56)
		}
		if l.acceptArmed {
			l.ring.get().cancel(uint64(kAccept)<<56, uint64(kCancel)<<56)
		}
		if l.ring.wait() != nil {
			return
		}
		for c := range l.ring.completions {
			switch kindOf(c.userData) {
			case kWake:
				l.wakeArmed = false
			case kAlarm:
				l.alarmArmed = false
			case kAccept:
				if c.flags&cqeFMore == 0 {
					l.acceptArmed = false
				}
				if c.res >= 0 {
					unix.Close(int(c.res))
				}
			}
		}
	}
}
