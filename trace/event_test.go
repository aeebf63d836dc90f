package trace

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestWhat(t *testing.T) {
	for _, c := range []struct {
		ev   Event
		want string
	}{
		{Event{Kind: Call, Call: "read", N: 78}, "read → 78 bytes"},
		{Event{Kind: Call, Call: "read", N: -1, Err: "EAGAIN"}, "read → EAGAIN"},
		{Event{Kind: Call, Call: "read", Err: EOF}, "read → EOF"},
		{Event{Kind: Call, Call: "read", N: 78, Took: 1500 * time.Microsecond}, "read → 78 bytes, blocked 1.5ms"},
		{Event{Kind: Call, Call: "accept4", N: 7}, "accept4 → fd 7"},
		{Event{Kind: Call, Call: "epoll_wait", N: 2, Took: 12 * time.Microsecond}, "epoll_wait → 2 ready, slept 12µs"},
		{Event{Kind: Call, Call: "writev", N: 100, Of: 1102}, "writev → 100 of 1102 bytes"},
		{Event{Kind: Call, Call: "epoll_ctl", Text: "ADD readable"}, "epoll_ctl ADD readable → ok"},
		{Event{Kind: Call, Call: "close"}, "close → ok"},
		{Event{Kind: Request, Text: "GET /1k.bin HTTP/1.1"}, `request "GET /1k.bin HTTP/1.1"`},
		{Event{Kind: File, Text: "open /1k.bin"}, "file: open /1k.bin"},
		{Event{Kind: State, From: "readingRequest", To: "fetchingFile"}, "state readingRequest → fetchingFile"},
		{Event{Kind: Timer, Text: "idle"}, "timer fired: idle"},
		{Event{Kind: Ring, Call: "submit", Text: "recv", Data: 9}, "submit recv (user data 0x0000000000000009)"},
		{Event{Kind: Ring, Call: "complete", Text: "recv", N: 78, Data: 9}, "complete recv → 78 (user data 0x0000000000000009)"},
		{Event{Kind: Hold, Text: "turn", N: 4}, "held before turn 4: slow motion, waiting for a step"},
		{Event{Kind: Drop, N: 12}, "⚠ 12 events dropped: the reader fell behind"},
	} {
		if got := c.ev.What(); got != c.want {
			t.Errorf("%+v: What = %q, want %q", c.ev, got, c.want)
		}
	}
}

func TestLine(t *testing.T) {
	ev := Event{Time: t0.Add(1204 * time.Microsecond), Kind: Call, Turn: 3, Conn: 1, Fd: 7,
		Call: "read", N: 78, Func: "(*loop).readRequest", Where: "evloop/conn.go:261"}
	got := ev.Line(t0)
	for _, part := range []string{"+1.204ms", "turn 3", "c1 fd7", "read → 78 bytes", "(*loop).readRequest evloop/conn.go:261"} {
		if !strings.Contains(got, part) {
			t.Errorf("Line = %q: no %q", got, part)
		}
	}
	if strings.Contains(got, "\n") || strings.HasSuffix(got, " ") {
		t.Errorf("Line = %q: want one line with no trailing space", got)
	}
	// The columns line up: the step starts at the same place whether or
	// not there is a turn or a connection.
	bare := Event{Time: t0, Kind: Call, Call: "accept4", N: 7}.Line(t0)
	if i, j := strings.Index(got, "read"), strings.Index(bare, "accept4"); i != j {
		t.Errorf("step columns differ: %d in %q, %d in %q", i, got, j, bare)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	ev := Event{Time: t0, Kind: Call, Loop: 1, Turn: 3, Conn: 2, Fd: 8, Call: "sendfile",
		N: 65536, Of: 1 << 20, Took: time.Millisecond, Func: "f", Where: "evloop/conn.go:1"}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != ev {
		t.Errorf("round trip: %+v, want %+v", back, ev)
	}
	// Zero fields are left out, so that a line says only what happened.
	b, _ = json.Marshal(Event{Time: t0, Kind: Request, Text: "GET / HTTP/1.1"})
	if s := string(b); strings.Contains(s, `"fd"`) || strings.Contains(s, `"from"`) || !strings.Contains(s, `"text":"GET / HTTP/1.1"`) {
		t.Errorf("JSON = %s", s)
	}
}

func TestErrno(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{unix.EAGAIN, "EAGAIN"},
		{fmt.Errorf("write head: %w", unix.ECONNRESET), "ECONNRESET"},
		{errors.New("file shrank"), "file shrank"},
	} {
		if got := Errno(c.err); got != c.want {
			t.Errorf("Errno(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if got := ReadErr(0, nil); got != EOF {
		t.Errorf("ReadErr(0, nil) = %q, want EOF", got)
	}
	if got := ReadErr(5, nil); got != "" {
		t.Errorf("ReadErr(5, nil) = %q, want nothing", got)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850: "850ns", 12 * time.Microsecond: "12µs", 1234 * time.Microsecond: "1.2ms", 3400 * time.Millisecond: "3.4s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
