package trace_test

import (
	"strings"
	"testing"
	"time"

	"serverlab/trace"
)

// Outside the package, as a model is: an event points at the model's line,
// even through a helper of the model's named trace-something.
func TestEmitFillsTimeTurnAndWhere(t *testing.T) {
	tr := trace.New(8).Loop(2)
	r, child, err := trace.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		tr.Serve(child)
		child.Close()
	}()
	tr.Start()
	tr.Turn()
	tr.Turn()
	before := time.Now()
	traceHelper(tr)
	var ev trace.Event
	for ev.Kind != trace.Call {
		r.SetReadDeadline(time.Now().Add(5 * time.Second))
		if ev, err = r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if ev.Loop != 2 || ev.Turn != 2 || ev.Time.Before(before) {
		t.Errorf("loop %d turn %d time %v, want loop 2, turn 2, after %v", ev.Loop, ev.Turn, ev.Time, before)
	}
	if ev.Func != "TestEmitFillsTimeTurnAndWhere" || !strings.HasPrefix(ev.Where, "trace/where_test.go:") {
		t.Errorf("location %q %q, want this test's line", ev.Func, ev.Where)
	}
}

func traceHelper(tr *trace.Tracer) { tr.Emit(trace.Event{Kind: trace.Call, Call: "read"}) }

// The same through a method named Trace-something on another type, as the
// core's Session reports the request and answer it decided for the model.
func TestEmitSkipsTraceMethods(t *testing.T) {
	tr := trace.New(8)
	r, child, err := trace.Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		tr.Serve(child)
		child.Close()
	}()
	tr.Start()
	(&core{}).TraceStep(tr)
	var ev trace.Event
	for ev.Kind != trace.Request {
		r.SetReadDeadline(time.Now().Add(5 * time.Second))
		if ev, err = r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if ev.Func != "TestEmitSkipsTraceMethods" {
		t.Errorf("location %q %q, want this test's line", ev.Func, ev.Where)
	}
}

type core struct{}

func (*core) TraceStep(tr *trace.Tracer) { tr.Emit(trace.Event{Kind: trace.Request}) }
