package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/internal/backoff"
)

// Keep-alive clients in a closed loop: each connection sends a request,
// waits for the whole answer, sends the next (after an optional think
// time). It is what wrk does, and what most benchmarks mean by "N
// connections".
//
// A closed loop has a blind spot worth a lesson. A client only sends when
// the previous answer has come, so when the server stalls, the client
// stalls with it and simply sends fewer requests: a one-second freeze costs
// one slow sample per connection, not the thousands of slow answers real
// users (who do not wait for each other) would have seen. That is
// "coordinated omission"; openClient (open.go) is the cure.
//
// How it runs, and why that way. These are the clients that push a server
// hardest, so their own cost matters most: every microsecond the generator
// spends per request is a microsecond it cannot spend sending the next one,
// and against the event loop it is the generator that runs out of CPU
// first. A goroutine per connection over package net costs, per request,
// one read(2) that answers EAGAIN before the goroutine parks, and a trip
// through the scheduler when the answer arrives. So these clients run the
// way wrk runs and the way our own event loop serves: one goroutine per
// load CPU, each with one epoll set, watching all its connections, and
// doing per request exactly one write(2) and (for a small answer) one
// read(2), plus a share of one epoll_wait(2). It is the server's event loop
// seen from the other side of the socket, state machine and all.

// closedCrew is the load's keep-alive clients, spread over one closedLoop
// per CPU the load may use.
type closedCrew struct {
	loops []*closedLoop
	wg    sync.WaitGroup
}

// start makes the crew's loops, one per usable CPU (GOMAXPROCS, which
// pinning sets to the number of load CPUs), each idle until set.
func (c *closedCrew) start(ctx context.Context, e *env) error {
	for range runtime.GOMAXPROCS(0) {
		l, err := newClosedLoop(e)
		if err != nil {
			c.stop()
			return err
		}
		c.loops = append(c.loops, l)
		c.wg.Go(func() { l.run(ctx) })
		context.AfterFunc(ctx, l.poke)
	}
	return nil
}

// set asks for n connections in all, requesting path and pausing think
// between an answer and the next request. Connections already open keep
// going and pick the new path up with their next request.
func (c *closedCrew) set(path string, think time.Duration, n int) {
	k := len(c.loops)
	for i, l := range c.loops {
		share := n / k
		if i < n%k {
			share++
		}
		l.set(path, think, share)
	}
}

// stop waits for the loops (their context must be cancelled first) and
// frees their epoll sets; every connection is closed by then.
func (c *closedCrew) stop() {
	c.wg.Wait()
	for _, l := range c.loops {
		l.free()
	}
}

// The states of one keep-alive connection.
type kaState uint8

const (
	kaDialling kaState = iota // connect(2) in progress: waiting to be writable
	kaWaiting                 // request sent: reading the answer
	kaThinking                // answer read: pausing before the next request
	kaAnswered                // answer read: the next request goes out now, or the connection ends
)

// kaConn is one keep-alive connection of a closedLoop. It has no read
// buffer of its own: the loop reads every connection into one shared
// buffer and counts the bytes as they pass. Only a response head split
// across two reads (rare, but TCP allows it) is copied into head.
type kaConn struct {
	id       int32 // the epoll event's data; never reused, unlike fds
	fd       int
	state    kaState
	req      *request  // the request in flight
	sent     time.Time // when it went out
	deadline time.Time // when it times out (dialling or waiting)
	resp     response  // its answer's head, once read
	inBody   bool      // the head is read, the body is coming
	left     int64     // body bytes still to come (-1: until EOF)
	got      int64     // bytes of this answer so far, head included
	head     []byte    // a partial head kept across reads
}

// closedLoop is one goroutine's share of the keep-alive connections.
// Everything but the wanted counts belongs to the loop's goroutine.
type closedLoop struct {
	e    *env
	ep   *epollSet
	wake int // an eventfd in the epoll set: set and stop write to it

	mu    sync.Mutex // guards the wanted values and freed
	path  string
	think time.Duration
	want  int
	freed bool // the fds are closed: poke must not write to a reused number

	// The loop goroutine's own.
	addr      unix.SockaddrInet4
	addrErr   error
	req       *request      // for the path asked for now
	curThink  time.Duration // the think time asked for now
	curWant   int           // the connections asked for now
	conns     map[int32]*kaConn
	lastID    int32
	dialling  int
	thinking  []*kaConn        // in order of waking (all think the same time)
	retry     backoff.Doubling // after failures, new connections wait...
	dialAfter time.Time        // ...until then
	nextSweep time.Time        // next look for connections past their deadline
}

