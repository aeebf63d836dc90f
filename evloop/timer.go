package evloop

import "time"

// The timers of all connections live in one lazy min-heap (package
// timers), and the earliest alarm becomes epoll_wait's timeout: the loop
// sleeps until a socket is ready or the next deadline, whichever comes
// first.

// expireTimers acts on every deadline that has passed. The Session of each
// connection expired has counted the timeout and says what follows: an
// answer (a 408), which the connection sends as any answer, then closes;
// or the close.
func (l *loop) expireTimers() {
	for c, answer := range l.timers.Expired(l.now) {
		l.traceTimer(c, answer)
		if !answer {
			l.closeConn(c)
			continue
		}
		c.state = readingRequest // where Next hands out the answer
		l.advance(c)
	}
	// And the accept pause: left over past its end, it would make
	// pollTimeout answer 0 again and again — a busy loop.
	if l.acceptPaused && !l.acceptResume.After(l.now) {
		l.resumeAccept()
	}
}

// pollTimeout is how long the poller may sleep: until the earliest alarm,
// or for ever (-1) when there is none.
func (l *loop) pollTimeout() int {
	next := l.timers.Next()
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
