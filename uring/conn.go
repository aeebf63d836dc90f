package uring

import (
	"golang.org/x/sys/unix"

	"serverlab/internal/sock"
	"serverlab/internal/timers"
	"serverlab/servers"
)

// state is where a connection is in lesson 00's third loop, named after the
// request it has under way in the ring. evloop's states say what a
// connection waits to be ABLE to do ("readable"); these say what the kernel
// is DOING for it. A connection has at most one request in the ring at a
// time (a file read counts its simulated delay with it), so its state and
// that request are the same thing, and cancelling it is cancelling one
// request.
type state uint8

const (
	// receivingRequest: a RECV is under way, for (more of) a request.
	receivingRequest state = iota
	// openingFile: an OPENAT2 of the file the Session named, beneath the
	// site's root, then a STATX of what it opened.
	openingFile
	// fetchingFile: a READ of the body's next chunk, behind the simulated
	// disk's delay when there is one.
	fetchingFile
	// sendingResponse: a SEND of the head, the chunk fetched, or both.
	sendingResponse
	// lingering: the last response is out; a SHUTDOWN of our side, then
	// RECVs of whatever the client still sends, until it closes too.
	lingering
	// closing: the CLOSE is under way; when it completes, the slot is free.
	closing
)

func (s state) String() string {
	switch s {
	case receivingRequest:
		return "receivingRequest"
	case openingFile:
		return "openingFile"
	case fetchingFile:
		return "fetchingFile"
	case sendingResponse:
		return "sendingResponse"
	case lingering:
		return "lingering"
	case closing:
		return "closing"
	}
	return "state(?)"
}

// The buffers file data is read into and sent from. Bodies are streamed
// through them, a chunk at a time: never a whole file in memory. A body no
// bigger than smallChunk gets a buffer its size class: a connection holds
// its buffer from the READ until the SEND completes, across turns of the
// loop, so with five hundred small responses under way at once, 64 KiB
// each would be 32 MiB held for 1 KiB files.
const (
	chunkSize  = 64 << 10
	smallChunk = 4 << 10
)

// conn is one client connection. Conns are pooled by the loop, with their
// Sessions, so a new connection allocates nothing, and neither does a new
// request on a kept-alive one.
type conn struct {
	idx, gen uint32 // its slot, and the slot's generation: its user data
	id       uint64 // its number in a trace
	fd       int
	state    state
	sess     *servers.Session // the protocol, clocks and all

	// busy: a request of this connection is in the ring; ud is its user
	// data, for a cancel to name it.
	busy bool
	ud   uint64
	// stopping: the request under way was cancelled (a limit expired,
	// Shutdown); whatever its completion says, the connection moves to
	// then instead.
	stopping bool
	then     state
	starved  bool // its receive found no provided buffer: retry after this batch
	shutWr   bool // lingering: our side is shut
	answered bool // a response has been sent on it

	// out is the response in progress, taken from the loop's pool for
	// as long as one is. An idle keep-alive connection holds none, and no
	// input buffer either (its Session gives that back, and its receive
	// waits without one): this struct and its Session, nothing more.
	out *response

	// The timer (timer.go): the connection's place in the loop's heap.
	timer timers.Timer[*conn]
}

// response is what a connection needs while it answers a request.
type response struct {
	// The head is sent from headOff; the file is read from off (the next
	// byte to fetch) to end; buf[cs:ce] is file data fetched and not yet
	// sent. A short send only moves headOff or cs, and the next send
	// starts there.
	head     []byte
	headOff  int
	file     *servers.File
	off, end int64
	buf      []byte // a chunk from the loop's pool while the body needs one
	cs, ce   int
	cached   bool // buf is the small-file cache's copy of the body: not a pool's, never read into

	// A head and a chunk go out in one SENDMSG. The kernel copies the
	// message header and its iovecs when the request is submitted, but
	// reads the bytes they point to until it completes: head and buf,
	// above, keep those alive and in place until then.
	msg unix.Msghdr
	iov [2]unix.Iovec

	// The file step, through the ring: the path (NUL-terminated) and the
	// open_how that OPENAT2 reads, the descriptor it gave (-1: none yet),
	// and the statx buffer STATX fills. All here, in memory that stays put
	// until the requests complete.
	path   []byte
	how    unix.OpenHow
	openFd int
	stx    unix.Statx_t
}

