package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"serverlab/servers"
)

// Target is a server to load: an address, and optionally where to read its
// own numbers. bench knows nothing of a server's code; this is all it needs.
type Target struct {
	// Name labels the target in reports: "threaded", or the URL.
	Name string
	// Addr is the loopback address to connect to, "127.0.0.1:PORT".
	Addr string
	// Path is the default request path when a Mix names none.
	Path string
	// PID, if not 0, is the server process to sample from /proc each
	// interval; with Tree, its child processes are added in.
	PID  int
	Tree bool
	// Stats, if set, fetches the server's own counters each interval
	// (Server.Stats does, for the project's models).
	Stats func() (servers.Snapshot, error)
}

// Mix is the load put on one target: how many clients of each behaviour,
// and how they behave. Its fields are the dashboard's knobs; change one and
// call Load.Set. Zero values mean "none" for counts and a sensible default
// for everything else.
type Mix struct {
	// Path is what the timed clients (keep-alive, churn, open loop)
	// fetch. Default: the target's Path, else "/1k.bin".
	Path string

	// Clients keep-alive connections in a closed loop (closed.go),
	// pausing Think between an answer and their next request.
	Clients int
	Think   time.Duration

	// Churn clients open a connection per request (churn.go).
	Churn int

	// Rate, if set, runs an open loop (open.go) on that schedule over at
	// most OpenConns connections (default 64).
	Rate      Schedule
	OpenConns int

	// Slowloris clients send their requests a byte every SlowPace
	// (default 10 ms, so about a second a request) (slowloris.go).
	Slowloris int
	SlowPace  time.Duration

	// SlowReaders fetch SlowReadPath (default "/1m.bin") at SlowReadRate
	// bytes/s (default 1 MiB/s, so about a second a file) (slowreader.go).
	SlowReaders  int
	SlowReadPath string
	SlowReadRate int

	// SlowStart delays slow clients and slow readers by that long after
	// they are added, so that figures show the time before they arrive.
	SlowStart time.Duration

	// Idle connections make one request for IdlePath (default
	// "/hello.txt") and then sit silent (idle.go).
	Idle     int
	IdlePath string
}

// withDefaults fills in the zero fields that have a default.
func (m Mix) withDefaults(t Target) Mix {
	if m.Path == "" {
		m.Path = t.Path
	}
	if m.Path == "" {
		m.Path = "/1k.bin"
	}
	if m.OpenConns <= 0 {
		m.OpenConns = 64
	}
	if m.SlowPace <= 0 {
		m.SlowPace = 10 * time.Millisecond
	}
	if m.SlowReadPath == "" {
		m.SlowReadPath = "/1m.bin"
	}
	if m.SlowReadRate <= 0 {
		m.SlowReadRate = 1 << 20
	}
	if m.IdlePath == "" {
		m.IdlePath = "/hello.txt"
	}
	return m
}

// Conns is the most connections the mix can hold open at once.
func (m Mix) Conns() int {
	n := m.Clients + m.Churn + m.Slowloris + m.SlowReaders + m.Idle
	if m.Rate != nil {
		n += max(m.OpenConns, 0)
		if m.OpenConns <= 0 {
			n += 64
		}
	}
	return n
}

// FDs is how many file descriptors a process needs to run the mix: one per
// connection, plus room for the runtime, /proc reads and the like.
func (m Mix) FDs() int { return m.Conns() + 64 }

func (m Mix) validate() error {
	if m.Clients < 0 || m.Churn < 0 || m.Slowloris < 0 || m.SlowReaders < 0 || m.Idle < 0 {
		return errors.New("mix: client counts cannot be negative")
	}
	if m.Rate != nil {
		return validSchedule(m.Rate)
	}
	return nil
}

// Options are the settings of a Load that do not change while it runs.
type Options struct {
	// Interval between snapshots; default 250 ms.
	Interval time.Duration
	// Timeout bounds each request (and each connect); default 2 s, as
	// wrk's. A request that takes longer counts as a timeout error.
	Timeout time.Duration
	// OnInterval, if set, is called with every interval snapshot, in
	// order, from the load's sampling goroutine. It must return quickly
	// (hand the value to a buffered channel with a non-blocking send, for
	// instance): while it runs, the next interval is not being read.
	OnInterval func(Interval)
}

