package tui

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"serverlab/bench"
	"serverlab/bench/load"
	"serverlab/bench/proc"
	"serverlab/trace"
)

// supervisor keeps the servers, and a load on each, as the dashboard wants
// them: it starts the models as child processes, notices a crash, restarts
// a server on request or when the scenario's flags change, takes the
// servers in turn in one-at-a-time mode, holds the idle connections to what
// the file descriptor limit allows, and stops it all in order at the end.
//
// Its methods are called from the dashboard's event loop and must not
// wait, while starting a server or stopping a load can take a second. So
// the work is done by one goroutine, the reconciler (run), and the methods
// only record what is wanted and wake it: the same "desired state, then
// converge" pattern as a Kubernetes controller, on a small scale. A flurry
// of key presses costs one reconcile, not one per key, because the wake
// channel holds at most one wake-up.
type supervisor struct {
	cfg     LiveConfig
	onFrame func(i int) func(load.Interval) // each load's OnInterval
	wake    chan struct{}

	mu       sync.Mutex // guards the fields up to note
	wanted   want
	restarts []bool // Restart asked for, not yet done
	statuses []Status
	note     string
	traces   []*liveTrace // each server's trace channel (tracelive.go)

	// Owned by the reconciler goroutine.
	ts        []*supervised
	turn      int       // one at a time: whose turn it is
	turnSince time.Time // and since when
	turnTimer *time.Timer
	results   chan startResult

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// want is what the supervisor makes true.
type want struct {
	serverArgs []string // serve flags of the scenario, after each target's own
	mix        load.Mix // the load on each server
	paused     bool
	oneAtATime bool // drive one server at a time, each for a turn
}

// supervised is one server as the reconciler tracks it.
type supervised struct {
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
	i     int
	srv   *proc.Server
	args  []string
	trace *trace.Remote // the parent's end of its trace channel, or nil
	err   error
}

const (
	// turnLength is one server's turn in one-at-a-time mode: long enough
	// for the charts to settle, short enough that the class does not wait.
	turnLength = 10 * time.Second
	// stopGrace is how long a server has to finish its responses when
	// stopped, before it is killed.
	stopGrace = 2 * time.Second
	// fdReserve is kept out of the connection budget for the process's
	// other files: the terminal, /proc reads, control sockets, pipes.
	fdReserve = 256
)

// startSupervisor starts the reconciler, which at once starts the servers
// and brings them to w.
func startSupervisor(cfg LiveConfig, onFrame func(i int) func(load.Interval), w want) *supervisor {
	ctx, cancel := context.WithCancel(context.Background())
	s := &supervisor{
		cfg:       cfg,
		onFrame:   onFrame,
		wake:      make(chan struct{}, 1),
		wanted:    w,
		restarts:  make([]bool, len(cfg.Targets)),
		statuses:  make([]Status, len(cfg.Targets)),
		results:   make(chan startResult, len(cfg.Targets)),
		turnTimer: time.NewTimer(turnLength),
		ctx:       ctx,
		cancel:    cancel,
		done:      make(chan struct{}),
	}
	s.turnTimer.Stop() // armed only in one-at-a-time mode
	for i, spec := range cfg.Targets {
		s.ts = append(s.ts, &supervised{spec: spec})
		s.traces = append(s.traces, &liveTrace{})
		s.statuses[i] = Status{State: Starting}
		if spec.Model == "" {
			s.statuses[i] = Status{State: External, Addr: spec.Addr}
		}
	}
	go s.run()
	s.poke()
	return s
}

// want records what is wanted now and wakes the reconciler.
func (s *supervisor) want(w want) {
	s.mu.Lock()
	s.wanted = w
	s.mu.Unlock()
	s.poke()
}

// restart asks for server i to be started again.
func (s *supervisor) restart(i int) {
	s.mu.Lock()
	s.restarts[i] = true
	s.mu.Unlock()
	s.poke()
}

func (s *supervisor) status(i int) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statuses[i]
}

func (s *supervisor) notice() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.note
}

// close stops every load, then every server, and waits for both.
func (s *supervisor) close() {
	s.once.Do(s.cancel)
	<-s.done
}

