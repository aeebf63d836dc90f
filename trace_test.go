package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"serverlab/internal/model"
	"serverlab/trace"
)

func TestTraceUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"trace", "-model", "nosuch"},
		{"trace", "-n", "0"},
		{"trace", "-n", "2", "-c", "3"},
		{"trace", "-scenario", "nosuch"},
		{"trace", "-path", "1k.bin"},
		{"trace", "-bogus"},
		{"trace", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n"); lines != 0 || stderr.Len() == 0 {
			t.Errorf("%q: want a one-line error, got:\n%s", args, stderr.String())
		}
	}
}

// runTraceCmd runs `serverlab trace -json` with args and returns its events.
func runTraceCmd(t *testing.T, args ...string) []trace.Event {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"trace", "-json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("trace %q: %v\n%s", args, err, stderr.String())
	}
	var evs []trace.Event
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var ev trace.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	if len(evs) == 0 || evs[0].Kind != trace.On {
		t.Fatalf("trace %q: want the On event first, got %d events", args, len(evs))
	}
	return evs
}

// The calls that read a request and write an answer, in every model; for
// io_uring, the completions of the requests that do so.
func isRead(ev trace.Event) bool {
	if ringDone(ev, "RECV") {
		return ev.N > 0
	}
	return ev.Kind == trace.Call && (ev.Call == "read" || ev.Call == "conn.Read") && ev.N > 0
}

func isWrite(ev trace.Event) bool {
	if ringDone(ev, "SEND") {
		return ev.N > 0
	}
	switch ev.Call {
	case "writev", "write", "sendfile", "sendmsg", "conn.Write", "raw.Write(sendmsg)", "raw.Write(sendfile)":
		return ev.Kind == trace.Call && ev.N > 0
	}
	return false
}

func isAccept(ev trace.Event) bool {
	if ringDone(ev, "ACCEPT") {
		return ev.Err == ""
	}
	return ev.Kind == trace.Call && (ev.Call == "accept4" || ev.Call == "listener.Accept") && ev.Err == ""
}

// ringDone reports whether ev is the completion of an io_uring request op.
func ringDone(ev trace.Event, op string) bool {
	return ev.Kind == trace.Ring && ev.Call == "complete" && strings.HasPrefix(ev.Text, op)
}

