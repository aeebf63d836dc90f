package tui

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"serverlab/bench"
	"serverlab/bench/load"
)

// live is the real Driver: the project's models as child processes, with
// a load.Load on each, whose intervals become the dashboard's frames.
//
// It is only the dashboard's face of the work: a supervisor
// (supervisor.go) owns the server processes and the loads, and live
// translates between the two. The dashboard's knobs become a load mix by
// the scenario's own rules (bench.Scenario.Turned, the same that bench's
// -c and -rate follow), and each interval becomes a Frame.
type live struct {
	cfg       LiveConfig
	scenarios []bench.Scenario
	frames    chan Frame
	sup       *supervisor

	mu       sync.Mutex // guards scenario and knobs
	scenario bench.Scenario
	knobs    Knobs
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

const (
	// rampLength is how long the overload ramp takes to reach its top
	// rate, which it then holds.
	rampLength = 60 * time.Second
	// frameBuffer is how many frames may wait for the dashboard: about
	// twenty seconds of three servers. Past that, frames are dropped,
	// never waited for: the load generator must not slow down because
	// the screen did.
	frameBuffer = 256
)

// NewLive starts the live driver: the models start in the background and
// their lifecycle shows in Status.
func NewLive(cfg LiveConfig) (Driver, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("no servers to run")
	}
	l := &live{
		cfg:       cfg,
		scenarios: bench.Scenarios(),
		frames:    make(chan Frame, frameBuffer),
	}
	l.scenario = l.scenarios[0]
	l.knobs = knobsOf(l.scenario)
	l.knobs.Paused = true
	l.sup = startSupervisor(cfg, l.forward, wantOf(l.scenario, l.knobs))
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

// Start implements Driver. The scenario takes effect at once, in the
// background; its server flags, if they differ, restart the servers.
func (l *live) Start(name string) (Knobs, error) {
	s, ok := bench.ScenarioByName(name)
	if !ok {
		return Knobs{}, fmt.Errorf("no scenario %q", name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := knobsOf(s)
	k.Paused, k.Mode = l.knobs.Paused, l.knobs.Mode
	l.scenario, l.knobs = s, k
	l.sup.want(wantOf(s, k))
	return k, nil
}

// Set implements Driver: the supervisor applies k in the background.
func (l *live) Set(k Knobs) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.knobs = k
	l.sup.want(wantOf(l.scenario, k))
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
func (l *live) Status(i int) Status { return l.sup.status(i) }

// Restart implements Driver; a server it did not start cannot be restarted.
func (l *live) Restart(i int) error {
	if l.cfg.Targets[i].Model == "" {
		return fmt.Errorf("%s was not started here", l.cfg.Targets[i].Name)
	}
	l.sup.restart(i)
	return nil
}

// Notice implements Driver.
func (l *live) Notice() string { return l.sup.notice() }

// Close stops every load, then every server, and waits for both.
func (l *live) Close() error {
	l.sup.close()
	return nil
}

// knobsOf reads a scenario's mix as the dashboard's knobs.
func knobsOf(s bench.Scenario) Knobs {
	k := s.Knobs()
	return Knobs{Clients: k.Clients, Rate: int(k.Rate), Ramp: k.Ramp, Slow: k.Slow, Idle: k.Idle}
}

// wantOf is what the supervisor must make true for scenario s with the
// knobs at k.
func wantOf(s bench.Scenario, k Knobs) want {
	bk := bench.Knobs{Clients: k.Clients, Slow: k.Slow, Idle: k.Idle, Rate: float64(k.Rate), Ramp: k.Ramp}
	return want{
		serverArgs: s.ServerArgs,
		mix:        s.Turned(bk, rampLength),
		paused:     k.Paused,
		oneAtATime: k.Mode == OneAtATime,
	}
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

// frameOf turns a load interval into a dashboard frame.
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
