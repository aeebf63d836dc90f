package trace

import (
	"errors"
	"io"
	"runtime"
	"testing"
	"time"
)

// serve runs tr.Serve over a fresh pair and returns the parent's end.
func serve(t *testing.T, tr *Tracer) (*Remote, <-chan error) {
	t.Helper()
	r, child, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- tr.Serve(child)
		child.Close()
	}()
	t.Cleanup(func() { r.Close() })
	return r, done
}

func next(t *testing.T, r *Remote) Event {
	t.Helper()
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	ev, err := r.Next()
	if err != nil {
		t.Fatalf("next event: %v", err)
	}
	return ev
}

func TestWireCommandsAndEvents(t *testing.T) {
	tr := New(64)
	r, done := serve(t, tr)
	if err := r.Send(CmdStart); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, r); ev.Kind != On {
		t.Fatalf("first event %+v, want On", ev)
	}
	tr.Emit(Event{Kind: Request, Conn: 1, Fd: 7, Text: "GET / HTTP/1.1"})
	if ev := next(t, r); ev.Kind != Request || ev.Text != "GET / HTTP/1.1" || ev.Conn != 1 || ev.Where == "" {
		t.Fatalf("got %+v", ev)
	}
	r.Send(CmdHold)
	go func() {
		for !tr.Held() { // the command is on its way
			runtime.Gosched()
		}
		tr.Turn()
	}()
	if ev := next(t, r); ev.Kind != Hold || ev.N != 1 {
		t.Fatalf("got %+v, want a hold before turn 1", ev)
	}
	r.Send(CmdFree)
	if ev := next(t, r); ev.Kind != Run {
		t.Fatalf("got %+v, want Run", ev)
	}
	// The parent going away ends tracing and Serve.
	r.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if tr.On() {
		t.Error("still tracing after the parent left")
	}
}

func TestWireUnknownCommand(t *testing.T) {
	r, done := serve(t, New(8))
	r.Send("dance")
	if err := <-done; err == nil {
		t.Fatal("Serve accepted an unknown command")
	}
}

// A parent that reads nothing cannot slow the server: every Emit returns,
// the surplus is dropped, and when the parent reads at last, the events it
// gets plus the drops it is told of add up to every event emitted.
func TestSlowReaderNeverBlocks(t *testing.T) {
	tr := New(256)
	r, _ := serve(t, tr)
	r.Send(CmdStart)
	if ev := next(t, r); ev.Kind != On {
		t.Fatalf("got %+v, want On", ev)
	}
	// Far more than the queue and the socket buffers hold.
	const emitted = 200_000
	finished := make(chan struct{})
	go func() {
		for i := range emitted {
			tr.Emit(Event{Kind: Call, Call: "read", N: int64(i), Text: "some bytes to fill the socket's buffers"})
		}
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(60 * time.Second):
		t.Fatal("Emit blocked behind a reader that reads nothing")
	}
	// Now read it all.
	var got, dropped int64
	last := int64(-1)
	for got+dropped < emitted {
		ev := next(t, r)
		switch ev.Kind {
		case Drop:
			dropped += ev.N
		case Call:
			if ev.N <= last {
				t.Fatalf("event %d after %d: out of order", ev.N, last)
			}
			last = ev.N
			got++
		}
	}
	if dropped == 0 {
		t.Error("nothing dropped: the test did not fill the queue")
	}
	if got+dropped != emitted {
		t.Errorf("%d events + %d dropped, want %d", got, dropped, emitted)
	}
	t.Logf("%d events delivered, %d dropped and counted", got, dropped)
}

func TestPairEOF(t *testing.T) {
	r, child, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	child.Close()
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the child closed: %v, want EOF", err)
	}
	r.Close()
}
