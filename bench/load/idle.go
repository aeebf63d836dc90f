package load

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// idlePool holds connections open and silent: the C10K picture, where most
// of a server's clients are connected but have nothing to say. Each one
// first makes one request and reads the answer, so we know the server
// really accepted it (a connection still in the kernel's accept queue
// would cost the server nothing), and then keeps still.
//
// What it shows: ten thousand idle connections cost a thread-per-connection
// server ten thousand threads, a goroutine-per-connection server ten
// thousand goroutine stacks and buffers, and an event loop ten thousand
// entries in one epoll set and a small struct each.
//
// The pool holds its connections the way the event loop holds its clients,
// and for the same reason: one goroutine and one epoll set watch them all,
// instead of one goroutine blocked in read(2) for each, which would cost
// the load generator itself tens of megabytes of stacks. The watcher only
// needs to learn that a connection was closed by the server (EPOLLRDHUP),
// so that "connections open" stays true, and then a replacement is dialled.
type idlePool struct {
	e    *env
	path string
	ep   *epollSet

	mu   sync.Mutex
	held map[int32]*conn // by id, the id also being the epoll event's data
	id   int32           // last id given out
	want int
	wake chan struct{} // tells the filler that want went up

	wg sync.WaitGroup
}

// idleDialers is how many connections the pool opens at once: enough to
// reach ten thousand in a couple of seconds, few enough not to flood the
// server's accept queue (a SYN dropped from a full queue is retried only
// after a second).
const idleDialers = 32

func newIdlePool(ctx context.Context, e *env, path string) (*idlePool, error) {
	ep, err := newEpollSet()
	if err != nil {
		return nil, fmt.Errorf("idle connections: %w", err)
	}
	p := &idlePool{e: e, path: path, ep: ep, held: make(map[int32]*conn), wake: make(chan struct{}, 1)}
	p.wg.Go(func() { p.fill(ctx) })
	p.wg.Go(func() { p.watch(ctx) })
	return p, nil
}

// setPath sets what the connections opened from now on request first.
func (p *idlePool) setPath(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.path = path
}

// resize asks for n idle connections, closing the surplus at once.
func (p *idlePool) resize(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.want = n
	for id, c := range p.held {
		if len(p.held) <= n {
			break
		}
		c.Close()
		delete(p.held, id)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// wait stops the pool's goroutines (ctx must be cancelled first) and closes
// every connection.
func (p *idlePool) wait() {
	p.wg.Wait()
	p.mu.Lock()
	for id, c := range p.held {
		c.Close()
		delete(p.held, id)
	}
	p.mu.Unlock()
	p.ep.close()
}

func (p *idlePool) missing() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.want - len(p.held)
}

// fill opens connections, idleDialers at a time, until the pool holds as
// many as wanted; then it sleeps until resize or the watcher wakes it.
func (p *idlePool) fill(ctx context.Context) {
	b := newBackoff()
	for ctx.Err() == nil {
		n := min(p.missing(), idleDialers)
		if n <= 0 {
			select {
			case <-ctx.Done():
			case <-p.wake:
			}
			continue
		}
		var wg sync.WaitGroup
		var failed atomic.Bool
		for range n {
			wg.Go(func() {
				if !p.open(ctx) {
					failed.Store(true)
				}
			})
		}
		wg.Wait()
		if failed.Load() {
			sleep(ctx, b.Next())
		} else {
			b.Reset()
		}
	}
}

// open dials one connection, makes its request and, if all went well,
// hands it to the watcher.
func (p *idlePool) open(ctx context.Context) bool {
	c := p.e.newConn()
	c.buf = make([]byte, 4096) // one small answer; dropped once held
	if err := c.Dial(ctx, p.e.addr); err != nil {
		p.e.fail(ctx, err)
		return false
	}
	p.mu.Lock()
	path := p.path
	p.mu.Unlock()
	req := p.e.request(path, false)
	p.e.meter.inFlight.Add(1)
	_, _, err := c.Do(req)
	p.e.meter.inFlight.Add(-1)
	if err == nil && !c.Open() {
		err = fmt.Errorf("server closed an idle connection after its first answer: %w", syscall.ECONNRESET)
	}
	if err == nil {
		c.SetDeadline(time.Time{}) // held for as long as the run lasts
		c.buf = nil
		err = p.hold(c)
	}
	if err != nil {
		p.e.fail(ctx, err)
		c.Close()
		return false
	}
	return true
}

// hold registers the connection with the epoll set, keyed by a fresh id
// (not the fd: a closed fd's number is soon reused, and a stale event for
// the old one must not close the new one).
func (p *idlePool) hold(c *conn) error {
	rc, err := c.NetConn().SyscallConn()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.held) >= p.want {
		c.Close() // resized down while we were dialling
		return nil
	}
	p.id++
	id := p.id
	var cerr error
	err = rc.Control(func(fd uintptr) {
		cerr = p.ep.ctl(unix.EPOLL_CTL_ADD, int(fd), unix.EPOLLIN|unix.EPOLLRDHUP, id)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	p.held[id] = c
	return nil
}

// watch waits on the epoll set and drops every connection the server
// closes (or writes to unasked, which is just as wrong), waking the filler
// to replace it. The wait has a timeout so that cancellation is noticed.
func (p *idlePool) watch(ctx context.Context) {
	events := make([]unix.EpollEvent, 128)
	for ctx.Err() == nil {
		n, err := p.ep.wait(events, time.Now().Add(200*time.Millisecond))
		if err != nil {
			return
		}
		if n <= 0 {
			continue
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			if c, ok := p.held[ev.Fd]; ok {
				c.Close()
				delete(p.held, ev.Fd)
				p.e.fail(ctx, fmt.Errorf("idle connection closed by the server: %w", syscall.ECONNRESET))
			}
		}
		p.mu.Unlock()
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}
