package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"time"

	"serverlab/bench"
	"serverlab/bench/load"
	"serverlab/bench/proc"
)

// live is the real Driver: the project's models as child processes,
// started and stopped through the bench package, and a load.Load on each
// server, whose intervals become the dashboard's frames.
//
// Its methods are called from the dashboard's event loop and must not
// wait, while starting a server or stopping a load can take a second. So
// the work is done by one goroutine, the reconciler, and the methods only
// record what is wanted and wake it: the same "desired state, then
// converge" pattern as a Kubernetes controller, on a small scale. A flurry
// of key presses costs one reconcile, not one per key, because the wake
// channel holds at most one wake-up.
type live struct {
	cfg       LiveConfig
	scenarios []bench.Scenario
	frames    chan Frame
	wake      chan struct{}

	mu       sync.Mutex // guards the fields up to ts
	scenario bench.Scenario
	knobs    Knobs
	restart  []bool
	status   []Status
	notice   string

	// Owned by the reconciler goroutine.
	ts        []*liveTarget
	turn      int       // OneAtATime: whose turn it is
	turnSince time.Time // and since when
	turnTimer *time.Timer
	results   chan startResult

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	close  sync.Once
}

// LiveConfig says which servers the live driver runs.
type LiveConfig struct {
	// Targets are bench -targets entries: a model, perhaps with serve
	// flags ("threaded+osthreads"), or an http://127.0.0.1:PORT URL of a
	// server that is already running.
	Targets []bench.TargetSpec
	// Root is the folder the models serve; "" is the built-in demo site.
	Root string
	// Binary is the serverlab executable that serves; "" is this one.
	Binary string
	// ServerCPUs pins the models to these CPUs (nil: no pinning).
	ServerCPUs []int
}

// liveTarget is one server as the reconciler tracks it.
type liveTarget struct {
	spec    bench.TargetSpec
	srv     *proc.Server // nil for a URL target, or while down
	args    []string     // the serve flags srv was started with
	load    *load.Load
	mix     load.Mix // the mix last given to load
	active  bool     // load is running, not paused
	start   bool     // a start is under way
	crashed string   // why it died; "" while fine
}

type startResult struct {
	i    int
	srv  *proc.Server
	args []string
	err  error
}

// Timing of the live driver.
const (
	// turnLength is one server's turn in one-at-a-time mode: long enough
	// for the charts to settle, short enough that the class does not wait.
	turnLength = 10 * time.Second
	// rampLength is how long the overload ramp takes to reach its top
	// rate, which it then holds.
	rampLength = 60 * time.Second
	// stopGrace is how long a server has to finish its responses when
	// stopped, before it is killed.
	stopGrace = 2 * time.Second
	// frameBuffer is how many frames may wait for the dashboard: about
	// twenty seconds of three servers. Past that, frames are dropped,
	// never waited for: the load generator must not slow down because
	// the screen did.
	frameBuffer = 256
	// fdReserve is kept out of the connection budget for the process's
	// other files: the terminal, /proc reads, control sockets, pipes.
	fdReserve = 256
)

// NewLive starts the live driver: the models start in the background and
// their lifecycle shows in Status.
func NewLive(cfg LiveConfig) (Driver, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("no servers to run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{
		cfg:       cfg,
		scenarios: bench.Scenarios(),
		frames:    make(chan Frame, frameBuffer),
		wake:      make(chan struct{}, 1),
		restart:   make([]bool, len(cfg.Targets)),
		status:    make([]Status, len(cfg.Targets)),
		results:   make(chan startResult, len(cfg.Targets)),
		ctx:       ctx,
		cancel:    cancel,
		done:      make(chan struct{}),
		turnTimer: time.NewTimer(turnLength),
	}
	l.turnTimer.Stop() // armed only in one-at-a-time mode
	for i, spec := range cfg.Targets {
		l.ts = append(l.ts, &liveTarget{spec: spec})
		l.status[i] = Status{State: Starting}
		if spec.Model == "" {
			l.status[i] = Status{State: External, Addr: spec.Addr}
		}
	}
	l.scenario = l.scenarios[0]
	l.knobs = knobsOf(l.scenario)
	l.knobs.Paused = true
	go l.run()
	return l, nil
}

// Targets implements Driver: the -models and -target entries, in order.
func (l *live) Targets() []string {
	names := make([]string, len(l.cfg.Targets))
	for i, t := range l.cfg.Targets {
		names[i] = t.Name
	}
	return names
}

