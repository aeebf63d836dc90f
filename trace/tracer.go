package trace

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultQueue is how many events may wait for the writer before new ones
// are dropped: enough for a few hundred requests' worth of steps, so that a
// reader that is only a little slow loses nothing.
const DefaultQueue = 4096

// Tracer is where a model reports its steps. A model holds a *Tracer that
// is nil when nobody asked for a trace, so that every hook costs one nil
// check; and, when one is listening but has paused the trace, one more
// atomic load (On). Reporting never blocks: an event that finds the queue
// full is dropped and counted (see Emit).
//
// A Tracer may be shared by goroutines, except for its turn counter: Turn
// belongs to the one goroutine that owns the Tracer Loop returned.
type Tracer struct {
	*sink
	loop int
	turn uint64    // this loop's turns, counted from 1
	woke time.Time // when this turn began: epoll_wait's sleep starts here
}

// sink is what every view of one Tracer shares: the queue, the switches,
// and the gate slow motion holds the server at.
type sink struct {
	queue chan Event
	drops atomic.Uint64
	on    atomic.Bool
	conns atomic.Uint64 // connection numbers given out
	steps atomic.Uint64 // Begin's system calls, counted from 1
	gate  gate
}

// New makes a Tracer with room for queue events waiting (DefaultQueue if
// queue <= 0), off: it reports nothing until Start.
func New(queue int) *Tracer {
	if queue <= 0 {
		queue = DefaultQueue
	}
	s := &sink{queue: make(chan Event, queue)}
	s.gate.wake = make(chan struct{})
	return &Tracer{sink: s}
}

// Loop is a view of t for one event loop, numbered id, with its own turn
// counter. Nil if t is nil.
func (t *Tracer) Loop(id int) *Tracer {
	if t == nil {
		return nil
	}
	return &Tracer{sink: t.sink, loop: id}
}

// On reports whether steps are being traced. Hooks that must compute
// something to report (a string, a location) test it first.
func (t *Tracer) On() bool {
	return t != nil && t.on.Load()
}

// Start turns tracing on, and says so in the trace.
func (t *Tracer) Start() {
	if !t.on.Swap(true) {
		t.put(Event{Time: time.Now(), Kind: On})
	}
}

// Stop turns tracing off (and lets a held server run).
func (t *Tracer) Stop() {
	t.Free()
	t.on.Store(false)
}

// Conn gives a new connection its number, 1, 2, 3, ... (0 if t is nil).
func (t *Tracer) Conn() uint64 {
	if t == nil {
		return 0
	}
	return t.conns.Add(1)
}

// Emit reports ev, if tracing is on. It fills in the time, the loop and
// its turn, and where in the source Emit was called from (see caller); it
// never blocks: if the queue is full, ev is dropped and counted.
func (t *Tracer) Emit(ev Event) {
	if !t.On() {
		return
	}
	if len(t.queue) == cap(t.queue) {
		// Full: drop it now, before paying for its location.
		t.drops.Add(1)
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Loop, ev.Turn = t.loop, t.turn
	ev.Tid = unix.Gettid()
	ev.Func, ev.Where = caller()
	t.put(ev)
}

// put queues ev, or drops it when the queue is full: the writer has fallen
// behind, and the server must not wait for it.
func (s *sink) put(ev Event) {
	select {
	case s.queue <- ev:
	default:
		s.drops.Add(1)
	}
}

// Drops is how many events have been dropped so far and not yet reported
// in the trace as a Drop event.
func (t *Tracer) Drops() uint64 { return t.drops.Load() }

// Turn marks the start of the loop's next turn: it counts it, holds the
// loop here in slow motion until released, and notes the time, so that
// Wait can tell how long the poller then slept.
func (t *Tracer) Turn() {
	if t != nil {
		t.nextTurn()
	}
}

func (t *Tracer) nextTurn() {
	t.turn++
	if t.gate.held.Load() {
		t.hold("turn", t.turn)
	}
	if t.on.Load() {
		t.woke = time.Now()
	}
}

// Accepted reports an accept (call: "accept4", "listener.Accept"): the new
// connection's descriptor, or the error, and how long the server waited
// for it since began (from Begin).
func (t *Tracer) Accepted(call string, fd int, err error, began time.Time) {
	if t != nil && t.on.Load() {
		t.Emit(Event{Kind: Call, Call: call, N: int64(fd), Err: Errno(err), Took: Since(began)})
	}
}

// Since is how long ago began was, or 0 if began is zero (Begin's answer
// when tracing is off).
func Since(began time.Time) time.Duration {
	if began.IsZero() {
		return 0
	}
	return time.Since(began)
}

// Wait reports the poller's wait that began this turn (epoll_wait, poll,
// io_uring_enter): how many descriptors or completions were ready, and how
// long it slept since Turn.
func (t *Tracer) Wait(call string, ready int, err error) {
	if t != nil && t.on.Load() {
		t.wait(call, ready, err)
	}
}

func (t *Tracer) wait(call string, ready int, err error) {
	ev := Event{Time: time.Now(), Kind: Call, Call: call, N: int64(ready), Err: Errno(err)}
	if !t.woke.IsZero() {
		ev.Took = ev.Time.Sub(t.woke)
	}
	t.Emit(ev)
}

// Begin is called just before a blocking system call: it holds the
// server there in slow motion, one system call per step, and returns the
// time the call begins (zero when tracing is off), for Event.Took.
func (t *Tracer) Begin() time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.begin()
}