// SendTo makes an Options.OnInterval that hands each interval to ch
// without ever blocking the sampler: when ch is full (its reader is busy
// drawing, say), the interval is dropped, and the next comes soon after.
// Summary still counts every request.
func SendTo(ch chan<- Interval) func(Interval) {
	return func(iv Interval) {
		select {
		case ch <- iv:
		default:
		}
	}
}

// Load is a live load on one target: clients of every behaviour in a Mix,
// a meter they record into, and a sampler that turns the meter into one
// Interval per Options.Interval. Its methods are safe to call from any
// goroutine, while it runs.
type Load struct {
	target Target
	opt    Options
	meter  *meter
	env    *env
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards the mix and the clients running it.
	mu      sync.Mutex
	mix     Mix
	paused  bool
	closed  closedCrew // keep-alive clients
	churn   crew
	open    crew // open-loop connections, all on line
	slow    crew // slowloris clients
	readers crew // slow readers
	idle    *idlePool
	line    atomic.Pointer[timeline] // the open loop's, nil when off

	sampled sync.Mutex // guards totals and latest
	totals  totals
	latest  Interval

	// The sampler goroutine's own.
	spare    *window     // the next window for the meter
	prevProc *ProcSample // the last /proc sample, for CPU% and totals

	started time.Time
	quit    chan struct{} // closed by Stop: take the last interval now
	done    chan struct{} // closed when the sampler has stopped
	stopped Summary
	once    sync.Once
}

// Start begins loading t with m. It returns an error only for a mix that
// makes no sense or when the clients cannot get an epoll set; failures
// of the server show up as errors in the intervals, not here.
func Start(t Target, m Mix, opt Options) (*Load, error) {
	if opt.Interval <= 0 {
		opt.Interval = 250 * time.Millisecond
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Second
	}
	if t.Name == "" {
		t.Name = t.Addr
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	l := &Load{target: t, opt: opt, meter: newMeter(), spare: newWindow(), quit: make(chan struct{}), done: make(chan struct{})}
	l.env = newEnv(t.Addr, l.meter, opt.Timeout)
	l.ctx, l.cancel = context.WithCancel(context.Background())
	idle, err := newIdlePool(l.ctx, l.env, "")
	if err != nil {
		l.cancel()
		return nil, err
	}
	l.idle = idle
	if err := l.closed.start(l.ctx, l.env); err != nil {
		l.cancel()
		idle.wait()
		return nil, err
	}
	if t.PID > 0 {
		// A first sample, so CPU use is measured from the start.
		if ps, err := SampleProc(t.PID, t.Tree); err == nil {
			l.prevProc = &ps
		}
	}
	l.totals = newTotals(l.prevProc)
	l.started = time.Now()
	l.apply(m)
	go l.sample()
	return l, nil
}

// Target is the target being loaded.
func (l *Load) Target() Target { return l.target }

// Mix is the mix now asked for (with defaults filled in).
func (l *Load) Mix() Mix {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mix
}

// Set changes the mix while the load runs: clients are added or stopped
// to match the new counts, and a changed rate starts a new timeline from
// now. While paused, the new mix is kept for Resume.
func (l *Load) Set(m Mix) error {
	if err := m.validate(); err != nil {
		return err
	}
	l.apply(m)
	return nil
}

// Pause stops every client (closing its connections); the sampler goes on,
// reporting empty intervals marked Paused.
func (l *Load) Pause() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paused = true
	l.applyLocked(Mix{})
}

// Resume restarts the mix that was running when Pause was called (or
// that Set has asked for since).
func (l *Load) Resume() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paused = false
	l.applyLocked(l.mix)
}

// Paused reports whether the load is paused.
func (l *Load) Paused() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.paused
}

func (l *Load) apply(m Mix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mix = m.withDefaults(l.target)
	if !l.paused {
		l.applyLocked(l.mix)
	}
}