// Scenarios implements Driver with bench's scenarios and their texts.
func (l *live) Scenarios() []Scenario {
	out := make([]Scenario, len(l.scenarios))
	for i, s := range l.scenarios {
		out[i] = Scenario{Name: s.Name, Shows: s.About, Lesson: s.Watch}
	}
	return out
}

// Start implements Driver. The scenario takes effect on the next
// reconcile; its server flags, if they differ, restart the servers.
func (l *live) Start(name string) (Knobs, error) {
	s, ok := bench.ScenarioByName(name)
	if !ok {
		return Knobs{}, fmt.Errorf("no scenario %q", name)
	}
	l.mu.Lock()
	l.scenario = s
	k := knobsOf(s)
	k.Paused, k.Mode = l.knobs.Paused, l.knobs.Mode
	l.knobs = k
	l.mu.Unlock()
	l.poke()
	return k, nil
}

// Set implements Driver: it records k and wakes the reconciler.
func (l *live) Set(k Knobs) {
	l.mu.Lock()
	l.knobs = k
	l.mu.Unlock()
	l.poke()
}

// Drain implements Driver: whatever frames are waiting, without waiting.
func (l *live) Drain(dst []Frame) []Frame {
	for {
		select {
		case f := <-l.frames:
			dst = append(dst, f)
		default:
			return dst
		}
	}
}

// Status implements Driver.
func (l *live) Status(i int) Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status[i]
}

// Restart implements Driver; a server it did not start cannot be restarted.
func (l *live) Restart(i int) error {
	if l.cfg.Targets[i].Model == "" {
		return fmt.Errorf("%s was not started here", l.cfg.Targets[i].Name)
	}
	l.mu.Lock()
	l.restart[i] = true
	l.mu.Unlock()
	l.poke()
	return nil
}

// Notice implements Driver.
func (l *live) Notice() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.notice
}

// Close stops every load, then every server, and waits for both.
func (l *live) Close() error {
	l.close.Do(l.cancel)
	<-l.done
	return nil
}

// poke wakes the reconciler, unless a wake-up is already waiting.
func (l *live) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *live) setStatus(i int, s Status) {
	l.mu.Lock()
	l.status[i] = s
	l.mu.Unlock()
}

func (l *live) setNotice(format string, a ...any) {
	l.mu.Lock()
	l.notice = fmt.Sprintf(format, a...)
	l.mu.Unlock()
}

// run is the reconciler: each time something happens (a knob, a server
// starting or dying, the end of a turn) it makes the world match what is
// wanted. It is the only goroutine that touches servers and loads.
func (l *live) run() {
	defer close(l.done)
	defer l.shutdown()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-l.wake:
		case r := <-l.results:
			l.started(r)
		case <-l.turnTimer.C:
			// The turn passes; reconcileTurn starts the next one.
			l.turn = l.nextTurn()
			l.turnSince = time.Time{}
		}
		l.reconcile()
	}
}

// reconcile brings servers and loads in line with the scenario and knobs.
func (l *live) reconcile() {
	l.mu.Lock()
	sc, k := l.scenario, l.knobs
	restart := slices.Clone(l.restart)
	clear(l.restart)
	l.mu.Unlock()

	for i, t := range l.ts {
		if t.spec.Model != "" {
			l.reconcileServer(i, t, sc, restart[i])
		}
	}
	l.reconcileTurn(k)
	mix, held := l.budget(mixFor(sc, k), k)
	if held >= 0 {
		l.setNotice("Only %d idle connections per server fit in this process's file descriptor limit "+
			"(ulimit -Hn); raise it, or drive one server at a time (m).", held)
	} else {
		l.setNotice("")
	}
	for i, t := range l.ts {
		l.reconcileLoad(i, t, mix, !k.Paused && (k.Mode == AllAtOnce || i == l.turn))
	}
}

