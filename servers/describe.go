package servers

import "strconv"

// RequestLine and Answer put a connection's request and the answer the
// core decided for it into words, for a trace of the model's steps. They
// allocate: a model calls them only when tracing.

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
	if f, _, n := s.Body(); f != nil {
		a += ", a " + strconv.FormatInt(n, 10) + "-byte body"
	}
	if r.KeepAlive {
		return a + ", keep-alive"
	}
	return a + ", then close"
}
