package evloop

import (
	"time"

	"golang.org/x/sys/unix"

	"serverlab/servers"
)

// state is where a connection is in the seed's third loop. A blocking
// server keeps this in its program counter — "I am on the line that writes
// the head" — and its thread waits there. An event loop serves thousands of
// connections with one thread, so each connection must write down where it
// is, in a field, and the loop must be able to pick it up from there.
type state uint8

const (
	// readingRequest: waiting for (the rest of) a request head.
	readingRequest state = iota
	// fetchingFile: reading the next piece of the body from disk (at
	// once, or by a disk worker while the connection waits).
	fetchingFile
	// writingHead: sending the response head, with the first piece of the
	// body when it is small.
	writingHead
	// writingBody: sending the rest of the body, with sendfile(2) or from
	// the chunk fetched.
	writingBody
	// closing: the last response is sent and our side is shut; waiting,
	// briefly, for the client to close its side too.
	closing
	// closed is not a state a connection rests in: a step returns it to
	// say "this connection is over", and advance closes it.
	closed
)

func (s state) String() string {
	switch s {
	case readingRequest:
		return "readingRequest"
	case fetchingFile:
		return "fetchingFile"
	case writingHead:
		return "writingHead"
	case writingBody:
		return "writingBody"
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
// loop, with their Sessions and buffers, so a new connection — and, above
// all, a new request on a kept-alive one — allocates nothing.
type conn struct {
	fd    int
	state state

	// work is what the connection needs only while a request is arriving
	// or being answered. An idle keep-alive connection gives it back to
	// the loop's pool (see readRequest) and keeps just this struct: that
	// is why ten thousand idle connections cost an event loop so little.
	// Embedded, so that c.sess, c.head and the rest read naturally.
	*work

	// What the poller watches this socket for. Only changed when the
	// connection has to wait for something else than before, so that a
	// request answered at once costs no epoll_ctl at all.
	watching   events
	registered bool
	// canRead: the poller said "readable" and we have not read since.
	// It saves a read(2) that would only return EAGAIN after every
	// response, when the client is still waiting for it.
	canRead bool

	budget   int  // bytes left to send this turn (see advance)
	diskBusy bool // a disk worker is reading into buf
	doomed   bool // closed while diskBusy: close when the read is back
	shutWr   bool // closing: our FIN is out

	// The clocks of the limits (timer.go): what the connection is waiting
	// for, and since when.
	timer       timerKind
	deadline    time.Time
	alarm       time.Time
	heapIdx     int
	fresh       bool      // no response sent yet
	idleSince   time.Time // when the connection last became idle
	headStart   time.Time // when the current request head began
	lingerSince time.Time // when the closing state began
}

// work is a connection's protocol state and the response in progress.
type work struct {
	sess *servers.Session

	// The response in progress. The head is sent from headOff; the file
	// from off (the next byte to read or sendfile) to end; buf[cs:ce] is
	// file data read but not yet sent. Every partial write just moves one
	// of these, and the next writable event resumes from there.
	head        []byte
	headOff     int
	file        *servers.File
	off, end    int64
	useSendfile bool
	buf         []byte // a chunk from the loop's pool while the response needs one
	cs, ce      int
	fileShort   bool // the file ended before the response did

	progressAt time.Time // when the response last made progress
}

// advance runs c's state machine as far as it can go without waiting: it is
// called when c's socket is ready, when a disk read for c is back, and when
// c's timer fires. Every transition of the machine is here:
//
//	state           step            next
//	readingRequest  readRequest     fetchingFile (a whole request is in)
//	fetchingFile    startFile       writingHead, or writingBody (next chunk)
//	writingHead     writeHead       writingBody
//	writingBody     writeBody       fetchingFile (next chunk),
//	                                readingRequest (keep-alive), closing
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
		case fetchingFile:
			next = l.startFile(c)
		case writingHead:
			next = l.writeHead(c)
		case writingBody:
			next = l.writeBody(c)
		case closing:
			next = l.lingerClose(c)
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
// ev is 0), bounded by a timer of kind k, and returns c's state unchanged —
// or closed, if the poller refused.
func (l *loop) wait(c *conn, ev events, k timerKind) state {
	if !l.watch(c, ev) {
		return closed
	}
	l.setTimer(c, k, l.deadlineOf(c, k))
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
		}
	case !c.registered:
		err = l.poller.add(c.fd, ev)
		c.registered = err == nil
	case ev != c.watching:
		err = l.poller.mod(c.fd, ev)
	}
	c.watching = ev
	return err == nil
}

