package conformance

import (
	"time"

	"serverlab/blocking"
	"serverlab/evloop"
	"serverlab/servers"
	"serverlab/threaded"
)

// variants are the servers the suite runs: every model, and the event loop
// under each of its flags (issue 6: correctness never trades for speed).
// Every model also runs once without sendfile(2), because the pread+write
// path that replaces it is a different piece of code in each.
var variants = []variant{
	{name: "blocking", new: blocking.New, serial: true},
	{name: "blocking-nosendfile", new: blocking.New, serial: true,
		tune: func(c *servers.Config) { c.NoSendfile = true }},
	{name: "threaded", new: threaded.New, limits: protected},
	{name: "threaded-nosendfile", new: threaded.New, limits: protected,
		tune: func(c *servers.Config) { c.NoSendfile = true }},
	{name: "threaded-osthreads", new: threaded.New, limits: protected,
		tune: func(c *servers.Config) { c.OSThreads = true }},
	{name: "evloop", new: evloop.New, limits: protected},
	{name: "evloop-loops2", new: evloop.New, limits: protected,
		tune: func(c *servers.Config) { c.Loops = 2 }},
	{name: "evloop-poll", new: evloop.New, limits: protected,
		tune: func(c *servers.Config) { c.Poller = "poll" }},
	{name: "evloop-diskworkers4", new: evloop.New, limits: protected, diskDelay: diskDelay,
		tune: func(c *servers.Config) { c.DiskWorkers = 4 }},
	{name: "evloop-nosendfile", new: evloop.New, limits: protected,
		tune: func(c *servers.Config) { c.NoSendfile = true }},
}

// variant is one server to run the suite against: a model and its flags.
type variant struct {
	name string
	new  func(servers.Config) (servers.Server, error)
	// tune sets the model's own flags on the Config.
	tune func(*servers.Config)
	// limits are the protections the model runs with.
	limits servers.Limits
	// diskDelay simulates a slow disk (and so turns sendfile off).
	diskDelay time.Duration
	// serial marks a model that serves one connection at a time, which
	// cannot hold an idle connection while it serves another.
	serial bool
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
