package evloop

import (
	"golang.org/x/sys/unix"

	"serverlab/internal/sock"
	"serverlab/internal/timers"
	"serverlab/servers"
)

// state is where a connection is in lesson 00's third loop. A blocking
// server keeps this in its program counter — "I am on the line that writes
// the head" — and its thread waits there. An event loop serves thousands of
// connections with one thread, so each connection must write down where it
// is, in a field, and the loop must be able to pick it up from there.
type state uint8

const (
	// readingRequest: waiting for (the rest of) a request head.
	readingRequest state = iota
	// openingFile: opening the file the core named (at once, or by a
	// disk worker while the connection waits), and for a folder its index.
	openingFile
	// fetchingFile: reading the next piece of the body from disk (at
	// once, or by a disk worker while the connection waits).
	fetchingFile
	// writingHead: sending the response head, with the first piece of the
	// body when it is small.
	writingHead
	// writingBody: sending the rest of the body, with sendfile(2) or from
	// the chunk fetched.
	writingBody
	// writingHeld: sending the answers held back to go out together, in
	// one write, for a batch of pipelined requests (see hold).
	writingHeld
	// closing: the last response is sent; if request bytes may still be
	// unread, our side is shut and we wait, briefly, for the client to
	// close its side too (a lingering close).
	closing
	// closed is not a state a connection rests in: a step returns it to
	// say "this connection is over", and advance closes it.
	closed
)

func (s state) String() string {
	switch s {
	case readingRequest:
		return "readingRequest"
	case openingFile:
		return "openingFile"
	case fetchingFile:
		return "fetchingFile"
	case writingHead:
		return "writingHead"
	case writingBody:
		return "writingBody"
	case writingHeld:
		return "writingHeld"
	case closing:
		return "closing"
	case closed:
		return "closed"
	}
	return "state(?)"
}

// Sizes of the buffers the loop uses to move file data.
const (
	// chunkSize is one read of file data (when not using sendfile), and
	// the size of the per-connection buffer that holds it until sent.
	chunkSize = 64 << 10
	// smallBody: with sendfile on, a body up to this size is still read
	// into the chunk and sent with the head in ONE writev — one system
	// call and, usually, one TCP segment, instead of a write for the head
	// and a sendfile for the body.
	smallBody = 16 << 10
	// turnBudget is how many bytes one connection may send per turn of
	// the loop. After that it waits for the next turn (its socket is
	// still writable, so the next epoll_wait returns at once), and one
	// fast download cannot hold up every other connection.
	turnBudget = 1 << 20
)

// conn is one client connection: its socket, its protocol state (the
// Session) and where it is in sending a response. Conns are pooled by the
// loop, with their Sessions, so a new connection — and, above all, a new
// request on a kept-alive one — allocates nothing.
type conn struct {
	fd    int
	id    uint64 // the connection's number in a trace (0 when not tracing)
	state state
	sess  *servers.Session // kept with the conn from one connection to the next

	// out is the response on its way out, or nil: a connection holds one
	// only while it answers. An idle keep-alive connection gives it back
	// to the loop's pool, as its Session gives back its input buffer (see
	// readRequest), and keeps just this struct and the Session's clocks:
	// that is why ten thousand idle connections cost an event loop so
	// little.
	out *outgoing

	// What the poller watches this socket for. Only changed when the
	// connection has to wait for something else than before, so that a
	// request answered at once costs no epoll_ctl at all.
	watching   events
	registered bool
	// canRead: the poller said "readable" and we have not read since.
	// It saves a read(2) that would only return EAGAIN after every
	// response, when the client is still waiting for it.
	canRead bool

	// held is answers gathered for one write, of which heldOff bytes are
	// sent (see hold): a buffer from the loop's pool, nil when none.
	held    []byte
	heldOff int

	budget   int  // bytes left to send this turn (see advance)
	diskBusy bool // a disk worker is opening or reading for c
	doomed   bool // closed while diskBusy: close when the worker is back
	shutWr   bool // closing: our FIN is out

	// The connection's place in the loop's timer heap (timer.go), at the
	// deadline its Session gives for the present wait.
	timer timers.Timer[*conn]
}

