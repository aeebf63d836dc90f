package uring

// The limits — header, idle, write, linger — are the Session's: it says
// until when a connection may wait for what it waits for (Deadline), and
// what follows when that passes (Expire). The loop only has to notice the
// moment. It keeps every connection's deadline in one lazy min-heap
// (package timers), as evloop does.
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

// armAlarm makes sure the loop's TIMEOUT will complete by the earliest
// alarm (or the end of an accept pause).
func (l *loop) armAlarm() {
	next := l.timers.Next()
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

// expireTimers acts on every deadline that has passed. The Session of each
// connection expired has counted the timeout and says what follows: for a
// request head half-way in, an answer (a 408), sent as any answer once the
// receive under way is cancelled, then the close; for anything else (an
// idle connection, a client that stopped reading, a linger that lasted long
// enough), the close.
func (l *loop) expireTimers() {
	for c, answer := range l.timers.Expired(l.now) {
		then := closing
		if answer {
			then = receivingRequest // where Next hands out the answer
		}
		l.traceTimer(c, then)
		l.interrupt(c, then)
	}
	if l.acceptPaused && !l.acceptResume.After(l.now) {
		l.resumeAccept()
	}
}
