package servers

import (
	"time"
)

// Session is the protocol state of one connection, with no socket in it. A
// model owns one Session per connection and drives it like this:
//
//	for {
//		n := read(sock, sess.ReadSpace())      // however the model waits
//		sess.Received(n)
//		for sess.Next(time.Now()) {            // every complete request
//			write(sock, sess.Head())
//			if f, off, n := sess.Body(); f != nil {
//				write n bytes of f from off     // sendfile or ReadAt+write
//			}
//			if !sess.Done() { close; return }  // keep-alive or not
//		}
//	}
//
// Because the session owns the input buffer, every model gets pipelining (all
// requests that arrived in one read are answered, in order), the request
// size limits and the bound on per-connection memory for free.
type Session struct {
	site  *Site
	stats *Stats

	// in is the input buffer; the unparsed bytes are in[start:end]. It is
	// taken from the site's pool when there is something to read and given
	// back when the connection falls idle (see Shrink), so that an idle
	// connection in an event loop costs a few hundred bytes, not 32 KiB.
	in         []byte
	inBuf      *[ReadBufferSize]byte
	start, end int

	parser Parser
	req    Request
	resp   Response
	head   []byte // encoded response head, reused
	path   []byte // scratch for the decoded path, reused

	date    []byte // the Date header value, remade once a second
	dateSec int64

	responding bool // between Next returning true and Done
}

// NewSession makes the protocol state for one connection.
func NewSession(site *Site, stats *Stats) *Session {
	return &Session{
		site:  site,
		stats: stats,
		head:  make([]byte, 0, 512),
		path:  make([]byte, 0, 256),
		date:  make([]byte, 0, len(TimeFormat)),
	}
}

// Reset makes the session ready for a new connection, keeping its small
// buffers (a model that pools sessions pays for them once, not per
// connection) and giving its input buffer back to the pool.
func (s *Session) Reset() {
	s.finish()
	s.start, s.end = 0, 0
	s.parser.Reset()
	s.Shrink()
}

// Idle reports whether the session is between requests with nothing in
// hand: no response under way, no bytes buffered, and the parser at a
// request boundary (not in the middle of skipping a body). An idle session
// holds nothing a connection needs, so an event loop can give the whole
// session back to a pool while the connection waits, and take one again
// when bytes arrive.
func (s *Session) Idle() bool {
	return !s.responding && s.start == s.end && s.parser.discard == 0
}

// Shrink gives the input buffer back to the site's pool if the connection is
// idle: no response under way and no bytes waiting. A model whose idle
// connections wait without a read in progress (the event loop) calls it after
// each response; the next ReadSpace takes a buffer again. Models that wait
// inside read(2) hold the buffer while they wait, and gain nothing from it.
func (s *Session) Shrink() {
	if s.inBuf == nil || s.responding || s.start != s.end {
		return
	}
	s.site.bufs.put(s.inBuf)
	s.inBuf, s.in = nil, nil
	s.start, s.end = 0, 0
}

// ReadSpace returns the free space at the end of the input buffer, for the
// model to read into. The buffer never grows: a client that pipelines faster
// than it reads its answers fills it, and then a model (which reads only
// between responses) simply stops reading from it. That is backpressure,
// and it bounds each connection's memory.
func (s *Session) ReadSpace() []byte {
	if s.inBuf == nil {
		s.inBuf = s.site.bufs.get()
		s.in = s.inBuf[:]
	}
	if s.start > 0 {
		// Slide the unparsed bytes (usually none, or the start of one
		// pipelined request) to the front to make room.
		s.end = copy(s.in, s.in[s.start:s.end])
		s.start = 0
	}
	return s.in[s.end:]
}

// Received records that n bytes were read into ReadSpace.
func (s *Session) Received(n int) { s.end += n }

// Buffered is how many received bytes have not been used yet. Zero between
// requests means the connection is idle; more means a request is arriving.
func (s *Session) Buffered() int { return s.end - s.start }

// Next looks for the next complete request in what was received and, if one
// is there, decides its response. It returns false when it needs more bytes.
// After a true, the model sends Head and Body, then calls Done.
func (s *Session) Next(now time.Time) bool {
	if s.responding {
		panic("servers: Session.Next called before Done") // a model bug, never a client's
	}
	for s.start < s.end {
		n, err := s.parser.Parse(s.in[s.start:s.end], &s.req)
		s.start += n
		if err != nil {
			ErrorResponse(err.(*Error), &s.resp)
			s.respond(now)
			return true
		}
		if s.req.Method != 0 {
			s.path = s.site.Resolve(&s.req, s.path, now, &s.resp)
			s.respond(now)
			return true
		}
		if n == 0 {
			break // need more bytes
		}
	}
	if len(s.in) > 0 && s.Buffered() == len(s.in) {
		// Cannot happen while ReadBufferSize exceeds the parser's limits;
		// kept so a future change of limits fails safe, not by hanging.
		ErrorResponse(errHeaderTooLarge, &s.resp)
		s.respond(now)
		return true
	}
	return false
}

// Timeout prepares a 408 answer for a client that started a request but did
// not finish it in time (RFC 9110 §15.5.9), and reports whether it did. An
// idle connection gets no answer: it is simply closed.
func (s *Session) Timeout(now time.Time) bool {
	s.stats.Timeout()
	if s.responding || s.Buffered() == 0 {
		return false
	}
	ErrorResponse(&Error{408, "request head not received in time"}, &s.resp)
	s.respond(now)
	return true
}

func (s *Session) respond(now time.Time) {
	if sec := now.Unix(); sec != s.dateSec {
		s.dateSec = sec
		s.date = now.UTC().AppendFormat(s.date[:0], TimeFormat)
	}
	s.head = AppendHead(s.head[:0], &s.resp, s.date)
	s.responding = true
	s.stats.requestStarted(s.resp.Status)
}

// Head is the encoded response head (and, for an error, its short body).
func (s *Session) Head() []byte { return s.head }

// Response is the response being sent, for a model that wants its details.
func (s *Session) Response() *Response { return &s.resp }

// Body returns the file range to send after the head, or a nil file when
// there is none (an error, a 304, a HEAD request, an empty file).
func (s *Session) Body() (f *File, off, n int64) {
	r := &s.resp
	if r.File == nil || r.NoBody || r.Length == 0 || r.Status >= 300 {
		return nil, 0, 0
	}
	return r.File, r.Offset, r.Length
}

// Done ends the response in progress and reports whether the connection
// should stay open for the next request.
func (s *Session) Done() (keepAlive bool) {
	keepAlive = s.resp.KeepAlive
	s.finish()
	return keepAlive
}

// finish releases the response's file and counts it done, if one is open.
func (s *Session) finish() {
	if !s.responding {
		return
	}
	s.responding = false
	if s.resp.File != nil {
		s.resp.File.Release()
	}
	s.resp = Response{}
	s.stats.requestDone()
}

// Abort ends a response that could not be sent completely (the client reset,
// the file shrank). The connection must be closed.
func (s *Session) Abort() {
	if s.responding {
		s.stats.Error()
	}
	s.finish()
}