// poke wakes the reconciler, unless a wake-up is already waiting.
func (s *supervisor) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *supervisor) setStatus(i int, st Status) {
	s.mu.Lock()
	s.statuses[i] = st
	s.mu.Unlock()
}

func (s *supervisor) setNotice(note string) {
	s.mu.Lock()
	s.note = note
	s.mu.Unlock()
}

// run is the reconciler: each time something happens (a knob, a server
// starting or dying, the end of a turn) it makes the world match what is
// wanted. It is the only goroutine that touches servers and loads.
func (s *supervisor) run() {
	defer close(s.done)
	defer s.shutdown()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		case r := <-s.results:
			s.started(r)
		case <-s.turnTimer.C:
			// The turn passes; reconcileTurn starts the next one.
			s.turn = s.nextTurn()
			s.turnSince = time.Time{}
		}
		s.reconcile()
	}
}

// reconcile brings servers and loads in line with what is wanted.
func (s *supervisor) reconcile() {
	s.mu.Lock()
	w := s.wanted
	restarts := slices.Clone(s.restarts)
	clear(s.restarts)
	s.mu.Unlock()

	for i, t := range s.ts {
		if t.spec.Model != "" {
			s.reconcileServer(i, t, w.serverArgs, restarts[i])
		}
	}
	s.reconcileTurn(w)
	mix, held := s.budget(w)
	if held >= 0 {
		s.setNotice(fmt.Sprintf("Only %d idle connections per server fit in this process's file descriptor limit "+
			"(ulimit -Hn); raise it, or drive one server at a time (m).", held))
	} else {
		s.setNotice("")
	}
	for i, t := range s.ts {
		s.reconcileLoad(i, t, s.traces[i].loadMix(mix), !w.paused && (!w.oneAtATime || i == s.turn))
	}
}

// reconcileServer notices a crash, restarts a server whose flags the
// scenario changed, and starts one that is down and should be up.
func (s *supervisor) reconcileServer(i int, t *supervised, scenarioArgs []string, restart bool) {
	want := append(slices.Clone(t.spec.Flags), scenarioArgs...)
	if t.srv != nil {
		if crashed, _, why := t.srv.Crashed(); crashed {
			s.stopLoad(t)
			t.srv, t.crashed = nil, why
			s.traces[i].closeRemote()
			s.setStatus(i, Status{State: Crashed, Detail: why})
		} else if !slices.Equal(t.args, want) {
			// slow-disk and back: the flags are the server's, so
			// the server starts again with the new ones.
			s.stopLoad(t)
			t.srv.Stop(stopGrace)
			t.srv = nil
			s.traces[i].closeRemote()
		}
	}
	if t.srv != nil || t.start || (t.crashed != "" && !restart) {
		return
	}
	t.start, t.crashed = true, ""
	s.setStatus(i, Status{State: Starting})
	spec := proc.Spec{
		Model:  t.spec.Model,
		Binary: s.cfg.Binary,
		Addr:   t.spec.Addr,
		Root:   s.cfg.Root,
		Args:   want,
		CPUs:   s.cfg.ServerCPUs,
	}
	remote := traceChannel(&spec)
	go func() {
		srv, err := proc.Start(s.ctx, spec)
		for _, f := range spec.ExtraFiles {
			f.Close() // the server has its own copy, or is not running
		}
		s.results <- startResult{i: i, srv: srv, args: want, trace: remote, err: err}
	}()
}

// started takes in a server that has finished starting, or failed to.
func (s *supervisor) started(r startResult) {
	t := s.ts[r.i]
	t.start = false
	if (r.err != nil || s.ctx.Err() != nil) && r.trace != nil {
		r.trace.Close()
	}
	if r.err != nil {
		t.crashed = r.err.Error()
		s.setStatus(r.i, Status{State: Crashed, Detail: t.crashed})
		return
	}
	if s.ctx.Err() != nil {
		r.srv.Stop(stopGrace)
		return
	}
	t.srv, t.args = r.srv, r.args
	if r.trace != nil {
		s.traces[r.i].started(r.trace)
	}
	go func() {
		// A crash wakes the reconciler, which sees it in Crashed.
		select {
		case <-r.srv.Done():
			s.poke()
		case <-s.ctx.Done():
		}
	}()
}

