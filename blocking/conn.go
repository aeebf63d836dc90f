package blocking

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/internal/sock"
	"serverlab/servers"
)

// Body chunks. pread+write copies the file through a buffer in our memory,
// so its chunk is that buffer's size. sendfile(2) copies inside the kernel,
// from the page cache to the socket, and needs no buffer at all; its chunk
// only decides how often we come back from the kernel to count the bytes
// sent (the dashboard's throughput) and to check the write timeout. nginx's
// sendfile_max_chunk is the same idea.
const (
	copyChunk     = 64 << 10
	sendfileChunk = 1 << 20
)

// errFileShrank ends a response whose file got shorter while it was being
// sent: the promised Content-Length can no longer be kept, so the only
// honest thing left is to close the connection.
var errFileShrank = errors.New("file shrank while being sent")

// Conn serves one connection at a time, start to finish, with blocking
// system calls. It is the inner loop of the blocking model, and exactly what
// each OS thread runs in the threaded model's OS-thread variant (Apache's
// worker: this same loop, once per thread). A Conn keeps its buffers from one
// connection to the next.
//
// Serve runs on one goroutine; CloseIdle and Kill may be called from any
// other, which is how a server shuts down a connection it cannot otherwise
// reach while its goroutine is asleep in the kernel.
type Conn struct {
	cfg  *servers.Config
	sess *servers.Session
	buf  []byte // the pread+write buffer; nil when bodies go by sendfile

	// Shared with CloseIdle and Kill. The mutex also guarantees that they
	// never call shutdown(2) on a descriptor closeConn has already closed,
	// whose number the kernel may since have given to another socket.
	mu      sync.Mutex
	fd      int  // the connection, -1 between connections
	idle    bool // waiting for the first byte of a request
	closing bool // shutting down: close instead of waiting for a request

	// Owned by Serve's goroutine alone.
	fresh     bool          // no response sent yet on this connection
	idleSince time.Time     // when the connection last became idle
	headStart time.Time     // when the current request head began
	rcvTimeo  time.Duration // the SO_RCVTIMEO now set on fd (0: none)
}

// NewConn makes a Conn serving cfg.Site. cfg must outlive it.
func NewConn(cfg *servers.Config) *Conn {
	c := &Conn{cfg: cfg, sess: servers.NewSession(cfg.Site, cfg.Stats), fd: -1}
	if !cfg.UseSendfile() {
		c.buf = make([]byte, copyChunk)
	}
	return c
}

// Serve serves the connection fd until it ends, then closes it. It counts
// the close (Stats.ConnClosed); the caller counted the accept.
//
// This is the loop of one connection: answer every complete request already
// received (one read may bring several, pipelined), then read for more. The
// shared core decides what each answer is; this loop only moves bytes.
func (c *Conn) Serve(fd int) {
	c.open(fd)
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

// CloseIdle is the gentle half of a shutdown. A connection idle between
// requests is woken and closed now; one in the middle of a request or a
// response finishes it and closes afterwards. After CloseIdle the Conn
// closes every connection at its first idle moment: it belongs to a server
// that is going away.
//
// shutdown(SHUT_RD) is what wakes a read(2) asleep on the socket: the read
// returns 0, end of input, as if the client had closed. Bytes the client
// managed to send just before still come out first, so a request that
// raced the shutdown is answered rather than lost.
func (c *Conn) CloseIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.fd >= 0 && c.idle {
		unix.Shutdown(c.fd, unix.SHUT_RD)
	}
}

// Kill is the hard half of a shutdown: the connection ends now, whatever it
// is doing. shutdown(SHUT_RDWR) makes a sleeping read return 0 and a
// sleeping write or sendfile fail with EPIPE, so Serve returns at once and
// closes the descriptor itself.
func (c *Conn) Kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.fd >= 0 {
		unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
}

// open starts serving a new connection.
func (c *Conn) open(fd int) {
	c.mu.Lock()
	c.fd, c.idle = fd, false
	c.mu.Unlock()

	now := time.Now()
	c.fresh, c.idleSince, c.headStart = true, now, now
	c.rcvTimeo = 0
	// These fail only if the client is already gone, which the first
	// read or write will discover anyway.
	sock.SetNoDelay(fd)
	if wt := c.cfg.WriteTimeout; wt > 0 {
		// SO_SNDTIMEO bounds each blocking write: if the client reads
		// nothing for that long, the call gives up (EAGAIN, or a short
		// count if some bytes went). Set once, it turns every send below
		// into "no progress for WriteTimeout ends the connection".
		tv := unix.NsecToTimeval(int64(max(wt, time.Microsecond)))
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	}
}

