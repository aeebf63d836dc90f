package load

import (
	"context"
	"sync"
	"time"

	"serverlab/internal/backoff"
)

// env is what all the clients of one load share: where to connect, where
// to record, and what each path's answer should look like.
type env struct {
	addr    string // "127.0.0.1:PORT"
	meter   *meter
	timeout time.Duration

	mu      sync.Mutex
	lengths map[string]int64 // body length of each path, once seen
}

func newEnv(addr string, m *meter, timeout time.Duration) *env {
	return &env{addr: addr, meter: m, timeout: timeout, lengths: make(map[string]int64)}
}

// newConn makes a connection that counts itself in the connections-open
// gauge and bounds each request by the load's timeout.
func (e *env) newConn() *conn {
	return &conn{Timeout: e.timeout, Gauge: &e.meter.conns}
}

// request encodes GET path, already expecting the body length if another
// client has learned it.
func (e *env) request(path string, close bool) *request {
	r := newRequest(e.addr, path, close)
	e.mu.Lock()
	if n, ok := e.lengths[path]; ok {
		r.WantLen = n
	}
	e.mu.Unlock()
	return r
}

// learn fixes the expected body length of req's path from its first good
// answer: the server's files do not change during a run, so from then on
// every answer of another length, for any client, is wrong.
func (e *env) learn(req *request, resp response) {
	if req.WantLen >= 0 || resp.Length < 0 {
		return
	}
	e.mu.Lock()
	n, ok := e.lengths[req.Path]
	if !ok {
		n = resp.Length
		e.lengths[req.Path] = n
	}
	e.mu.Unlock()
	req.WantLen = n
}

// fail counts a failed request, unless it failed because the load is
// stopping: a client whose socket we closed under it has not found a
// fault in the server.
func (e *env) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	e.meter.fail(classify(err))
}

// newBackoff is a client's pause after failures, 1 ms doubling to a
// second, so that a dead or refusing server is not hammered by a busy loop
// that would measure nothing but the client's own speed.
func newBackoff() backoff.Doubling {
	return backoff.Doubling{First: time.Millisecond, Max: time.Second}
}

// untimed makes one attempt of a client whose requests are not timed (a
// slow sender, a slow reader): the request counts as in flight while it
// runs, and a failure is counted, closes c (nobody knows where the next
// answer would start) and pauses by b before the next attempt.
func (e *env) untimed(ctx context.Context, c *conn, b *backoff.Doubling, attempt func() error) {
	e.meter.inFlight.Add(1)
	err := attempt()
	e.meter.inFlight.Add(-1)
	if err != nil {
		e.fail(ctx, err)
		c.Close()
		sleep(ctx, b.Next())
		return
	}
	b.Reset()
}

// sleep waits for d or until ctx is done, and reports whether the full
// time passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// behaviour is one kind of client; run is one client's whole life, and
// returns when ctx is done.
type behaviour interface {
	run(ctx context.Context, e *env)
}

// crew runs n clients of one behaviour and grows or shrinks while running.
// A client is stopped by cancelling its own context, which also closes its
// socket (see conn.Dial), so even one blocked in read(2) stops at once.
type crew struct {
	b     behaviour // what the running clients do
	stops []context.CancelFunc
	wg    sync.WaitGroup
}

// set makes the crew n clients of behaviour b. If b differs from what runs
// now (another path, another pace), the old clients are all replaced.
func (c *crew) set(ctx context.Context, e *env, b behaviour, n int) {
	if b != c.b {
		c.resize(ctx, e, 0)
		c.b = b
	}
	c.resize(ctx, e, n)
}

func (c *crew) resize(ctx context.Context, e *env, n int) {
	for len(c.stops) > n {
		last := len(c.stops) - 1
		c.stops[last]()
		c.stops = c.stops[:last]
	}
	for len(c.stops) < n {
		cctx, stop := context.WithCancel(ctx)
		c.stops = append(c.stops, stop)
		b := c.b
		c.wg.Go(func() { b.run(cctx, e) })
	}
}
