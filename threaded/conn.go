package threaded

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/servers"
)

// sendfileChunk bounds one sendfile(2): the data never passes through our
// memory, so the chunk only decides how often we come back to count the
// bytes sent and to renew the write deadline.
const sendfileChunk = 1 << 20

// errFileShrank ends a response whose file got shorter while it was being
// sent: the promised Content-Length can no longer be kept.
var errFileShrank = errors.New("file shrank while being sent")

// conn is one client connection and the goroutine that serves it: the
// seed's handle_connection. It reads as the blocking model's Conn.Serve
// does, step for step, because it is the same loop; what differs is
// underneath. conn.Read looks blocking, but the socket is non-blocking and
// a Read with nothing to read parks only this goroutine, until the
// runtime's netpoller (an epoll instance of its own) sees bytes arrive.
type conn struct {
	srv  *goServer
	nc   *net.TCPConn
	sess *servers.Session

	// Shared with CloseIdle, called by Shutdown's goroutine.
	mu      sync.Mutex
	idle    bool // waiting for the first byte of a request
	closing bool // shutting down: close instead of waiting for a request

	// Owned by the connection's goroutine.
	fresh     bool      // no response sent yet
	idleSince time.Time // when the connection last became idle
	headStart time.Time // when the current request head began
}

// open readies an admitted connection, before its goroutine starts.
func (c *conn) open() {
	c.sess = c.srv.sessions.Get().(*servers.Session)
	now := time.Now()
	c.fresh, c.idleSince, c.headStart = true, now, now
}

// serve is the life of one connection: answer every complete request
// already received (pipelined requests arrive together), then read for
// more, until the client or a request says close.
func (c *conn) serve() {
	defer c.closeConn()
	for {
		for c.sess.Next(time.Now()) { // a request is in: resolve it, open its file
			if !c.respond() {
				return
			}
		}
		if !c.readRequest() {
			return
		}
	}
}

// CloseIdle closes the connection now if it waits between requests, or at
// its next idle moment. CloseRead is shutdown(SHUT_RD): the goroutine's Read
// returns io.EOF once any bytes already received are read, so a request
// that raced the shutdown is still answered.
func (c *conn) CloseIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.idle {
		c.nc.CloseRead()
	}
}

// Kill closes the connection now; its goroutine's Read or Write returns
// net.ErrClosed, and it cleans up.
func (c *conn) Kill() { c.nc.Close() }

// readRequest waits for (more of) the next request, and reports whether
// the connection goes on. It does not when the client closes or resets it,
// when a deadline passes (after a 408 if a request head was half-way in),
// or when the server is shutting down and the connection is idle.
func (c *conn) readRequest() bool {
	idle := c.sess.Buffered() == 0
	if idle && !c.setIdle(true) {
		return false
	}
	if lim := &c.srv.cfg.Limits; lim.HeaderTimeout > 0 || lim.IdleTimeout > 0 {
		c.nc.SetReadDeadline(c.readDeadline(idle))
	}
	n, err := c.nc.Read(c.sess.ReadSpace())
	if idle {
		c.setIdle(false)
	}
	switch {
	case n > 0:
		if idle && !c.fresh {
			c.headStart = time.Now() // a new request head begins
		}
		c.sess.Received(n)
		return true
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Mid-head, the client is told why (408); an idle connection
		// is simply closed.
		if c.sess.Timeout(time.Now()) {
			if c.writeHead() == nil {
				c.sess.Done()
			} else {
				c.sess.Abort()
			}
		}
	case err == nil, err == io.EOF, errors.Is(err, net.ErrClosed):
		// The client closed, or half-closed after its last request; or
		// CloseIdle or Kill ended the connection.
	default: // ECONNRESET and the like: the client is gone
		c.srv.cfg.Stats.Error()
	}
	return false
}

// setIdle marks the connection idle or busy. Going idle fails when the
// server is shutting down: the connection should close instead.
func (c *conn) setIdle(idle bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if idle && c.closing {
		return false
	}
	c.idle = idle
	return true
}

// readDeadline is when the next read must give up (zero: never), by the
// rules of servers.Limits.ReadDeadline, which the other models share.
func (c *conn) readDeadline(idle bool) time.Time {
	return c.srv.cfg.Limits.ReadDeadline(idle, c.fresh, c.idleSince, c.headStart)
}