// applyLocked makes the running clients match m (the zero Mix stops all).
func (l *Load) applyLocked(m Mix) {
	if l.ctx.Err() != nil {
		return
	}
	ctx, e := l.ctx, l.env
	l.closed.set(m.Path, m.Think, m.Clients)
	l.churn.set(ctx, e, churnClient{path: m.Path}, m.Churn)
	l.slow.set(ctx, e, slowloris{path: m.Path, pace: m.SlowPace, delay: m.SlowStart}, m.Slowloris)
	l.readers.set(ctx, e, slowReader{path: m.SlowReadPath, rate: m.SlowReadRate, delay: m.SlowStart}, m.SlowReaders)
	l.idle.setPath(m.IdlePath)
	l.idle.resize(m.Idle)

	// A new or changed schedule starts a fresh timeline from now; the
	// same one keeps its place, so resizing other crews does not reset it.
	old := l.line.Load()
	switch {
	case m.Rate == nil:
		l.line.Store(nil)
	case old == nil || old.sched.String() != m.Rate.String():
		l.line.Store(newTimeline(m.Rate))
	}
	conns := 0
	if m.Rate != nil {
		conns = m.OpenConns
	}
	l.open.set(ctx, e, openClient{path: m.Path, line: &l.line}, conns)
}

// Latest is the most recent interval, and false before the first.
func (l *Load) Latest() (Interval, bool) {
	l.sampled.Lock()
	defer l.sampled.Unlock()
	return l.latest, !l.latest.End.IsZero()
}

// Summary is the whole run so far (or since ResetTotals).
func (l *Load) Summary() Summary {
	l.sampled.Lock()
	defer l.sampled.Unlock()
	return l.totals.summary(l.target.Name)
}

// ResetTotals starts the run's totals (Summary) afresh, as the dashboard's
// "reset charts" key does; the clients are not disturbed.
func (l *Load) ResetTotals() {
	l.sampled.Lock()
	defer l.sampled.Unlock()
	l.totals = newTotals(l.totals.lastProc)
}

// Stop takes a last (short) interval, then stops every client and waits
// for them, and returns the summary of the run. The last interval is taken
// while the load still runs: tearing down ten thousand connections takes a
// while, and is not part of what was measured. Calling Stop again returns
// the same summary.
func (l *Load) Stop() Summary {
	l.once.Do(func() {
		close(l.quit)
		<-l.done
		l.mu.Lock()
		l.cancel()
		l.mu.Unlock()
		for _, c := range []*crew{&l.churn, &l.open, &l.slow, &l.readers} {
			c.wg.Wait()
		}
		l.closed.stop()
		l.idle.wait()
		l.stopped = l.Summary()
	})
	return l.stopped
}

// Done is closed once Stop has taken the last interval.
func (l *Load) Done() <-chan struct{} { return l.done }

// sample is the sampler goroutine: one Interval per tick until stopped,
// and a final one for the part of an interval left at the end.
func (l *Load) sample() {
	defer close(l.done)
	tick := time.NewTicker(l.opt.Interval)
	defer tick.Stop()
	last := l.started
	for {
		select {
		case <-l.quit:
			l.collect(last, time.Now())
			return
		case now := <-tick.C:
			l.collect(last, now)
			last = now
		}
	}
}

// collect turns the meter's window for [from, to) into an Interval.
func (l *Load) collect(from, to time.Time) {
	w := l.meter.swap(l.spare)
	length := to.Sub(from)
	iv := Interval{
		Target:      l.target.Name,
		Start:       from,
		End:         to,
		Elapsed:     to.Sub(l.started),
		Length:      length,
		Requests:    w.requests,
		Bytes:       w.bytes,
		Latency:     latencyOf(w.lat),
		Uncorrected: latencyOf(w.raw),
		Errors:      w.errors,
		InFlight:    l.meter.inFlight.Load(),
		Conns:       l.meter.conns.Load(),
		Paused:      l.Paused(),
	}
	if s := length.Seconds(); s > 0 {
		iv.RPS = float64(w.requests) / s
		iv.BytesPerSec = float64(w.bytes) / s
	}
	if tl := l.line.Load(); tl != nil {
		iv.Backlog = tl.backlog(to)
		iv.TargetRate = tl.sched.Rate(to.Sub(tl.start))
	}
	l.probe(&iv)

	l.sampled.Lock()
	l.totals.add(w, &iv)
	l.latest = iv
	l.sampled.Unlock()
	w.reset()
	l.spare = w
	if l.opt.OnInterval != nil {
		l.opt.OnInterval(iv)
	}
}