// maxDialling bounds connects in progress, so that asking for thousands
// of connections does not overflow the server's accept queue at once (a
// dropped SYN is retried only a second later).
const maxDialling = 32

// wakeID marks the eventfd's events; connections' ids start at 1.
const wakeID = 0

func newClosedLoop(e *env) (*closedLoop, error) {
	set, err := newEpollSet()
	if err != nil {
		return nil, fmt.Errorf("keep-alive clients: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		set.close()
		return nil, fmt.Errorf("keep-alive clients: eventfd: %w", err)
	}
	if err := set.ctl(unix.EPOLL_CTL_ADD, wake, unix.EPOLLIN, wakeID); err != nil {
		unix.Close(wake)
		set.close()
		return nil, fmt.Errorf("keep-alive clients: %w", err)
	}
	l := &closedLoop{e: e, ep: set, wake: wake, conns: make(map[int32]*kaConn), retry: newBackoff()}
	ap, err := netip.ParseAddrPort(e.addr)
	if err == nil && !ap.Addr().Is4() {
		err = fmt.Errorf("%s is not an IPv4 address", ap.Addr())
	}
	if err != nil {
		l.addrErr = fmt.Errorf("dial %s: %w", e.addr, err)
	} else {
		l.addr = unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	return l, nil
}

func (l *closedLoop) set(path string, think time.Duration, n int) {
	l.mu.Lock()
	l.path, l.think, l.want = path, think, n
	l.mu.Unlock()
	l.poke()
}

// poke wakes the loop: the eventfd makes its epoll set ready.
func (l *closedLoop) poke() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.freed {
		one := [8]byte{1}
		unix.Write(l.wake, one[:]) // only fails if the counter is full: awake anyway
	}
}

func (l *closedLoop) free() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.freed = true
	unix.Close(l.wake)
	l.ep.close()
}

// run is the loop: wait for events, handle each, and between waits bring
// the number of connections to what is wanted and time out the late ones.
func (l *closedLoop) run(ctx context.Context) {
	defer l.closeAll()
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, bufferSize)
	for ctx.Err() == nil {
		l.adjust(ctx)
		n, err := l.ep.wait(events, l.wakeAt())
		if err != nil {
			l.e.fail(ctx, err)
			return
		}
		for _, ev := range events[:n] {
			if ev.Fd == wakeID {
				var b [8]byte
				unix.Read(l.wake, b[:]) // reset the counter; the adjust above the wait reads the news
				continue
			}
			if c := l.conns[ev.Fd]; c != nil {
				l.ready(ctx, c, buf)
			}
		}
		l.timers(ctx)
	}
}

// adjust follows set: a new path for the next requests, and connections
// opened or closed to match the count wanted.
func (l *closedLoop) adjust(ctx context.Context) {
	l.mu.Lock()
	path, think, want := l.path, l.think, l.want
	l.mu.Unlock()
	if l.req == nil || l.req.Path != path {
		l.req = l.e.request(path, false)
	}
	l.curThink, l.curWant = think, want
	for _, c := range l.conns {
		if len(l.conns) <= want {
			break
		}
		// A request cut short by a smaller crew is not the server's
		// fault: it is dropped, not counted.
		l.drop(c)
	}
	now := time.Now()
	for len(l.conns) < want && l.dialling < maxDialling && !now.Before(l.dialAfter) {
		l.dial(ctx, now)
	}
}

// wakeAt is when the loop must wake even if no socket is ready: the next
// thing it must do by the clock. Zero: nothing is pending.
func (l *closedLoop) wakeAt() time.Time {
	var next time.Time
	soonest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if len(l.thinking) > 0 {
		soonest(l.thinking[0].deadline)
	}
	if len(l.conns) > 0 {
		soonest(l.nextSweep)
	}
	// Waiting to dial after a failure. (A full set of dials in progress
	// needs no timer: their connects finishing are events.)
	if l.curWant > len(l.conns) && time.Now().Before(l.dialAfter) {
		soonest(l.dialAfter)
	}
	return next
}