func (t *Tracer) begin() time.Time {
	n := t.steps.Add(1)
	if t.gate.held.Load() {
		t.hold("system call", n)
	}
	if !t.on.Load() {
		return time.Time{}
	}
	return time.Now()
}

// hold stops the calling goroutine until the gate lets it through.
func (t *Tracer) hold(unit string, n uint64) {
	t.put(Event{Time: time.Now(), Kind: Hold, Loop: t.loop, Turn: t.turn, N: int64(n), Text: unit})
	t.gate.pass()
}

// Hold puts the server in slow motion: from its next turn (or, in the
// blocking model, its next system call), it waits for Step before each.
func (t *Tracer) Hold() { t.gate.set(true) }

// Step lets a held server take one more turn (or system call).
func (t *Tracer) Step() { t.gate.step() }

// Free ends slow motion: the server runs on without waiting.
func (t *Tracer) Free() {
	if t.gate.set(false) {
		t.put(Event{Time: time.Now(), Kind: Run})
	}
}

// Held reports whether the server is in slow motion.
func (t *Tracer) Held() bool { return t != nil && t.gate.held.Load() }

// gate is slow motion: while held, each goroutine that reaches it waits
// for a permit, one per Step. held is read on every turn without the lock;
// the rest changes only under mu, and every change wakes the waiters by
// closing wake (and making a new one), so that any number of loops can
// wait at once.
type gate struct {
	held    atomic.Bool
	mu      sync.Mutex
	permits int
	wake    chan struct{}
}

// set holds or frees the gate, and reports whether that changed anything.
func (g *gate) set(held bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	changed := g.held.Load() != held
	g.held.Store(held)
	g.permits = 0
	g.broadcast()
	return changed
}

func (g *gate) step() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held.Load() {
		g.permits++
		g.broadcast()
	}
}

func (g *gate) broadcast() {
	close(g.wake)
	g.wake = make(chan struct{})
}

// pass waits until the gate is free or has a permit, and takes the permit.
func (g *gate) pass() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.held.Load() && g.permits == 0 {
		wake := g.wake
		g.mu.Unlock()
		<-wake
		g.mu.Lock()
	}
	if g.held.Load() {
		g.permits--
	}
}

// caller finds where the model reported from: the first frame outside this
// package and outside any function or type whose name begins with "trace",
// or method whose name begins with "Trace", so that a model may wrap its
// hooks in small helpers (traceCall, say, a tracedSocket, or the Session's
// TraceRequest) and still have its events point at the step that called
// them.
func caller() (fn, where string) {
	var pcs [8]uintptr
	n := runtime.Callers(3, pcs[:]) // skip Callers, caller, Emit
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		pkg, name := splitFunc(f.Function)
		if pkg != "serverlab/trace" && !strings.HasPrefix(strings.TrimLeft(name, "(*"), "trace") &&
			!strings.Contains(name, ".trace") && !strings.Contains(name, ").Trace") {
			return name, sourcePath(f.File, f.Line)
		}
		if !more {
			return "", ""
		}
	}
}

// splitFunc splits "serverlab/evloop.(*loop).readRequest" into
// "serverlab/evloop" and "(*loop).readRequest".
func splitFunc(full string) (pkg, name string) {
	slash := strings.LastIndexByte(full, '/')
	dot := strings.IndexByte(full[slash+1:], '.')
	if dot < 0 {
		return full, ""
	}
	return full[:slash+1+dot], full[slash+2+dot:]
}

// sourcePath keeps the last two elements of a source path, the package's
// folder and the file ("evloop/conn.go"), and the line.
func sourcePath(file string, line int) string {
	if i := strings.LastIndexByte(file, '/'); i > 0 {
		if j := strings.LastIndexByte(file[:i], '/'); j >= 0 {
			file = file[j+1:]
		}
	}
	return file + ":" + strconv.Itoa(line)
}
