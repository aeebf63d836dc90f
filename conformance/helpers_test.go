package conformance

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ioTimeout bounds every read and write of the suite. It is not a speed
// requirement — answers on loopback take microseconds — but a guard that
// turns a hung server into a failed test instead of a stuck one.
const ioTimeout = 20 * time.Second

// closeTimeout is how long a connection that should be closed may stay open.
// Only a failing server ever makes the suite wait that long.
const closeTimeout = 10 * time.Second

// client is one raw TCP connection to the server under test.
type client struct {
	conn *net.TCPConn
	br   *bufio.Reader
}

// dial opens a connection to the server under test, counting it so that the
// suite can later compare its count with the server's own.
func (s *testServer) dial(t testing.TB) *client {
	t.Helper()
	c, err := s.tryDial()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *testServer) tryDial() (*client, error) {
	conn, err := net.DialTimeout("tcp", s.addr, ioTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", s.addr, err)
	}
	s.dials.Add(1)
	return &client{conn: conn.(*net.TCPConn), br: bufio.NewReaderSize(conn, 64<<10)}, nil
}

func (c *client) Close() error { return c.conn.Close() }

// send writes b, in one write when chunk is 0 or in pieces of chunk bytes
// with a pause between them, so that the server's reads really see a
// request arrive in parts (TCP_NODELAY, Go's default, sends each piece in a
// segment of its own). With halfClose it then shuts down the sending side.
func (c *client) send(b []byte, chunk int, halfClose bool) error {
	c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if chunk <= 0 {
		chunk = len(b)
	}
	// A byte-by-byte request has dozens of pieces, so their pauses are
	// short; a request cut at one chosen place has two or three, and a
	// longer pause makes it likelier that a busy server reads them apart.
	pause := time.Millisecond
	if chunk >= 1<<10 {
		pause = 20 * time.Millisecond
	}
	for len(b) > 0 {
		n := min(chunk, len(b))
		if _, err := c.conn.Write(b[:n]); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		b = b[n:]
		if len(b) > 0 {
			time.Sleep(pause)
		}
	}
	if halfClose {
		if err := c.conn.CloseWrite(); err != nil {
			return fmt.Errorf("shutdown(SHUT_WR): %w", err)
		}
	}
	return nil
}

// sendAsync is send in a goroutine. Responses are read while the request
// bytes are still going out, as a real client must: a server that answers
// pipelined requests before reading the rest would otherwise fill the
// client's receive buffer and the two would wait on each other forever.
func (c *client) sendAsync(b []byte, chunk int, halfClose bool) <-chan error {
	done := make(chan error, 1)
	go func() { done <- c.send(b, chunk, halfClose) }()
	return done
}

// response is one HTTP response as read off the wire.
type response struct {
	proto  string
	status int
	reason string
	// header maps each canonical field name to its values, in order.
	header map[string][]string
	body   []byte
}

