package shutdown

import (
	"context"
	"testing"
	"time"
)

type loop struct{ drained, stopped int }

func (l *loop) Drain() { l.drained++ }
func (l *loop) Stop()  { l.stopped++ }

func TestShutdownBeforeServe(t *testing.T) {
	var s State
	released := 0
	for range 2 {
		if err := s.Shutdown(context.Background(), func() { t.Fatal("woken, but nothing serves") }, func() { released++ }); err != nil {
			t.Fatal(err)
		}
	}
	if released != 1 {
		t.Fatalf("released %d times, want once", released)
	}
	if ok, err := s.Serve("m"); ok || err != nil {
		t.Fatalf("Serve after Shutdown = %v, %v; want false, nil", ok, err)
	}
}

func TestServeTwice(t *testing.T) {
	var s State
	if ok, err := s.Serve("m"); !ok || err != nil {
		t.Fatalf("Serve = %v, %v; want true, nil", ok, err)
	}
	if ok, err := s.Serve("m"); ok || err == nil || err.Error() != "m: Serve called twice" {
		t.Fatalf("second Serve = %v, %v; want false and an error", ok, err)
	}
	if !s.Serving() {
		t.Fatal("Serving = false after Serve")
	}
}

// Shutdown drains; when its context ends first, it stops; each time the
// loops are woken and follow the phase.
func TestShutdownPhases(t *testing.T) {
	for _, patient := range []bool{true, false} {
		var s State
		var l loop
		s.Serve("m")
		ctx, cancel := context.WithCancel(context.Background())
		wake := func() {
			s.Follow(&l)
			switch {
			case s.Phase() == Draining && patient:
				s.Served() // the loops drained in time
			case s.Phase() == Draining:
				cancel() // they did not: Shutdown's context ends
			case s.Phase() == Stopping:
				s.Served()
			}
		}
		done := make(chan error, 1)
		go func() { done <- s.Shutdown(ctx, wake, func() { t.Error("released while serving") }) }()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Shutdown did not return")
		}
		cancel()
		want := loop{drained: 1}
		var wantErr error
		if !patient {
			want, wantErr = loop{drained: 2, stopped: 1}, context.Canceled
		}
		if l != want || err != wantErr {
			t.Errorf("patient=%v: loop %+v, err %v; want %+v, %v", patient, l, err, want, wantErr)
		}
	}
}
