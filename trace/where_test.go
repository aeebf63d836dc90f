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
	r := serve(t, tr)
	tr.Turn()
	tr.Turn()
	before := time.Now()
	traceHelper(tr)
	ev := next(t, r, trace.Call)
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
	r := serve(t, tr)
	(&core{}).TraceStep(tr)
	if ev := next(t, r, trace.Request); ev.Func != "TestEmitSkipsTraceMethods" {
		t.Errorf("location %q %q, want this test's line", ev.Func, ev.Where)
	}
}

type core struct{}

func (*core) TraceStep(tr *trace.Tracer) { tr.Emit(trace.Event{Kind: trace.Request}) }

// serve starts tr serving its events to the reader it returns, as a server
// serves the parent that traces it.
func serve(t *testing.T, tr *trace.Tracer) *trace.Remote {
	t.Helper()
	r, child, err := trace.Pair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() {
		tr.Serve(child)
		child.Close()
	}()
	tr.Start()
	return r
}

// next reads r up to the first event of kind.
func next(t *testing.T, r *trace.Remote, kind trace.Kind) trace.Event {
	t.Helper()
	for {
		r.SetReadDeadline(time.Now().Add(5 * time.Second))
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == kind {
			return ev
		}
	}
}