// outgoing is a response in progress. The head is sent from headOff; the
// file from off (the next byte to read or sendfile) to end; ready is body
// bytes in hand but not yet sent: a piece of buf, read from the file, or
// of the file's contents in the small-file cache. Every partial write just
// moves one of these, and the next writable event resumes from there.
type outgoing struct {
	head        []byte
	headOff     int
	file        *servers.File
	off, end    int64
	useSendfile bool
	buf         []byte // a chunk from the loop's pool while the response needs one
	ready       []byte
	fileShort   bool // the file ended before the response did
}

// advance runs c's state machine as far as it can go without waiting: it is
// called when c's socket is ready, when a disk worker's open or read for c
// is back, and when c's timer fires. Every transition of the machine is here:
//
//	state           step            next
//	readingRequest  readRequest     openingFile (a whole request is in),
//	                                writingHeld (answers held, none to read)
//	openingFile     openFile        fetchingFile (the file is open),
//	                                writingHead (its body is in memory),
//	                                readingRequest (the answer is held)
//	fetchingFile    startFile       writingHead, or writingBody (next chunk)
//	writingHead     writeHead       writingBody, or what finishResponse
//	                                says when the whole answer is sent
//	writingBody     writeBody       fetchingFile (next chunk),
//	                                readingRequest (keep-alive), closing
//	writingHeld     writeHeld       readingRequest, closing (draining)
//	closing         lingerClose     closed
//
// Any step may instead return closed (the client reset, a write failed, the
// file shrank), or return the state it is in, which means "wait": the step
// has told the poller what to watch for and set the timer that bounds the
// wait, and the loop moves on to other connections.
func (l *loop) advance(c *conn) {
	c.budget = turnBudget
	for {
		var next state
		switch c.state {
		case readingRequest:
			next = l.readRequest(c)
		case openingFile:
			next = l.openFile(c)
		case fetchingFile:
			next = l.startFile(c)
		case writingHead:
			next = l.writeHead(c)
		case writingBody:
			next = l.writeBody(c)
		case writingHeld:
			next = l.writeHeld(c)
		case closing:
			next = l.lingerClose(c)
		}
		if next != c.state {
			l.traceState(c, c.state, next)
		}
		if next == closed {
			l.closeConn(c)
			return
		}
		if next == c.state {
			return // waiting
		}
		c.state = next
	}
}

// wait makes c wait for its socket to become ready for ev (nothing, when
// ev is 0), no later than its Session's deadline, and returns c's state
// unchanged — or closed, if the poller refused.
func (l *loop) wait(c *conn, ev events) state {
	if !l.watch(c, ev) {
		return closed
	}
	l.timers.Set(&c.timer, c, c.sess)
	return c.state
}

// watch tells the poller what c waits for, if that changed.
func (l *loop) watch(c *conn, ev events) bool {
	var err error
	switch {
	case ev == 0:
		// Watching for nothing: leave the poller entirely, because a
		// hang-up is reported even to a descriptor watched for nothing,
		// and level-triggered, it would be reported on every turn.
		if c.registered {
			err = l.poller.del(c.fd)
			c.registered = false
			l.traceWatch(c, "DEL", ev, err)
		}
	case !c.registered:
		err = l.poller.add(c.fd, ev)
		c.registered = err == nil
		l.traceWatch(c, "ADD", ev, err)
	case ev != c.watching:
		err = l.poller.mod(c.fd, ev)
		l.traceWatch(c, "MOD", ev, err)
	}
	c.watching = ev
	return err == nil
}

// readRequest is the readingRequest step: answer the next request already
// buffered (one that was pipelined behind the last), or read more bytes of
// one when the socket has some.
func (l *loop) readRequest(c *conn) state {
	for {
		if c.sess.Next() { // a request is in, or a 408 is due
			c.sess.TraceRequest(l.tr, c.id, c.fd)
			c.timer.Stop()
			return openingFile
		}
		if !c.canRead {
			if len(c.held) > 0 {
				return writingHeld // the batch is complete: send it
			}
			// Nothing more to read for now. An idle connection gives
			// its input buffer back while it waits (one with part of
			// a request keeps it).
			c.sess.Shrink()
			return l.waitForRequest(c)
		}
		// Level-triggered: one read per readiness report is enough. If
		// more is waiting, the next epoll_wait says so again.
		c.canRead = false
		n, err := rawRead(c.fd, c.sess.ReadSpace())
		l.traceRead(c, n, err)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			// A stale report: nothing to read after all.
			if len(c.held) > 0 {
				return writingHeld
			}
			return l.waitForRequest(c)
		case err != nil:
			c.sess.Fail(err) // a reset: the client is gone
			return closed
		case n == 0:
			// The client closed. One that only half-closed after its
			// request has already had every answer: requests are
			// answered before the next read.
			return closed
		}
		c.sess.Received(n, l.now)
	}
}