// reconcileServer notices a crash, restarts a server whose flags the
// scenario changed, and starts one that is down and should be up.
func (l *live) reconcileServer(i int, t *liveTarget, sc bench.Scenario, restart bool) {
	want := append(slices.Clone(t.spec.Flags), sc.ServerArgs...)
	if t.srv != nil {
		if crashed, _, why := t.srv.Crashed(); crashed {
			l.stopLoad(t)
			t.srv, t.crashed = nil, why
			l.setStatus(i, Status{State: Crashed, Detail: why})
		} else if !slices.Equal(t.args, want) {
			// slow-disk and back: the flags are the server's, so
			// the server starts again with the new ones.
			l.stopLoad(t)
			t.srv.Stop(stopGrace)
			t.srv = nil
		}
	}
	if t.srv != nil || t.start || (t.crashed != "" && !restart) {
		return
	}
	t.start, t.crashed = true, ""
	l.setStatus(i, Status{State: Starting})
	spec := proc.Spec{
		Model:  t.spec.Model,
		Binary: l.cfg.Binary,
		Addr:   t.spec.Addr,
		Root:   l.cfg.Root,
		Args:   want,
		CPUs:   l.cfg.ServerCPUs,
	}
	go func() {
		srv, err := proc.Start(l.ctx, spec)
		l.results <- startResult{i: i, srv: srv, args: want, err: err}
	}()
}

// started takes in a server that has finished starting, or failed to.
func (l *live) started(r startResult) {
	t := l.ts[r.i]
	t.start = false
	if r.err != nil {
		t.crashed = r.err.Error()
		l.setStatus(r.i, Status{State: Crashed, Detail: t.crashed})
		return
	}
	if l.ctx.Err() != nil {
		r.srv.Stop(stopGrace)
		return
	}
	t.srv, t.args = r.srv, r.args
	go func() {
		// A crash wakes the reconciler, which sees it in Crashed.
		select {
		case <-r.srv.Done():
			l.poke()
		case <-l.ctx.Done():
		}
	}()
}

// reconcileLoad makes target i's load match mix, running or paused.
func (l *live) reconcileLoad(i int, t *liveTarget, mix load.Mix, active bool) {
	var bt load.Target
	switch {
	case t.spec.Model == "":
		bt = load.Target{Name: t.spec.Name, Addr: t.spec.Addr, Path: t.spec.Path}
		if t.load == nil {
			// Its memory and threads, if we may read its /proc.
			bt.PID, bt.Tree = listenerPID(t.spec.Addr), true
		}
	case t.srv != nil:
		bt = load.TargetOf(t.srv)
		bt.Name = t.spec.Name
	default:
		return // down or starting: no load
	}
	if t.load == nil {
		ld, err := load.Start(bt, load.Mix{}, load.Options{OnInterval: l.forward(i)})
		if err != nil {
			l.setNotice("load on %s: %v", t.spec.Name, err)
			return
		}
		ld.Pause()
		t.load, t.mix, t.active = ld, load.Mix{}, false
	}
	if mix != t.mix {
		if err := t.load.Set(mix); err != nil {
			l.setNotice("load on %s: %v", t.spec.Name, err)
			return
		}
		t.mix = mix
	}
	if active != t.active {
		if active {
			t.load.Resume()
		} else {
			t.load.Pause()
		}
		t.active = active
	}
	st := Status{State: Listening, Addr: bt.Addr, Driving: active}
	if t.spec.Model == "" {
		st.State = External
	}
	l.setStatus(i, st)
}

// forward is a load's interval callback: it turns each interval into a
// frame and hands it over without ever waiting. Paused intervals are
// dropped, so that a paused or waiting server's charts stand still.
func (l *live) forward(i int) func(load.Interval) {
	return func(iv load.Interval) {
		if iv.Paused {
			return
		}
		select {
		case l.frames <- frameOf(i, iv):
		default: // the dashboard is behind: drop, never wait
		}
	}
}

func (l *live) stopLoad(t *liveTarget) {
	if t.load != nil {
		t.load.Stop()
		t.load, t.mix, t.active = nil, load.Mix{}, false
	}
}

// reconcileTurn keeps the one-at-a-time rotation going, on servers that
// are up, and stops it in the other mode.
func (l *live) reconcileTurn(k Knobs) {
	if k.Mode != OneAtATime || k.Paused {
		l.turnTimer.Stop()
		l.turnSince = time.Time{}
		return
	}
	if l.turnSince.IsZero() || !l.up(l.turn) {
		// A new turn: the rotation starts, a turn ended, or the server
		// whose turn it was went down.
		if !l.up(l.turn) {
			l.turn = l.nextTurn()
		}
		l.turnSince = time.Now()
		l.turnTimer.Reset(turnLength)
	}
}

func (l *live) up(i int) bool {
	t := l.ts[i]
	return t.spec.Model == "" || t.srv != nil
}

