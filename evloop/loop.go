package evloop

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/internal/sock"
	"serverlab/internal/spares"
	"serverlab/internal/timers"
	"serverlab/servers"
	"serverlab/trace"
)

// loop is one event loop: one thread, one poller, one listening socket, and
// every connection accepted on it. Everything in it is touched only by the
// loop's own goroutine, except the fields under mu, which disk workers and
// Shutdown use to hand the loop work and wake it.
type loop struct {
	id     int
	srv    *server
	cfg    *servers.Config
	poller poller
	tr     *trace.Tracer // nil unless tracing: see trace.go
	lfd    int           // listening socket, -1 once closed
	wakeFd int           // eventfd: disk completions and Shutdown wake the loop here
	spare  sock.Spare    // a descriptor held in reserve for EMFILE; see outOfDescriptors

	now     time.Time // read once per turn of the loop
	yielded time.Time // when the loop last gave the scheduler a turn
	ready   []event   // what the poller found ready this turn
	conns   []*conn   // indexed by descriptor: the socket -> connection table
	nconns  int
	free    spares.Stack[*conn] // closed connections kept for reuse, with their Sessions
	// spareOut holds the responses in progress that no connection is
	// using: a connection holds one only while it answers (see conn.out).
	spareOut spares.Stack[*outgoing]
	chunks   spares.Stack[[]byte] // spare file buffers
	timers   timers.Heap[*conn]
	iov      [3]unix.Iovec        // writev's argument, kept here so it is not allocated
	heldBufs spares.Stack[[]byte] // spare buffers for held answers (see hold)
	discard  []byte               // where the closing state throws away what it reads
	wakeBuf  [8]byte

	acceptPaused bool
	acceptResume time.Time
	draining     bool // no new connections or requests; finish what is under way
	pending      int  // disk reads out with workers
	accepted     int  // connections accepted by this loop, for tests

	inflight sync.WaitGroup // the same reads, for close to wait on

	mu        sync.Mutex
	done      []diskJob // disk reads finished, waiting for the loop
	doneSpare []diskJob
	closed    bool // the eventfd is closed: signal must not write to it
}

// Sizes of the loop's tables.
const (
	maxEvents     = 256  // ready descriptors taken per wait
	acceptBatch   = 64   // connections accepted per readiness of the listener
	maxSpareConns = 1024 // closed conns kept for reuse
	acceptPause   = 100 * time.Millisecond
)

// newLoop makes loop id around the listening socket lfd, which it then owns
// (and closes, if it fails).
func newLoop(id int, s *server, lfd int) (*loop, error) {
	l := &loop{
		id: id, srv: s, cfg: &s.cfg, tr: tracer(s, id), lfd: lfd, wakeFd: -1,
		ready:   make([]event, maxEvents),
		discard: make([]byte, 16<<10),
	}
	if s.opt.Poller == "poll" {
		l.poller = newPollPoller()
	} else {
		p, err := newEpollPoller(maxEvents)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("evloop: loop %d: %w", id, err)
		}
		l.poller = p
	}
	var err error
	// EFD_NONBLOCK: reading an eventfd whose counter is zero would block;
	// the loop must never block anywhere but in the poller.
	if l.wakeFd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		l.close()
		return nil, fmt.Errorf("evloop: loop %d: eventfd: %w", id, err)
	}
	l.spare.Take()
	if err = l.poller.add(l.wakeFd, readable); err == nil {
		err = l.poller.add(l.lfd, readable)
	}
	if err != nil {
		l.close()
		return nil, fmt.Errorf("evloop: loop %d: %w", id, err)
	}
	return l, nil
}

// run is the event loop, lesson 00's third loop: wait for something to
// happen, react to it, repeat. It returns when the loop has drained after
// Shutdown, or on an error from the poller.
func (l *loop) run() error {
	for !l.finished() {
		l.tr.Turn() // in slow motion, the loop waits here for a step
		l.yield()
		n, err := l.poller.wait(l.ready, l.pollTimeout())
		l.tr.Wait(l.poller.name(), n, err)
		if err != nil && err != unix.EINTR {
			// EINTR is only a signal arriving (the Go runtime sends
			// itself SIGURG to preempt goroutines): wait again.
			return fmt.Errorf("evloop: loop %d: wait: %w", l.id, err)
		}
		l.now = time.Now()
		for _, ev := range l.ready[:n] {
			switch ev.fd {
			case l.lfd:
				l.acceptConn() // CONNECTED, in lesson 00's loop 3
			case l.wakeFd:
				l.wakeUp() // FILE_OPENED or FILE_READ from a disk worker, or Shutdown
			default:
				// Readable: readRequest (on to REQUEST_READ).
				// Writable (WRITTEN): writeHead or writeBody. The
				// connection's state decides.
				l.connEvent(ev.fd, ev.ev)
			}
		}
		l.expireTimers() // the header, idle, write and linger limits
	}
	return nil
}