// waitForRequest waits for (more of) a request, under the idle and header
// limits.
func (l *loop) waitForRequest(c *conn) state {
	return l.wait(c, readable)
}

// openFile is the openingFile step: perform the file steps the Session
// names — here, at once, or by a disk worker — then take the response it
// decided.
func (l *loop) openFile(c *conn) state {
	for op := c.sess.Open(); op != nil; op = c.sess.Open() {
		if l.srv.disk != nil {
			return l.submitOpen(c, op)
		}
		c.sess.Opened(op.Do()) // no workers: the loop opens the file itself
		l.traceOpen(c, "opened (openat2, fstat)", op)
	}
	c.sess.TraceAnswer(l.tr, c.id, c.fd) // no file step above: the open-file cache had it
	if c.out == nil {
		l.takeOut(c)
	}
	o := c.out
	o.head, o.headOff = c.sess.Head(), 0
	f, off, n := c.sess.Body()
	o.file, o.off, o.end = f, off, off+n
	o.fileShort = false
	if f != nil && f.Data() != nil {
		// The small-file cache holds the body (and it is not small
		// enough to travel in the head): nothing to fetch, and head and
		// body leave together in one writev.
		o.ready, o.off = f.Data()[off:o.end], o.end
	}
	if o.off == o.end { // all of the answer is in memory
		if l.canHold(c) {
			return l.hold(c)
		}
		return writingHead
	}
	o.useSendfile = f != nil && l.srv.sendfile && n > smallBody
	return fetchingFile
}

// startFile is the fetchingFile step, lesson 00's trip to the disk: read
// the next chunk of the body into c's buffer — here, at once, or by a disk
// worker. A body sent with sendfile needs no fetching: the kernel reads the
// file as it sends.
func (l *loop) startFile(c *conn) state {
	o := c.out
	if o.fileShort {
		c.sess.Fail(servers.ErrFileShrank)
		return closed
	}
	if o.file != nil && !o.useSendfile && len(o.ready) == 0 && o.off < o.end {
		if o.buf == nil {
			o.buf = l.getChunk()
		}
		want := int(min(int64(len(o.buf)), o.end-o.off))
		if l.srv.disk != nil {
			return l.submitRead(c, want)
		}
		// No workers: the loop reads the file itself. With a slow disk,
		// every connection of this loop waits for this line.
		n, err := o.file.ReadAt(o.buf[:want], o.off)
		l.traceFile(c, "pread", n, o.off, err)
		if err != nil || n == 0 {
			c.sess.Fail(servers.ErrFileShrank) // the file shrank (or failed) under us
			return closed
		}
		o.ready = o.buf[:n]
		o.off += int64(n)
		c.sess.Fetched(l.now) // the turn's clock: one clock read per turn, not per body
	}
	if o.headOff < len(o.head) {
		return writingHead
	}
	return writingBody
}