// checkStory checks each connection's story in a trace: accepted before
// anything else happens to it; every request read before it is parsed,
// parsed before its answer is decided, decided before it is written, and
// written before the next request is read (pipelined: before the next is
// parsed); closed last.
// It returns the requests it found.
func checkStory(t *testing.T, evs []trace.Event, pipelined bool) int {
	t.Helper()
	type story struct {
		accepted, closed bool
		read, wrote      bool // since the last request
		answered         bool // the core decided the last request's answer
		requests         int
	}
	conns := map[uint64]*story{}
	acceptedFds := map[int]int{} // fd -> accepts not yet claimed by a connection
	var dump strings.Builder
	for _, ev := range evs {
		fmt.Fprintln(&dump, ev.Line(evs[0].Time))
		if isAccept(ev) {
			acceptedFds[int(ev.N)]++
			if ev.Conn == 0 {
				continue
			}
		}
		if ev.Conn == 0 {
			continue
		}
		s := conns[ev.Conn]
		if s == nil {
			if acceptedFds[ev.Fd] == 0 {
				t.Errorf("connection %d (fd %d): %q before its accept", ev.Conn, ev.Fd, ev.What())
			}
			acceptedFds[ev.Fd]--
			s = &story{accepted: true}
			conns[ev.Conn] = s
		}
		if s.closed {
			t.Errorf("connection %d: %q after its close", ev.Conn, ev.What())
		}
		switch {
		case isRead(ev):
			if s.requests > 0 && !s.wrote && !pipelined {
				t.Errorf("connection %d: a read before request %d was answered", ev.Conn, s.requests)
			}
			s.read = true
		case ev.Kind == trace.Request:
			if !s.read && !pipelined {
				t.Errorf("connection %d: request %d parsed before any read", ev.Conn, s.requests+1)
			}
			// Pipelined, an event loop may hold an answer back to send
			// it with the next ones in one write: decided is enough.
			if s.requests > 0 && !s.wrote && !(pipelined && s.answered) {
				t.Errorf("connection %d: request %d parsed before request %d was answered", ev.Conn, s.requests+1, s.requests)
			}
			if ev.Text != "GET /1k.bin HTTP/1.1" {
				t.Errorf("connection %d: request %q, want GET /1k.bin HTTP/1.1", ev.Conn, ev.Text)
			}
			s.requests++
			s.read, s.answered, s.wrote = false, false, false
		case ev.Kind == trace.Answer:
			if s.requests == 0 || s.answered || ev.N != 200 {
				t.Errorf("connection %d: answer %d (%q) after %d requests, answered already: %v; want one 200 per request",
					ev.Conn, ev.N, ev.Text, s.requests, s.answered)
			}
			s.answered = true
		case isWrite(ev):
			if !s.answered {
				t.Errorf("connection %d: a write before the answer was decided", ev.Conn)
			}
			s.wrote = true
		case isClose(ev):
			s.closed = true
		}
	}
	total := 0
	for id, s := range conns {
		if !s.closed {
			t.Errorf("connection %d never closed", id)
		}
		if s.requests > 0 && !s.wrote {
			t.Errorf("connection %d: last request never answered", id)
		}
		total += s.requests
	}
	if t.Failed() {
		t.Logf("the trace:\n%s", dump.String())
	}
	return total
}

func TestTraceEveryModel(t *testing.T) {
	for _, name := range model.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			evs := runTraceCmd(t, "-model", name, "-n", "4", "-c", "2")
			if got := checkStory(t, evs, false); got != 4 {
				t.Errorf("%d requests in the trace, want 4", got)
			}
			for _, ev := range evs[1:] {
				if ev.Where == "" || !strings.Contains(ev.Where, ".go:") {
					t.Errorf("%q has no code location", ev.What())
					break
				}
			}
		})
	}
}

func TestTracePipelined(t *testing.T) {
	evs := runTraceCmd(t, "-model", "evloop", "-n", "2", "-c", "1", "-pipeline")
	if got := checkStory(t, evs, true); got != 2 {
		t.Errorf("%d requests in the trace, want 2", got)
	}
	// Both requests came in one read, so the loop answered the second
	// without another read, and both answers left in one write: the
	// lesson of pipelining.
	reads, writes := 0, 0
	for _, ev := range evs {
		if isRead(ev) {
			reads++
		}
		if isWrite(ev) {
			writes++
		}
	}
	if reads != 1 || writes != 1 {
		t.Errorf("%d reads with data and %d writes, want 1 and 1 for two pipelined requests", reads, writes)
	}
}

// A head whose body follows by sendfile is written with MSG_MORE, so that it
// shares the body's first packet: alone, a few hundred bytes in a packet of
// their own cost a 1 MiB download's client a third of its rate (see
// docs/results/peers-analysis.md). Every model that sends a head and then
// calls sendfile must say so.
func TestTraceHeadWithMoreBeforeSendfile(t *testing.T) {
	more := map[string]string{"blocking": "sendmsg", "threaded": "raw.Write(sendmsg)", "evloop": "sendmsg"}
	for name, call := range more {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			evs := runTraceCmd(t, "-model", name, "-n", "1", "-path", "/1m.bin")
			var writes []trace.Event
			for _, ev := range evs {
				if isWrite(ev) {
					writes = append(writes, ev)
				}
			}
			if len(writes) < 2 {
				t.Fatalf("%d writes for a 1 MiB answer, want the head and at least one sendfile", len(writes))
			}
			if head, next := writes[0], writes[1]; head.Call != call || next.Call != "sendfile" && next.Call != "raw.Write(sendfile)" {
				t.Errorf("head by %q (%d bytes), then %q; want %q, then sendfile", head.Call, head.N, next.Call, call)
			}
		})
	}
}