// yieldEvery is how often a busy loop steps aside for the Go scheduler.
// The runtime's monitor thread (sysmon) preempts a goroutine that has run
// 10 ms without a trip through the scheduler, and takes its P away if it
// finds it in a system call, which costs thread wake-ups; a loop that
// yields more often than that is never preempted. Not much more often,
// though: a yield is a trip through the scheduler's search for work, a
// microsecond or two, and at once a millisecond it was 2% of the loop's
// user time under wrk (perf).
const yieldEvery = 4 * time.Millisecond

// yield lets the scheduler run other goroutines (the stats channel, signal
// handling) if yieldEvery has passed since the last time: a Gosched on the
// same thread, a fraction of a microsecond. See doc.go.
func (l *loop) yield() {
	if l.now.Sub(l.yielded) < yieldEvery {
		return
	}
	runtime.Gosched()
	l.yielded = l.now
}

// finished reports whether a draining loop has nothing left to do.
func (l *loop) finished() bool {
	return l.draining && l.nconns == 0 && l.pending == 0
}

// connEvent passes a readiness report to the connection on fd.
func (l *loop) connEvent(fd int, ev events) {
	if fd >= len(l.conns) || l.conns[fd] == nil {
		// Closed earlier in this same turn: the report is stale.
		return
	}
	c := l.conns[fd]
	if c.diskBusy {
		// A report gathered before c handed its read to a worker, in
		// this same turn. c acts again when the read is back.
		return
	}
	if ev&readable != 0 {
		c.canRead = true
	}
	// A report can also be stale in a subtler way: the connection on
	// fd closed earlier in this turn and a new one, accepted since, got
	// the same number. Every step copes, because a stale report only
	// makes it try a read or write that returns EAGAIN.
	l.advance(c)
}

