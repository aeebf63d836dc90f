package blocking

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"serverlab/internal/sock"
	"serverlab/servers"
	"serverlab/trace"
)

// Body chunks. pread+write copies the file through a buffer in our memory,
// so its chunk is that buffer's size. sendfile(2) copies inside the kernel,
// from the page cache to the socket, and needs no buffer at all; its chunk
// only decides how often we come back from the kernel to count the bytes
// sent (the dashboard's throughput) and to renew the write deadline.
// nginx's sendfile_max_chunk is the same idea.
const (
	copyChunk     = 64 << 10
	sendfileChunk = 1 << 20
)

// Options are the blocking model's own knobs.
type Options struct {
	// KeepAlive lets a connection carry more than one request. Off (the
	// default), every response says "Connection: close" and the loop
	// closes the connection after it, as lesson 00's first loop does: a
	// server that holds one connection at a time must not hold an idle
	// one while the next client waits. On, the loop stays with its client
	// until one side closes, which is what the crowd lesson measures.
	KeepAlive bool
}

// Conn serves one connection at a time, start to finish, with calls that
// wait. It is the inner loop of the blocking model, and exactly what each
// connection's goroutine or thread runs in the threaded model: the same
// loop, many times over. A Conn keeps its Session from one connection to
// the next.
//
// Serve runs on one goroutine; CloseIdle and Kill may be called from any
// other, which is how a server shuts down a connection it cannot otherwise
// reach while its goroutine is asleep in the kernel.
type Conn struct {
	sess   *servers.Session
	cfg    *servers.Config
	chunks *Chunks
	raw    fdSocket // this package's socket, reused for each connection

	// The connection's trace, when the server has a tracer (trace.go).
	tr *trace.Tracer
	id uint64       // its number in the trace
	ts tracedSocket // its socket, reporting each call

	// Shared with CloseIdle and Kill. The mutex also guarantees that they
	// never reach a socket closeConn has already closed, whose descriptor
	// number the kernel may since have given to another connection.
	mu      sync.Mutex
	sock    Socket // the connection; nil between connections
	idle    bool   // waiting for the first byte of a request
	closing bool   // shutting down: close instead of waiting for a request
}

// NewConn makes a Conn for a server configured by cfg, which must outlive
// it. Bodies copied through user space borrow their buffers from chunks,
// which the server's Conns share.
func NewConn(cfg *servers.Config, opt Options, chunks *Chunks) *Conn {
	c := &Conn{sess: servers.NewSession(cfg), cfg: cfg, chunks: chunks}
	c.sess.SetKeepAlive(opt.KeepAlive)
	return c
}

// ServeFd serves the connection fd, a socket in blocking mode, until it
// ends, then closes it.
func (c *Conn) ServeFd(fd int) {
	c.raw = fdSocket{fd: fd}
	// The head of a response must leave at once, not wait for Nagle's
	// algorithm to collect more. This fails only if the client is already
	// gone, which the first read will discover anyway.
	sock.SetNoDelay(fd)
	c.Serve(&c.raw)
}

// Serve is lesson 00's loop for one connection: read a request, fetch its
// file, write the head, write the body; the next request, or close. One
// read may bring several requests (pipelined): all are answered before the
// next read. The shared core decides what each answer is and how long each
// wait may last; this loop only waits and moves bytes.
func (c *Conn) Serve(s Socket) {
	c.open(s)
	defer c.closeConn()
	for c.readRequest() {
		for c.sess.Next() {
			c.sess.TraceRequest(c.tr, c.id, c.ts.fd)
			if !c.respond() {
				return
			}
		}
	}
}

// CloseIdle is the gentle half of a shutdown. A connection idle between
// requests is woken and closed now; one in the middle of a request or a
// response finishes it and closes afterwards. After CloseIdle the Conn
// closes every connection at its first idle moment: it belongs to a server
// that is going away.
func (c *Conn) CloseIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.sock != nil && c.idle {
		c.sock.WakeRead()
	}
}

// Kill is the hard half of a shutdown: the connection ends now, whatever it
// is doing.
func (c *Conn) Kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.sock != nil {
		c.sock.Kill()
	}
}

// open starts serving a new connection.
func (c *Conn) open(s Socket) {
	s = c.traced(s) // with a tracer, every call on s is reported
	c.mu.Lock()
	c.sock, c.idle = s, false
	c.mu.Unlock()
	c.sess.Start(time.Now())
}

// readRequest waits for (more of) the next request with one read, for no
// longer than the session allows, and reports whether there is something
// to answer. There is not when the client closes or resets the connection,
// when an idle connection's time is up, or when the server is shutting down
// and the connection is idle. A request head that does not arrive in time
// is answered (a 408) the usual way.
func (c *Conn) readRequest() bool {
	idle := c.sess.Buffered() == 0
	if idle && !c.setIdle(true) {
		return false // shutting down, and no request is under way
	}
	n, err := c.sock.Read(c.sess.ReadSpace(), c.sess.Deadline())
	if idle {
		c.setIdle(false)
	}
	switch {
	case n > 0:
		c.sess.Received(n, time.Now())
		return true
	case errors.Is(err, os.ErrDeadlineExceeded):
		return c.sess.Expire(time.Now()) // a 408 to send, or close
	case err == nil, errors.Is(err, io.EOF):
		// The client closed, or half-closed after its last request (every
		// complete one has been answered), or CloseIdle ended the wait.
		return false
	default: // ECONNRESET and the like: the client is gone
		c.sess.Fail(err)
		return false
	}
}