// readRequest waits for (more of) the next request with one read(2), and
// reports whether the connection goes on. It does not: when the client
// closes or resets it, when a timeout expires (after a 408 if a request head
// was half-way in), or when the server is shutting down and the connection
// is idle.
func (c *Conn) readRequest() bool {
	idle := c.sess.Buffered() == 0
	if idle && !c.setIdle(true) {
		return false // shutting down, and no request is under way
	}
	var n int
	var err error
	for {
		timeout, ok := c.readTimeout(idle)
		if !ok {
			err = unix.EAGAIN // the deadline passed before we even read
			break
		}
		if err = c.setReadTimeout(timeout); err == nil {
			n, err = unix.Read(c.fd, c.sess.ReadSpace())
		}
		// A signal cuts a read short with EINTR when SO_RCVTIMEO is
		// set (signal(7): such calls are never restarted). Go's runtime
		// sends signals to its own threads, so this is not rare.
		if err != unix.EINTR {
			break
		}
	}
	if idle {
		c.setIdle(false)
	}
	switch {
	case err == nil && n > 0:
		if idle && !c.fresh {
			c.headStart = time.Now() // a new request head begins
		}
		c.sess.Received(n)
		return true
	case err == nil:
		// End of input: the client closed, or half-closed after its last
		// request (every complete one has been answered), or CloseIdle
		// shut our reading side.
		return false
	case err == unix.EAGAIN:
		// SO_RCVTIMEO expired. Mid-head, the client is told why (408);
		// an idle connection is simply closed.
		if c.sess.Timeout(time.Now()) {
			if c.writeHead() == nil {
				c.sess.Done()
			} else {
				c.sess.Abort()
			}
		}
		return false
	default: // ECONNRESET and the like: the client is gone
		c.cfg.Stats.Error()
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

// readTimeout is how long the next read may wait (0: for ever), or !ok if
// the deadline has already passed, by the rules of servers.Limits.ReadDeadline.
func (c *Conn) readTimeout(idle bool) (d time.Duration, ok bool) {
	deadline := c.cfg.Limits.ReadDeadline(idle, c.fresh, c.idleSince, c.headStart)
	if deadline.IsZero() {
		return 0, true
	}
	d = time.Until(deadline)
	// A timeval of zero means "no timeout": never round down to it.
	return max(d, time.Microsecond), d > 0
}

// setReadTimeout arms SO_RCVTIMEO. The option is a timeout per call, not a
// deadline: every read(2) may wait that long again. That is why readRequest
// re-arms it before each read with the time that is left; we skip the
// system call when the value is unchanged, as it is when no timeout is set.
func (c *Conn) setReadTimeout(d time.Duration) error {
	if d == c.rcvTimeo {
		return nil
	}
	tv := unix.NsecToTimeval(int64(d))
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	c.rcvTimeo = d
	return nil
}

// respond sends the response the session decided: the head, then the body.
// It reports whether the connection stays open for another request.
func (c *Conn) respond() bool {
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
	// The connection is idle from now, or, if the next request already
	// sits in the buffer (pipelined), that request's head started now.
	c.idleSince, c.headStart = now, now
	return c.sess.Done()
}

// abort gives up on a response that could not be sent in full.
func (c *Conn) abort(err error) {
	if errors.Is(err, unix.EAGAIN) {
		c.cfg.Stats.Timeout() // SO_SNDTIMEO: the client read nothing for WriteTimeout
	}
	c.sess.Abort()
}

// writeHead sends the response head (and, for an error, its short body).
//
// MSG_MORE tells TCP that more data follows at once, so it holds the head
// back to share a packet with the first bytes of the body instead of sending
// a small packet of headers alone (TCP_NODELAY would otherwise send it now).
func (c *Conn) writeHead() error {
	flags := 0
	if f, _, _ := c.sess.Body(); f != nil {
		flags = unix.MSG_MORE
	}
	if err := c.send(c.sess.Head(), flags); err != nil {
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
	if c.buf == nil {
		return c.sendFile(f, off, n)
	}
	return c.copyFile(f, off, n)
}

// sendFile sends n bytes of f from off with sendfile(2): the kernel moves
// them from the page cache to the socket, and they never enter our memory.
// The call blocks until its chunk is sent, or SO_SNDTIMEO expires.
func (c *Conn) sendFile(f *servers.File, off, n int64) error {
	for n > 0 {
		sent, err := unix.Sendfile(c.fd, f.Fd(), &off, int(min(n, sendfileChunk)))
		switch {
		case err == unix.EINTR:
			continue // nothing was sent; off is unchanged
		case err != nil:
			return fmt.Errorf("sendfile: %w", err)
		case sent == 0:
			return errFileShrank
		}
		c.cfg.Stats.Sent(int64(sent))
		n -= int64(sent)
	}
	return nil
}

// copyFile sends n bytes of f from off the long way round: pread(2) a chunk
// into our buffer, write(2) it to the socket, repeat. This is the seed's
// "fetch the file, then write it" made to fit any file in a fixed buffer,
// and the path on which a slow disk (File.ReadAt's delay) holds everyone up.
func (c *Conn) copyFile(f *servers.File, off, n int64) error {
	for n > 0 {
		m, err := f.ReadAt(c.buf[:min(n, int64(len(c.buf)))], off)
		if err != nil {
			return err
		}
		if m == 0 {
			return errFileShrank
		}
		if err := c.send(c.buf[:m], 0); err != nil {
			return fmt.Errorf("write body: %w", err)
		}
		off += int64(m)
		n -= int64(m)
	}
	return nil
}

// send writes all of p. A blocking write may still send only part of it
// (a signal, or SO_SNDTIMEO expiring after some progress), so it loops.
//
// MSG_NOSIGNAL: writing to a connection the client has reset raises SIGPIPE,
// whose default action kills the process. Go's runtime already ignores it
// for sockets, but a server should not depend on who installed which
// handler; with the flag the write simply fails with EPIPE. (sendfile(2)
// takes no flags, and there the runtime's handler is what saves us.)
func (c *Conn) send(p []byte, flags int) error {
	for len(p) > 0 {
		n, err := unix.SendmsgN(c.fd, p, nil, nil, flags|unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err // EPIPE or ECONNRESET: the client left; EAGAIN: timeout
		}
		c.cfg.Stats.Sent(int64(n))
		p = p[n:]
	}
	return nil
}

// closeConn ends the connection: its session is cleared (releasing any file
// still held) and its descriptor closed, under the mutex so that a Kill
// cannot reach the number after it is freed.
func (c *Conn) closeConn() {
	c.sess.Reset()
	c.mu.Lock()
	unix.Close(c.fd)
	c.fd, c.idle = -1, false
	c.mu.Unlock()
	c.cfg.Stats.ConnClosed()
}
