//go:build !conformance_ref

package conformance

import (
	"serverlab/blocking"
	"serverlab/evloop"
	"serverlab/servers"
	"serverlab/threaded"
)

// variants are the servers the suite runs: every model, and the event loop
// under each of its flags (issue 6: correctness never trades for speed).
var variants = []variant{
	{name: "blocking", new: blocking.New, serial: true},
	{name: "threaded", new: threaded.New, limits: protected},
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