// respond sends the response the session decided, head then body, and
// reports whether the connection stays open for another request.
func (c *conn) respond() bool {
	if err := c.writeHead(); err != nil {
		c.abort(err)
		return false
	}
	if err := c.writeBody(); err != nil {
		c.abort(err)
		return false
	}
	now := time.Now()
	c.fresh = false
	c.idleSince, c.headStart = now, now
	return c.sess.Done()
}

// abort gives up on a response that could not be sent in full.
func (c *conn) abort(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.srv.cfg.Stats.Timeout() // the client read nothing for WriteTimeout
	}
	c.sess.Abort()
}

// armWrite gives the next write WriteTimeout to make progress. Renewed
// before each write of at most one chunk, the deadline means "no progress
// for WriteTimeout ends the connection", not "the whole body in
// WriteTimeout", which would cut off a large file on a slow link.
func (c *conn) armWrite() {
	if wt := c.srv.cfg.WriteTimeout; wt > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(wt))
	}
}

// writeHead sends the response head (and, for an error, its short body).
func (c *conn) writeHead() error {
	c.armWrite()
	n, err := c.nc.Write(c.sess.Head())
	c.srv.cfg.Stats.Sent(int64(n))
	if err != nil {
		return fmt.Errorf("write head: %w", err)
	}
	return nil
}

// writeBody sends the body, if there is one, in bounded chunks.
//
// Why not io.Copy from the file to the connection, which uses sendfile(2)
// by itself? (*net.TCPConn).ReadFrom does so only for an *os.File, and it
// sends from the file's own position, moving it. servers.File is one
// descriptor shared by every connection sending that file, so it must be
// read only at explicit offsets (pread, or sendfile with an offset), never
// through a shared position. So we call sendfile ourselves, through the
// connection's RawConn.
func (c *conn) writeBody() error {
	f, off, n := c.sess.Body()
	if f == nil {
		return nil
	}
	if c.srv.cfg.UseSendfile() {
		return c.sendFile(f, off, n)
	}
	return c.copyFile(f, off, n)
}

// sendFile sends n bytes of f from off with sendfile(2), the kernel copying
// from the page cache to the socket.
//
// RawConn.Write shows the netpoller at work: it calls our function with the
// descriptor; on a non-blocking socket sendfile sends what fits and fails
// with EAGAIN when the socket buffer is full. Returning false then says
// "not done": the runtime parks this goroutine until epoll reports the
// socket writable (or the write deadline passes) and calls the function
// again. That is the event loop's "wait for writable" step, done for us.
func (c *conn) sendFile(f *servers.File, off, n int64) error {
	raw, err := c.nc.SyscallConn()
	if err != nil {
		return fmt.Errorf("sendfile: %w", err)
	}
	for n > 0 {
		c.armWrite()
		var sent int
		var serr error
		err := raw.Write(func(fd uintptr) bool {
			for {
				sent, serr = unix.Sendfile(int(fd), f.Fd(), &off, int(min(n, sendfileChunk)))
				if serr != unix.EINTR {
					return serr != unix.EAGAIN
				}
			}
		})
		if err == nil {
			err = serr
		}
		switch {
		case err != nil:
			return fmt.Errorf("sendfile: %w", err)
		case sent == 0:
			return errFileShrank
		}
		c.srv.cfg.Stats.Sent(int64(sent))
		n -= int64(sent)
	}
	return nil
}

// copyFile sends n bytes of f from off through a pooled buffer: pread(2)
// a chunk (File.ReadAt, where a simulated slow disk waits), write it,
// repeat. A slow disk stalls only this connection's goroutine.
func (c *conn) copyFile(f *servers.File, off, n int64) error {
	bp := c.srv.bufs.Get().(*[]byte)
	defer c.srv.bufs.Put(bp)
	buf := *bp
	for n > 0 {
		m, err := f.ReadAt(buf[:min(n, int64(len(buf)))], off)
		if err != nil {
			return err
		}
		if m == 0 {
			return errFileShrank
		}
		c.armWrite()
		w, err := c.nc.Write(buf[:m])
		c.srv.cfg.Stats.Sent(int64(w))
		if err != nil {
			return fmt.Errorf("write body: %w", err)
		}
		off += int64(m)
		n -= int64(m)
	}
	return nil
}

// closeConn ends the connection and gives its session back to the pool.
func (c *conn) closeConn() {
	c.nc.Close()
	c.sess.Reset() // releases any file a cut-short response still held
	c.srv.sessions.Put(c.sess)
	c.srv.cfg.Stats.ConnClosed()
	c.srv.conns.leave(c)
}
