package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// The client below is a few hundred lines of HTTP/1.1 instead of net/http,
// for two reasons. It must be cheap: every microsecond it spends is a
// microsecond the measurement blames on the server, so it reuses one buffer
// per connection, allocates nothing per request and makes one write and
// (usually) one read per small response. And it must misbehave on purpose:
// send a request one byte at a time, read a body slowly, hold a connection
// idle — things a polite client library is built to prevent.

// bufferSize is each connection's read buffer. 64 KiB takes a small
// response (head and body) in one read(2), and a big body in few.
const bufferSize = 64 << 10

// maxHead bounds the response head we are willing to buffer.
const maxHead = 16 << 10

// request is one request, encoded once and sent as many times as needed.
type request struct {
	raw []byte
	// Path is the request target, "/1k.bin".
	Path string
	// Close asks the server to close the connection after answering.
	Close bool
	// WantStatus is the status a correct answer has (200).
	WantStatus int
	// WantLen is the body length a correct answer has, or -1 for "any
	// length, as long as as many bytes come as Content-Length says".
	WantLen int64
}

// newRequest encodes GET path for host ("127.0.0.1:8080"). Its answer must
// be 200 OK; set WantLen to check the body size as well.
func newRequest(host, path string, close bool) *request {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: serverlab-bench\r\n", path, host)
	if close {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	return &request{raw: b.Bytes(), Path: path, Close: close, WantStatus: 200, WantLen: -1}
}

// Bytes is the request as it goes on the wire.
func (r *request) Bytes() []byte { return r.raw }

// response is what ReadHead learned from a response head.
type response struct {
	Status int
	// Length is the Content-Length, or -1 if the body runs to EOF.
	Length int64
	// Close is true if the server will close the connection after this
	// response (Connection: close, or HTTP/1.0 without keep-alive).
	Close bool
	// HeadLen is the size of the head in bytes.
	HeadLen int
}

// conn is one client connection with its read buffer. The zero value is
// ready to Dial; after an error it must be closed (and may be dialled
// again), because after a broken exchange nobody knows where the next
// response starts — the same rule servers follow.
type conn struct {
	// Timeout bounds each whole request (Do) and each Dial; 0 means none.
	Timeout time.Duration
	// RcvBuf, if set, shrinks the socket's receive buffer (SO_RCVBUF)
	// before connecting, so that a slow reader's window fills sooner.
	RcvBuf int
	// Gauge, if set, is counted up on connect and down on close: the
	// number of connections open, as the client sees it.
	Gauge *atomic.Int64

	nc   *net.TCPConn
	stop func() bool // unregisters the context's close-on-cancel
	buf  []byte
	r, w int   // unread bytes are buf[r:w]
	left int64 // body bytes of the current response not yet read
}

// Dial connects to addr ("127.0.0.1:8080"), closing any previous
// connection. When ctx is cancelled the connection is closed under
// whoever is using it: that is how a client blocked in a read learns to
// stop (a read has no context; closing its socket makes it return).
func (c *conn) Dial(ctx context.Context, addr string) error {
	c.Close()
	d := net.Dialer{Timeout: c.Timeout}
	if c.RcvBuf > 0 {
		size := c.RcvBuf
		// The receive buffer must be set before connect(2): the window
		// scale is agreed in the handshake and cannot grow afterwards.
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	nc, err := d.DialContext(ctx, "tcp4", addr)
	if err != nil {
		return err
	}
	c.nc = nc.(*net.TCPConn)
	c.stop = context.AfterFunc(ctx, func() { nc.Close() })
	if c.buf == nil {
		c.buf = make([]byte, bufferSize)
	}
	c.r, c.w, c.left = 0, 0, 0
	if c.Gauge != nil {
		c.Gauge.Add(1)
	}
	return nil
}

// Open reports whether the connection is dialled and not closed.
func (c *conn) Open() bool { return c.nc != nil }

// Close closes the connection; closing a closed conn does nothing.
func (c *conn) Close() {
	if c.nc == nil {
		return
	}
	c.stop()
	c.nc.Close()
	c.nc = nil
	if c.Gauge != nil {
		c.Gauge.Add(-1)
	}
}

// NetConn is the underlying socket, for behaviours that wait on it in
// their own way (idle holders). Nil when closed.
func (c *conn) NetConn() *net.TCPConn { return c.nc }

// Do sends req and reads the whole response, checking it. It returns the
// response head and the bytes received (head and body). On error the
// connection must be closed. If the server said it would close the
// connection, Do closes it, and the next request needs a new Dial.
func (c *conn) Do(req *request) (response, int64, error) {
	if c.Timeout > 0 {
		if err := c.nc.SetDeadline(time.Now().Add(c.Timeout)); err != nil {
			return response{}, 0, err
		}
	}
	if err := c.Send(req.raw); err != nil {
		return response{}, 0, err
	}
	resp, err := c.ReadHead(req)
	if err != nil {
		return resp, 0, err
	}
	total := int64(resp.HeadLen)
	for c.left != 0 {
		n, err := c.Discard(len(c.buf))
		total += int64(n)
		if err != nil {
			return resp, total, err
		}
	}
	if c.r != c.w {
		// We never pipeline, so bytes beyond the body can only be a
		// server sending more than its Content-Length promised.
		return resp, total, badResponse("%d bytes after the body", c.w-c.r)
	}
	if resp.Close {
		c.Close()
	}
	return resp, total, nil
}

// Send writes p whole.
func (c *conn) Send(p []byte) error {
	_, err := c.nc.Write(p)
	return err
}

// SetDeadline bounds every read and write from now on (see net.Conn).
func (c *conn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// ReadHead reads and parses one response head and checks it against req
// (status, and Content-Length if req.WantLen is set). After it, the body
// is read with Discard.
func (c *conn) ReadHead(req *request) (response, error) {
	var end int
	for {
		if end = bytes.Index(c.buf[c.r:c.w], crlfcrlf); end >= 0 {
			break
		}
		if limit := min(maxHead, len(c.buf)); c.w-c.r >= limit {
			return response{}, badResponse("response head over %d bytes", limit)
		}
		if err := c.fill(); err != nil {
			if errors.Is(err, io.EOF) && c.w > c.r {
				return response{}, &responseError{Kind: ErrReset, Msg: "connection closed in the middle of the response head"}
			}
			return response{}, err
		}
	}
	head := c.buf[c.r : c.r+end+4]
	resp, err := parseHead(head)
	if err != nil {
		return resp, err
	}
	c.r += len(head)
	if err := req.check(resp); err != nil {
		return resp, err
	}
	c.left = resp.Length
	return resp, nil
}

// check compares a response head with what a correct answer to r has.
func (r *request) check(resp response) error {
	if resp.Status != r.WantStatus {
		return &responseError{Kind: ErrBadStatus, Msg: fmt.Sprintf("GET %s: status %d, want %d", r.Path, resp.Status, r.WantStatus)}
	}
	if r.WantLen >= 0 && resp.Length != r.WantLen {
		return badResponse("GET %s: Content-Length %d, want %d", r.Path, resp.Length, r.WantLen)
	}
	return nil
}

// Discard reads and drops up to max bytes of the current body, taking
// buffered bytes first and reading the socket only when they run out. It
// returns how many it dropped; it returns 0, nil once the body is done. A
// body that ends early is an ErrShortBody.
func (c *conn) Discard(max int) (int, error) {
	if c.left == 0 {
		return 0, nil
	}
	if c.r == c.w {
		// The buffer is all consumed, so start it over: the read
		// below then gets the whole buffer.
		c.r, c.w = 0, 0
		if err := c.fill(); err != nil {
			if errors.Is(err, io.EOF) {
				if c.left < 0 { // a body delimited by EOF has ended well
					c.left = 0
					return 0, nil
				}
				return 0, &responseError{Kind: ErrShortBody, Msg: fmt.Sprintf("connection closed with %d body bytes to come", c.left)}
			}
			return 0, err
		}
	}
	n := min(c.w-c.r, max)
	if c.left > 0 {
		n = int(min(int64(n), c.left))
		c.left -= int64(n)
	}
	c.r += n
	return n, nil
}

// BodyLeft is how many body bytes of the current response are still to
// come (-1: until EOF).
func (c *conn) BodyLeft() int64 { return c.left }

// fill reads once from the socket into the free end of the buffer, first
// sliding unread bytes to the front if the end is full.
func (c *conn) fill() error {
	if c.w == len(c.buf) {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	n, err := c.nc.Read(c.buf[c.w:])
	c.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

var crlfcrlf = []byte("\r\n\r\n")

// parseHead reads the parts of a response head a load generator needs:
// status, Content-Length and whether the connection persists (RFC 9112
// sections 4, 6.3 and 9.3). It is strict where a mistake would make us
// count the wrong number of bytes.
func parseHead(head []byte) (response, error) {
	resp := response{Length: -1, HeadLen: len(head)}
	line, rest, _ := bytes.Cut(head, crlf)
	// "HTTP/1.1 200 OK": version, space, three digits.
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return resp, badResponse("bad status line %q", clip(line))
	}
	http10 := line[7] == '0'
	resp.Status = 0
	for _, b := range line[9:12] {
		if b < '0' || b > '9' {
			return resp, badResponse("bad status line %q", clip(line))
		}
		resp.Status = resp.Status*10 + int(b-'0')
	}
	keepAlive := false
	for len(rest) > 2 {
		line, rest, _ = bytes.Cut(rest, crlf)
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return resp, badResponse("header line without a colon %q", clip(line))
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseLength(value)
			if !ok || (resp.Length >= 0 && resp.Length != n) {
				return resp, badResponse("bad Content-Length %q", clip(value))
			}
			resp.Length = n
		case bytes.EqualFold(name, []byte("Connection")):
			resp.Close = resp.Close || hasToken(value, "close")
			keepAlive = keepAlive || hasToken(value, "keep-alive")
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return resp, badResponse("Transfer-Encoding is not supported by this client")
		}
	}
	if http10 && !keepAlive {
		resp.Close = true
	}
	// 1xx, 204 and 304 answers have no body whatever the headers say
	// (RFC 9112 section 6.3, rule 1).
	if resp.Status < 200 || resp.Status == 204 || resp.Status == 304 {
		resp.Length = 0
	}
	if resp.Length < 0 && !resp.Close {
		return resp, badResponse("no Content-Length on a persistent connection")
	}
	return resp, nil
}

var crlf = []byte("\r\n")

func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// hasToken reports whether a comma-separated header value lists tok.
func hasToken(v []byte, tok string) bool {
	for part := range bytes.SplitSeq(v, []byte(",")) {
		if bytes.EqualFold(bytes.TrimSpace(part), []byte(tok)) {
			return true
		}
	}
	return false
}

func clip(b []byte) []byte {
	if len(b) > 60 {
		return b[:60]
	}
	return b
}
