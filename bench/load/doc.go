// Package load generates HTTP/1.1 load over loopback TCP and measures it:
// clients of several behaviours (keep-alive, churning, open-loop, slow
// senders, slow readers, idle holders), the schedules of the open loop,
// and the meters that turn what they see into intervals and summaries.
//
// What a student should learn here: how to measure a server honestly. The
// client is cheap (no net/http on the hot path; one buffer per connection,
// nothing allocated per request), so its own cost does not pollute the
// numbers. Latency goes into HDR histograms, which keep the tail (p99.9,
// max) as precise as the median. An open-loop client measures latency from
// when each request was DUE, not when it was sent, so a server that stalls
// cannot hide the stall by slowing its clients down ("coordinated
// omission", see open.go). And the load knows nothing of the servers'
// code: it speaks HTTP to an address, and reads the server's numbers from
// /proc and from its control channel (package proc), so it can load nginx
// as well as the project's models.
//
// # Files
//
//	client.go      the raw HTTP/1.1 client; checks status, Content-Length
//	               and byte count of every answer; errors.go sorts
//	               failures into kinds
//	env.go         what a load's clients share; crews of clients that
//	               grow and shrink while running; their pause after a
//	               failure
//	closed.go      keep-alive clients in a closed loop, one epoll loop
//	               per load CPU (what wrk does); epoll.go their epoll set
//	open.go        the open loop on a schedule (what wrk2 does); schedule.go
//	churn.go       a new connection per request
//	slowloris.go   slow senders, a byte at a time
//	slowreader.go  slow readers of a big file
//	idle.go        idle connections held in one epoll set (C10K)
//	meter.go       HDR histograms and counters, swapped each interval
//	mix.go         Target and Mix: what to load, and with what
//	load.go        Load: a live mix of clients on one target, with knobs
//	interval.go    Interval, Summary and Totals: what a load reports
//
// # Use
//
// Drive load at a target, and turn its knobs while it runs:
//
//	srv, err := proc.Start(ctx, proc.Spec{Model: "threaded"})
//	l, err := load.Start(load.TargetOf(srv), load.Mix{Clients: 10}, load.Options{
//		Interval:   250 * time.Millisecond,
//		OnInterval: onInterval, // from the sampler: must return quickly
//	})
//	m := l.Mix()
//	m.Clients += 10               // keep-alive clients
//	m.Rate = load.Constant(2000)  // open loop, requests/s (nil: off)
//	m.Slowloris++                 // slow senders
//	m.Idle = 1000                 // idle connections
//	l.Set(m)                      // applied at once: clients added or stopped
//	l.Pause(); l.Resume()
//	l.Summary()                   // the run so far
//	l.Stop()                      // stops every client; returns the Summary
//
// Several targets at once are several Loads, one per target, each with its
// own Set; "one server at a time" is Pause on all but one. Every Load
// method is safe from any goroutine, and none but Stop waits for the
// clients. A Load does not watch the server process: select on srv.Done()
// to learn of a crash, then Stop the load.
//
// An Interval (every 250 ms by default, per target) holds: Requests, RPS,
// Bytes and BytesPerSec; Latency (from due) and Uncorrected (from sent), each
// with P50, P90, P99, P999, Max; Errors by kind (refused, reset, timeout,
// bad_status, short_body, bad_response, other); InFlight and Conns as the
// client sees them; Backlog and TargetRate of the open loop; Proc, the
// server's /proc sample (RSS, Threads, CPU time, FDs) with CPUPercent; and
// Server, the server's own servers.Snapshot (nil when the target has no
// control channel). Latency counts answered requests only: a request that
// failed (a timeout, say) is counted in Errors and has no latency. Slow
// clients, slow readers and idle connections are not timed; their bytes
// and errors count.
//
// Before a big Mix, call proc.RaiseFDLimit(mix.FDs()): every connection is
// a descriptor in this process, and ten thousand idle connections on each
// of three servers at once need 30,000 of them.
package load
