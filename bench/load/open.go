package load

import (
	"context"
	"sync/atomic"
	"time"
)

// The open loop sends requests on a timeline fixed in advance — request i is
// due at start + schedule.At(i) — whether or not earlier answers have come,
// the way independent users arrive at a real site. When the server stalls,
// requests keep falling due; each is sent as soon as a connection is free,
// and its latency is counted from when it was DUE, not from when it could
// finally be sent. The time it spent waiting for the stalled server is
// exactly the time a real user would have waited. This is Gil Tene's
// correction for coordinated omission, as wrk2 applies it.
//
// Both numbers are kept: "latency" (from due) and "uncorrected" (from the
// moment the bytes went out). The gap between them is the queue the closed
// loop cannot see. While the server keeps up, the two are the same.

// timeline hands out the due times of one schedule. Every open-loop client
// of a load takes its next ticket from the same counter, so together they
// follow the schedule whichever of them happens to be free; no dispatcher
// goroutine and no queue are needed, only an atomic add.
type timeline struct {
	start time.Time
	sched Schedule
	next  atomic.Int64 // next ticket to hand out
	sent  atomic.Int64 // tickets actually sent
}

func newTimeline(s Schedule) *timeline { return &timeline{start: time.Now(), sched: s} }

// take returns the due time of the next request.
func (t *timeline) take() time.Time {
	i := t.next.Add(1) - 1
	return t.start.Add(t.sched.At(i))
}

// backlog is how many requests are due by now but not yet sent: zero when
// the clients keep up, and growing without bound when they cannot.
func (t *timeline) backlog(now time.Time) int64 {
	due := int64(t.sched.Count(now.Sub(t.start)))
	return max(0, due-t.sent.Load())
}

// openClient is one connection of the open loop. The load runs several
// (Mix.OpenConns) on one shared timeline; they are the most requests that
// can be outstanding at once, and if all of them are busy, due requests
// wait — and the waiting shows in the corrected latency.
type openClient struct {
	path string
	line *atomic.Pointer[timeline] // the load's current timeline
}

func (cl openClient) run(ctx context.Context, e *env) {
	c := e.newConn()
	defer c.Close()
	req := e.request(cl.path, false)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		tl := cl.line.Load()
		if tl == nil {
			return
		}
		due := tl.take()
		from := due // when this request's clock starts
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			// We were free before the request fell due, so any delay
			// in sending it is our own: Go's timers wake up to a
			// millisecond late when the process has nothing else to
			// do. Blaming the server for that would add up to a
			// millisecond to every latency at low rates, so the clock
			// starts when we wake. Only a request that fell due while
			// every connection was busy — the server's doing — is
			// timed from its due time.
			from = time.Now()
		}
		if cl.line.Load() != tl {
			// The rate was changed while we slept: this ticket
			// belongs to a timeline nobody follows any more.
			continue
		}
		tl.sent.Add(1)
		sent := time.Now()
		e.meter.inFlight.Add(1)
		resp, n, err := cl.send(ctx, e, c, req)
		end := time.Now()
		e.meter.inFlight.Add(-1)
		if err != nil {
			// No backoff here: the schedule, not the client, decides
			// when the next request goes, and every due request that
			// fails is one more error.
			e.fail(ctx, err)
			c.Close()
			continue
		}
		e.meter.record(from, sent, end, n)
		e.learn(req, resp)
	}
}

// send makes one request, connecting first if needed (so a reconnect's
// handshake counts against the request that had to wait for it).
func (cl openClient) send(ctx context.Context, e *env, c *conn, req *request) (response, int64, error) {
	if !c.Open() {
		if err := c.Dial(ctx, e.addr); err != nil {
			return response{}, 0, err
		}
	}
	return c.Do(req)
}
