package load

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"serverlab/bench/proc"
)

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

// sendTo makes an Options.OnInterval that hands each interval to ch
// without ever blocking the sampler: when ch is full (its reader is busy
// drawing, say), the interval is dropped, and the next comes soon after.
// Summary still counts every request.
func sendTo(ch chan<- Interval) func(Interval) {
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
	totals  *Totals
	latest  Interval

	// The sampler goroutine's own.
	spare    *window      // the next window for the meter
	prevProc *proc.Sample // the last /proc sample, for CPU% and totals

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
	if err := m.Validate(); err != nil {
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
		if ps, err := proc.SampleOf(t.PID, t.Tree); err == nil {
			l.prevProc = &ps
		}
	}
	l.totals = newTotals(l.prevProc)
	l.started = time.Now()
	l.apply(m)
	go l.sample()
	return l, nil
}

// Started is when the load began: Interval.Elapsed counts from here.
func (l *Load) Started() time.Time { return l.started }

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
	if err := m.Validate(); err != nil {
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

// last is the most recent interval, and false before the first.
func (l *Load) last() (Interval, bool) {
	l.sampled.Lock()
	defer l.sampled.Unlock()
	return l.latest, !l.latest.End.IsZero()
}

// Summary is the whole run so far (or since resetTotals).
func (l *Load) Summary() Summary {
	l.sampled.Lock()
	defer l.sampled.Unlock()
	return l.totals.Summary(l.target.Name)
}

// Totals is a copy of the run's totals so far, to merge with other runs
// on the same target (the rounds of a benchmark).
func (l *Load) Totals() *Totals {
	l.sampled.Lock()
	defer l.sampled.Unlock()
	return l.totals.clone()
}

// resetTotals starts the run's totals (Summary) afresh; the clients are
// not disturbed.
func (l *Load) resetTotals() {
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
		if ps, err := proc.SampleOf(l.target.PID, l.target.Tree); err == nil {
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