// timers does what the clock says is due: thinkers that have thought long
// enough send again, and connections past their deadline time out.
func (l *closedLoop) timers(ctx context.Context) {
	if len(l.thinking) == 0 && len(l.conns) == 0 {
		return
	}
	now := time.Now()
	for len(l.thinking) > 0 && !now.Before(l.thinking[0].deadline) {
		c := l.thinking[0]
		l.thinking = l.thinking[1:]
		if l.conns[c.id] == c && c.state == kaThinking {
			l.send(ctx, c, now)
		}
	}
	if now.Before(l.nextSweep) {
		return
	}
	// A sweep of every connection is cheap next to a request, so it is
	// done often enough to keep timeouts within a tenth of themselves.
	l.nextSweep = now.Add(min(max(l.e.timeout/10, time.Millisecond), 100*time.Millisecond))
	for _, c := range l.conns {
		if c.state != kaThinking && now.After(c.deadline) {
			l.fail(ctx, c, fmt.Errorf("no answer within %v: %w", l.e.timeout, os.ErrDeadlineExceeded))
		}
	}
}

// dial starts a non-blocking connect; the connection joins the epoll set
// waiting to be writable, which is how connect(2) says it is done.
func (l *closedLoop) dial(ctx context.Context, now time.Time) {
	if l.addrErr != nil {
		l.failed(ctx, l.addrErr, now)
		return
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.failed(ctx, fmt.Errorf("socket: %w", err), now)
		return
	}
	// Requests are small and each waits for its answer: Nagle's
	// algorithm would only delay them.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	err = unix.Connect(fd, &l.addr)
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		l.failed(ctx, fmt.Errorf("connect %s: %w", l.e.addr, err), now)
		return
	}
	l.lastID++
	c := &kaConn{id: l.lastID, fd: fd, state: kaDialling, deadline: now.Add(l.e.timeout)}
	if err := l.ep.ctl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLOUT, c.id); err != nil {
		unix.Close(fd)
		l.failed(ctx, err, now)
		return
	}
	l.conns[c.id] = c
	l.dialling++
}

// ready handles an event on c: a connect finished, an answer (or part of
// one) arrived, or the server closed a connection we were not using.
func (l *closedLoop) ready(ctx context.Context, c *kaConn, buf []byte) {
	switch c.state {
	case kaDialling:
		if serr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || serr != 0 {
			if err == nil {
				err = unix.Errno(serr)
			}
			l.fail(ctx, c, fmt.Errorf("connect %s: %w", l.e.addr, err))
			return
		}
		if err := l.ep.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLIN, c.id); err != nil {
			l.fail(ctx, c, err)
			return
		}
		l.dialling--
		l.e.meter.conns.Add(1)
		l.send(ctx, c, time.Now())
	case kaThinking:
		// Nothing was asked: the server closed an idle keep-alive
		// connection, which it may. Reconnect; it is no error.
		l.drop(c)
	case kaWaiting:
		// One read per event: the epoll set is level-triggered, so if
		// more is waiting the next epoll_wait says so at once.
		n, err := unix.Read(c.fd, buf)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
		case err != nil:
			l.fail(ctx, c, fmt.Errorf("read: %w", err))
		case n == 0:
			l.eof(ctx, c)
		default:
			l.feed(ctx, c, buf[:n])
		}
	}
}

// feed takes n bytes of c's answer: first the head, parsed once whole,
// then the body, only counted.
func (l *closedLoop) feed(ctx context.Context, c *kaConn, p []byte) {
	c.got += int64(len(p))
	if !c.inBody {
		data := p
		if len(c.head) > 0 {
			c.head = append(c.head, p...)
			data = c.head
		}
		end := bytes.Index(data, crlfcrlf)
		if end < 0 {
			if len(data) >= maxHead {
				l.fail(ctx, c, badResponse("response head over %d bytes", maxHead))
				return
			}
			if len(c.head) == 0 {
				c.head = append(c.head, p...)
			}
			return
		}
		resp, err := parseHead(data[:end+4])
		if err == nil {
			err = c.req.check(resp)
		}
		if err != nil {
			l.fail(ctx, c, err)
			return
		}
		c.resp, c.inBody, c.left = resp, true, resp.Length
		p = data[end+4:]
		c.head = c.head[:0]
	}
	if c.left >= 0 && int64(len(p)) > c.left {
		// We never pipeline, so bytes beyond the body can only be a
		// server sending more than its Content-Length promised.
		l.fail(ctx, c, badResponse("%d bytes after the body", int64(len(p))-c.left))
		return
	}
	if c.left > 0 {
		c.left -= int64(len(p))
	}
	if c.left == 0 {
		l.complete(ctx, c)
	}
}

