package trace

import (
	"testing"
	"time"
)

// drain takes what is queued, without the wire.
func drain(tr *Tracer) []Event {
	var evs []Event
	for {
		select {
		case ev := <-tr.queue:
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

func TestNilTracerIsOff(t *testing.T) {
	var tr *Tracer
	if tr.On() || tr.Held() || tr.Conn() != 0 || tr.Loop(1) != nil || !tr.Begin().IsZero() {
		t.Fatal("a nil Tracer must be off, unheld, and give nothing")
	}
	tr.Turn()
	tr.Wait("epoll_wait", 1, nil)
	tr.Emit(Event{Kind: Call}) // no panic is the test
}

func TestOffReportsNothing(t *testing.T) {
	tr := New(8)
	tr.Emit(Event{Kind: Call, Call: "read"})
	tr.Turn()
	tr.Wait("epoll_wait", 1, nil)
	if evs := drain(tr); len(evs) != 0 {
		t.Fatalf("off, yet queued %v", evs)
	}
	tr.Start()
	tr.Emit(Event{Kind: Call, Call: "read"})
	evs := drain(tr)
	if len(evs) != 2 || evs[0].Kind != On || evs[1].Call != "read" {
		t.Fatalf("after Start: %+v, want On then the read", evs)
	}
}

func TestWaitTimesTheSleep(t *testing.T) {
	tr := New(8)
	tr.Start()
	tr.Turn()
	time.Sleep(2 * time.Millisecond)
	tr.Wait("epoll_wait", 3, nil)
	evs := drain(tr)
	ev := evs[len(evs)-1]
	if ev.Call != "epoll_wait" || ev.N != 3 || ev.Took < 2*time.Millisecond || ev.Turn != 1 {
		t.Errorf("%+v: want epoll_wait, 3 ready, slept at least 2ms, turn 1", ev)
	}
}

// The queue is bounded and Emit never waits: with nobody taking events,
// the surplus is dropped and counted, one for one.
func TestFullQueueDrops(t *testing.T) {
	tr := New(16)
	tr.Start() // the On event takes one place
	for range 100 {
		tr.Emit(Event{Kind: Call, Call: "read"})
	}
	if got := tr.Drops(); got != 100-15 {
		t.Errorf("Drops = %d, want %d", got, 100-15)
	}
}

func TestHoldStepFree(t *testing.T) {
	tr := New(64)
	tr.Start()
	tr.Hold()
	turns := make(chan uint64)
	go func() {
		for range 3 {
			tr.Turn()
			turns <- tr.turn
		}
		close(turns)
	}()
	// Held: no turn goes by until a step.
	waitHold(t, tr, 1)
	select {
	case n := <-turns:
		t.Fatalf("turn %d ran while held", n)
	case <-time.After(20 * time.Millisecond):
	}
	tr.Step()
	if n := <-turns; n != 1 {
		t.Fatalf("after one step: turn %d, want 1", n)
	}
	waitHold(t, tr, 2)
	tr.Free() // free runs everything left
	for n := range turns {
		if n != 2 && n != 3 {
			t.Errorf("turn %d after Free", n)
		}
	}
	if tr.Held() {
		t.Error("still held after Free")
	}
}

// waitHold waits for the Hold event before turn n.
func waitHold(t *testing.T, tr *Tracer, n int64) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-tr.queue:
			if ev.Kind == Hold && ev.N == n && ev.Text == "turn" {
				return
			}
		case <-deadline:
			t.Fatalf("no hold before turn %d", n)
		}
	}
}

// Begin is the blocking model's step: one system call.
func TestBeginHoldsPerCall(t *testing.T) {
	tr := New(64)
	tr.Start()
	tr.Hold()
	began := make(chan time.Time)
	go func() { began <- tr.Begin() }()
	for ev := range tr.queue {
		if ev.Kind == Hold {
			if ev.Text != "system call" || ev.N != 1 {
				t.Fatalf("hold %+v, want before system call 1", ev)
			}
			break
		}
	}
	tr.Step()
	if at := <-began; at.IsZero() {
		t.Error("Begin gave no time while tracing")
	}
}

func TestConnNumbers(t *testing.T) {
	tr := New(1)
	a, b := tr.Conn(), tr.Loop(1).Conn()
	if a != 1 || b != 2 {
		t.Errorf("conns %d, %d: want 1, 2, shared by every loop", a, b)
	}
}

// What a hook costs when nobody traces: the model's *Tracer is nil, and
// every hook is a nil check the compiler inlines. Compare the first with
// the second (a listener is attached but has paused the trace: one more
// load) and the third (tracing, with nobody reading: the queue is full, so
// each event is built and dropped).
func BenchmarkHook(b *testing.B) {
	hooks := func(b *testing.B, tr *Tracer) {
		for i := range b.N {
			tr.Turn()
			tr.Wait("epoll_wait", 1, nil)
			if tr.On() {
				tr.Emit(Event{Kind: Call, Call: "read", N: int64(i)})
			}
		}
	}
	b.Run("nil", func(b *testing.B) { hooks(b, nil) })
	b.Run("paused", func(b *testing.B) { hooks(b, New(16)) })
	b.Run("on-dropping", func(b *testing.B) {
		tr := New(16)
		tr.Start()
		hooks(b, tr)
	})
}
