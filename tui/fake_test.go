package tui

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// fakeDriver is a Driver with canned data: the frames it is given, and a
// record of every call the model makes, so tests can assert that a key
// press reached the load generator.
type fakeDriver struct {
	mu        sync.Mutex
	targets   []string
	scenarios []Scenario
	statuses  []Status
	pending   []Frame

	started  []string // scenario names passed to Start, in order
	sets     []Knobs  // every Set, in order
	restarts []int
	closed   bool
}

// epoch is the fixed clock of the tests: the views print elapsed times,
// and golden files must not depend on when the test ran.
var epoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// threeModels and fourModels are the fakes' targets: the models of today,
// and with the io_uring model that is to join them.
var (
	threeModels = []string{"blocking", "threaded", "evloop"}
	fourModels  = []string{"blocking", "threaded", "evloop", "uring"}
)

func newFakeDriver() *fakeDriver { return newFakeDriverOf(threeModels) }

// newFakeDriverOf is a fake driver over the named targets, every one
// listening. Each scenario's lesson is long enough to wrap on an
// 80-column terminal, as the real ones do.
func newFakeDriverOf(names []string) *fakeDriver {
	d := &fakeDriver{targets: names}
	for _, n := range []string{"baseline", "crowd", "slow-client", "c10k", "big-files", "slow-reader", "churn", "overload", "slow-disk"} {
		d.scenarios = append(d.scenarios, Scenario{
			Name:  n,
			Shows: fmt.Sprintf("What %s shows: a paragraph about it. It has a second sentence too.", n),
			Lesson: fmt.Sprintf("The charts while %s runs: this is the lesson line, long enough "+
				"to need a second line on an eighty-column terminal.", n),
		})
	}
	for i := range d.targets {
		d.statuses = append(d.statuses, Status{State: Listening, Addr: fmt.Sprintf("127.0.0.1:%d", 40001+i), Driving: true})
	}
	return d
}

func (d *fakeDriver) Targets() []string     { return d.targets }
func (d *fakeDriver) Scenarios() []Scenario { return d.scenarios }

// scenarioKnobs mirrors what the real scenarios start with.
var scenarioKnobs = map[string]Knobs{
	"baseline":    {Clients: 1},
	"crowd":       {Clients: 100},
	"slow-client": {Clients: 20, Slow: 1},
	"c10k":        {Clients: 20, Idle: 10000},
	"overload":    {Rate: 1000},
}

func (d *fakeDriver) Start(name string) (Knobs, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.scenarios {
		if s.Name == name {
			d.started = append(d.started, name)
			k, ok := scenarioKnobs[name]
			if !ok {
				k = Knobs{Clients: 10}
			}
			return k, nil
		}
	}
	return Knobs{}, fmt.Errorf("no scenario %q", name)
}

func (d *fakeDriver) Set(k Knobs) {
	d.mu.Lock()
	d.sets = append(d.sets, k)
	d.mu.Unlock()
}

func (d *fakeDriver) Drain(dst []Frame) []Frame {
	d.mu.Lock()
	defer d.mu.Unlock()
	dst = append(dst, d.pending...)
	d.pending = d.pending[:0]
	return dst
}

func (d *fakeDriver) Status(i int) Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.statuses[i]
}

func (d *fakeDriver) setStatus(i int, s Status) {
	d.mu.Lock()
	d.statuses[i] = s
	d.mu.Unlock()
}

func (d *fakeDriver) Restart(i int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.restarts = append(d.restarts, i)
	d.statuses[i].State = Starting
	return nil
}

func (d *fakeDriver) Close() error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	return nil
}

func (d *fakeDriver) push(fs ...Frame) {
	d.mu.Lock()
	d.pending = append(d.pending, fs...)
	d.mu.Unlock()
}

// drained reports that the model has taken every frame pushed so far.
func (d *fakeDriver) drained() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending) == 0
}

func (d *fakeDriver) lastSet() Knobs {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.sets) == 0 {
		return Knobs{}
	}
	return d.sets[len(d.sets)-1]
}

// slowClientFrames is n intervals of the slow-client picture for three
// servers: blocking's latency climbs in steps while the other two stay
// flat. Everything is a function of the interval number, so the frames are
// the same every run.
func slowClientFrames(n int) []Frame { return slowClientFramesOf(n, 3) }

// slowClientFramesOf is the same for k servers: the first is blocking,
// the others alike but for their threads, memory and, from the fourth on,
// a lower p99 (the io_uring model's place in the picture).
func slowClientFramesOf(n, k int) []Frame {
	var out []Frame
	for i := range n {
		at := epoch.Add(time.Duration(i+1) * 250 * time.Millisecond)
		wave := math.Sin(float64(i) / 5)
		for t := range k {
			f := Frame{
				Target: t, At: at, Interval: 250 * time.Millisecond,
				Requests: 2500, Bytes: 2500 * 1100,
				P50: 80 * time.Microsecond, P99: time.Duration(300+40*wave) * time.Microsecond, Max: 2 * time.Millisecond,
				InFlight: 20, Conns: 21,
				HasServer: true, ServerOpen: 21, ServerInFlight: 2,
				HasProc: true, RSS: 9 << 20, Threads: 6, CPU: 95,
			}
			if t == 0 {
				f.Requests = 5 + int64(i%3)
				f.P50 = time.Duration(200+i*10) * time.Millisecond
				f.P99 = time.Duration(400+i*20) * time.Millisecond
				f.Max = f.P99 + 50*time.Millisecond
				f.ServerInFlight, f.ServerOpen, f.Threads, f.RSS, f.CPU = 1, 1, 4, 6<<20, 1
				if i%7 == 3 {
					f.Errors = []ErrorCount{{Kind: "timeout", N: 2}}
				}
			}
			if t == 2 {
				f.Threads, f.RSS = 5, 7<<20
			}
			if t >= 3 {
				f.Threads, f.RSS, f.Requests = 3, 5<<20, 3000
				f.P99 = time.Duration(200+30*wave) * time.Microsecond
			}
			f.Bytes = f.Requests * 1100
			out = append(out, f)
		}
	}
	return out
}

func (d *fakeDriver) Notice() string { return "" }