// complete is the event half of the classic loop: the request c had under
// way has finished, and the completion says how. Each step below reads what
// it means and names the state to go to; advance then makes the request
// that state waits on. Every transition of the machine is in these two
// functions:
//
//	state             its request         on completion    next
//	receivingRequest  RECV                requestReceived  receivingRequest (more bytes; or a whole
//	                                                       request, and advance finds it), closing
//	openingFile       OPENAT2, STATX      fileOpened       openingFile (the statx; the folder's
//	                                                       index; or done, and advance finds it)
//	fetchingFile      [TIMEOUT ->] READ   fileFetched      sendingResponse, closing (file shrank)
//	sendingResponse   SEND / SENDMSG      responseSent     sendingResponse (the rest; or done, and
//	                                                       advance finds it), closing (reset)
//	lingering         SHUTDOWN, RECV      lingered         lingering, closing (EOF, enough, time up)
//	closing           CLOSE               release          (the slot is free)
func (l *loop) complete(c *conn, kind uint8, res int32, flags uint32) {
	if kind == kDelay {
		// The simulated disk's wait, reporting only because it was
		// cancelled; the READ linked behind it reports for both.
		return
	}
	c.busy = false
	if kind == kRead {
		l.fetching--
	}
	// A receive that got data got it in a provided buffer, which must go
	// back to the kernel once the bytes are copied out, whatever happens.
	var data []byte
	if flags&cqeFBuffer != 0 {
		bid := uint16(flags >> cqeBufferShift)
		l.bufs.taken()
		defer l.bufs.put(bid)
		data = l.bufs.buf(bid)[:max(res, 0)]
	}
	var next state
	switch {
	case c.stopping:
		c.stopping = false
		l.dropOpen(c, kind, res)
		next = c.then
	case c.state == receivingRequest:
		next = l.requestReceived(c, res, data)
	case c.state == openingFile:
		next = l.fileOpened(c, kind, res)
	case c.state == fetchingFile:
		next = l.fileFetched(c, res)
	case c.state == sendingResponse:
		next = l.responseSent(c, res)
	case c.state == lingering:
		next = l.lingered(c, kind, res, data)
	case c.state == closing:
		l.release(c)
		return
	}
	l.advance(c, next)
}

// advance is the request half: it moves c to state next and starts what
// that state waits on, the "start reading ... with userdata = conn" of the
// pseudocode. A state that needs no request now (a pipelined request is
// already here; the file was in the cache; the response has no body)
// moves straight on.
func (l *loop) advance(c *conn, next state) {
	for {
		l.traceState(c, c.state, next)
		c.state = next
		switch next {
		case receivingRequest:
			next = l.receiveRequest(c)
		case openingFile:
			next = l.openFile(c)
		case fetchingFile:
			next = l.fetchFile(c)
		case sendingResponse:
			next = l.sendResponse(c)
		case lingering:
			next = l.linger(c)
		case closing:
			l.closeConn(c)
			return
		}
		if next == c.state {
			return // a request is under way; its completion comes back to complete
		}
	}
}

// submitted notes that s, a request for c, is under way.
func (l *loop) submitted(c *conn, s *sqe) {
	c.busy, c.ud = true, s.userData
}

// waitUntil bounds what c now waits for by its Session's deadline.
func (l *loop) waitUntil(c *conn) {
	l.timers.Set(&c.timer, c, c.sess)
}

// fail ends c because its connection broke (err): the Session counts it,
// and the close that follows does not linger.
func (l *loop) fail(c *conn, err error) state {
	c.sess.Fail(err)
	return closing
}

