package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"serverlab/bench/load"
	"serverlab/bench/proc"
	"serverlab/bench/report"
)

// Plan is a headless benchmark: one scenario, run on each target in turn.
type Plan struct {
	Targets  []TargetSpec
	Scenario Scenario
	// Duration of each run: each target, each round.
	Duration time.Duration
	// Rounds > 1 interleaves the targets: a, b, c, a, b, c, ... so that
	// a drift in the machine (another job, a thermal limit) spreads over
	// all of them instead of spoiling the last.
	Rounds   int
	Interval time.Duration // between snapshots; default 250 ms
	Timeout  time.Duration // per request; default 2 s

	// How to start the models: the serverlab binary (default: this
	// program), the site root (default: the demo site) and serve flags
	// for every model, after the scenario's own.
	Binary    string
	Root      string
	ServeArgs []string

	// ServerCPUs and LoadCPUs pin the servers and this process; nil
	// leaves them unpinned.
	ServerCPUs, LoadCPUs []int

	// PIDs and Commands belong to the URL targets, in order: a PID to
	// sample from /proc (0: none), or a command line that starts the
	// server (bench waits for the URL's port, and stops it after).
	PIDs     []int
	Commands [][]string

	// OnInterval, if set, sees every interval as it happens (for a
	// progress line). It runs on the sampling goroutine: be quick.
	OnInterval func(target string, round int, iv load.Interval)
	// OnEvent, if set, gets one-line news: a run starting, a crash.
	OnEvent func(msg string)
}

// runTarget is a target as Run sees it: the spec, and the process if it
// started one.
type runTarget struct {
	spec   TargetSpec
	result *report.Result
	totals *load.Totals // all its rounds so far
	server *proc.Server // nil for a URL target with no command
	pid    int
	path   string
}

