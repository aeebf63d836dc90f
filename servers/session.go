package servers

import (
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Session is the whole protocol life of one connection, with no socket and
// no file in it: the bytes received and not yet parsed, the request being
// answered, the clocks of the limits, the lingering close at the end, and
// the counting of it all in Stats. A model owns one Session per connection
// and does only what a Session cannot: wait, and move bytes. It performs
// the steps the Session names and reports each one back:
//
//	sess.Start(now)                            // accepted
//	for read(sock, sess.ReadSpace()) until sess.Deadline() {
//		sess.Received(n, now)                  // (timed out: sess.Expire)
//		for sess.Next() {                      // a whole request is in
//			for op := sess.Open(); op != nil; op = sess.Open() {
//				sess.Opened(op.Do())           // fetch the file
//			}
//			write(sock, sess.Head())           // the head (a small body with it),
//			write the bytes of sess.Body()      // the rest; sess.Wrote(n, now)
//			if !sess.Sent(now) { linger or close; return }
//		}
//	}
//	sess.Close()                               // closed
//
// An event loop takes the same steps, each when its socket or its disk
// worker is ready. Because the Session owns the input buffer, every model
// gets pipelining (all requests that arrived in one read are answered, in
// order), the request size limits and the bound on per-connection memory
// for free; because it owns the clocks, every model enforces the same
// limits the same way, and keeps no clock of its own.
//
// A Session is not safe for concurrent use: one connection's steps are
// reported from one goroutine at a time.
type Session struct {
	site  *Site
	stats *Stats
	lim   *Limits

	phase     phase
	open      bool // between Start and Close
	keepAlive bool // the server lets connections persist (SetKeepAlive)

	// The clocks. since is when the present wait began: the accept, the
	// first byte of a request head, the last response, the last progress
	// of a write, or the start of a lingering close (see Deadline). now is
	// the time of the latest event a model reported: the Date header and
	// the open-file cache read it.
	since, now time.Time
	fresh      bool // nothing answered yet: the first head's clock began at accept

	// How the last answer ended, for Linger.
	abandoned bool // the parser gave up on the stream: the rest of it is unread
	broken    bool // the connection failed or timed out: nothing to protect
	inFlight  bool // a request is counted in Stats as under way
	holding   bool // the model holds answers Sent but not yet written (Hold)
	discarded int  // bytes thrown away while lingering

	parser Parser
	// x is what only a busy connection needs: the input buffer, the
	// request, the response and their scratch space. An idle connection
	// gives it back (Shrink), so that ten thousand idle connections in an
	// event loop cost a few hundred bytes each, not 33 KiB.
	x *exchange
}

// phase is where a connection is in its protocol life.
type phase uint8

const (
	reading   phase = iota // waiting for (the rest of) a request
	answering              // an answer is decided (a 408): Next hands it out
	opening                // a request is in and a file step is out (Open)
	sending                // the head and body are going out
	lingering              // the last answer is out; what the client still sends is thrown away
	ended                  // nothing left but to close
)

// The bounds of a lingering close. nginx waits up to 5 s by default
// (lingering_timeout); a second is plenty on loopback and keeps a graceful
// shutdown short. The byte bound stops a client that streams without end
// from keeping a connection open that has nothing more to say to it.
const (
	lingerTimeout = time.Second
	lingerLimit   = 4 << 20
)

// exchange is the per-request state of a session, pooled by the Site.
type exchange struct {
	in         [ReadBufferSize]byte // unparsed bytes are in[start:end]
	start, end int

	req  Request
	resp Response
	open OpenStep
	head []byte // the encoded response head, reused
	wire []byte // what Head returns: head, or a File's whole answer
	path []byte // the decoded path, reused
	loc  []byte // a 301's Location, reused
	date []byte // the Date header value, remade once a second

	dateSec int64
	index   bool // path is a folder's index, appended by the core
	folded  bool // head ends with the body (see foldLimit)
}

// NewSession makes the protocol state for the connections of a server
// configured by cfg. A session is reusable: Start, ..., Close, Start again.
func NewSession(cfg *Config) *Session {
	return &Session{site: cfg.Site, stats: cfg.Stats, lim: &cfg.Limits, keepAlive: true, phase: ended}
}

// SetKeepAlive chooses whether connections may persist (the default). Off,
// every response says "Connection: close" and ends its connection: the
// classic loop of lesson 00, answer then close.
func (s *Session) SetKeepAlive(on bool) { s.keepAlive = on }

// Start begins a connection, accepted at now.
func (s *Session) Start(now time.Time) {
	s.Close()
	s.open = true
	s.phase = reading
	s.since, s.now = now, now
	s.fresh = true
	s.abandoned, s.broken, s.holding = false, false, false
	s.stats.connAccepted()
}

// Close ends the connection: a response still under way is counted as cut
// short, its file released, the per-request state given back, and the
// connection counted closed. Closing a session that is not open does
// nothing.
func (s *Session) Close() {
	if !s.open {
		return // never started, or already closed
	}
	s.open = false
	if s.inFlight {
		s.stats.failed()
	}
	s.finish()
	s.parser.Reset()
	s.phase = ended
	if s.x != nil {
		s.giveBack()
	}
	s.stats.connClosed()
}

// ReadSpace returns the free space at the end of the input buffer, for the
// model to read into. The buffer never grows: a client that pipelines faster
// than it reads its answers fills it, and then a model (which reads only
// between responses) simply stops reading from it. That is backpressure,
// and it bounds each connection's memory.
func (s *Session) ReadSpace() []byte {
	if s.x == nil {
		s.x = s.site.exchanges.get()
	}
	x := s.x
	if x.start > 0 {
		// Slide the unparsed bytes (usually none, or the start of one
		// pipelined request) to the front to make room.
		x.end = copy(x.in[:], x.in[x.start:x.end])
		x.start = 0
	}
	return x.in[x.end:]
}

// Received records that n bytes were read into ReadSpace at now.
func (s *Session) Received(n int, now time.Time) {
	s.now = now
	if s.Buffered() == 0 && !s.fresh {
		s.since = now // the first byte of a new request head
	}
	s.x.end += n
}

// Buffered is how many received bytes have not been used yet. Zero between
// requests means the connection is idle; more means a request is arriving.
func (s *Session) Buffered() int {
	if s.x == nil {
		return 0
	}
	return s.x.end - s.x.start
}

// Idle reports whether the session is between requests with nothing in
// hand: no response under way, no bytes buffered, and the parser at a
// request boundary (not in the middle of skipping a body).
func (s *Session) Idle() bool {
	return s.phase == reading && s.Buffered() == 0 && s.parser.discard == 0
}

// Shrink gives the per-request state, input buffer and all, back to the
// site's pool if the connection is between requests with no bytes waiting.
// A model whose idle connections wait without a read in progress (the event
// loop) calls it after each response; the next ReadSpace takes it again.
// Models that wait inside read(2) hold the buffer while they wait, and gain
// nothing from it.
func (s *Session) Shrink() {
	if s.x != nil && s.phase == reading && s.Buffered() == 0 {
		s.giveBack()
	}
}

func (s *Session) giveBack() {
	s.x.start, s.x.end = 0, 0
	s.site.exchanges.put(s.x)
	s.x = nil
}

// Next looks for the next complete request among the bytes received, or the
// answer a timeout queued (see Expire), and reports whether there is one to
// answer. After a true the model performs the file steps (Open), sends Head
// and Body, and calls Sent; after a false it reads more.
func (s *Session) Next() bool {
	switch s.phase {
	case answering:
		s.phase = sending
		return true
	case opening, sending:
		panic("servers: Session.Next called during a response") // a model bug, never a client's
	case reading:
	default:
		return false
	}
	x := s.x
	if x == nil {
		return false
	}
	for x.start < x.end {
		n, err := s.parser.Parse(x.in[x.start:x.end], &x.req)
		x.start += n
		if err != nil {
			s.refuse(err.(*Error))
			return true
		}
		if x.req.Method != 0 {
			s.begin()
			return true
		}
		if n == 0 {
			break // need more bytes
		}
	}
	if s.Buffered() == len(x.in) {
		// Cannot happen while ReadBufferSize exceeds the parser's limits;
		// kept so a future change of limits fails safe, not by hanging.
		s.refuse(errHeaderTooLarge)
		return true
	}
	return false
}

// refuse answers a request the parser could not read to its end with an
// error status; the connection closes after it, with the rest of what the
// client sent unread.
func (s *Session) refuse(e *Error) {
	s.countRequest()
	s.abandoned = true
	ErrorResponse(e, &s.x.resp)
	s.respond()
}

// begin starts the answer to the request just parsed: the path is cleaned,
// and the file looked for in the cache.
func (s *Session) begin() {
	s.countRequest()
	x := s.x
	x.resp = Response{KeepAlive: x.req.KeepAlive && s.keepAlive, NoBody: x.req.Method == HEAD}
	x.index = false
	if x.req.Method == OPTIONS && string(x.req.Path) == "*" {
		x.resp.options(nil) // the server as a whole: no file to look for
		s.respond()
		return
	}
	rel, err := cleanPath(x.path, x.req.Path)
	x.path = rel
	if err != nil {
		x.resp.fail(err.(*Error))
		s.respond()
		return
	}
	if len(x.path) == 0 {
		x.path = append(x.path, '.') // the root itself
	}
	s.lookup()
}

// lookup finds the file for x.path: in the open-file cache, without a
// system call, or else by asking the model for a file step.
func (s *Session) lookup() {
	x := s.x
	if f := s.site.cached(x.path, s.now); f != nil {
		s.found(f)
		return
	}
	x.open = OpenStep{Path: string(x.path), site: s.site, now: s.now}
	s.phase = opening
}

// Open is the file step the response waits for, or nil when there is none:
// the file was in the cache, or the answer needs no file. After a folder
// was opened, Open names a second step, the folder's index.html.
func (s *Session) Open() *OpenStep {
	if s.phase != opening {
		return nil
	}
	return &s.x.open
}

// Opened hands the core the result of the step Open named; the core then
// decides the answer, or names the next step.
func (s *Session) Opened(r OpenResult) {
	if s.phase != opening {
		panic("servers: Session.Opened without a file step") // a model bug
	}
	if r.err != nil {
		s.x.resp.fail(r.err)
		s.respond()
		return
	}
	s.found(r.file)
}

// found decides the answer now that the file (or folder) for the request is
// known.
func (s *Session) found(f *File) {
	x := s.x
	if !f.dir {
		x.resp.serveFile(&x.req, f)
		s.respond()
		return
	}
	f.release() // a folder is not sent: its index is
	p := x.req.Path
	switch {
	case x.index:
		// The index is itself a folder: nothing here to serve.
		x.resp.fail(errForbidden)
	case len(p) == 0 || p[len(p)-1] != '/':
		// A folder asked for without its slash: its relative links
		// would resolve one level too high. Send the client to the
		// name with the slash, query kept, as nginx and net/http do.
		// Leading slashes fold into one: "//docs/" would name the
		// host "docs" (RFC 3986 §4.2), an open redirect.
		for len(p) > 1 && p[1] == '/' {
			p = p[1:]
		}
		x.loc = append(append(x.loc[:0], p...), '/')
		if x.req.Query != nil {
			x.loc = append(append(x.loc, '?'), x.req.Query...)
		}
		x.resp.redirect(x.loc)
	default:
		if string(x.path) == "." {
			x.path = append(x.path[:0], "index.html"...)
		} else {
			x.path = append(x.path, "/index.html"...)
		}
		x.index = true
		s.lookup()
		return
	}
	s.respond()
}

// respond encodes the head of the answer decided; the model sends it next.
func (s *Session) respond() {
	x := s.x
	if sec := s.now.Unix(); sec != x.dateSec || len(x.date) == 0 {
		x.dateSec = sec
		x.date = s.now.UTC().AppendFormat(x.date[:0], TimeFormat)
	}
	f, off, n := s.body()
	x.folded = f != nil && f.data != nil && n <= foldLimit
	if x.folded && x.resp.wholeFile() {
		// The usual answer: all of a small file from the cache. The
		// File keeps that whole answer made, head and body, for this
		// second's Date: nothing to encode and nothing to copy.
		x.wire = f.wholeAnswer(x.resp.KeepAlive, x.dateSec, x.date)
	} else {
		x.head = AppendHead(x.head[:0], &x.resp, x.date)
		if x.folded {
			x.head = append(x.head, f.data[off:off+n]...)
		}
		x.wire = x.head
	}
	s.phase = sending
	s.since = s.now // the write limit counts from here
	s.stats.answered(x.resp.Status)
}

func (s *Session) countRequest() {
	s.inFlight = true
	s.stats.requestStarted()
}

// foldLimit is the largest body that Head carries after the head itself.
// A small body from the small-file cache is copied there, so that the whole
// answer is one buffer: one write(2) in every model, where a head and a body
// apart cost blocking and threaded two, and evloop's writev(2) of the two a
// little more in the kernel than a write of one (about 2% of its CPU per
// 1 KiB request, measured side by side). Past a page, the copy would cost
// more than it saves; the body then stays where the cache holds it. For the
// usual answer, all of the file, even the copy is saved: the File keeps the
// whole answer made, head and body (File.wholeAnswer).
const foldLimit = 4 << 10

// Head is the encoded response head: for an error, with its short body
// after it; for a small body from the small-file cache, with that body
// (see foldLimit), so that Body then has nothing more to send. Its bytes
// may be shared with other connections (a File's whole answer): send or
// copy them, never write into them.
func (s *Session) Head() []byte { return s.x.wire }

// Response is the response being sent, for a model that wants its details.
func (s *Session) Response() *Response { return &s.x.resp }

// Body returns the file range to send after the head, or a nil file when
// there is none (an error, a redirect, a 304, a HEAD request, an empty file)
// or when Head carries it already.
func (s *Session) Body() (f *File, off, n int64) {
	if s.x.folded {
		return nil, 0, 0
	}
	return s.body()
}

// body is the response's body, wherever it is sent from.
func (s *Session) body() (f *File, off, n int64) {
	r := &s.x.resp
	if r.File == nil || r.NoBody || r.Length == 0 || r.Status >= 300 {
		return nil, 0, 0
	}
	return r.File, r.Offset, r.Length
}

// Wrote records that n bytes of the response reached the socket at now.
// Progress pushes the write deadline back: the write limit is on a client
// that stops reading, not on a large file that takes long.
func (s *Session) Wrote(n int, now time.Time) {
	s.stats.sent(int64(n))
	s.since, s.now = now, now
}

// Fetched records that the model has the next part of the body in hand, at
// now, after reading it from the file itself (File.ReadAt, at once or on a
// worker). The time that took was the disk's, not the client's: the write
// limit counts from here.
func (s *Session) Fetched(now time.Time) {
	if s.phase == sending {
		s.since, s.now = now, now
	}
}

// Sent ends the response in progress, all of it sent at now, and reports
// whether the connection stays open for the next request. When it does
// not, the model closes it — lingeringly if Linger says so.
func (s *Session) Sent(now time.Time) (keepAlive bool) {
	keepAlive = s.x.resp.KeepAlive
	s.finish()
	s.now, s.since = now, now // idle from now, or the next head began now
	s.fresh = false
	if keepAlive {
		s.phase = reading
	} else {
		s.phase = ended
	}
	return keepAlive
}

// finish releases the response's file and counts it done, if one is open.
func (s *Session) finish() {
	if s.inFlight {
		s.inFlight = false
		s.stats.requestDone()
	}
	if s.x != nil {
		if s.x.resp.File != nil {
			s.x.resp.File.release()
		}
		s.x.resp = Response{}
	}
}

// Fail records that the connection broke: a read or write failed (the
// client reset it, a write timed out), or the file shrank under a response.
// It counts an error (and a timeout, if err is one) and ends any response
// under way; the model then closes the connection, without lingering:
// there is nothing left on it to protect.
func (s *Session) Fail(err error) {
	if isTimeout(err) {
		s.stats.timeout()
	}
	s.stats.failed()
	s.finish() // so that Close does not count it again

	s.broken = true
	s.phase = ended
}

// isTimeout reports the errors a model sees when a write limit ends a
// write: EAGAIN from a blocking socket under SO_SNDTIMEO, or the deadline
// error of Go's net package.
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, unix.EAGAIN)
}