// writeHead is the writingHead step: the head, and any body in memory with
// it, in one write(2) or writev(2); or, when sendfile(2) sends the body
// next, the head alone in a sendmsg(2) that tells TCP more follows.
func (l *loop) writeHead(c *conn) state {
	if c.budget <= 0 {
		return l.wait(c, writable)
	}
	o := c.out
	// The answers held for this batch of pipelined requests go first,
	// in the same system call.
	held, head := c.held[c.heldOff:], o.head[o.headOff:]
	want := len(held) + len(head) + len(o.ready)
	var n int
	var err error
	switch {
	case o.useSendfile:
		// The body follows at once, by sendfile: hold the head back to
		// share its first packet (see rawSendMore).
		n, err = rawSendMore(c.fd, l.iov[:], held, head)
		l.traceWrite(c, "sendmsg", n, want, err)
	case len(held) == 0 && len(o.ready) == 0:
		// One buffer, the usual keep-alive answer (a small body from the
		// cache travels in the head): a plain write.
		n, err = rawWrite(c.fd, head)
		l.traceWrite(c, "write", n, want, err)
	default:
		n, err = rawWritev(c.fd, l.iov[:], held, head, o.ready)
		l.traceWrite(c, "writev", n, want, err)
	}
	if err != nil {
		return l.writeFailed(c, err)
	}
	l.sent(c, n)
	if len(c.held) > 0 {
		m := min(n, len(c.held)-c.heldOff)
		c.heldOff += m
		n -= m
		if c.heldOff == len(c.held) {
			l.releaseHeld(c)
		}
	}
	h := min(n, len(o.head)-o.headOff)
	o.headOff += h
	o.ready = o.ready[n-h:]
	if len(c.held) > 0 || o.headOff < len(o.head) {
		// A short write means the socket's send buffer is full:
		// writing again now would only return EAGAIN.
		return l.wait(c, writable)
	}
	if len(o.ready) == 0 && o.off == o.end {
		// The whole answer went in that one call, the usual case for
		// a small file: there is no body left to write.
		return l.finishResponse(c)
	}
	return writingBody
}

// Pipelining. A client may send several requests without waiting for the
// answers (a batch arrives in one read). Answered one by one, each answer
// would cost a write(2) of its own; an answer that is all in memory — a
// head, and a body from the small-file cache or none — is instead copied
// into c.held, and the connection goes on to the next request. The batch
// leaves in ONE system call: with the last answer's own write (writeHead),
// or by itself (writeHeld) when the last request needs the disk or has not
// fully arrived. Meanwhile the Session is told (Hold) that answers it
// counts as sent are still on their way, so the write limit applies.

// heldMax bounds the answers one connection holds back: what is gathered
// beyond it waits for the next write.
const heldMax = 64 << 10

// canHold reports whether the answer just decided for c, all in memory, may
// wait for the answers behind it: it keeps the connection open, another
// request (or part of one) is already buffered behind it, and it fits.
func (l *loop) canHold(c *conn) bool {
	o := c.out
	return !l.draining && c.sess.Response().KeepAlive && c.sess.Buffered() > 0 &&
		len(c.held)+len(o.head)+len(o.ready) <= heldMax
}

// hold copies c's answer into c.held and ends it, so that the connection
// can take its next request.
func (l *loop) hold(c *conn) state {
	if c.held == nil {
		c.held = l.getHeld()
	}
	o := c.out
	c.held = append(append(c.held, o.head...), o.ready...)
	c.sess.Sent(l.now)
	c.sess.Hold(true)
	l.putOut(c)
	return readingRequest
}

// writeHeld is the writingHeld step: send the answers held, alone.
func (l *loop) writeHeld(c *conn) state {
	if c.budget <= 0 {
		return l.wait(c, writable)
	}
	want := len(c.held) - c.heldOff
	n, err := rawWrite(c.fd, c.held[c.heldOff:])
	l.traceWrite(c, "write", n, want, err)
	if err != nil {
		return l.writeFailed(c, err)
	}
	l.sent(c, n)
	c.heldOff += n
	if n < want {
		return l.wait(c, writable)
	}
	l.releaseHeld(c)
	if l.draining {
		return closing
	}
	return readingRequest
}

// getHeld takes a buffer for held answers from the loop's pool.
func (l *loop) getHeld() []byte {
	if b, ok := l.heldBufs.Get(); ok {
		return b
	}
	return make([]byte, 0, heldMax)
}

// releaseHeld gives c's held buffer back once all of it is written (or
// the connection closes), and tells the Session nothing is held any more.
func (l *loop) releaseHeld(c *conn) {
	if c.held == nil {
		return
	}
	l.heldBufs.Put(c.held[:0], maxSpareChunks)
	c.held, c.heldOff = nil, 0
	c.sess.Hold(false)
}

