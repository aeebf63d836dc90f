package servers

import (
	"context"
	"time"
)

// Server is what every model is: something that serves a Site on a
// listening socket until it is shut down.
type Server interface {
	// Serve accepts and serves connections until Shutdown is called. It
	// returns nil after a clean shutdown, or the error that stopped it.
	Serve() error
	// Shutdown stops accepting, lets the responses under way finish until
	// ctx is done, then closes every connection. Idle keep-alive
	// connections are closed at once.
	Shutdown(ctx context.Context) error
	// Addr is the address actually listened on ("127.0.0.1:PORT"), known
	// as soon as the server is made, before Serve.
	Addr() string
}

// Config is what a model is built from. The same Config makes any model, so
// that tests, benchmarks and the dashboard can swap one for another.
type Config struct {
	// Addr is where to listen, "127.0.0.1:0" for a free port.
	Addr  string
	Site  *Site
	Stats *Stats
	Limits

	// Model-specific knobs. A model ignores the ones that are not its own.

	// OSThreads makes the threaded model lock each connection's goroutine
	// to its own OS thread and use blocking system calls (Apache's model).
	OSThreads bool
	// Loops is the number of event loops (evloop), each with its own
	// epoll instance and SO_REUSEPORT socket. 0 means 1.
	Loops int
	// Poller chooses evloop's readiness API: "epoll" (default) or "poll".
	Poller string
	// DiskWorkers hands evloop's file reads to that many worker threads
	// (0: the loop reads files itself, and a slow disk stalls it).
	DiskWorkers int
	// NoSendfile makes the models copy file data through user space with
	// pread and write instead of sendfile(2).
	NoSendfile bool
}

// Limits are the protections against slow, idle and greedy clients. A zero
// duration or count means "no limit".
type Limits struct {
	// HeaderTimeout bounds the time to receive a whole request head,
	// from its first byte.
	HeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends nothing.
	IdleTimeout time.Duration
	// WriteTimeout ends a connection whose writes make no progress.
	WriteTimeout time.Duration
	// MaxConns caps the connections open at once; past it new ones are
	// accepted and closed at once, and counted as refused.
	MaxConns int
}

// UseSendfile reports whether file bodies go out with sendfile(2). A
// simulated slow disk turns it off, because the delay lives in File.ReadAt
// and sendfile would skip it.
func (c *Config) UseSendfile() bool {
	return !c.NoSendfile && c.Site.DiskDelay() == 0
}

// ReadDeadline is when a connection's next read must give up (zero: never).
// The rules, shared by every model so that they protect alike:
//   - an idle connection, waiting for a request to begin, may wait
//     IdleTimeout from when it became idle (idleSince);
//   - a request head must be complete HeaderTimeout after it began
//     (headStart). On a new connection (fresh) it begins at accept, so that
//     a client that connects and says nothing is a slow request, not an
//     idle keep-alive connection.
func (l *Limits) ReadDeadline(idle, fresh bool, idleSince, headStart time.Time) time.Time {
	var deadline time.Time
	if idle && l.IdleTimeout > 0 {
		deadline = idleSince.Add(l.IdleTimeout)
	}
	if (!idle || fresh) && l.HeaderTimeout > 0 {
		if h := headStart.Add(l.HeaderTimeout); deadline.IsZero() || h.Before(deadline) {
			deadline = h
		}
	}
	return deadline
}