// setIdle marks the connection idle (waiting for a request to begin) or
// busy. Going idle fails when the server is shutting down: the connection
// should close instead.
func (c *Conn) setIdle(idle bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if idle && c.closing {
		return false
	}
	c.idle = idle
	return true
}

// respond answers the request the session found: fetch the file, send the
// head, send the body. It reports whether the connection stays open for
// another request.
func (c *Conn) respond() bool {
	c.fetchFile()
	if err := c.writeHead(); err != nil {
		c.sess.Fail(err)
		return false
	}
	if err := c.writeBody(); err != nil {
		c.sess.Fail(err)
		return false
	}
	if c.sess.Sent(time.Now()) {
		return true
	}
	c.lingerClose()
	return false
}

// fetchFile performs the file steps the session asks for — open the file,
// and for a folder, its index — here, on this thread: with a slow disk,
// everyone waits for it.
func (c *Conn) fetchFile() {
	for op := c.sess.Open(); op != nil; op = c.sess.Open() {
		c.sess.Opened(op.Do())
		c.traceOpen(op)
	}
	c.sess.TraceAnswer(c.tr, c.id, c.ts.fd) // no file step above: the open-file cache had it
}

// writeHead sends the response head (and, for an error, its short body).
func (c *Conn) writeHead() error {
	f, _, _ := c.sess.Body()
	if err := c.send(c.sess.Head(), f != nil); err != nil {
		return fmt.Errorf("write head: %w", err)
	}
	return nil
}

// writeBody sends the body, if there is one: Length bytes of the file from
// Offset, in bounded chunks however large the file.
func (c *Conn) writeBody() error {
	f, off, n := c.sess.Body()
	if f == nil {
		return nil
	}
	if data := f.Data(); data != nil {
		// The small-file cache holds the body: it goes from memory, with
		// no file-system call at all.
		return c.send(data[off:off+n], false)
	}
	if c.cfg.UseSendfile() {
		return c.sendFile(f, off, n)
	}
	return c.copyFile(f, off, n)
}

// sendFile sends n bytes of f from off with sendfile(2).
func (c *Conn) sendFile(f *servers.File, off, n int64) error {
	for n > 0 {
		sent, err := c.sock.SendFile(f, off, int(min(n, sendfileChunk)), c.sess.Deadline())
		if err != nil {
			return fmt.Errorf("sendfile: %w", err)
		}
		if sent == 0 {
			return servers.ErrFileShrank
		}
		c.sess.Wrote(sent, time.Now())
		off += int64(sent)
		n -= int64(sent)
	}
	return nil
}

// copyFile sends n bytes of f from off the long way round: read a chunk
// from the file into our buffer (File.ReadAt: pread(2), after the simulated
// disk's delay), write it to the socket, repeat. This is lesson 00's "fetch
// the file, then write it" made to fit any file in a fixed buffer.
func (c *Conn) copyFile(f *servers.File, off, n int64) error {
	bp := c.chunks.get()
	defer c.chunks.put(bp)
	buf := *bp
	for n > 0 {
		m, err := f.ReadAt(buf[:min(n, int64(len(buf)))], off)
		if err != nil {
			return err
		}
		if m == 0 {
			return servers.ErrFileShrank
		}
		c.sess.Fetched(time.Now()) // the disk's time, not the client's
		if err := c.send(buf[:m], false); err != nil {
			return fmt.Errorf("write body: %w", err)
		}
		off += int64(m)
		n -= int64(m)
	}
	return nil
}

// send writes all of p, telling the session of each step of progress.
func (c *Conn) send(p []byte, more bool) error {
	for len(p) > 0 {
		n, err := c.sock.Write(p, more, c.sess.Deadline())
		if n > 0 {
			c.sess.Wrote(n, time.Now())
		}
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// lingerClose ends a connection that may still have request bytes on the
// way, when the session says so (see servers.Session.Linger): our FIN goes
// out after the answer, then whatever the client still sends is read and
// thrown away, for a bounded time and amount, so that the close cannot
// turn into a reset that destroys the answer.
func (c *Conn) lingerClose() {
	if !c.sess.Linger(time.Now(), c.sock.Unread()) || c.sock.CloseWrite() != nil {
		return
	}
	for {
		n, err := c.sock.Read(c.sess.ReadSpace(), c.sess.Deadline())
		if err != nil || !c.sess.Discarded(n) {
			return
		}
	}
}

// closeConn ends the connection: its session is closed (releasing any file
// still held) and its socket closed, under the mutex so that a Kill cannot
// reach a descriptor after it is freed.
func (c *Conn) closeConn() {
	c.sess.Close()
	c.mu.Lock()
	c.sock.Close()
	c.sock, c.idle = nil, false
	c.mu.Unlock()
}

// Chunks lends the buffers that bodies are copied through when sendfile is
// off. A buffer is held only while a body is being copied, so idle
// keep-alive connections hold none. The zero value is ready to use.
type Chunks struct{ pool sync.Pool }

func (p *Chunks) get() *[]byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyChunk)
	return &b
}

func (p *Chunks) put(b *[]byte) { p.pool.Put(b) }
