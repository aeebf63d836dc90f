// Package report writes out what a benchmark measured: a comparison table
// for people (text or markdown), JSON and CSV with every interval for other
// tools, and SVG figures (with gonum/plot) for the docs.
//
// What a student should learn here: which numbers to put side by side. A
// table gives each target's rate beside its tail latency (p99, p99.9, max,
// not only the median) and its server's peak memory and threads, and the
// ratio of each to the first target, because a ratio measured in one run
// is what survives a change of machine. Latency counts answered requests
// only; failures are counted by kind, never averaged in.
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
package report