// Deadline is until when the connection may wait for what it waits for now,
// or zero for ever. The rules, the same for every model so that they
// protect alike:
//   - waiting for a request to begin, a connection may wait IdleTimeout
//     from its last response;
//   - a request head must be complete HeaderTimeout after its first byte.
//     On a new connection it begins at accept, so that a client that
//     connects and says nothing is a slow request, not an idle keep-alive
//     connection;
//   - a response must make progress every WriteTimeout, counted while
//     the client is awaited (see Fetched), not the disk;
//   - a lingering close lasts lingerTimeout at most;
//   - while a file step is out, the disk, not the client, is awaited.
//
// Asking again gives the same answer until something happens, so a model
// that waits again after a spurious wake-up never buys a client more time.
func (s *Session) Deadline() time.Time {
	switch s.phase {
	case reading:
		if s.holding {
			return s.writeDeadline() // answers are still on their way out
		}
		idle := s.Buffered() == 0
		var d time.Time
		if idle && s.lim.IdleTimeout > 0 {
			d = s.since.Add(s.lim.IdleTimeout)
		}
		if (!idle || s.fresh) && s.lim.HeaderTimeout > 0 {
			if h := s.since.Add(s.lim.HeaderTimeout); d.IsZero() || h.Before(d) {
				d = h
			}
		}
		return d
	case sending:
		return s.writeDeadline()
	case lingering:
		return s.since.Add(lingerTimeout)
	}
	return time.Time{}
}