// receiveRequest starts the receivingRequest state: answer a request
// already received (one pipelined behind the last, or a 408 a limit
// queued), or receive more.
func (l *loop) receiveRequest(c *conn) state {
	if c.starved {
		return receivingRequest // retryStarved will submit it
	}
	if c.sess.Next() { // a request is in, or a 408 is due
		c.sess.TraceRequest(l.tr, c.id, c.fd)
		c.timer.Stop()
		return openingFile
	}
	s := l.ring.get()
	if l.opt.OwnBuffers {
		// The trap: a receive of our own must carry its buffer while it
		// waits, so an idle connection pins its Session's input buffer.
		s.recv(c.fd, c.sess.ReadSpace(), userData(kRecv, c))
	} else {
		// Between requests, the Session gives its input buffer back while
		// the connection waits; the kernel picks a provided buffer only
		// when bytes arrive. Ask for no more than the Session has room
		// for, so that every byte received fits.
		c.sess.Shrink()
		n := recvBufSize
		if c.sess.Buffered() > 0 {
			n = min(n, len(c.sess.ReadSpace()))
		}
		s.recvSelect(c.fd, n, bufGroup, userData(kRecv, c))
	}
	if c.answered && c.sess.Buffered() == 0 {
		// After a response the client has rarely sent its next request
		// yet: skip the receive attempt that would find nothing, and go
		// straight to waiting for data (IORING_RECVSEND_POLL_FIRST).
		s.ioprio |= recvPollFirst
	}
	l.submitted(c, s)
	l.traceSubmit(c, s)
	l.waitUntil(c)
	return receivingRequest
}

// requestReceived is FINISHED_READING_FROM_SOCKET: res bytes arrived (in
// data, a provided buffer, or already in the Session's own buffer).
func (l *loop) requestReceived(c *conn, res int32, data []byte) state {
	switch err := unix.Errno(-res); {
	case err == unix.ENOBUFS || err == unix.EAGAIN || err == unix.EINTR:
		// ENOBUFS: every provided buffer was taken at that moment. Not
		// at once again (that could spin): after this batch, which
		// gives back the buffers it used. (EAGAIN and EINTR are not
		// expected from a receive the kernel waits on; retry them the
		// same way rather than drop the connection.)
		c.starved = true
		l.starved = append(l.starved, c)
		l.noBufs++
		return receivingRequest
	case res == 0:
		// The client closed. One that only half-closed after its request
		// has had every answer: requests are answered before the next
		// receive.
		return closing
	case res < 0:
		return l.fail(c, err) // a reset: the client is gone
	}
	n := int(res)
	if data != nil {
		// receiveRequest asked for no more than ReadSpace holds.
		n = copy(c.sess.ReadSpace(), data)
	}
	c.sess.Received(n, l.now)
	return receivingRequest // receiveRequest looks for a whole request
}

// openFile starts the openingFile state, the first half of the
// pseudocode's "start fetching the requested file from disk": the Session
// names the file (a path beneath the root), and the ring opens it, then
// stats what it opened. A file in the open-file cache needs no step at all.
func (l *loop) openFile(c *conn) state {
	if c.out == nil {
		l.takeOut(c)
	}
	o := c.out
	if o.openFd >= 0 {
		// Opened: statx(fd, "", AT_EMPTY_PATH), fstat through the ring.
		// (io_uring always hands a STATX to one of its worker threads;
		// the open-file cache makes it rare.)
		s := l.ring.get()
		s.fstatx(o.openFd, &l.empty, unix.STATX_TYPE|unix.STATX_MODE|unix.STATX_SIZE|unix.STATX_MTIME|unix.STATX_INO,
			&o.stx, userData(kStatx, c))
		l.submitted(c, s)
		l.traceSubmit(c, s)
		return openingFile
	}
	for {
		op := c.sess.Open()
		if op == nil {
			return l.beginResponse(c) // the Session has decided the answer
		}
		dirfd, ok := op.Root()
		if !ok {
			c.sess.Opened(op.Do()) // not a folder on disk: its own way
			continue
		}
		// openat2 beneath the root with the core's flags, exactly as
		// its own disk opens: RESOLVE_BENEATH makes the kernel keep the
		// jail, even against symbolic links.
		o.path = append(append(o.path[:0], op.Path...), 0)
		o.how = unix.OpenHow{Flags: servers.OpenFlags, Resolve: servers.ResolveFlags}
		s := l.ring.get()
		s.openat2(dirfd, o.path, &o.how, userData(kOpen, c))
		l.submitted(c, s)
		l.traceSubmit(c, s)
		return openingFile
	}
}