// readRequest is the readingRequest step: answer the next request already
// buffered (one that was pipelined behind the last), or read more bytes of
// one when the socket has some.
func (l *loop) readRequest(c *conn) state {
	if c.work == nil {
		if !c.canRead {
			return l.waitForRequest(c)
		}
		l.takeWork(c) // bytes are arriving: now it needs one
	}
	for {
		if c.sess.Next(l.now) {
			l.beginResponse(c)
			return fetchingFile
		}
		if !c.canRead {
			// Nothing more to read for now. An idle connection gives
			// its work, Session and 32 KiB input buffer included,
			// back while it waits. One with part of a request keeps
			// it, but not an empty buffer.
			if c.sess.Idle() {
				l.putWork(c)
			} else {
				c.sess.Shrink()
			}
			return l.waitForRequest(c)
		}
		// Level-triggered: one read per readiness report is enough. If
		// more is waiting, the next epoll_wait says so again.
		c.canRead = false
		n, err := unix.Read(c.fd, c.sess.ReadSpace())
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			return l.waitForRequest(c) // a stale report: nothing to read after all
		case err != nil || n == 0:
			// A reset, or the client closed. A client that only
			// half-closed after its request has already had every
			// answer: requests are answered before the next read.
			return closed
		}
		if c.sess.Buffered() == 0 && !c.fresh {
			// The first byte of a new request head. (On a new
			// connection the head's clock started at accept.)
			c.headStart = l.now
		}
		c.sess.Received(n)
	}
}

// waitForRequest waits for (more of) a request, under the idle and header
// limits.
func (l *loop) waitForRequest(c *conn) state {
	return l.wait(c, readable, readTimer)
}

// beginResponse takes the response the Session decided and prepares to
// send it: a head, and perhaps a range of a file.
func (l *loop) beginResponse(c *conn) {
	l.stopTimer(c)
	c.head, c.headOff = c.sess.Head(), 0
	f, off, n := c.sess.Body()
	c.file, c.off, c.end = f, off, off+n
	c.useSendfile = f != nil && l.srv.sendfile && n > smallBody
	c.fileShort = false
	c.progressAt = l.now
}

// startFile is the fetchingFile step, the seed's trip to the disk: read the
// next chunk of the body into c's buffer — here, at once, or by a disk
// worker. A body sent with sendfile
// needs no fetching: the kernel reads the file as it sends.
func (l *loop) startFile(c *conn) state {
	if c.fileShort {
		return closed // the file shrank while we were sending it
	}
	if c.file != nil && !c.useSendfile && c.cs == c.ce && c.off < c.end {
		if c.buf == nil {
			c.buf = l.getChunk()
		}
		want := int(min(int64(len(c.buf)), c.end-c.off))
		if l.srv.disk != nil {
			return l.submitRead(c, want)
		}
		// No workers: the loop reads the file itself. With a slow disk,
		// every connection of this loop waits for this line.
		n, err := c.file.ReadAt(c.buf[:want], c.off)
		if err != nil || n == 0 {
			return closed // the file shrank (or failed) under us
		}
		c.cs, c.ce = 0, n
		c.off += int64(n)
	}
	if c.headOff < len(c.head) {
		return writingHead
	}
	return writingBody
}

// writeHead is the writingHead step: the head, and any small body fetched
// with it, in one writev(2).
func (l *loop) writeHead(c *conn) state {
	if c.budget <= 0 {
		return l.wait(c, writable, writeTimer)
	}
	l.iov[0] = c.head[c.headOff:]
	l.iov[1] = c.buf[c.cs:c.ce]
	n, err := unix.Writev(c.fd, l.iov[:])
	l.iov = [2][]byte{}
	if err != nil {
		return l.writeFailed(c, err)
	}
	l.sent(c, n)
	h := min(n, len(c.head)-c.headOff)
	c.headOff += h
	c.cs += n - h
	if c.headOff < len(c.head) {
		// A short write means the socket's send buffer is full:
		// writing again now would only return EAGAIN.
		return l.wait(c, writable, writeTimer)
	}
	return writingBody
}