// writeDeadline is the write limit: WriteTimeout from the last progress.
func (s *Session) writeDeadline() time.Time {
	if s.lim.WriteTimeout > 0 {
		return s.since.Add(s.lim.WriteTimeout)
	}
	return time.Time{}
}

// Hold tells the session whether the model holds answers it has ended with
// Sent but not yet written. An event loop that gathers the answers to
// pipelined requests, to write them all with one system call, holds each
// until that write; meanwhile the connection waits as one sending does:
// Deadline is the write limit from the last progress (Wrote), and Expire
// ends it as a stalled write.
func (s *Session) Hold(held bool) { s.holding = held }

// Expire tells the session that its Deadline passed, at now, and reports
// whether there is an answer to send for it. A client that began a request
// and did not finish it in time gets one, a 408 (RFC 9110 §15.5.9): Next
// hands it out and the model sends it the usual way, then closes. Anything
// else is closed at once, without a word: an idle keep-alive connection, a
// response whose client stopped reading (cut short: counted as an error
// too), a lingering close that lasted long enough.
func (s *Session) Expire(now time.Time) bool {
	s.now = now
	switch s.phase {
	case reading:
		s.stats.timeout()
		if s.holding {
			s.Fail(nil) // a stalled write of answers held
			return false
		}
		if s.Buffered() > 0 {
			s.refuse(errRequestTimeout)
			s.phase = answering
			return true
		}
	case sending:
		s.stats.timeout()
		s.Fail(nil)
		return false
	}
	s.broken = true
	s.phase = ended
	return false
}

