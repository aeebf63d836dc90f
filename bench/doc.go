// Package bench is serverlab's load generator and headless benchmark: it
// starts servers, drives HTTP/1.1 load at them over loopback TCP, measures
// what happens, and writes tables, JSON, CSV and figures.
//
// What a student should learn here: how to measure a server honestly. The
// client is cheap (no net/http on the hot path; one buffer per connection,
// nothing allocated per request), so its own cost does not pollute the
// numbers. Latency goes into HDR histograms, which keep the tail (p99.9,
// max) as precise as the median. An open-loop client measures latency from
// when each request was DUE, not when it was sent, so a server that stalls
// cannot hide the stall by slowing its clients down ("coordinated
// omission", see open.go). The server and the load run on separate cores.
// And bench knows nothing of the servers' code: it speaks HTTP to an
// address, and reads the server's numbers from /proc and from a small
// control channel, so it can load nginx as well as the project's models.
//
// # Files
//
//	client.go      the raw HTTP/1.1 client (Conn, Request); checks status,
//	               Content-Length and byte count of every answer;
//	               errors.go sorts failures into kinds
//	env.go         what a load's clients share; crews of clients that
//	               grow and shrink while running
//	closed.go      keep-alive clients in a closed loop, one epoll loop
//	               per load CPU (what wrk does)
//	open.go        the open loop on a schedule (what wrk2 does); schedule.go
//	churn.go       a new connection per request
//	slowloris.go   slow senders, a byte at a time
//	slowreader.go  slow readers of a big file
//	idle.go        idle connections held in one epoll set (C10K)
//	meter.go       HDR histograms and counters, swapped each interval
//	load.go        Load: a live mix of clients on one target, with knobs
//	server.go      starting the models (or any command) as child processes
//	proc.go        /proc sampling of any PID; pin.go CPU pinning;
//	               rlimit.go the open-file limit
//	scenario.go    the named scenarios and what each shows
//	target.go      parsing -targets (models, URLs; loopback only)
//	run.go         Run: a scenario on each target in turn -> Report
//	report.go      table, markdown, JSON and CSV; plot.go SVG figures
//	cli.go         `serverlab bench` (Main)
//
// # Live use (the dashboard)
//
// Start the servers, one process each:
//
//	srv, err := bench.StartServer(ctx, bench.ServerSpec{
//		Model: "threaded",       // blocking | threaded | evloop
//		Args:  []string{"-disk-delay", "5ms"}, // any serve flags
//		CPUs:  serverCPUs,       // from bench.DefaultPinning(); nil: unpinned
//	})
//	srv.Addr()              // "127.0.0.1:PORT" (a free port by default)
//	srv.Stats()             // servers.Snapshot over the control channel
//	srv.Done()              // closed when the process exits
//	srv.Crashed()           // exited by itself? when, and its last stderr line
//	srv.Stop(5*time.Second) // SIGTERM, grace, then SIGKILL
//
// Other servers: bench.StartCommand(ctx, argv, addr, cpus) runs any command
// (nginx with "daemon off;") and waits for addr; or build a Target by hand
// with its Addr and, to sample /proc, its PID.
//
// Drive load at each target with a Load, and turn its knobs while it runs:
//
//	load, err := bench.Start(srv.Target(), sc.ForDuration(time.Minute), bench.Options{
//		Interval:   250 * time.Millisecond,
//		OnInterval: bench.SendTo(ch), // never blocks; drops when ch is full
//	})
//	m := load.Mix()
//	m.Clients += 10       // keep-alive clients
//	m.Rate = bench.Constant(2000) // open loop, requests/s (nil: off)
//	m.Slowloris++         // slow senders
//	m.Idle = 1000         // idle connections
//	load.Set(m)           // applied at once: clients added or stopped
//	load.Pause(); load.Resume()
//	load.Latest()         // the last Interval, for a render tick
//	load.Summary()        // the run so far; load.ResetTotals() restarts it
//	load.Stop()           // stops every client; returns the Summary
//
// Several targets at once are several Loads, one per target, each with its
// own Set; "one server at a time" is Pause on all but one. Every Load
// method is safe from any goroutine, and none but Stop waits for the
// clients. A Load does not watch the server process: select on srv.Done()
// to learn of a crash, then Stop the load (restart is StartServer again
// and a new Load).
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
// The scenarios (Scenarios, ScenarioByName) carry their Mix, the serve
// flags the models need (ServerArgs, e.g. slow-disk's -disk-delay), an
// About paragraph and a one-line Watch for a lesson line. Before a big
// Mix, call RaiseFDLimit(mix.FDs()): it raises the soft RLIMIT_NOFILE to
// the hard limit and returns a one-line error if that is not enough. The
// hard limit counts per process, so ten thousand idle connections on each
// of three servers at once need 30,000 descriptors in the one process that
// holds the clients.
//
// # Batch use
//
// Run(ctx, Plan) starts the targets, runs the scenario on each in turn
// (interleaved when Rounds > 1), stops them and returns a Report, which
// writes itself with WriteTable, WriteMarkdown, WriteJSON, WriteCSV and
// WritePlots. Main is the command line, `serverlab bench -h`.
//
// # JSON output (serverlab bench -json)
//
// One object. Latencies are integer microseconds; "uncorrected" holds the
// same five fields measured from when each request was sent rather than
// due (they differ only for open-loop scenarios). Ratios are to the first
// target (0 when the first has no value).
//
//	{
//	  "scenario": "crowd",                 // "" for a plain closed loop
//	  "about": "A hundred clients ...",
//	  "duration_ms": 10000,                // per target per round
//	  "interval_ms": 250,
//	  "rounds": 1,
//	  "started": "2025-01-01T12:00:00Z",
//	  "server_cpus": [0], "load_cpus": [1],  // [] when not pinned
//	  "targets": [{
//	    "target": "threaded",              // as given in -targets
//	    "kind": "model",                   // model | url | command
//	    "url": "http://127.0.0.1:41234/1k.bin",
//	    "requests": 412345,                // correct answers, all rounds
//	    "errors": 0,
//	    "errors_by_kind": {"refused": 0, "reset": 0, "timeout": 0,
//	        "bad_status": 0, "short_body": 0, "bad_response": 0, "other": 0},
//	    "rps": 41234.5, "bytes_per_sec": 51234567.0,
//	    "p50_us": 1200, "p90_us": 2100, "p99_us": 3900, "p999_us": 8100, "max_us": 15000,
//	    "uncorrected": {"p50_us": ..., "p90_us": ..., "p99_us": ..., "p999_us": ..., "max_us": ...},
//	    "peak_rss_bytes": 12345678,        // server process, from /proc (0: unknown)
//	    "peak_threads": 5,
//	    "peak_conns": 100,                 // connections the client held open
//	    "peak_fds": 112,                   // server's open descriptors
//	    "peak_server_open": 100,           // server's own count (0: no stats)
//	    "peak_in_flight": 100,
//	    "peak_backlog": 0,                 // open loop: due but not yet sent
//	    "server_cpu_ms": 9876,
//	    "ratio_rps": 1.0, "ratio_p99": 1.0,
//	    "crashed": false,                  // if true: crash_round, crash_at_ms, crash_msg
//	    "intervals": [{
//	      "round": 1, "t_ms": 250, "len_ms": 250.1,  // t_ms: end, from the run's start
//	      "requests": 10234, "rps": 40920.1, "bytes_per_sec": 50123456.0,
//	      "errors": 0, "errors_by_kind": {...},
//	      "p50_us": ..., "p90_us": ..., "p99_us": ..., "p999_us": ..., "max_us": ...,
//	      "uncorrected": {...},
//	      "in_flight": 100, "conns": 100, "backlog": 0, "target_rps": 0,
//	      "rss_bytes": 12345678, "threads": 5, "fds": 112, "cpu_percent": 99.5,
//	      "server": {"model": "threaded", "open": 100, ...}  // servers.Snapshot, or null
//	    }]
//	  }]
//	}
//
// The CSV (-csv) has the same numbers, one row per interval ("interval")
// and one per target for the whole run ("summary"); its first line names
// the columns.
package bench