// get returns the only value of a header field, or "" if it is absent.
func (r *response) get(name string) string {
	if v := r.header[textproto.CanonicalMIMEHeaderKey(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// has reports whether a header field is present.
func (r *response) has(name string) bool {
	return len(r.header[textproto.CanonicalMIMEHeaderKey(name)]) > 0
}

// contentLength returns the Content-Length, or -1 if it is absent.
func (r *response) contentLength() (int64, error) {
	v := r.get("Content-Length")
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, fmt.Errorf("malformed Content-Length %q", v)
	}
	return n, nil
}

// readHead reads a status line and header section. It is strict on purpose:
// a server's output must be exactly what RFC 9112 says a server sends
// (CRLF line ends, "name: value" fields), whatever a lenient client accepts.
func (c *client) readHead() (*response, error) {
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	line, err := c.readLine()
	if err != nil {
		return nil, fmt.Errorf("read status line: %w", err)
	}
	// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
	proto, rest, ok1 := strings.Cut(line, " ")
	code, reason, ok2 := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !ok1 || !ok2 || len(code) != 3 || err != nil {
		return nil, fmt.Errorf("malformed status line %q", line)
	}
	r := &response{proto: proto, status: status, reason: reason, header: map[string][]string{}}
	for {
		line, err := c.readLine()
		if err != nil {
			return nil, fmt.Errorf("read header section after %q: %w", r.statusLine(), err)
		}
		if line == "" {
			return r, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("malformed header line %q", line)
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		r.header[name] = append(r.header[name], strings.Trim(value, " \t"))
	}
}

// readLine reads one CRLF-terminated line, refusing a bare LF and lines
// longer than any sane server sends.
func (c *client) readLine() (string, error) {
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("line longer than %d bytes", c.br.Size())
	}
	if err != nil {
		return "", err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("line %q does not end in CRLF", line)
	}
	return string(line[:len(line)-2]), nil
}

// bodyLength is how many body bytes follow a head (RFC 9112 §6.3): none for
// a HEAD request or a 304, otherwise exactly Content-Length. Our servers
// always frame with Content-Length, so its absence is an error here rather
// than "read until close".
func (r *response) bodyLength(head bool) (int64, error) {
	if head || r.status == 304 || r.status/100 == 1 || r.status == 204 {
		return 0, nil
	}
	n, err := r.contentLength()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%s: no Content-Length", r.statusLine())
	}
	return n, nil
}

// read reads one whole response; head says it answers a HEAD request.
func (c *client) read(head bool) (*response, error) {
	r, err := c.readHead()
	if err != nil {
		return nil, err
	}
	n, err := r.bodyLength(head)
	if err != nil {
		return nil, err
	}
	if n > 1<<20 {
		return nil, fmt.Errorf("%s: body of %d bytes is too large for read; stream it", r.statusLine(), n)
	}
	r.body = make([]byte, n)
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	if got, err := io.ReadFull(c.br, r.body); err != nil {
		return nil, fmt.Errorf("%s: read body: got %d of %d bytes: %w", r.statusLine(), got, n, err)
	}
	return r, nil
}

// expectClosed checks that the server closed the connection, cleanly: the
// next read ends with EOF and brings no stray bytes. A reset is a failure
// even after a complete answer, because across a real network a reset can
// destroy an answer the client has not read yet (RFC 9112 §9.6: a server
// closes its sending side first, and reads on until the client has seen the
// answer and closed too).
func (c *client) expectClosed() error {
	c.conn.SetReadDeadline(time.Now().Add(closeTimeout))
	var buf [256]byte
	n, err := c.br.Read(buf[:])
	switch {
	case n > 0:
		return fmt.Errorf("want the connection closed, but got more bytes: %q", buf[:n])
	case errors.Is(err, io.EOF):
		return nil
	case errors.Is(err, syscall.ECONNRESET):
		return errors.New("the connection ended with a reset, not EOF: the server closed with request bytes unread instead of closing lingeringly")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("want the connection closed, but it is still open after %v", closeTimeout)
	default:
		return fmt.Errorf("want the connection closed: read: %w", err)
	}
}

// reset closes the connection with SO_LINGER 0, which makes the kernel send
// a TCP RST instead of a FIN: what a crashing browser tab or a killed curl
// looks like to the server.
func (c *client) reset() error {
	if err := c.conn.SetLinger(0); err != nil {
		return fmt.Errorf("SO_LINGER 0: %w", err)
	}
	return c.conn.Close()
}

func (r *response) statusLine() string {
	return fmt.Sprintf("%s %d %s", r.proto, r.status, r.reason)
}

// getReq is a minimal HTTP/1.1 GET of target with extra header lines.
func getReq(target string, headers ...string) string {
	var b strings.Builder
	b.WriteString("GET " + target + " HTTP/1.1\r\nHost: test\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// headReq is getReq with the HEAD method.
func headReq(target string, headers ...string) string {
	return "HEAD" + strings.TrimPrefix(getReq(target, headers...), "GET")
}

// fields returns n header lines "X-Field-i: v", as one string, to push a
// request past the field-count limit.
func fields(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "X-Field-%d: v\r\n", i)
	}
	return b.String()
}

// paddedHeaders returns header lines (Host first) whose total size,
// counting each line's CRLF, is exactly size bytes.
func paddedHeaders(size int) string {
	const host = "Host: test\r\n"
	const pad = "X-Pad: \r\n"
	return host + "X-Pad: " + strings.Repeat("p", size-len(host)-len(pad)) + "\r\n"
}

// requestLine returns a GET of /hello.txt exactly n bytes long, made long
// by its query string (which the server ignores), so that only the length
// of the line decides the answer.
func requestLine(n int) string {
	const frame = "GET /hello.txt? HTTP/1.1"
	return "GET /hello.txt?" + strings.Repeat("q", n-len(frame)) + " HTTP/1.1"
}

// firstDiff returns the offset where got first differs from want (-1 if
// equal), so a message can say where a long body went wrong instead of
// printing megabytes.
func firstDiff(got, want []byte) int {
	if bytes.Equal(got, want) {
		return -1 // the common case, in fast assembly even under -race
	}
	n := min(len(got), len(want))
	for i := range n {
		if got[i] != want[i] {
			return i
		}
	}
	return n
}

// excerpt shortens b for an error message.
func excerpt(b []byte) string {
	if len(b) > 120 {
		return fmt.Sprintf("%q... (%d bytes)", b[:120], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// containsSecret reports whether a body leaked the file outside the root.
func containsSecret(b []byte) bool { return bytes.Contains(b, []byte(secretText)) }
