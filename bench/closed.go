package bench

import (
	"context"
	"time"
)

// closedClient is a keep-alive client in a closed loop: send a request,
// wait for the whole answer, send the next. It is what wrk does, and what
// most benchmarks mean by "N connections".
//
// A closed loop has a blind spot worth a lesson. The client only sends when
// the previous answer has come, so when the server stalls, the client
// stalls with it and simply sends fewer requests: a one-second freeze costs
// one slow sample per connection, not the thousands of slow answers real
// users (who do not wait for each other) would have seen. That is
// "coordinated omission"; openClient (open.go) is the cure.
type closedClient struct {
	path  string
	think time.Duration // pause between an answer and the next request
}

func (cl closedClient) run(ctx context.Context, e *env) {
	c := e.newConn()
	defer c.Close()
	req := e.request(cl.path, false)
	var b backoff
	for ctx.Err() == nil {
		if !c.Open() {
			if err := c.Dial(ctx, e.addr); err != nil {
				e.fail(ctx, err)
				b.wait(ctx)
				continue
			}
		}
		start := time.Now()
		e.meter.inFlight.Add(1)
		resp, n, err := c.Do(req)
		end := time.Now()
		e.meter.inFlight.Add(-1)
		if err != nil {
			e.fail(ctx, err)
			c.Close()
			b.wait(ctx)
			continue
		}
		// For a closed loop a request is due the moment it is sent.
		e.meter.Record(start, start, end, n)
		e.learn(req, resp)
		b.reset()
		if cl.think > 0 {
			sleep(ctx, cl.think)
		}
	}
}
