package tui

import (
	"encoding/json"
	"testing"
	"time"

	"serverlab/trace"
)

// The live driver's reader keeps at most traceBuffer events for a
// dashboard that does not drain them, drops the oldest, and says how many.
func TestLiveTraceBoundedAndCounted(t *testing.T) {
	remote, child, err := trace.Pair()
	if err != nil {
		t.Fatal(err)
	}
	lt := &liveTrace{on: true}
	lt.started(remote)
	defer lt.closeRemote()
	// A pretend server: reads the "start" the pane sends, then writes
	// more events than the buffer holds.
	buf := make([]byte, 64)
	child.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := child.Read(buf); err != nil || string(buf[:n]) != trace.CmdStart+"\n" {
		t.Fatalf("the new server was not told to start: %q, %v", buf[:n], err)
	}
	const sent = 3 * traceBuffer
	enc := json.NewEncoder(child)
	for i := range sent {
		if err := enc.Encode(trace.Event{Kind: trace.Call, Call: "read", N: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	child.Close()
	waitFor(t, "every event kept or counted", func() bool {
		lt.mu.Lock()
		defer lt.mu.Unlock()
		return int64(len(lt.events))+lt.lost == sent
	})
	d := &live{sup: &supervisor{traces: []*liveTrace{lt}}}
	got, lost := d.TraceDrain(0, nil)
	if len(got) > traceBuffer || lost == 0 {
		t.Errorf("kept %d (at most %d), lost %d (want some)", len(got), traceBuffer, lost)
	}
	if last := got[len(got)-1]; last.N != sent-1 {
		t.Errorf("the newest event kept is %d, want %d: the oldest must go first", last.N, sent-1)
	}
}
