package evloop

import (
	"container/heap"
	"time"
)

// timerKind says which limit a connection's one timer enforces. A
// connection waits for one thing at a time, so one timer is enough.
type timerKind uint8

const (
	noTimer     timerKind = iota
	readTimer             // waiting for a request: the idle and header limits
	writeTimer            // the client is not reading its response (WriteTimeout)
	lingerTimer           // closing: waiting for the client to close as well
)

// lingerTimeout bounds the closing state. nginx waits up to 5 s by default
// (lingering_timeout); a second is plenty on loopback and keeps a graceful
// shutdown short.
const lingerTimeout = time.Second

// deadlineOf is when c's wait of kind k must end, or zero for never. Each
// deadline is worked out from times the connection records as it goes, so
// asking again gives the same answer: waiting again after a stale wake-up
// never buys a client more time.
func (l *loop) deadlineOf(c *conn, k timerKind) time.Time {
	switch k {
	case readTimer:
		// The same rule as every other model: IdleTimeout from when the
		// connection became idle, HeaderTimeout from when the head began
		// (for a new connection, from accept).
		idle := c.work == nil || c.sess.Buffered() == 0
		return l.cfg.Limits.ReadDeadline(idle, c.fresh, c.idleSince, c.headStart)
	case writeTimer:
		if l.cfg.WriteTimeout > 0 {
			return c.progressAt.Add(l.cfg.WriteTimeout)
		}
	case lingerTimer:
		return c.lingerSince.Add(lingerTimeout)
	}
	return time.Time{}
}

// The timers of all connections live in one min-heap, ordered by alarm,
// and the earliest alarm becomes epoll_wait's timeout: the loop sleeps
// until a socket is ready or the next deadline, whichever comes first. No
// goroutine or runtime timer exists per connection.
//
// Each connection holds two times:
//
//	deadline  when its current limit really expires
//	alarm     its position in the heap; always <= deadline
//
// Moving a deadline LATER (a write made progress, a keep-alive connection
// became idle again) only updates the deadline: no heap operation at all.
// When the alarm rings early, expireTimers sees that the deadline has moved
// and re-files the connection. Only a deadline moved EARLIER pays for a heap
// fix. The busy path of a keep-alive connection — idle, request, response,
// idle — therefore touches the heap about once per IdleTimeout, not once per
// request. nginx's timer tree is lazy in the same spirit.
type timerHeap []*conn

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].alarm.Before(h[j].alarm) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *timerHeap) Push(x any) {
	c := x.(*conn)
	c.heapIdx = len(*h)
	*h = append(*h, c)
}
func (h *timerHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.heapIdx = -1
	return c
}

// setTimer sets c's timer of kind k to ring at deadline (zero: no timer).
func (l *loop) setTimer(c *conn, k timerKind, deadline time.Time) {
	if deadline.IsZero() {
		c.timer = noTimer
		return
	}
	c.timer = k
	c.deadline = deadline
	switch {
	case c.heapIdx < 0:
		c.alarm = deadline
		heap.Push(&l.timers, c)
	case deadline.Before(c.alarm):
		c.alarm = deadline
		heap.Fix(&l.timers, c.heapIdx)
	}
}

// stopTimer turns c's timer off. Its heap entry stays until its alarm, when
// expireTimers drops it: cheaper than a removal on every request.
func (l *loop) stopTimer(c *conn) { c.timer = noTimer }

// removeTimer takes c out of the heap at once, for a connection being
// closed and recycled.
func (l *loop) removeTimer(c *conn) {
	c.timer = noTimer
	if c.heapIdx >= 0 {
		heap.Remove(&l.timers, c.heapIdx)
	}
}

// expireTimers acts on every deadline that has passed.
func (l *loop) expireTimers() {
	// The accept pause first: the loop below returns as soon as the next
	// alarm is in the future, and a pause left over past its end would
	// make pollTimeout answer 0 again and again — a busy loop.
	if l.acceptPaused && !l.acceptResume.After(l.now) {
		l.resumeAccept()
	}
	for len(l.timers) > 0 {
		c := l.timers[0]
		switch {
		case c.alarm.After(l.now):
			return // the earliest alarm is in the future: nothing else is due
		case c.timer == noTimer:
			heap.Pop(&l.timers)
		case c.deadline.After(l.now):
			c.alarm = c.deadline // the deadline moved on: re-file
			heap.Fix(&l.timers, 0)
		default:
			heap.Pop(&l.timers)
			k := c.timer
			c.timer = noTimer
			l.expire(c, k)
		}
	}
}

// expire handles a connection whose limit ran out.
func (l *loop) expire(c *conn, k timerKind) {
	switch k {
	case readTimer:
		// Session.Timeout counts the timeout and, when part of a request
		// has arrived, prepares a 408 (RFC 9110 §15.5.9) to send before
		// closing. A connection that sent nothing is simply closed.
		if c.work == nil {
			l.cfg.Stats.Timeout() // idle, holding no Session: just close
		} else if c.sess.Timeout(l.now) {
			l.beginResponse(c)
			c.state = fetchingFile
			l.advance(c)
			return
		}
	case writeTimer:
		c.sess.Timeout(l.now) // counted; closeConn then aborts the response
	}
	l.closeConn(c)
}

// pollTimeout is how long the poller may sleep: until the earliest alarm,
// or for ever (-1) when there is none.
func (l *loop) pollTimeout() int {
	var next time.Time
	if len(l.timers) > 0 {
		next = l.timers[0].alarm
	}
	if l.acceptPaused && (next.IsZero() || l.acceptResume.Before(next)) {
		next = l.acceptResume
	}
	if next.IsZero() {
		return -1
	}
	d := time.Until(next)
	if d <= 0 {
		return 0
	}
	// Round UP to whole milliseconds: rounding down would wake the loop
	// just before the deadline, find nothing due, and sleep 0 ms again and
	// again until it passed — a short busy loop.
	return int((d + time.Millisecond - 1) / time.Millisecond)
}