// evloop's own story: its turns count up, each begins with epoll_wait, and
// its states move as its state machine says.
func TestTraceEvloopTurnsAndStates(t *testing.T) {
	// A file too big for the small-file cache, whose answer goes through
	// every state (a cached one skips fetchingFile: nothing to fetch).
	evs := runTraceCmd(t, "-model", "evloop", "-n", "1", "-path", "/1m.bin")
	var lastTurn uint64
	states := map[string]bool{}
	for _, ev := range evs[1:] {
		if ev.Turn < lastTurn {
			t.Errorf("turn %d after turn %d", ev.Turn, lastTurn)
		}
		if ev.Turn > lastTurn && ev.Call != "epoll_wait" {
			t.Errorf("turn %d begins with %q, want epoll_wait", ev.Turn, ev.What())
		}
		lastTurn = ev.Turn
		if ev.Kind == trace.State {
			states[ev.From+"→"+ev.To] = true
		}
	}
	for _, want := range []string{"readingRequest→openingFile", "openingFile→fetchingFile", "fetchingFile→writingHead", "writingHead→writingBody", "writingBody→readingRequest"} {
		if !states[want] {
			t.Errorf("no %s in the trace (have %v)", want, states)
		}
	}
}

// A parent that stops reading its trace cannot slow the server down, let
// alone stop it: the model serves every request, and the events that did not
// fit are dropped and counted, and the count reaches the parent when it
// reads again.
func TestTraceReaderReadsNothing(t *testing.T) {
	for _, name := range model.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			remote, child, err := trace.Pair()
			if err != nil {
				t.Fatal(err)
			}
			defer remote.Close()
			_, addr, _ := startServe(t, []*os.File{child}, "-model", name, "-trace-fd", "3")
			child.Close()
			remote.Send(trace.CmdStart)
			remote.SetReadDeadline(time.Now().Add(10 * time.Second))
			if ev, err := remote.Next(); err != nil || ev.Kind != trace.On {
				t.Fatalf("first event %+v, %v: want On", ev, err)
			}
			// From here on, nobody reads the trace. Thousands of requests
			// make tens of thousands of events, far more than the queue
			// and the socket's buffers hold.
			// (The blocking model closes after each answer: the client
			// connects again.)
			const requests = 3000
			cl := &client{addr: addr, path: "/1k.bin"}
			if err := cl.fetch(requests, false, false); err != nil {
				t.Fatalf("%v (the server is stuck behind its trace?)", err)
			}
			// Now read the trace again: somewhere in it, the hole is
			// reported.
			var dropped int64
			for dropped == 0 {
				remote.SetReadDeadline(time.Now().Add(10 * time.Second))
				ev, err := remote.Next()
				if err != nil {
					t.Fatalf("no Drop event in the trace: %v", err)
				}
				if ev.Kind == trace.Drop {
					dropped = ev.N
				}
			}
			t.Logf("%s: %d requests served; events dropped: %d (the first report)", name, requests, dropped)
		})
	}
}

// Every step of every model is placed on a line of lesson 00's loop: a
// renamed function fails here, not silently in the lesson.
func TestTracePseudocodePlacesEveryStep(t *testing.T) {
	for name := range pseudocode {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(binary, "trace", "-pseudocode", "-model", name, "-n", "2", "-pipeline", "-scenario", "slow-client")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) < 10 {
				t.Fatalf("only %d lines:\n%s", len(lines), out)
			}
			for _, l := range lines {
				if strings.HasPrefix(strings.TrimSpace(l), "? ") {
					t.Errorf("a step with no line of pseudocode: %s", l)
				}
			}
		})
	}
}