// fileOpened is a completion of the openingFile state: the OPENAT2 (then
// openFile stats what it opened), or the STATX (then the core decides, or
// names the folder's index to open next).
func (l *loop) fileOpened(c *conn, kind uint8, res int32) state {
	o := c.out
	op := c.sess.Open()
	err := unix.Errno(-res)
	switch {
	case kind == kOpen && (err == unix.EAGAIN || err == unix.EINTR):
		// openat2 may ask to be tried again (RESOLVE_BENEATH under a
		// rename race): openFile submits it again.
	case kind == kOpen && res < 0:
		c.sess.Opened(op.Adopt(-1, servers.Stat{}, err))
	case kind == kOpen:
		o.openFd = int(res)
	case res < 0:
		fd := o.openFd
		o.openFd = -1
		c.sess.Opened(op.Adopt(fd, servers.Stat{}, err))
	default:
		fd := o.openFd
		o.openFd = -1
		c.sess.Opened(op.Adopt(fd, servers.StatFromStatx(&o.stx), nil))
	}
	return openingFile
}

// dropOpen, for a cancelled file step, closes the descriptor it opened, if
// it got that far: nobody will adopt it now.
func (l *loop) dropOpen(c *conn, kind uint8, res int32) {
	switch {
	case kind == kOpen && res >= 0:
		unix.Close(int(res))
	case kind == kStatx && c.out != nil && c.out.openFd >= 0:
		unix.Close(c.out.openFd)
		c.out.openFd = -1
	}
}

// beginResponse takes the response the Session decided and prepares to
// send it: a head, and perhaps a range of a file, which must then be
// fetched — unless the core's small-file cache holds it.
func (l *loop) beginResponse(c *conn) state {
	c.sess.TraceAnswer(l.tr, c.id, c.fd)
	o := c.out
	o.head, o.headOff = c.sess.Head(), 0
	f, off, n := c.sess.Body()
	o.file, o.off, o.end = f, off, off+n
	if f != nil && f.Data() != nil {
		// The body is in memory already: no READ, and head and body
		// leave together in one SENDMSG. (The core read it once, on
		// this thread, when the file was opened or changed: a small
		// file, from the page cache.) READ is for bigger files, and
		// for every file with -cache=false or a slow disk. (A body
		// up to 4 KiB is not here at all: it travels in the head.)
		o.buf, o.cached = f.Data()[off:o.end:o.end], true
		o.cs, o.ce, o.off = 0, len(o.buf), o.end
		return sendingResponse
	}
	return fetchingFile
}

// fetchFile starts the fetchingFile state, the second half of "start
// fetching the requested file from disk": a READ of the body's next chunk.
func (l *loop) fetchFile(c *conn) state {
	o := c.out
	if o.file == nil || o.off == o.end || o.cs < o.ce {
		return sendingResponse // nothing (more) to fetch now
	}
	if o.buf == nil {
		o.buf = l.getChunk(o.end - o.off)
	}
	want := int(min(int64(len(o.buf)), o.end-o.off))
	if o.file.Fd() < 0 {
		// A file system with no descriptor to give the kernel: read it
		// here, its own way.
		n, err := o.file.ReadAt(o.buf[:want], o.off)
		if err != nil {
			n = 0
		}
		return l.fileFetched(c, int32(n))
	}
	if l.delayTs != (timespec{}) {
		// The simulated slow disk, as a wait inside the ring: a TIMEOUT
		// linked before the READ, which the kernel starts only when the
		// timeout has passed. ETIME_SUCCESS: expiring is this timeout's
		// success, so the link goes on; CQE_SKIP: and it says nothing
		// then. The thread meanwhile serves everyone else.
		l.ring.reserve(2)
		d := l.ring.get()
		d.timeout(&l.delayTs, timeoutEtimeSuccess, userData(kDelay, c))
		d.flags |= sqeIOLink | sqeCQESkip
	}
	s := l.ring.get()
	s.read(o.file.Fd(), o.buf[:want], o.off, userData(kRead, c))
	l.submitted(c, s)
	l.traceSubmit(c, s)
	l.fetching++
	l.peakFetching = max(l.peakFetching, l.fetching)
	return fetchingFile
}

