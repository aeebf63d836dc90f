package evloop

import (
	"container/heap"
	"time"
)

// The timers of all connections live in one min-heap, ordered by alarm,
// and the earliest alarm becomes epoll_wait's timeout: the loop sleeps
// until a socket is ready or the next deadline, whichever comes first. No
// goroutine or runtime timer exists per connection, and no clock either:
// when each wait must end is the Session's to say (Session.Deadline), by
// the same rules in every model.
//
// A connection's alarm is its position in the heap, never later than its
// Session's deadline. A deadline that moves LATER (a write made progress, a
// keep-alive connection became idle again) costs no heap operation at all:
// when the alarm rings early, expireTimers asks the Session again and
// re-files the connection. Only a deadline moved EARLIER pays for a heap
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

// setTimer sets c's timer to ring at deadline (zero: no timer).
func (l *loop) setTimer(c *conn, deadline time.Time) {
	if deadline.IsZero() {
		c.timerOn = false
		return
	}
	c.timerOn = true
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
func (l *loop) stopTimer(c *conn) { c.timerOn = false }

// removeTimer takes c out of the heap at once, for a connection being
// closed and recycled.
func (l *loop) removeTimer(c *conn) {
	c.timerOn = false
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
		if c.alarm.After(l.now) {
			return // the earliest alarm is in the future: nothing else is due
		}
		if !c.timerOn {
			heap.Pop(&l.timers)
			continue
		}
		if d := c.sess.Deadline(); d.After(l.now) {
			c.alarm = d // the deadline moved on: re-file
			heap.Fix(&l.timers, 0)
			continue
		}
		heap.Pop(&l.timers)
		c.timerOn = false
		l.expire(c)
	}
}

// expire handles a connection whose deadline passed. Its Session counts
// the timeout and says what follows: for a request head half-way in, a 408
// (RFC 9110 §15.5.9), which the connection sends as any answer, then
// closes; for anything else, the close.
func (l *loop) expire(c *conn) {
	answer := c.sess.Expire(l.now)
	l.traceTimer(c, answer)
	if answer {
		c.state = readingRequest // where Next hands out the answer
		l.advance(c)
		return
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
