// Package timers keeps the deadlines of an event loop's connections: one
// min-heap for all of them, ordered by alarm, so that the loop has one
// moment to wait for, the earliest. No goroutine or runtime timer exists per
// connection, and no clock either: when each wait must end is the Session's
// to say (servers.Session.Deadline), by the same rules in every model. Each
// model only tells its kernel to wake it at Next, and decides what an alarm
// that rings means for the connection.
//
// The heap is lazy. A connection's alarm is its position in the heap, never
// later than its Session's deadline. A deadline that moves LATER (a write
// made progress, a keep-alive connection became idle again) costs no heap
// operation at all: when the alarm rings early, Expired asks for the deadline
// again and re-files the connection. Only a deadline moved EARLIER pays for
// a heap fix, and a timer stopped stays in the heap until its alarm. The
// busy path of a keep-alive connection — idle, request, response, idle —
// therefore touches the heap about once per idle timeout, not once per
// request. nginx's timer tree is lazy in the same spirit.
package timers

import (
	"container/heap"
	"iter"
	"time"

	"serverlab/servers"
)

// Timer is one connection's place in a Heap, kept in the connection
// itself. Its zero value is a timer that is off and in no heap.
type Timer[T any] struct {
	owner T                // the connection, handed back by Expired
	sess  *servers.Session // its Session, asked again when the alarm rings
	alarm time.Time        // when it rings: never later than the deadline
	pos   int              // its index in the heap plus one; 0: not in the heap
	on    bool             // false: when the alarm rings, it is dropped unheard
}

// Stop turns t off. Its heap entry stays until its alarm, when Expired drops
// it: cheaper than a removal on every request.
func (t *Timer[T]) Stop() { t.on = false }

// Heap is the timers of one loop's connections, earliest alarm first.
type Heap[T any] struct {
	h entries[T]
}

// Set makes owner's timer t ring by the deadline its Session sess gives
// for the present wait (none: not at all).
func (h *Heap[T]) Set(t *Timer[T], owner T, sess *servers.Session) {
	deadline := sess.Deadline()
	if deadline.IsZero() {
		t.on = false
		return
	}
	t.on = true
	switch {
	case t.pos == 0:
		t.owner, t.sess, t.alarm = owner, sess, deadline
		heap.Push(&h.h, t)
	case deadline.Before(t.alarm):
		t.alarm = deadline
		heap.Fix(&h.h, t.pos-1)
	}
}

// Remove takes t out of the heap at once, for a connection being closed:
// it is ready for the next connection to use.
func (h *Heap[T]) Remove(t *Timer[T]) {
	t.on = false
	if t.pos > 0 {
		heap.Remove(&h.h, t.pos-1)
	}
}

// Next is the earliest alarm, or the zero time when no timer is in the heap.
func (h *Heap[T]) Next() time.Time {
	if len(h.h) == 0 {
		return time.Time{}
	}
	return h.h[0].alarm
}

// Expired yields, one by one, the connections whose deadline has passed at
// now, each taken off the heap first (so that acting on it may set its
// timer again), and its Session told (servers.Session.Expire, which counts
// the timeout): answer is true when the Session has an answer to send, a
// 408 for a request head half-way in (RFC 9110 §15.5.9), false when the
// connection is simply to close. On its way it drops the timers stopped,
// and re-files those whose Session, asked again, gives a deadline past now.
func (h *Heap[T]) Expired(now time.Time) iter.Seq2[T, bool] {
	return func(yield func(owner T, answer bool) bool) {
		for len(h.h) > 0 {
			t := h.h[0]
			if t.alarm.After(now) {
				return // the earliest alarm is in the future: nothing else is due
			}
			if !t.on {
				heap.Pop(&h.h)
				continue
			}
			if d := t.sess.Deadline(); d.After(now) {
				t.alarm = d // the deadline moved on: re-file
				heap.Fix(&h.h, 0)
				continue
			}
			heap.Pop(&h.h)
			t.on = false
			if !yield(t.owner, t.sess.Expire(now)) {
				return
			}
		}
	}
}

// entries is the heap proper, in container/heap's terms. Each timer knows
// its own index, so that Set and Remove find it without a search.
type entries[T any] []*Timer[T]

func (h entries[T]) Len() int           { return len(h) }
func (h entries[T]) Less(i, j int) bool { return h[i].alarm.Before(h[j].alarm) }
func (h entries[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i+1, j+1
}

func (h *entries[T]) Push(x any) {
	t := x.(*Timer[T])
	t.pos = len(*h) + 1
	*h = append(*h, t)
}

func (h *entries[T]) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.pos = 0
	return t
}