// fileFetched is FINISHED_READING_FROM_DISK.
func (l *loop) fileFetched(c *conn, res int32) state {
	if res <= 0 {
		return l.fail(c, servers.ErrFileShrank) // the file shrank (or failed) under us
	}
	o := c.out
	o.cs, o.ce = 0, int(res)
	o.off += int64(res)
	return sendingResponse
}

// sendResponse starts the sendingResponse state: send what is left of the
// head and of the chunk, both in one SENDMSG when there are both. With
// nothing left to send, it moves on: to fetch the next chunk, or to the
// next request.
func (l *loop) sendResponse(c *conn) state {
	o := c.out
	head, body := o.head[o.headOff:], o.buf[o.cs:o.ce]
	if len(head) == 0 && len(body) == 0 {
		if o.off < o.end {
			return fetchingFile
		}
		return l.finishResponse(c)
	}
	s := l.ring.get()
	switch {
	case len(body) == 0:
		s.send(c.fd, head, userData(kSend, c))
	case len(head) == 0:
		s.send(c.fd, body, userData(kSend, c))
	default:
		o.iov[0] = unix.Iovec{Base: &head[0]}
		o.iov[0].SetLen(len(head))
		o.iov[1] = unix.Iovec{Base: &body[0]}
		o.iov[1].SetLen(len(body))
		o.msg = unix.Msghdr{Iov: &o.iov[0]}
		o.msg.SetIovlen(2)
		s.sendmsg(c.fd, &o.msg, userData(kSend, c))
	}
	l.submitted(c, s)
	l.traceSubmit(c, s)
	l.waitUntil(c) // the write limit, from the last progress
	return sendingResponse
}

// finishResponse ends the response just sent: on to the next request, or
// to the close.
func (l *loop) finishResponse(c *conn) state {
	keepAlive := c.sess.Sent(l.now)
	c.timer.Stop()
	l.putOut(c)
	c.answered = true
	if keepAlive && !l.draining {
		return receivingRequest
	}
	return lingering
}

// responseSent is FINISHED_WRITING_TO_SOCKET: res bytes went out, perhaps
// fewer than asked (a short send), which sendResponse resumes.
func (l *loop) responseSent(c *conn, res int32) state {
	switch {
	case res < 0:
		// EPIPE, ECONNRESET: the client is gone (MSG_NOSIGNAL made it
		// an error, not a SIGPIPE).
		return l.fail(c, unix.Errno(-res))
	case res == 0:
		return l.fail(c, unix.EPIPE) // no progress at all: the same
	}
	o := c.out
	n := int(res)
	c.sess.Wrote(n, l.now) // counted, and the write limit pushed back
	if n < len(o.head)-o.headOff+o.ce-o.cs {
		l.shortSends++ // the socket took less than all: sendResponse sends the rest
	}
	h := min(n, len(o.head)-o.headOff)
	o.headOff += h
	o.cs += n - h
	return sendingResponse
}

// linger starts (and continues) the lingering state, the end of a
// connection after its last answer. Closing a socket with unread input
// makes the kernel send a reset, which can destroy that answer before the
// client reads it; so when the Session says bytes may be unread (see
// servers.Session.Linger), we shut down our sending side (the client gets a
// FIN after the last byte), then receive and throw away until the client
// closes too, enough was read, or the Session's deadline passes.
func (l *loop) linger(c *conn) state {
	if !c.shutWr {
		if !c.sess.Linger(l.now, sock.Unread(c.fd)) {
			return closing // nothing unread: a plain close sends a FIN
		}
		c.shutWr = true
		s := l.ring.get()
		s.shutdown(c.fd, unix.SHUT_WR, userData(kShutdown, c))
		l.submitted(c, s)
		l.traceSubmit(c, s)
		return lingering
	}
	s := l.ring.get()
	if l.opt.OwnBuffers {
		s.recv(c.fd, c.sess.ReadSpace(), userData(kRecv, c))
	} else {
		s.recvSelect(c.fd, recvBufSize, bufGroup, userData(kRecv, c))
	}
	l.submitted(c, s)
	l.traceSubmit(c, s)
	l.waitUntil(c)
	return lingering
}