func (l *live) nextTurn() int {
	for d := 1; d <= len(l.ts); d++ {
		if i := (l.turn + d) % len(l.ts); l.up(i) {
			return i
		}
	}
	return l.turn
}

// budget holds the idle connections back to what the file descriptor
// limit allows (every connection is a descriptor, in this process as in
// the server) and says how many it held them to, or -1 if it did not.
func (l *live) budget(m load.Mix, k Knobs) (load.Mix, int) {
	loads := 1
	if k.Mode == AllAtOnce {
		loads = len(l.ts)
	}
	need := m.FDs()*loads + fdReserve
	if err := proc.RaiseFDLimit(need); err == nil {
		return m, -1
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return m, -1
	}
	perLoad := (int(lim.Cur) - fdReserve) / loads
	m.Idle = max(0, m.Idle-(m.FDs()-perLoad))
	return m, m.Idle
}

// shutdown stops every load, then every server, each server in parallel:
// stopping one that ignores SIGTERM takes the whole grace period.
func (l *live) shutdown() {
	for _, t := range l.ts {
		l.stopLoad(t)
	}
	var wg sync.WaitGroup
	stop := func(s *proc.Server) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Stop(stopGrace)
		}()
	}
	for _, t := range l.ts {
		if t.srv != nil {
			stop(t.srv)
		}
	}
	// Servers still starting come back on results; each start is bounded
	// by the context, cancelled by now.
	for _, t := range l.ts {
		if t.start {
			if r := <-l.results; r.srv != nil {
				stop(r.srv)
			}
		}
	}
	wg.Wait()
}

// knobsOf reads a scenario's mix as the dashboard's knobs.
func knobsOf(s bench.Scenario) Knobs {
	m := s.Mix
	k := Knobs{Clients: m.Clients, Slow: m.Slowloris, Idle: m.Idle}
	if m.Clients == 0 && m.Churn > 0 {
		k.Clients = m.Churn
	}
	if m.Slowloris == 0 && m.SlowReaders > 0 {
		k.Slow = m.SlowReaders
	}
	switch r := m.Rate.(type) {
	case load.Constant:
		k.Rate = int(r)
	case load.Ramp:
		k.Rate, k.Ramp = int(r.To), true
	case load.Steps:
		if len(r) > 0 {
			k.Rate = int(r[len(r)-1].Rate)
		}
	}
	return k
}

// mixFor is the scenario's mix with the knobs turned: each knob sets the
// kind of client the scenario uses for it.
func mixFor(s bench.Scenario, k Knobs) load.Mix {
	m := s.ForDuration(rampLength)
	if s.Mix.Clients == 0 && s.Mix.Churn > 0 {
		m.Churn = k.Clients
	} else {
		m.Clients = k.Clients
	}
	if s.Mix.Slowloris == 0 && s.Mix.SlowReaders > 0 {
		m.SlowReaders = k.Slow
	} else {
		m.Slowloris = k.Slow
	}
	m.Idle = k.Idle
	if k.Rate == 0 {
		m.Rate = nil
	} else if r, ok := m.Rate.(load.Ramp); ok {
		r.From = min(r.From, float64(k.Rate)/10)
		r.To = float64(k.Rate)
		m.Rate = r
	} else {
		m.Rate = load.Constant(k.Rate)
	}
	return m
}

// frameOf turns a bench interval into a dashboard frame.
func frameOf(i int, iv load.Interval) Frame {
	f := Frame{
		Target:   i,
		At:       iv.End,
		Interval: iv.Length,
		Requests: iv.Requests,
		Bytes:    iv.Bytes,
		P50:      iv.Latency.P50,
		P99:      iv.Latency.P99,
		Max:      iv.Latency.Max,

		UncorrectedP99: iv.Uncorrected.P99,
		InFlight:       int(iv.InFlight),
		Conns:          int(iv.Conns),
	}
	for k, n := range iv.Errors {
		if n > 0 {
			f.Errors = append(f.Errors, ErrorCount{Kind: load.ErrorKind(k).String(), N: n})
		}
	}
	if s := iv.Server; s != nil {
		f.HasServer, f.ServerOpen, f.ServerInFlight = true, s.Open, s.InFlight
	}
	if p := iv.Proc; p != nil {
		f.HasProc, f.RSS, f.Threads, f.CPU = true, p.RSS, p.Threads, iv.CPUPercent
	}
	return f
}
