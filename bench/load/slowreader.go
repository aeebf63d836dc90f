package load

import (
	"context"
	"time"
)

// slowReader fetches a big file and reads it at a fixed pace, like a phone
// on a bad network. The server's writes soon fill the socket buffers
// between them, and then the server must wait for the reader.
//
// What it shows: a blocking server is stuck inside write(2) until the
// reader has taken the last byte, and serves nobody else meanwhile; a
// goroutine-per-connection server parks the one goroutine; an event loop
// stops asking to write to that socket until epoll says it is writable
// again. A write timeout (serve -write-timeout) is the defence.
//
// To make the backing-up start at once instead of after megabytes have
// gone into kernel buffers, the reader shrinks its receive buffer
// (SO_RCVBUF) and so the window it offers the server — as a slow device
// would. Like slowloris, it asks for Connection: close and starts each
// download on a new connection, so a one-at-a-time server takes it in turn
// with the others.
type slowReader struct {
	path  string
	rate  int           // bytes per second
	delay time.Duration // before starting, so figures show before and after
}

// slowTick is how often the reader takes its next bite.
const slowTick = 100 * time.Millisecond

func (cl slowReader) run(ctx context.Context, e *env) {
	if !sleep(ctx, cl.delay) {
		return
	}
	bite := max(1, cl.rate*int(slowTick)/int(time.Second))
	// A buffer one bite long (but room for a response head) keeps the
	// reader from taking more from the socket than its pace allows.
	c := e.newConn()
	c.buf = make([]byte, max(bite, 4096))
	c.RcvBuf = 4096
	defer c.Close()
	req := e.request(cl.path, true)
	b := newBackoff()
	for ctx.Err() == nil {
		e.untimed(ctx, c, &b, func() error { return cl.fetch(ctx, e, c, req, bite) })
	}
}

// fetch makes one request and reads its body bite by bite, a tick apart.
func (cl slowReader) fetch(ctx context.Context, e *env, c *conn, req *request, bite int) error {
	if !c.Open() {
		if err := c.Dial(ctx, e.addr); err != nil {
			return err
		}
	}
	if err := c.SetDeadline(time.Now().Add(e.timeout)); err != nil {
		return err
	}
	if err := c.Send(req.Bytes()); err != nil {
		return err
	}
	resp, err := c.ReadHead(req)
	if err != nil {
		return err
	}
	e.meter.received(int64(resp.HeadLen))
	next := time.Now()
	for c.BodyLeft() != 0 {
		next = next.Add(slowTick)
		if !sleep(ctx, time.Until(next)) {
			return ctx.Err()
		}
		if err := c.SetDeadline(time.Now().Add(e.timeout)); err != nil {
			return err
		}
		for got := 0; got < bite && c.BodyLeft() != 0; {
			n, err := c.Discard(bite - got)
			if err != nil {
				return err
			}
			got += n
			e.meter.received(int64(n))
		}
	}
	e.learn(req, resp)
	if resp.Close {
		c.Close()
	}
	return nil
}