// Run carries out the plan: checks the file limit, pins, starts the
// servers, runs the scenario on each target in turn and stops the servers.
// It returns an error (one line) only if the run cannot start at all; a
// target that crashes is marked in its Result and the others go on. If ctx
// is cancelled, Run stops early and returns what it has, with ctx's error.
func Run(ctx context.Context, p Plan) (*report.Report, error) {
	if len(p.Targets) == 0 {
		return nil, errors.New("no targets")
	}
	if p.Duration <= 0 {
		return nil, errors.New("duration must be positive")
	}
	p.Rounds = max(p.Rounds, 1)
	if p.Interval <= 0 {
		p.Interval = 250 * time.Millisecond
	}
	mix := p.Scenario.ForDuration(p.Duration)
	if err := mix.Validate(); err != nil {
		return nil, err
	}
	if err := proc.RaiseFDLimit(mix.FDs()); err != nil {
		return nil, err
	}
	rep := &report.Report{
		Scenario: p.Scenario.Name, Title: p.Scenario.Title, About: p.Scenario.About, OpenLoop: mix.Rate != nil,
		Duration: p.Duration, Interval: p.Interval, Rounds: p.Rounds,
		Started: time.Now(), ServerCPUs: p.ServerCPUs, LoadCPUs: p.LoadCPUs,
		Events: events(mix),
	}
	targets, err := startTargets(ctx, p)
	finish := func() {
		for _, t := range targets {
			t.result.Summary = t.totals.Summary(t.spec.Name)
		}
	}
	defer func() {
		for _, t := range targets {
			if t.server != nil {
				t.server.Stop(6 * time.Second)
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	// Pin ourselves only now, so that servers started unpinned keep
	// every CPU rather than inheriting the load's.
	if len(p.LoadCPUs) > 0 {
		undo, err := proc.PinSelf(p.LoadCPUs)
		if err != nil {
			return nil, fmt.Errorf("pin the load generator: %w", err)
		}
		defer undo()
	}
	for _, t := range targets {
		rep.Targets = append(rep.Targets, t.result)
	}

	for round := 1; round <= p.Rounds; round++ {
		for _, t := range targets {
			if t.result.Crashed {
				continue
			}
			if ctx.Err() != nil {
				finish()
				return rep, ctx.Err()
			}
			runOne(ctx, p, mix, round, t)
		}
	}
	finish()
	return rep, ctx.Err()
}

// startTargets starts every model and command, and checks that every URL
// target answers, before any load runs: better to fail in a second than
// after three targets' worth of minutes.
func startTargets(ctx context.Context, p Plan) ([]*runTarget, error) {
	var out []*runTarget
	urls := 0
	for _, spec := range p.Targets {
		t := &runTarget{spec: spec, result: &report.Result{Name: spec.Name}, totals: load.NewTotals()}
		out = append(out, t)
		switch {
		case spec.Model != "":
			args := append(append(append([]string(nil), p.Scenario.ServerArgs...), p.ServeArgs...), spec.Flags...)
			s, err := proc.Start(ctx, proc.Spec{
				Model: spec.Model, Binary: p.Binary, Addr: spec.Addr, Root: p.Root,
				Args: args, CPUs: p.ServerCPUs,
			})
			if err != nil {
				return out, err
			}
			t.server, t.pid, t.result.Kind = s, s.PID(), "model"
			t.spec.Addr = s.Addr()
		default:
			t.result.Kind = "url"
			if urls < len(p.Commands) && len(p.Commands[urls]) > 0 {
				s, err := proc.StartCommand(ctx, p.Commands[urls], spec.Addr, p.ServerCPUs)
				if err != nil {
					return out, err
				}
				t.server, t.pid, t.result.Kind = s, s.PID(), "command"
			} else if urls < len(p.PIDs) {
				t.pid = p.PIDs[urls]
			}
			urls++
			if err := checkListening(spec); err != nil {
				return out, err
			}
		}
		t.path = cmp.Or(spec.Path, p.Scenario.Mix.Path, load.DefaultPath)
		t.result.URL = "http://" + t.spec.Addr + t.path
	}
	return out, nil
}

// checkListening makes one connection to a URL target, so that a typo in
// a port is one clear line instead of a run full of refused connections.
func checkListening(spec TargetSpec) error {
	c, err := net.DialTimeout("tcp4", spec.Addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("target %s: nothing answers at %s: %w", spec.Name, spec.Addr, err)
	}
	c.Close()
	return nil
}

// runOne runs the scenario on one target for one round, watching for the
// server process to die under it.
func runOne(ctx context.Context, p Plan, mix load.Mix, round int, t *runTarget) {
	if p.OnEvent != nil {
		p.OnEvent(fmt.Sprintf("round %d/%d: %s, %v", round, p.Rounds, t.spec.Name, p.Duration))
	}
	target := load.Target{Name: t.spec.Name, Addr: t.spec.Addr, Path: t.path, PID: t.pid}
	if t.server != nil {
		target = load.TargetOf(t.server)
		target.Name = t.spec.Name
		target.Path = t.path
	}
	if t.spec.Path != "" {
		mix.Path = t.spec.Path // a URL's own path wins, as with wrk
	}
	run := report.Run{Round: round}
	var intervals []load.Interval
	l, err := load.Start(target, mix, load.Options{
		Interval: p.Interval,
		Timeout:  p.Timeout,
		OnInterval: func(iv load.Interval) {
			intervals = append(intervals, iv)
			if p.OnInterval != nil {
				p.OnInterval(t.spec.Name, round, iv)
			}
		},
	})
	if err != nil {
		// Only an invalid mix or no epoll set; Run validated the mix.
		if p.OnEvent != nil {
			p.OnEvent(fmt.Sprintf("%s: %v", t.spec.Name, err))
		}
		return
	}
	var died <-chan struct{}
	if t.server != nil {
		died = t.server.Done()
	}
	timer := time.NewTimer(p.Duration)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	case <-died:
	}
	run.Summary = l.Stop() // after Stop, no more OnInterval calls
	run.Intervals = intervals
	if t.server != nil {
		if crashed, at, msg := t.server.Crashed(); crashed {
			run.CrashedAt = max(at.Sub(l.Started()), time.Millisecond)
			run.CrashMsg = msg
			t.result.Crashed = true
			if p.OnEvent != nil {
				p.OnEvent(fmt.Sprintf("%s crashed at %v in round %d: %s", t.spec.Name, run.CrashedAt.Round(time.Millisecond), round, msg))
			}
		}
	}
	t.result.Runs = append(t.result.Runs, run)
	t.totals.Merge(l.Totals())
}

// events are the moments of a run the figures mark: the slow clients
// arriving, when the scenario holds them back.
func events(m load.Mix) []report.Event {
	if m.SlowStart <= 0 {
		return nil
	}
	var out []report.Event
	if m.Slowloris > 0 {
		out = append(out, report.Event{At: m.SlowStart, Label: "slowloris arrives"})
	}
	if m.SlowReaders > 0 {
		out = append(out, report.Event{At: m.SlowStart, Label: "slow reader arrives"})
	}
	return out
}