// acceptConn takes new connections off the listening socket's queue.
func (l *loop) acceptConn() {
	// A batch, not just one: under a burst, one epoll_wait per accepted
	// connection would be wasteful. Not until EAGAIN either: a flood of
	// new connections must not starve the ones already open.
	for range acceptBatch {
		fd, _, err := unix.Accept4(l.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		l.traceAccept(fd, err)
		switch err {
		case nil:
			l.openConn(fd)
		case unix.EAGAIN:
			return // the queue is empty
		case unix.EINTR, unix.ECONNABORTED:
			continue // a signal, or a client that gave up while queued
		case unix.EMFILE, unix.ENFILE:
			if !l.outOfDescriptors() {
				return
			}
		default:
			// ENOBUFS, ENOMEM and the like: the kernel is short of
			// memory. Step back for a moment rather than spin on it.
			l.pauseAccept()
			return
		}
	}
}

// openConn sets up a connection just accepted.
func (l *loop) openConn(fd int) {
	// MaxConns counts connections across all loops. Add first, then
	// compare: two loops accepting at once cannot both slip under it.
	if n := l.srv.open.Add(1); l.cfg.MaxConns > 0 && n > int64(l.cfg.MaxConns) {
		l.srv.open.Add(-1)
		// Counted before the close, so that a client that sees its
		// connection end also finds it counted.
		l.cfg.Stats.ConnRefused()
		unix.Close(fd)
		return
	}
	sock.Tune(fd, l.srv.sendBuffer)

	c := l.newConn(fd)
	c.id = l.tr.Conn() // its number in a trace
	for fd >= len(l.conns) {
		l.conns = append(l.conns, nil)
	}
	l.conns[fd] = c
	l.nconns++
	l.accepted++
	c.sess.Start(l.now)
	if l.waitForRequest(c) == closed {
		l.closeConn(c)
	}
}

// outOfDescriptors handles EMFILE/ENFILE from accept, and reports whether
// accepting may go on. The trap: the connection stays in the kernel's queue,
// so the listener stays readable, and a level-triggered loop that just
// returns is woken again at once, for ever. The spare-descriptor trick
// (sock.Spare) refuses the client waiting: the queue drains, the loop
// sleeps, and the connections already open are served as before. If the
// spare could not be had back, stop watching the listener for acceptPause
// instead.
func (l *loop) outOfDescriptors() bool {
	if !l.spare.Held() {
		l.pauseAccept()
		return false
	}
	return l.spare.Refuse(l.lfd, l.cfg.Stats.ConnRefused) == nil
}

func (l *loop) pauseAccept() {
	if l.acceptPaused || l.lfd < 0 {
		return
	}
	l.poller.del(l.lfd)
	l.acceptPaused = true
	l.acceptResume = l.now.Add(acceptPause)
}

func (l *loop) resumeAccept() {
	l.acceptPaused = false
	if l.lfd >= 0 {
		l.poller.add(l.lfd, readable)
	}
	l.spare.Take() // and try to get the spare back
}

// wakeUp handles the loop's eventfd: finished disk reads, and Shutdown.
func (l *loop) wakeUp() {
	// Reset the counter BEFORE taking the queue. A worker that finishes
	// after this read finds the queue empty and signals again, so its
	// job is picked up next turn; in the other order, its signal could be
	// read here while its job missed the queue, and wait for ever.
	unix.Read(l.wakeFd, l.wakeBuf[:])
	jobs := l.takeDone()
	for i := range jobs {
		l.fileReady(&jobs[i]) // the disk is done: the connection moves on
	}
	clear(jobs) // drop the references to conns and files
	l.mu.Lock()
	l.doneSpare = jobs[:0]
	l.mu.Unlock()

	l.srv.life.Follow(l)
}

// Drain starts a graceful shutdown: stop accepting, close every connection
// that is between requests, and let the responses under way finish (each
// then closes instead of reading another request).
func (l *loop) Drain() {
	if l.draining {
		return
	}
	l.draining = true
	if l.lfd >= 0 {
		if !l.acceptPaused {
			l.poller.del(l.lfd)
		}
		unix.Close(l.lfd)
		l.lfd = -1
	}
	for _, c := range l.conns {
		if c != nil && c.state == readingRequest {
			l.closeConn(c)
		}
	}
}

// Stop closes every connection now: Shutdown's context is done.
func (l *loop) Stop() {
	for _, c := range l.conns {
		if c != nil {
			l.closeConn(c)
		}
	}
}

// newConn takes a connection from the pool, or makes one.
func (l *loop) newConn(fd int) *conn {
	c, ok := l.free.Get()
	if !ok {
		c = &conn{sess: servers.NewSession(l.cfg)}
	}
	c.fd = fd
	return c
}

// takeOut gives c a response in progress, from the pool or new.
func (l *loop) takeOut(c *conn) {
	if o, ok := l.spareOut.Get(); ok {
		c.out = o
		return
	}
	c.out = &outgoing{}
}

// putOut takes c's response back into the pool (a bounded one: after a
// burst of busy connections, the surplus is left to the garbage
// collector).
func (l *loop) putOut(c *conn) {
	o := c.out
	if o == nil {
		return
	}
	l.putChunk(o)
	*o = outgoing{}
	l.spareOut.Put(o, maxSpareConns)
	c.out = nil
}

// closeConn is the end of a connection, whatever ended it.
func (l *loop) closeConn(c *conn) {
	if c.diskBusy {
		// A worker is opening or reading for c, into c's buffer, from
		// c's file: all must outlive it. Finish the close when it is back.
		c.doomed = true
		return
	}
	l.timers.Remove(&c.timer)
	if c.registered {
		err := l.poller.del(c.fd) // before close: poll(2) keeps its own list
		l.traceWatch(c, "DEL", 0, err)
	}
	// The Session counts an error if a response was cut short, releases
	// its file, and counts the connection closed.
	c.sess.Close()
	l.putOut(c)
	l.releaseHeld(c) // answers still held are lost with the connection
	err := unix.Close(c.fd)
	l.traceCall(c, "close", err)
	l.conns[c.fd] = nil
	l.nconns--
	l.srv.open.Add(-1)

	*c = conn{sess: c.sess}
	l.free.Put(c, maxSpareConns)
}

// close releases everything the loop holds. It runs on the loop's thread
// after run returns (or from New or Shutdown, if Serve never ran).
func (l *loop) close() {
	// No worker may still be reading for us. Reads that came back after
	// run returned (it does so early only on an error) are let go here.
	l.inflight.Wait()
	for i, jobs := 0, l.takeDone(); i < len(jobs); i++ {
		l.settle(&jobs[i])
	}
	if l.poller != nil {
		for _, c := range l.conns {
			if c != nil {
				l.closeConn(c)
			}
		}
		if l.lfd >= 0 && !l.acceptPaused {
			l.poller.del(l.lfd)
		}
		l.poller.close()
	}
	if l.lfd >= 0 {
		unix.Close(l.lfd)
		l.lfd = -1
	}
	l.spare.Close()
	l.mu.Lock()
	if !l.closed && l.wakeFd >= 0 {
		unix.Close(l.wakeFd)
	}
	l.closed = true
	l.mu.Unlock()
}
