package load

import (
	"context"
	"time"
)

// churnClient opens a new connection for every request and asks the server
// to close it afterwards (Connection: close), as HTTP/1.0 clients and many
// scripts do. Its latency includes the TCP handshake and the server's
// accept, so comparing it with a keep-alive client shows what a connection
// costs: a syscall or two and a goroutine or a thread for the server, a
// fresh entry in the kernel's tables, and one more round trip.
type churnClient struct {
	path string
}

func (cl churnClient) run(ctx context.Context, e *env) {
	c := e.newConn()
	defer c.Close()
	req := e.request(cl.path, true)
	b := newBackoff()
	for ctx.Err() == nil {
		// The clock starts before connect(2): the handshake is part of
		// what this client measures.
		start := time.Now()
		e.meter.inFlight.Add(1)
		resp, n, err := cl.once(ctx, e, c, req)
		end := time.Now()
		e.meter.inFlight.Add(-1)
		c.Close()
		if err != nil {
			e.fail(ctx, err)
			sleep(ctx, b.Next())
			continue
		}
		e.meter.record(start, start, end, n)
		e.learn(req, resp)
		b.Reset()
	}
}

func (cl churnClient) once(ctx context.Context, e *env, c *conn, req *request) (response, int64, error) {
	if err := c.Dial(ctx, e.addr); err != nil {
		return response{}, 0, err
	}
	return c.Do(req)
}