// errRequestTimeout is the answer to a request head that did not arrive
// in time.
var errRequestTimeout = &Error{408, "request head not received in time"}

// Linger decides how the connection ends, once the model is to close it
// after an answer (Sent said so, or the server is shutting down), and
// reports whether the close must linger. It must when request bytes are
// unread: after a refusal (the rest of the request was never read), with
// requests or a body still arriving, or when pending says the kernel holds
// bytes the model has not read yet (FIONREAD, or a readiness report not yet
// acted on). Closing a socket with unread input makes the kernel send a
// reset instead of a FIN, and a reset can destroy the last answer before
// the client reads it. A client that sent nothing more is simply closed,
// as nginx does: it has been told "Connection: close", and may not send
// another request (RFC 9112 §9.6).
//
// To linger, a model shuts down its sending side (the client gets a FIN
// after the last byte), then reads into ReadSpace, calling Discarded, until
// the client closes too, Discarded says enough, or Deadline passes; then
// it closes. Apache and nginx call this a lingering close.
func (s *Session) Linger(now time.Time, pending bool) bool {
	if s.phase == lingering {
		return true
	}
	need := !s.broken && (s.abandoned || pending || s.Buffered() > 0 || s.parser.discard > 0)
	if !need {
		s.phase = ended
		return false
	}
	s.phase = lingering
	s.since, s.now = now, now
	s.discarded = 0
	if s.x != nil {
		s.x.start, s.x.end = 0, 0 // what is buffered will never be parsed
	}
	return true
}

// Discarded records n bytes read and thrown away while lingering, and
// reports whether to read on.
func (s *Session) Discarded(n int) (more bool) {
	s.discarded += n
	return s.discarded < lingerLimit
}

// exchangePool is a bounded free list of exchanges. It is not a sync.Pool
// because a sync.Pool is emptied by every garbage collection (and, under the
// race detector, drops items at random), which would put allocations back
// on the keep-alive path; and it is bounded so that a burst of busy
// connections does not leave memory parked here for ever.
type exchangePool struct {
	mu   sync.Mutex
	free []*exchange
}

// exchangePoolMax is how many idle exchanges are kept: 8 MiB at most.
const exchangePoolMax = 256

func (p *exchangePool) get() *exchange {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		x := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return x
	}
	p.mu.Unlock()
	return &exchange{
		head: make([]byte, 0, 512),
		path: make([]byte, 0, 256),
		date: make([]byte, 0, len(TimeFormat)),
	}
}

func (p *exchangePool) put(x *exchange) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < exchangePoolMax {
		p.free = append(p.free, x)
	}
}
