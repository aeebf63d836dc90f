package servers

import (
	"context"
	"time"

	"serverlab/trace"
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

// Config is what every model is built from: the same Config makes any of
// them, so that tests, benchmarks and the dashboard can swap one for
// another. What only one model has (its number of loops, its threads) is
// in that model's own Options.
type Config struct {
	// Addr is where to listen, "127.0.0.1:0" for a free port.
	Addr  string
	Site  *Site
	Stats *Stats
	// Trace, if not nil, is told every step the model takes (serve
	// -trace-fd): nil makes each of the model's hooks return at once.
	Trace *trace.Tracer
	Limits

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
