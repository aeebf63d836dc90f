package timers

import (
	"slices"
	"testing"
	"time"

	"serverlab/servers"
)

// A Session with no request under way waits under the idle limit: its
// deadline is the idle limit from when it started, or went idle.
func newSession(t *testing.T, idle time.Duration, start time.Time) *servers.Session {
	t.Helper()
	cfg := &servers.Config{Limits: servers.Limits{IdleTimeout: idle}, Stats: &servers.Stats{}}
	s := servers.NewSession(cfg)
	s.Start(start)
	if d := s.Deadline(); !d.Equal(start.Add(idle)) {
		t.Fatalf("Deadline = %v, want the idle limit from the start, %v", d, start.Add(idle))
	}
	return s
}

type owner struct {
	name  string
	timer Timer[*owner]
}

func due(h *Heap[*owner], now time.Time) []string {
	var names []string
	for o := range h.Expired(now) {
		names = append(names, o.name)
	}
	return names
}

func TestDueInAlarmOrder(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var h Heap[*owner]
	a, b, c := &owner{name: "a"}, &owner{name: "b"}, &owner{name: "c"}
	h.Set(&b.timer, b, newSession(t, 2*time.Second, t0))
	h.Set(&a.timer, a, newSession(t, 1*time.Second, t0))
	h.Set(&c.timer, c, newSession(t, 3*time.Second, t0))
	if got, want := h.Next(), t0.Add(time.Second); !got.Equal(want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
	if got := due(&h, t0.Add(500*time.Millisecond)); len(got) != 0 {
		t.Fatalf("due before any alarm: %v", got)
	}
	if got := due(&h, t0.Add(2*time.Second)); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("due at 2s: %v, want [a b]", got)
	}
	if got := due(&h, t0.Add(10*time.Second)); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("due at 10s: %v, want [c]", got)
	}
	if !h.Next().IsZero() {
		t.Fatalf("Next = %v after all rang, want zero", h.Next())
	}
}

// A deadline moved later costs no heap work: the alarm rings at the old
// time, the Session is asked again, and the timer is re-filed, not yielded.
func TestLaterDeadlineRefiles(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var h Heap[*owner]
	o := &owner{name: "o"}
	sess := newSession(t, time.Second, t0)
	h.Set(&o.timer, o, sess)
	sess.Start(t0.Add(5 * time.Second)) // idle again later: the deadline moves on
	h.Set(&o.timer, o, sess)
	if got, want := h.Next(), t0.Add(time.Second); !got.Equal(want) {
		t.Fatalf("Next = %v, want the old alarm %v (lazy)", got, want)
	}
	if got := due(&h, t0.Add(2*time.Second)); len(got) != 0 {
		t.Fatalf("due at 2s: %v, want none (re-filed)", got)
	}
	if got, want := h.Next(), t0.Add(6*time.Second); !got.Equal(want) {
		t.Fatalf("Next after re-filing = %v, want %v", got, want)
	}
	if got := due(&h, t0.Add(6*time.Second)); !slices.Equal(got, []string{"o"}) {
		t.Fatalf("due at 6s: %v, want [o]", got)
	}
}

// An earlier deadline moves the alarm at once.
func TestEarlierDeadlineFixes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var h Heap[*owner]
	a, b := &owner{name: "a"}, &owner{name: "b"}
	sa := newSession(t, 10*time.Second, t0)
	h.Set(&a.timer, a, sa)
	h.Set(&b.timer, b, newSession(t, 5*time.Second, t0))
	sa.Start(t0.Add(-9 * time.Second)) // now due at t0+1s
	h.Set(&a.timer, a, sa)
	if got, want := h.Next(), t0.Add(time.Second); !got.Equal(want) {
		t.Fatalf("Next = %v, want %v", got, want)
	}
	if got := due(&h, t0.Add(time.Second)); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("due at 1s: %v, want [a]", got)
	}
}

// A stopped timer stays in the heap until its alarm, then is dropped
// unheard; a removed one leaves at once.
func TestStopAndRemove(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var h Heap[*owner]
	a, b := &owner{name: "a"}, &owner{name: "b"}
	h.Set(&a.timer, a, newSession(t, time.Second, t0))
	h.Set(&b.timer, b, newSession(t, 2*time.Second, t0))
	a.timer.Stop()
	if got, want := h.Next(), t0.Add(time.Second); !got.Equal(want) {
		t.Fatalf("Next = %v, want the stopped timer's alarm %v (lazy)", got, want)
	}
	h.Remove(&b.timer)
	if got := due(&h, t0.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("due: %v, want none", got)
	}
	if !h.Next().IsZero() || len(h.h) != 0 {
		t.Fatalf("heap holds %d timers, want 0", len(h.h))
	}
	// A removed timer can be set again, as for a recycled connection.
	h.Set(&b.timer, b, newSession(t, time.Second, t0))
	if got := due(&h, t0.Add(time.Minute)); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("due: %v, want [b]", got)
	}
}
