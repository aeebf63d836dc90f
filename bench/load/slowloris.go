package load

import (
	"context"
	"time"
)

// slowloris is a slow sender, named after the 2009 attack tool: it sends
// each request one byte at a time, a pace apart, reads the answer, and
// starts over on a new connection. A 90-byte request at 10 ms a byte takes
// about a second to arrive.
//
// What it shows: a server that gives each connection its whole attention
// until the request is complete (the blocking model) is frozen for that
// second, for everyone. A server with a goroutine per connection parks one
// goroutine; an event loop keeps one small buffer and gets on with other
// sockets. A header timeout (serve -header-timeout) is the defence, and
// then a slower slowloris sees its requests answered 408 or cut.
//
// It asks for Connection: close, so a one-at-a-time server takes it in
// turn with everyone else: each turn is a freeze, and a figure shows a
// spike every time, instead of one freeze that lasts the rest of the run.
//
// Its requests are not timed — their "latency" is the pace we chose — but
// its failures and bytes count, and it shows in requests in flight and
// connections open.
type slowloris struct {
	path  string
	pace  time.Duration // between bytes
	delay time.Duration // before starting, so figures show before and after
}

func (cl slowloris) run(ctx context.Context, e *env) {
	if !sleep(ctx, cl.delay) {
		return
	}
	c := e.newConn()
	defer c.Close()
	req := e.request(cl.path, true)
	b := newBackoff()
	for ctx.Err() == nil {
		e.untimed(ctx, c, &b, func() error {
			n, err := cl.dribble(ctx, e, c, req)
			e.meter.received(n)
			return err
		})
	}
}

// dribble connects if need be, sends req a byte at a time, then reads the
// whole answer, and returns the bytes received.
func (cl slowloris) dribble(ctx context.Context, e *env, c *conn, req *request) (int64, error) {
	if !c.Open() {
		if err := c.Dial(ctx, e.addr); err != nil {
			return 0, err
		}
	}
	raw := req.Bytes()
	for i := range raw {
		if i > 0 && !sleep(ctx, cl.pace) {
			return 0, ctx.Err()
		}
		if err := c.SetDeadline(time.Now().Add(e.timeout)); err != nil {
			return 0, err
		}
		if err := c.Send(raw[i : i+1]); err != nil {
			return 0, err
		}
	}
	resp, err := c.ReadHead(req)
	if err != nil {
		return 0, err
	}
	total := int64(resp.HeadLen)
	for c.BodyLeft() != 0 {
		n, err := c.Discard(bufferSize)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	if resp.Close {
		c.Close()
	}
	return total, nil
}
