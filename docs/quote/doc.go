// Package quote lets the docs quote measured numbers without typing them.
//
// A number a lesson states about a run ("threaded did 71,439 requests/s")
// is true of one run only; typed by hand, it goes on saying the same thing
// after the next `make bench` has measured something else. So the lessons,
// the README and the class plan never type one. They write a marker that
// names the value, and `make docs` fills the text between the marker and
// its end from the committed data:
//
//	threaded did <!-- m:crowd/threaded/rps sig=2 -->71,000<!-- /m --> requests/s
//
// An HTML comment is invisible where markdown is shown, so a reader sees
// "threaded did 71,000 requests/s", and a writer sees where it came from.
// The test in ./docs fills every page again in memory and fails when a
// committed page differs, so a stale number is a failing test, not a
// silent lie.
//
// # Keys
//
//	FILE/TARGET/METRIC   a measured value: docs/results/FILE.json
//	                     (crowd, or ex/crowd-1000 for an exercise's run),
//	                     the target named TARGET in it, and METRIC
//	SCENARIO/PARAM       a parameter of the scenario, from bench's own
//	                     definitions (crowd/clients, slow-client/slow_pace)
//	EXPR                 keys and numbers joined by + - * / and brackets:
//	                     (crowd/evloop/rps / crowd/blocking/rps)
//
// METRIC is one of the run's summary figures (rps, requests, errors,
// errors.timeout, p50, p90, p99, p999, max, uncorrected.p99, rss, threads,
// conns, fds, server_open, cpu_per_request, bytes_per_sec, duration), or a
// figure taken over the run's intervals, with an aggregate and a window:
// rps.min@2s-10s is the lowest interval rate after the second second. The
// interval figures are rps, target_rps (the open loop's schedule),
// bytes_per_sec, requests, errors, the latencies, in_flight, conns,
// server_open, rss, threads, fds, cpu (percent of a core) and
// cpu_per_request. The aggregates are mean, min, max, median, p10 and p90
// (the range nine intervals in ten fell in), first and last; each figure has a natural default (rates and CPU: mean;
// latencies and CPU per request: median; memory, threads and
// connections: max).
//
// # Formats
//
// After the key, space-separated options: sig=N rounds to N significant
// digits ("about 71,000"); unit=ms (µs, s, KiB, MiB, GiB) fixes a unit;
// x prints a ratio with one decimal; pct prints a percentage. A value's
// kind (a rate, a duration, a size, a count, a ratio) picks its default
// format and follows arithmetic: a count over a rate is a duration
// (Little's law), a size over a count a size, a value over one of its own
// kind a ratio.
//
// # Claims
//
// A sentence that compares ("evloop did the most", "about seven times",
// "falls to nearly nothing") carries its comparison beside it, in a
// marker that shows nothing:
//
//	evloop did the most <!-- check: crowd/evloop/rps > crowd/threaded/rps -->
//
// Either side is an expression as above; the operator is <, >, <= or >=.
// When a new run stops agreeing, the test fails at that sentence, and the
// writer rewrites it instead of leaving it to mislead.
//
// # The rule for prose
//
// Outside a marker, prose may not state a measured quantity: a number
// written in digits followed by a unit of measure (requests/s, req/s,
// ms, µs, s, seconds, KiB, MiB, GiB, MB, bytes, threads, connections,
// clients, timeouts, errors, %, times...). Scenario parameters are
// quantities too ("20 clients"), and come from markers. What is exempt,
// because it is not prose: code (fenced or indented blocks, which hold
// commands and captured screens, and inline code such as `-duration 5s`),
// link targets, headings' anchors and HTML comments. A constant of the
// code belongs in inline code with its name (`DefaultMaxOSThreads`), not
// in a typed number with a unit. Numbers written as words ("a hundred
// clients", "about a second") are allowed: they are the prose's own
// rounding, and the lessons use them for orders of magnitude only.
package quote
