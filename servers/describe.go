package servers

import (
	"strconv"

	"serverlab/trace"
)

// RequestLine and Answer put a connection's request and the answer the
// core decided for it into words, for a trace of the model's steps. They
// allocate: a model calls them only when tracing, through TraceRequest and
// TraceAnswer, which every model reports the same way.

// TraceRequest reports to tr, if it is tracing, the request Next has just
// found, on connection conn (its number in the trace) and descriptor fd.
// The nil test is inlined into the model's loop: untraced, it costs no call.
func (s *Session) TraceRequest(tr *trace.Tracer, conn uint64, fd int) {
	if tr != nil {
		s.traceRequest(tr, conn, fd)
	}
}

func (s *Session) traceRequest(tr *trace.Tracer, conn uint64, fd int) {
	if tr.On() {
		tr.Emit(trace.Event{Kind: trace.Request, Conn: conn, Fd: fd, Text: s.RequestLine()})
	}
}

// TraceAnswer reports to tr, if it is tracing, the answer decided for it.
func (s *Session) TraceAnswer(tr *trace.Tracer, conn uint64, fd int) {
	if tr != nil {
		s.traceAnswer(tr, conn, fd)
	}
}

func (s *Session) traceAnswer(tr *trace.Tracer, conn uint64, fd int) {
	if tr.On() {
		ev := trace.Event{Kind: trace.Answer, Conn: conn, Fd: fd, Text: s.Answer()}
		if s.x != nil {
			ev.N = int64(s.x.resp.Status)
		}
		tr.Emit(ev)
	}
}

// RequestLine is the request being answered as its request line said it,
// "GET /1k.bin HTTP/1.1"; an answer to no request (a refusal, a 408) is
// named by its reason.
func (s *Session) RequestLine() string {
	if s.x == nil {
		return "(no request)"
	}
	r, resp := &s.x.req, &s.x.resp
	if r.Method == 0 {
		if resp.Err != nil {
			return "(" + resp.Err.Error() + ")"
		}
		return "(no request)"
	}
	return r.Method.String() + " " + string(r.Path) + " HTTP/1." + strconv.Itoa(r.Minor)
}

// Answer is the answer decided, "200 OK, a 1024-byte body, keep-alive".
func (s *Session) Answer() string {
	if s.x == nil {
		return "(none)"
	}
	r := &s.x.resp
	a := strconv.Itoa(r.Status) + " " + StatusText(r.Status)
	if f, _, n := s.body(); f != nil {
		a += ", a " + strconv.FormatInt(n, 10) + "-byte body"
	}
	if r.KeepAlive {
		return a + ", keep-alive"
	}
	return a + ", then close"
}