// writeBody is the writingBody step: send what is in the chunk, or the
// next part of the file with sendfile, until the body is out, the socket is
// full, or this turn's budget is spent.
func (l *loop) writeBody(c *conn) state {
	o := c.out
	for {
		if len(o.ready) == 0 {
			switch {
			case o.off == o.end:
				return l.finishResponse(c)
			case !o.useSendfile:
				return fetchingFile // the chunk is sent: fetch the next
			}
		}
		if c.budget <= 0 {
			return l.wait(c, writable) // others' turn first
		}
		var n, want int
		var err error
		if len(o.ready) > 0 {
			want = len(o.ready)
			n, err = rawWrite(c.fd, o.ready)
			l.traceWrite(c, "write", n, want, err)
			if err == nil {
				o.ready = o.ready[n:]
			}
		} else {
			// sendfile(2) copies from the file to the socket inside
			// the kernel, and moves o.off past what it sent: exactly
			// where the next call, perhaps turns later, must resume.
			want = int(min(o.end-o.off, int64(c.budget)))
			n, err = unix.Sendfile(c.fd, o.file.Fd(), &o.off, want)
			l.traceWrite(c, "sendfile", n, want, err)
			if err == nil && n == 0 {
				c.sess.Fail(servers.ErrFileShrank) // shorter than promised
				return closed
			}
		}
		if err != nil {
			return l.writeFailed(c, err)
		}
		l.sent(c, n)
		if n < want {
			// A short write: the socket's send buffer is full.
			return l.wait(c, writable)
		}
	}
}

// writeFailed sorts a failed write: EAGAIN means "the socket's buffer is
// full, wait until it drains"; anything else (EPIPE, ECONNRESET: the client
// is gone) ends the connection. Go ignores SIGPIPE for descriptors other
// than stdout and stderr, so a write to a reset socket returns EPIPE instead
// of killing the process.
func (l *loop) writeFailed(c *conn, err error) state {
	if err == unix.EAGAIN || err == unix.EINTR {
		return l.wait(c, writable)
	}
	c.sess.Fail(err)
	return closed
}

// sent accounts for n bytes written. The Session counts them and pushes its
// write deadline back; the timer heap learns of it when the alarm rings.
func (l *loop) sent(c *conn, n int) {
	c.sess.Wrote(n, l.now)
	c.budget -= n
}

// finishResponse ends the response just sent: on to the next request, or
// to closing.
func (l *loop) finishResponse(c *conn) state {
	keepAlive := c.sess.Sent(l.now)
	c.timer.Stop()
	l.putOut(c)
	if !keepAlive || l.draining {
		return closing
	}
	return readingRequest
}

// lingerClose is the closing step: end the connection after its last
// answer, lingeringly if its Session says request bytes may be unread (see
// servers.Session.Linger): shut down our sending side (the client gets a
// FIN after the last byte), then read and throw away what still comes,
// until the client closes too, enough was read, or the Session's deadline
// passes.
func (l *loop) lingerClose(c *conn) state {
	if !c.shutWr {
		if !c.sess.Linger(l.now, c.canRead || sock.Unread(c.fd)) {
			return closed // nothing unread: a plain close sends a FIN
		}
		c.shutWr = true
		err := unix.Shutdown(c.fd, unix.SHUT_WR)
		l.traceCall(c, "shutdown(SHUT_WR)", err)
		if err != nil {
			return closed
		}
		c.canRead = true // the client may have closed already: look now
	}
	if c.canRead {
		c.canRead = false
		n, err := rawRead(c.fd, l.discard)
		l.traceRead(c, n, err)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			// The client has not closed yet.
		case err != nil || n == 0:
			return closed // it has (or it reset): now close is safe
		case !c.sess.Discarded(n):
			return closed // enough: it is not listening anyway
		}
	}
	return l.wait(c, readable)
}

// getChunk takes a file buffer from the loop's pool. A connection holds one
// only while it sends a body that goes through user space, so the memory
// follows the number of responses in progress, not of connections.
func (l *loop) getChunk() []byte {
	if b, ok := l.chunks.Get(); ok {
		return b
	}
	return make([]byte, chunkSize)
}

// maxSpareChunks bounds the pool: after a burst of slow downloads, the
// extra buffers go back to the garbage collector instead of being held for
// ever.
const maxSpareChunks = 64

func (l *loop) putChunk(o *outgoing) {
	if o.buf != nil {
		l.chunks.Put(o.buf, maxSpareChunks)
	}
	o.buf, o.ready = nil, nil
}