// lingered is a completion of the lingering state's SHUTDOWN or RECV.
func (l *loop) lingered(c *conn, kind uint8, res int32, data []byte) state {
	switch {
	case kind == kShutdown && res < 0:
		return closing // the client is gone already
	case kind == kShutdown:
		return lingering // now receive
	case res == -int32(unix.ENOBUFS):
		return lingering // receive again: what it would have read is not wanted anyway
	case res <= 0:
		return closing // the client closed (or reset): now closing is safe
	case !c.sess.Discarded(int(res)):
		return closing // enough: it is not listening anyway
	}
	return lingering
}

// closeConn starts the closing state, the end of a connection whatever
// ended it. Nothing of c is in the ring now (interrupt waits for that), so
// once the CLOSE completes, no completion can name it again.
func (l *loop) closeConn(c *conn) {
	l.timers.Remove(&c.timer)
	// The Session counts an error if a response was cut short, releases
	// its file, and counts the connection closed.
	c.sess.Close()
	if c.out != nil {
		l.putOut(c)
	}
	s := l.ring.get()
	s.close(c.fd, userData(kClose, c))
	l.submitted(c, s)
	l.traceSubmit(c, s)
}

// interrupt ends what c is doing: if a request is under way, it is
// cancelled, and its completion — whatever it says — moves c to then; if
// none is, c moves to then at once. A limit that expired, and Shutdown,
// end connections this way.
func (l *loop) interrupt(c *conn, then state) {
	c.timer.Stop()
	c.starved = false
	switch {
	case c.state == closing:
		return // already ending
	case !c.busy:
		l.advance(c, then)
		return
	case c.stopping:
		if then == closing {
			c.then = closing // a later, stronger reason wins
		}
		return
	}
	c.stopping, c.then = true, then
	if c.state == fetchingFile && l.delayTs != (timespec{}) {
		// A read behind its simulated delay: cancelling the delay ends
		// the chain, and the READ completes with ECANCELED.
		l.cancel(c, userData(kDelay, c))
	}
	l.cancel(c, c.ud)
}

// cancel submits an ASYNC_CANCEL of the request with user data target.
// CQE_SKIP: a cancel that worked says nothing; one that found nothing (its
// target had just finished) comes back, and run ignores it.
func (l *loop) cancel(c *conn, target uint64) {
	s := l.ring.get()
	s.cancel(target, userData(kCancel, c))
	s.flags |= sqeCQESkip
	l.traceSubmit(c, s)
}

// retryStarved submits again the receives that found no buffer.
func (l *loop) retryStarved() {
	for i, c := range l.starved {
		l.starved[i] = nil
		if c.starved {
			c.starved = false
			l.advance(c, c.state)
		}
	}
	l.starved = l.starved[:0]
}

// takeOut gives c a response in progress, from the loop's pool.
func (l *loop) takeOut(c *conn) {
	if o, ok := l.outs.Get(); ok {
		c.out = o
		return
	}
	c.out = &response{openFd: -1}
}

// putOut takes c's response back into the (bounded) pool.
func (l *loop) putOut(c *conn) {
	o := c.out
	if !o.cached {
		l.putChunk(o.buf)
	}
	*o = response{path: o.path[:0], openFd: -1}
	l.outs.Put(o, maxSpareConns)
	c.out = nil
}

// getChunk takes a buffer for a body of n bytes from the loop's pools. A
// connection holds one only while it sends a body, so the memory follows
// the responses in progress, not the connections.
func (l *loop) getChunk(n int64) []byte {
	pool, size := &l.chunks, chunkSize
	if n <= smallChunk {
		pool, size = &l.smallChunks, smallChunk
	}
	if b, ok := pool.Get(); ok {
		return b
	}
	return make([]byte, size)
}

// putChunk gives a buffer back to its pool.
func (l *loop) putChunk(b []byte) {
	switch cap(b) {
	case chunkSize:
		l.chunks.Put(b, maxSpareChunks)
	case smallChunk:
		l.smallChunks.Put(b, maxSpareSmall)
	}
}

// The pools are bounded: after a burst of downloads, the extra buffers go
// back to the garbage collector.
const (
	maxSpareChunks = 64
	maxSpareSmall  = 1024
)