// probe adds the server's side: /proc numbers and its own counters. A
// failure leaves the field nil; a server that has exited cannot be read,
// and that is reported by whoever started it.
func (l *Load) probe(iv *Interval) {
	if l.target.PID > 0 {
		if ps, err := SampleProc(l.target.PID, l.target.Tree); err == nil {
			iv.Proc = &ps
			if prev := l.prevProc; prev != nil && ps.Time.After(prev.Time) {
				iv.CPUPercent = 100 * float64(ps.CPU-prev.CPU) / float64(ps.Time.Sub(prev.Time))
			}
			l.prevProc = &ps
		}
	}
	if l.target.Stats != nil {
		if s, err := l.target.Stats(); err == nil {
			iv.Server = &s
		}
	}
}

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
	Proc       *ProcSample
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

// totals accumulates the intervals of a run.
type totals struct {
	lat, raw  *hdrhistogram.Histogram
	s         Summary
	firstProc *ProcSample // the baseline for CPU used
	lastProc  *ProcSample
}

func newTotals(base *ProcSample) totals {
	return totals{lat: newHist(), raw: newHist(), firstProc: base, lastProc: base}
}

func (t *totals) add(w *window, iv *Interval) {
	t.lat.Merge(w.lat)
	t.raw.Merge(w.raw)
	s := &t.s
	if !iv.Paused {
		s.Active += iv.Length
	}
	s.Requests += w.requests
	s.Bytes += w.bytes
	for k, v := range w.errors {
		s.Errors[k] += v
	}
	s.PeakConns = max(s.PeakConns, iv.Conns)
	s.PeakInFlight = max(s.PeakInFlight, iv.InFlight)
	s.PeakBacklog = max(s.PeakBacklog, iv.Backlog)
	if p := iv.Proc; p != nil {
		s.PeakRSS = max(s.PeakRSS, p.RSS)
		s.PeakThreads = max(s.PeakThreads, p.Threads)
		s.PeakFDs = max(s.PeakFDs, p.FDs)
		if t.firstProc == nil {
			t.firstProc = p
		}
		t.lastProc = p
		s.CPU = p.CPU - t.firstProc.CPU
	}
	if sv := iv.Server; sv != nil {
		s.PeakServerOpen = max(s.PeakServerOpen, sv.Open)
	}
}

func (t *totals) summary(name string) Summary {
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

// merge adds another run's totals (another round on the same target).
func (t *totals) merge(o *totals) {
	t.lat.Merge(o.lat)
	t.raw.Merge(o.raw)
	a, b := &t.s, o.s
	a.Active += b.Active
	a.Requests += b.Requests
	a.Bytes += b.Bytes
	for k, v := range b.Errors {
		a.Errors[k] += v
	}
	a.PeakConns = max(a.PeakConns, b.PeakConns)
	a.PeakInFlight = max(a.PeakInFlight, b.PeakInFlight)
	a.PeakBacklog = max(a.PeakBacklog, b.PeakBacklog)
	a.PeakRSS = max(a.PeakRSS, b.PeakRSS)
	a.PeakThreads = max(a.PeakThreads, b.PeakThreads)
	a.PeakFDs = max(a.PeakFDs, b.PeakFDs)
	a.PeakServerOpen = max(a.PeakServerOpen, b.PeakServerOpen)
	a.CPU += b.CPU
}

// String is a one-line digest, for progress lines and logs.
func (s Summary) String() string {
	return fmt.Sprintf("%s: %.0f req/s, p50 %v, p99 %v, max %v, errors %s",
		s.Target, s.RPS, s.Latency.P50, s.Latency.P99, s.Latency.Max, s.Errors)
}
