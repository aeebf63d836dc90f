package conformance

import (
	"time"

	"serverlab/blocking"
	"serverlab/evloop"
	"serverlab/servers"
	"serverlab/threaded"
	"serverlab/uring"
)

// variants are the servers the suite runs: every model, and the event loop
// under each of its flags (issue 6: correctness never trades for speed).
// Every model also runs once without sendfile(2), because the pread+write
// path that replaces it is a different piece of code in each, and once with
// the small-file cache off, because its answers must be byte for byte the
// ones the cache gives (every other variant runs with it on).
var variants = []variant{
	{name: "blocking", new: blockingWith(blocking.Options{}), serial: true, closes: true},
	{name: "blocking-keepalive", new: blockingWith(blocking.Options{KeepAlive: true}), serial: true},
	{name: "blocking-keepalive-nosendfile", new: blockingWith(blocking.Options{KeepAlive: true}), serial: true,
		tune: noSendfile},
	{name: "threaded", new: threadedWith(threaded.Options{}), limits: protected},
	{name: "threaded-nosendfile", new: threadedWith(threaded.Options{}), limits: protected, tune: noSendfile},
	{name: "threaded-osthreads", new: threadedWith(threaded.Options{OSThreads: true}), limits: protected},
	{name: "evloop", new: evloopWith(evloop.Options{}), limits: protected},
	{name: "evloop-loops2", new: evloopWith(evloop.Options{Loops: 2}), limits: protected},
	{name: "evloop-poll", new: evloopWith(evloop.Options{Poller: "poll"}), limits: protected},
	{name: "evloop-diskworkers4", new: evloopWith(evloop.Options{DiskWorkers: 4}), limits: protected, diskDelay: diskDelay},
	{name: "evloop-nosendfile", new: evloopWith(evloop.Options{}), limits: protected, tune: noSendfile},
	{name: "blocking-nocache", new: blockingWith(blocking.Options{}), serial: true, closes: true, noCache: true},
	{name: "blocking-keepalive-nocache", new: blockingWith(blocking.Options{KeepAlive: true}), serial: true, noCache: true},
	{name: "threaded-nocache", new: threadedWith(threaded.Options{}), limits: protected, noCache: true},
	{name: "evloop-nocache", new: evloopWith(evloop.Options{}), limits: protected, noCache: true},
	// io_uring never uses sendfile(2): its file reads go through the ring.
	// The slow-disk variant waits each read's delay inside the ring; the
	// own-buffers one receives without provided buffers.
	{name: "uring", new: uringWith(uring.Options{}), limits: protected},
	{name: "uring-slowdisk", new: uringWith(uring.Options{}), limits: protected, diskDelay: diskDelay},
	{name: "uring-ownbuffers", new: uringWith(uring.Options{OwnBuffers: true}), limits: protected},
	{name: "uring-nocache", new: uringWith(uring.Options{}), limits: protected, noCache: true},
}

// The constructors, each model with its own options.
func blockingWith(o blocking.Options) func(servers.Config) (servers.Server, error) {
	return func(c servers.Config) (servers.Server, error) { return blocking.New(c, o) }
}

func threadedWith(o threaded.Options) func(servers.Config) (servers.Server, error) {
	return func(c servers.Config) (servers.Server, error) { return threaded.New(c, o) }
}

func evloopWith(o evloop.Options) func(servers.Config) (servers.Server, error) {
	return func(c servers.Config) (servers.Server, error) { return evloop.New(c, o) }
}

func uringWith(o uring.Options) func(servers.Config) (servers.Server, error) {
	return func(c servers.Config) (servers.Server, error) { return uring.New(c, o) }
}

func noSendfile(c *servers.Config) { c.NoSendfile = true }

// variant is one server to run the suite against: a model and its flags.
type variant struct {
	name string
	new  func(servers.Config) (servers.Server, error)
	// tune sets the model's own flags on the Config.
	tune func(*servers.Config)
	// limits are the protections the model runs with.
	limits servers.Limits
	// diskDelay simulates a slow disk (and so turns sendfile and the
	// small-file cache off).
	diskDelay time.Duration
	// noCache turns the small-file cache off.
	noCache bool
	// serial marks a model that serves one connection at a time, which
	// cannot hold an idle connection while it serves another.
	serial bool
	// closes marks a model that ends every connection after one answer
	// (blocking's default: "Connection: close" on every response).
	closes bool
}

// protected are the limits `serverlab serve` gives the threaded and evloop
// models by default. None of them fires in the suite (every exchange takes
// milliseconds), but they make the models arm and cancel their timers on
// every request, which is the path that must not break a normal exchange.
var protected = servers.Limits{
	HeaderTimeout: 10 * time.Second,
	IdleTimeout:   60 * time.Second,
	WriteTimeout:  30 * time.Second,
}

// diskDelay is the simulated disk latency of the disk-workers variant. It
// makes every file read slow, as the workers exist to hide, and turns
// sendfile off so that every byte goes through them; 1 ms keeps the suite's
// large downloads, read in chunks, to seconds rather than minutes.
const diskDelay = time.Millisecond