// reconcileLoad makes target i's load match mix, running or paused.
func (s *supervisor) reconcileLoad(i int, t *supervised, mix load.Mix, active bool) {
	var target load.Target
	switch {
	case t.spec.Model == "":
		target = load.Target{Name: t.spec.Name, Addr: t.spec.Addr, Path: t.spec.Path}
		if t.load == nil {
			// Its memory and threads, if we may read its /proc.
			target.PID, target.Tree = listenerPID(t.spec.Addr), true
		}
	case t.srv != nil:
		target = load.TargetOf(t.srv)
		target.Name = t.spec.Name
	default:
		return // down or starting: no load
	}
	if t.load == nil {
		l, err := load.Start(target, load.Mix{}, load.Options{OnInterval: s.onFrame(i)})
		if err != nil {
			s.setNotice(fmt.Sprintf("load on %s: %v", t.spec.Name, err))
			return
		}
		l.Pause()
		t.load, t.mix, t.active = l, load.Mix{}, false
	}
	if mix != t.mix {
		if err := t.load.Set(mix); err != nil {
			s.setNotice(fmt.Sprintf("load on %s: %v", t.spec.Name, err))
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
	st := Status{State: Listening, Addr: target.Addr, Driving: active}
	if t.spec.Model == "" {
		st.State = External
	}
	s.setStatus(i, st)
}

func (s *supervisor) stopLoad(t *supervised) {
	if t.load != nil {
		t.load.Stop()
		t.load, t.mix, t.active = nil, load.Mix{}, false
	}
}

// reconcileTurn keeps the one-at-a-time rotation going, on servers that
// are up, and stops it in the other mode.
func (s *supervisor) reconcileTurn(w want) {
	if !w.oneAtATime || w.paused {
		s.turnTimer.Stop()
		s.turnSince = time.Time{}
		return
	}
	if s.turnSince.IsZero() || !s.up(s.turn) {
		// A new turn: the rotation starts, a turn ended, or the server
		// whose turn it was went down.
		if !s.up(s.turn) {
			s.turn = s.nextTurn()
		}
		s.turnSince = time.Now()
		s.turnTimer.Reset(turnLength)
	}
}

func (s *supervisor) up(i int) bool {
	t := s.ts[i]
	return t.spec.Model == "" || t.srv != nil
}

func (s *supervisor) nextTurn() int {
	for d := 1; d <= len(s.ts); d++ {
		if i := (s.turn + d) % len(s.ts); s.up(i) {
			return i
		}
	}
	return s.turn
}

// budget holds the idle connections back to what the file descriptor
// limit allows (every connection is a descriptor, in this process as in
// the server) and says how many it held them to, or -1 if it did not.
func (s *supervisor) budget(w want) (load.Mix, int) {
	m := w.mix
	loads := len(s.ts)
	if w.oneAtATime {
		loads = 1
	}
	need := m.FDs()*loads + fdReserve
	if err := proc.RaiseFDLimit(need); err == nil {
		return m, -1
	}
	limit, err := proc.FileLimit()
	if err != nil {
		return m, -1
	}
	perLoad := (limit - fdReserve) / loads
	m.Idle = max(0, m.Idle-(m.FDs()-perLoad))
	return m, m.Idle
}

// shutdown stops every load, then every server, each server in parallel:
// stopping one that ignores SIGTERM takes the whole grace period.
func (s *supervisor) shutdown() {
	for _, t := range s.ts {
		s.stopLoad(t)
	}
	var wg sync.WaitGroup
	stop := func(srv *proc.Server) { wg.Go(func() { srv.Stop(stopGrace) }) }
	for _, t := range s.ts {
		if t.srv != nil {
			stop(t.srv)
		}
	}
	// Servers still starting come back on results; each start is bounded
	// by the context, cancelled by now.
	for _, t := range s.ts {
		if t.start {
			if r := <-s.results; r.srv != nil {
				stop(r.srv)
			}
		}
	}
	wg.Wait()
	for _, lt := range s.traces {
		lt.closeRemote()
	}
}