// writeBody is the writingBody step: send what is in the chunk, or the
// next part of the file with sendfile, until the body is out, the socket is
// full, or this turn's budget is spent.
func (l *loop) writeBody(c *conn) state {
	for {
		if c.cs == c.ce {
			switch {
			case c.off == c.end:
				return l.finishResponse(c)
			case !c.useSendfile:
				return fetchingFile // the chunk is sent: fetch the next
			}
		}
		if c.budget <= 0 {
			return l.wait(c, writable, writeTimer) // others' turn first
		}
		var n, want int
		var err error
		if c.cs < c.ce {
			want = c.ce - c.cs
			n, err = unix.Write(c.fd, c.buf[c.cs:c.ce])
			if err == nil {
				c.cs += n
			}
		} else {
			// sendfile(2) copies from the file to the socket inside
			// the kernel, and moves c.off past what it sent: exactly
			// where the next call, perhaps turns later, must resume.
			want = int(min(c.end-c.off, int64(c.budget)))
			n, err = unix.Sendfile(c.fd, c.file.Fd(), &c.off, want)
			if err == nil && n == 0 {
				return closed // the file is shorter than promised: it shrank
			}
		}
		if err != nil {
			return l.writeFailed(c, err)
		}
		l.sent(c, n)
		if n < want {
			// A short write: the socket's send buffer is full.
			return l.wait(c, writable, writeTimer)
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
		return l.wait(c, writable, writeTimer)
	}
	return closed
}

// sent accounts for n bytes written. Progress pushes the write deadline
// back: the write limit is on a client that stops reading, not on a large
// file taking long.
func (l *loop) sent(c *conn, n int) {
	l.cfg.Stats.Sent(int64(n))
	c.budget -= n
	c.progressAt = l.now
	if c.timer == writeTimer {
		c.deadline = l.deadlineOf(c, writeTimer) // later: no heap work
	}
}

// finishResponse ends the response just sent: on to the next request, or
// to closing.
func (l *loop) finishResponse(c *conn) state {
	keepAlive := c.sess.Done()
	l.stopTimer(c)
	l.putChunk(c)
	c.file = nil
	if !keepAlive || l.draining {
		return closing
	}
	// Idle from now; and if the next request began arriving with an
	// earlier one, its head's clock starts now too: a little generous,
	// never unbounded.
	c.fresh = false
	c.idleSince, c.headStart = l.now, l.now
	return readingRequest
}

// lingerClose is the closing step. Closing a socket that still has unread
// input makes the kernel send a reset, and a reset can destroy the last
// response in the client's receive buffer before the client reads it. So
// we shut down our sending side (the client gets a FIN after the last
// byte), then read and discard until the client closes too, or lingerTimeout
// passes. Apache and nginx call this a lingering close.
func (l *loop) lingerClose(c *conn) state {
	if !c.shutWr {
		c.shutWr = true
		c.lingerSince = l.now
		if unix.Shutdown(c.fd, unix.SHUT_WR) != nil {
			return closed
		}
		c.canRead = true // the client may have closed already: look now
	}
	if c.canRead {
		c.canRead = false
		n, err := unix.Read(c.fd, l.discard)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			// The client has not closed yet.
		case err != nil || n == 0:
			return closed // it has (or it reset): now close is safe
		}
	}
	return l.wait(c, readable, lingerTimer)
}

// getChunk takes a file buffer from the loop's pool. A connection holds one
// only while it sends a body that goes through user space, so the memory
// follows the number of responses in progress, not of connections.
func (l *loop) getChunk() []byte {
	if n := len(l.chunks); n > 0 {
		b := l.chunks[n-1]
		l.chunks = l.chunks[:n-1]
		return b
	}
	return make([]byte, chunkSize)
}

// maxSpareChunks bounds the pool: after a burst of slow downloads, the
// extra buffers go back to the garbage collector instead of being held for
// ever.
const maxSpareChunks = 64

func (l *loop) putChunk(c *conn) {
	if c.buf != nil && len(l.chunks) < maxSpareChunks {
		l.chunks = append(l.chunks, c.buf)
	}
	c.buf, c.cs, c.ce = nil, 0, 0
}