// eof is the server closing c while we wait for an answer: the end of a
// body that runs to EOF, and otherwise an answer cut short.
func (l *closedLoop) eof(ctx context.Context, c *kaConn) {
	switch {
	case c.inBody && c.left < 0:
		c.left = 0
		l.complete(ctx, c)
	case c.inBody:
		l.fail(ctx, c, &responseError{Kind: ErrShortBody, Msg: fmt.Sprintf("connection closed with %d body bytes to come", c.left)})
	case c.got > 0:
		l.fail(ctx, c, &responseError{Kind: ErrReset, Msg: "connection closed in the middle of the response head"})
	default:
		l.fail(ctx, c, fmt.Errorf("connection closed before an answer: %w", io.EOF))
	}
}

// complete records c's answer and sends the next request, at once or
// after the think time.
func (l *closedLoop) complete(ctx context.Context, c *kaConn) {
	end := time.Now()
	// The answer is in: from here c has no request in flight, which drop
	// must know when the server closes after answering (blocking's
	// default), or it would take the request off the gauge twice.
	c.state = kaAnswered
	l.e.meter.inFlight.Add(-1)
	// For a closed loop a request is due the moment it is sent.
	l.e.meter.record(c.sent, c.sent, end, c.got)
	l.e.learn(c.req, c.resp)
	l.retry.Reset()
	l.dialAfter = time.Time{}
	switch {
	case c.resp.Close:
		l.drop(c) // the server said so; the next adjust dials anew
	case l.curThink > 0:
		c.state = kaThinking
		c.deadline = end.Add(l.curThink)
		l.thinking = append(l.thinking, c)
	default:
		l.send(ctx, c, end)
	}
}

// send writes the next request on c. A request is far smaller than an
// empty socket buffer, so the write takes it whole or fails.
func (l *closedLoop) send(ctx context.Context, c *kaConn, now time.Time) {
	c.req = l.req
	c.state, c.sent, c.deadline = kaWaiting, now, now.Add(l.e.timeout)
	c.inBody, c.got, c.head = false, 0, c.head[:0]
	l.e.meter.inFlight.Add(1)
	raw := c.req.Bytes()
	n, err := unix.Write(c.fd, raw)
	if err == nil && n < len(raw) {
		err = fmt.Errorf("sent %d of %d request bytes: %w", n, len(raw), unix.EAGAIN)
	}
	if err != nil {
		l.fail(ctx, c, fmt.Errorf("write: %w", err))
	}
}

// fail counts a failed request on c, closes c, and makes the next
// connection wait a little longer (newBackoff's rule: 1 ms, doubling to a
// second), so that a dead server is not hammered by a busy loop.
func (l *closedLoop) fail(ctx context.Context, c *kaConn, err error) {
	l.drop(c)
	l.failed(ctx, err, time.Now())
}

func (l *closedLoop) failed(ctx context.Context, err error, now time.Time) {
	if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
		err = fmt.Errorf("%w (out of file descriptors: raise the open-file limit)", err)
	}
	l.e.fail(ctx, err)
	l.dialAfter = now.Add(l.retry.Next())
}

// drop closes c (closing its fd also takes it out of the epoll set), takes
// it off the gauges and forgets it.
func (l *closedLoop) drop(c *kaConn) {
	switch c.state {
	case kaDialling:
		l.dialling--
	case kaWaiting:
		l.e.meter.inFlight.Add(-1)
		l.e.meter.conns.Add(-1)
	case kaThinking, kaAnswered:
		l.e.meter.conns.Add(-1)
	}
	unix.Close(c.fd)
	c.fd = -1
	delete(l.conns, c.id)
}

func (l *closedLoop) closeAll() {
	for _, c := range l.conns {
		l.drop(c)
	}
	l.thinking = nil
}
