package uring

import (
	"container/heap"
	"time"
)

// The limits — header, idle, write, linger — are the Session's: it says
// until when a connection may wait for what it waits for (Deadline), and
// what follows when that passes (Expire). The loop only has to notice the
// moment. It keeps every connection's deadline in one min-heap, filed
// lazily as evloop does: a connection's alarm is its place in the heap,
// never later than its deadline; a deadline that moves LATER (a send made
// progress, a connection fell idle again) costs no heap work at all, and
// when the alarm comes up early the Session is asked again and the entry
// re-filed.
//
// What differs from evloop is how the loop learns that the earliest alarm
// has come. evloop passes it to epoll_wait as a timeout. Here waiting is
// for completions, so the clock is a request like any other: one
// IORING_OP_TIMEOUT for the whole loop, armed for the earliest alarm, that
// completes when it passes. It is moved only when an earlier alarm appears,
// which the lazy heap makes rare, and never per request.
//
// Why not an IORING_OP_LINK_TIMEOUT behind every receive and send? It bounds
// each request by itself, with no heap at all — but it is one more request
// and one more completion (its cancellation) for every request served, and
// the header limit runs from when the head BEGAN, across several receives,
// so each would need the time left worked out anyway.
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

// stopTimer turns c's timer off; its heap entry goes when its alarm comes.
func (l *loop) stopTimer(c *conn) { c.timerOn = false }

// removeTimer takes c out of the heap at once, for a connection closing.
func (l *loop) removeTimer(c *conn) {
	c.timerOn = false
	if c.heapIdx >= 0 {
		heap.Remove(&l.timers, c.heapIdx)
	}
}

// armAlarm makes sure the loop's TIMEOUT will complete by the earliest
// alarm (or the end of an accept pause).
func (l *loop) armAlarm() {
	var next time.Time
	if len(l.timers) > 0 {
		next = l.timers[0].alarm
	}
	if l.acceptPaused && (next.IsZero() || l.acceptResume.Before(next)) {
		next = l.acceptResume
	}
	if next.IsZero() || (l.alarmArmed && !next.Before(l.alarmAt)) {
		// Nothing to time, or the alarm already rings early enough (if
		// too early, expireTimers finds nothing due and it is re-armed).
		return
	}
	// A duration from now rather than a point on the clock: Go's
	// time.Time does not expose CLOCK_MONOTONIC, the kernel's clock for
	// timeouts. Measured from l.now, it can only ring late, by the time
	// this batch took, never early.
	l.alarmTs = durationSpec(int64(next.Sub(l.now)))
	s := l.ring.get()
	if l.alarmArmed {
		// Move it. If it has just fired, the move finds nothing, and
		// the completion already in the queue re-arms it next turn.
		s.updateTimeout(uint64(kAlarm)<<56, &l.alarmTs, 0, uint64(kAlarmSet)<<56)
		s.flags |= sqeCQESkip
	} else {
		s.timeout(&l.alarmTs, 0, uint64(kAlarm)<<56)
		l.alarmArmed = true
	}
	l.alarmAt = next
}

// expireTimers acts on every deadline that has passed.
func (l *loop) expireTimers() {
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
// (RFC 9110 §15.5.9), sent as any answer once the receive under way is
// cancelled, then the close; for anything else (an idle connection, a
// client that stopped reading, a linger that lasted long enough), the close.
func (l *loop) expire(c *conn) {
	answer := c.sess.Expire(l.now)
	l.traceTimer(c, answer)
	if answer {
		l.interrupt(c, receivingRequest) // where Next hands out the answer
		return
	}
	l.interrupt(c, closing)
}
