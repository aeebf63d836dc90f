package tui

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"serverlab/trace"
)

// tracingFake is the fake driver with a trace: a pretend event loop that,
// once held, reports one turn's events per Step and then waits before the
// next turn, as the real one does.
type tracingFake struct {
	*fakeDriver
	mu      sync.Mutex
	on      map[int]bool
	held    map[int]bool
	turn    int64
	pending []trace.Event
	calls   []string // every Trace/Hold/Step, in order
}

func newTracingFake() *tracingFake {
	return &tracingFake{fakeDriver: newFakeDriver(), on: map[int]bool{}, held: map[int]bool{}, turn: 6}
}

func (d *tracingFake) Trace(i int, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, fmt.Sprintf("trace %d %v", i, on))
	d.on[i] = on
	if on {
		d.pending = append(d.pending, trace.Event{Time: epoch, Kind: trace.On})
		d.turnEvents()
	} else {
		d.held[i] = false
	}
}

func (d *tracingFake) Hold(i int, held bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, fmt.Sprintf("hold %d %v", i, held))
	d.held[i] = held
	if held {
		d.turn++
		d.pending = append(d.pending, trace.Event{Time: epoch, Kind: trace.Hold, Turn: uint64(d.turn), N: d.turn, Text: "turn"})
	}
}

func (d *tracingFake) Step(i int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, fmt.Sprintf("step %d", i))
	d.turnEvents()
	d.turn++
	d.pending = append(d.pending, trace.Event{Time: epoch, Kind: trace.Hold, Turn: uint64(d.turn), N: d.turn, Text: "turn"})
}

// turnEvents is one turn of the pretend loop. d.mu is held.
func (d *tracingFake) turnEvents() {
	at := epoch.Add(time.Duration(d.turn) * time.Millisecond)
	tu := uint64(d.turn)
	d.pending = append(d.pending,
		trace.Event{Time: at, Kind: trace.Call, Turn: tu, Call: "epoll_wait", N: 1, Func: "(*loop).run", Where: "evloop/loop.go:113"},
		trace.Event{Time: at, Kind: trace.Call, Turn: tu, Conn: 1, Fd: 7, Call: "read", N: 41, Func: "(*loop).readRequest", Where: "evloop/conn.go:250"},
		trace.Event{Time: at, Kind: trace.Request, Turn: tu, Conn: 1, Fd: 7, Text: "GET /1k.bin HTTP/1.1", N: 200, Func: "(*loop).readRequest", Where: "evloop/conn.go:230"},
	)
}

func (d *tracingFake) TraceDrain(i int, dst []trace.Event) ([]trace.Event, int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dst = append(dst, d.pending...)
	d.pending = d.pending[:0]
	return dst, 0
}

func (d *tracingFake) callLog() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.calls...)
}

func newTraceTest(t *testing.T) (*Model, *tracingFake) {
	t.Helper()
	d := newTracingFake()
	m, err := New(d, Options{Scenario: "baseline", Now: func() time.Time { return epoch }, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return m, d
}

// `t` opens the pane on the focused server; `.` holds it, then each press
// advances exactly one turn; `t` again closes the pane and frees the loop.
func TestTracePaneSlowMotion(t *testing.T) {
	m, d := newTraceTest(t)
	m.focus = 2 // evloop
	tm := runTest(t, m, 160, 45)
	tm.Type("t")
	waitForScreen(t, tm, "trace · evloop", "read → 41 bytes", "(*loop).readRequest evloop/conn.go:250")
	tm.Type(".")
	waitForScreen(t, tm, "slow motion · turn 7", "Held on purpose")
	tm.Type(".")
	waitForScreen(t, tm, "slow motion · turn 8")
	tm.Type(".")
	waitForScreen(t, tm, "slow motion · turn 9")
	tm.Type("t")
	final := finish(t, tm)
	if final.trace.open {
		t.Error("the pane is still open after the second t")
	}
	want := []string{"trace 2 true", "hold 2 true", "step 2", "step 2", "trace 2 false"}
	if got := d.callLog(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("driver calls %q, want %q", got, want)
	}
}

// A new scenario runs free: slow motion ends with the old one.
func TestTraceScenarioChangeRunsFree(t *testing.T) {
	m, d := newTraceTest(t)
	m.focus = 2
	m.toggleTrace()
	m.stepTrace()
	m.pollTrace()
	if m.start(1, false) != nil {
		t.Fatal("start crowd")
	}
	calls := d.callLog()
	if last := calls[len(calls)-1]; last != "hold 2 false" {
		t.Errorf("after a new scenario the last call is %q, want hold 2 false", last)
	}
	if m.trace.held {
		t.Error("still held after a new scenario")
	}
}

// threaded has no loop to hold: `.` says so, and holds nothing.
func TestTraceNoSlowMotionForThreaded(t *testing.T) {
	m, d := newTraceTest(t)
	m.focus = 1
	tm := runTest(t, m, 160, 45)
	tm.Type("t")
	waitForScreen(t, tm, "trace · threaded")
	tm.Type(".")
	waitForScreen(t, tm, "no slow motion for threaded")
	finish(t, tm)
	for _, c := range d.callLog() {
		if strings.HasPrefix(c, "hold") {
			t.Errorf("threaded was held: %v", d.callLog())
		}
	}
}

// The live dashboard, in a real terminal: `t` shows evloop's real steps
// with their source lines, and each `.` moves the held loop one turn on.
func TestEndToEndSlowMotion(t *testing.T) {
	bin := e2eBinary(t)
	p := newPane(t, 160, 45, bin+" tui -scenario baseline; echo TUI-EXIT=$?; sleep 60")
	p.waitScreen("the servers to listen", 30*time.Second, func(s string) bool {
		return strings.Count(s, "● UP") == 3
	})
	// Focus evloop, the third server, and open its trace.
	p.tmux("send-keys", "-t", "e2e", "Tab", "Tab")
	p.waitScreen("evloop focused", 10*time.Second, func(s string) bool { return strings.Contains(s, "▶ evloop  ●") })
	p.tmux("send-keys", "-t", "e2e", "t")
	p.waitScreen("evloop's steps in the pane", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "trace · evloop") && strings.Contains(s, "evloop/conn.go:")
	})
	turnRe := regexp.MustCompile(`slow motion · turn (\d+)`)
	turnOf := func(s string) int {
		m := turnRe.FindStringSubmatch(s)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	p.tmux("send-keys", "-t", "e2e", ".")
	s := p.waitScreen("slow motion", 20*time.Second, func(s string) bool { return turnOf(s) > 0 })
	n := turnOf(s)
	if !strings.Contains(s, "Held on purpose") {
		t.Errorf("the screen does not say the loop is held on purpose:\n%s", s)
	}
	for range 2 {
		p.tmux("send-keys", "-t", "e2e", ".")
		s = p.waitScreen(fmt.Sprintf("turn %d", n+1), 20*time.Second, func(s string) bool { return turnOf(s) != n })
		if got := turnOf(s); got != n+1 {
			t.Fatalf("one press moved the loop from turn %d to %d, want %d:\n%s", n, got, n+1, s)
		}
		n++
	}
	t.Logf("slow motion:\n%s", s)
	p.tmux("send-keys", "-t", "e2e", "q")
	p.waitScreen("the dashboard to exit", 20*time.Second, func(s string) bool { return strings.Contains(s, "TUI-EXIT=") })
	if s := p.screen(); !strings.Contains(s, "TUI-EXIT=0") {
		t.Errorf("dashboard exit status not 0:\n%s", s)
	}
}
