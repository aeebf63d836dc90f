package load

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"serverlab/bench/proc"
	"serverlab/servers"
)

// Interval is one snapshot of a load: what happened in [Start, End). It is
// a plain value, safe to keep and pass between goroutines.
type Interval struct {
	Target     string
	Start, End time.Time
	Elapsed    time.Duration // since the load started, at End
	Length     time.Duration // End - Start

	Requests    int64 // answered correctly in the interval
	Bytes       int64 // received, heads and bodies, all clients
	RPS         float64
	BytesPerSec float64

	// Latency is measured from when each request was due (if a client
	// was free and sent it on time, from when it was sent); Uncorrected
	// always from when it was sent. They differ only for the open loop,
	// and only when requests had to wait for a connection.
	Latency     Latency
	Uncorrected Latency
	Errors      Errors

	InFlight int64 // requests sent and not answered, at End
	Conns    int64 // connections open, at End, as the client sees them
	// Backlog is how many open-loop requests were due by End but not yet
	// sent; TargetRate is the open loop's rate at End. Both 0 without
	// an open loop.
	Backlog    int64
	TargetRate float64
	Paused     bool

	// Proc is the server process's /proc sample at End (nil if the target
	// has no PID or it could not be read), CPUPercent its CPU use over
	// the interval (100 = one core).
	Proc       *proc.Sample
	CPUPercent float64
	// Server is the server's own counters at End (nil if unavailable).
	Server *servers.Snapshot
}

// Summary is a whole run on one target.
type Summary struct {
	Target string
	// Active is the time the load was running (not paused).
	Active      time.Duration
	Requests    int64
	Bytes       int64
	RPS         float64
	BytesPerSec float64
	Latency     Latency // from due
	Uncorrected Latency // from sent
	Errors      Errors

	PeakConns    int64 // client side
	PeakInFlight int64
	PeakBacklog  int64
	// Server side, 0 when unknown.
	PeakRSS        int64
	PeakThreads    int
	PeakFDs        int
	PeakServerOpen int64
	CPU            time.Duration // CPU the server used during the run
}

// Totals accumulates the intervals of a run, and merges runs: unlike
// Summaries, whose percentiles cannot be averaged, Totals keep the whole
// histograms, so the p99 of three rounds is the p99 of all their requests.
type Totals struct {
	lat, raw  *hdrhistogram.Histogram
	s         Summary
	firstProc *proc.Sample // the baseline for CPU used
	lastProc  *proc.Sample
}

// NewTotals is an empty run, to Merge runs into.
func NewTotals() *Totals { return newTotals(nil) }

func newTotals(base *proc.Sample) *Totals {
	return &Totals{lat: newHist(), raw: newHist(), firstProc: base, lastProc: base}
}

func (t *Totals) clone() *Totals {
	c := *t
	c.lat, c.raw = newHist(), newHist()
	c.lat.Merge(t.lat)
	c.raw.Merge(t.raw)
	return &c
}

func (t *Totals) add(w *window, iv *Interval) {
	t.lat.Merge(w.lat)
	t.raw.Merge(w.raw)
	one := Summary{
		Requests: w.requests, Bytes: w.bytes, Errors: w.errors,
		PeakConns: iv.Conns, PeakInFlight: iv.InFlight, PeakBacklog: iv.Backlog,
	}
	if !iv.Paused {
		one.Active = iv.Length
	}
	if p := iv.Proc; p != nil {
		one.PeakRSS, one.PeakThreads, one.PeakFDs = p.RSS, p.Threads, p.FDs
		if t.firstProc == nil {
			t.firstProc = p
		}
		t.lastProc = p
		// CPU time is a running total in /proc: the run used what it
		// grew by since the first sample.
		t.s.CPU = p.CPU - t.firstProc.CPU
	}
	if sv := iv.Server; sv != nil {
		one.PeakServerOpen = sv.Open
	}
	t.s.include(one)
}

// Summary is the run (or runs) as one Summary, labelled name.
func (t *Totals) Summary(name string) Summary {
	s := t.s
	s.Target = name
	s.Latency = latencyOf(t.lat)
	s.Uncorrected = latencyOf(t.raw)
	if sec := s.Active.Seconds(); sec > 0 {
		s.RPS = float64(s.Requests) / sec
		s.BytesPerSec = float64(s.Bytes) / sec
	}
	return s
}

// Merge adds another run's totals (another round on the same target).
func (t *Totals) Merge(o *Totals) {
	t.lat.Merge(o.lat)
	t.raw.Merge(o.raw)
	t.s.include(o.s)
	t.s.CPU += o.s.CPU
}

// include adds b's counts to s and keeps the higher of each peak; the
// latencies and rates are not additive, and Totals computes them from the
// histograms.
func (s *Summary) include(b Summary) {
	s.Active += b.Active
	s.Requests += b.Requests
	s.Bytes += b.Bytes
	for k, v := range b.Errors {
		s.Errors[k] += v
	}
	s.PeakConns = max(s.PeakConns, b.PeakConns)
	s.PeakInFlight = max(s.PeakInFlight, b.PeakInFlight)
	s.PeakBacklog = max(s.PeakBacklog, b.PeakBacklog)
	s.PeakRSS = max(s.PeakRSS, b.PeakRSS)
	s.PeakThreads = max(s.PeakThreads, b.PeakThreads)
	s.PeakFDs = max(s.PeakFDs, b.PeakFDs)
	s.PeakServerOpen = max(s.PeakServerOpen, b.PeakServerOpen)
}

// String is a one-line digest, for progress lines and logs.
func (s Summary) String() string {
	return fmt.Sprintf("%s: %.0f req/s, p50 %v, p99 %v, max %v, errors %s",
		s.Target, s.RPS, s.Latency.P50, s.Latency.P99, s.Latency.Max, s.Errors)
}
