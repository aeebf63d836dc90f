package tui

import (
	"os"
	"sync"

	"serverlab/bench/load"
	"serverlab/bench/proc"
	"serverlab/trace"
)

// The live driver's side of the trace pane. Every model it starts gets a
// trace channel (serve -trace-fd), off until the pane asks; one goroutine
// per server process reads it into a short queue that the dashboard drains
// each frame. The reader never waits for the dashboard: past traceBuffer
// events between two frames, the oldest are dropped and counted, as the
// server itself drops what its reader cannot take.

// traceBuffer is how many events may wait for the next frame.
const traceBuffer = 2000

// heldMix is the load on a server held in slow motion: a request or two a
// second, so that each step has something to show and nobody's queue grows
// faster than a class can read.
var heldMix = load.Mix{Rate: load.Constant(2), OpenConns: 2}

// liveTrace is one target's trace: what the dashboard wants (on, held),
// and the channel to the server process now running, if any.
type liveTrace struct {
	mu     sync.Mutex
	remote *trace.Remote // nil while the server is down
	on     bool
	held   bool
	events []trace.Event
	lost   int64
}

// traceChannel makes a trace channel for a server about to start: the
// server's end goes into spec, and the parent's end is returned, to hand
// to traceStarted once the server is up (or to close if it failed).
func traceChannel(spec *proc.Spec) *trace.Remote {
	remote, child, err := trace.Pair()
	if err != nil {
		return nil // no trace for this server; it serves all the same
	}
	spec.ExtraFiles = []*os.File{child}
	spec.Args = append(spec.Args, "-trace-fd", "4")
	return remote
}

// started connects target i's pane to its new server process: it starts
// the reader, and, if the pane was tracing the process before, tells the
// new one to trace too. A server restarts free: slow motion ends with it.
func (lt *liveTrace) started(remote *trace.Remote) {
	lt.mu.Lock()
	if lt.remote != nil {
		lt.remote.Close()
	}
	lt.remote, lt.held = remote, false
	on := lt.on
	lt.mu.Unlock()
	if on {
		remote.Send(trace.CmdStart)
	}
	go lt.read(remote)
}

// read takes events from one server process until its channel closes.
func (lt *liveTrace) read(remote *trace.Remote) {
	for {
		ev, err := remote.Next()
		if err != nil {
			return
		}
		lt.mu.Lock()
		if len(lt.events) >= traceBuffer {
			n := copy(lt.events, lt.events[len(lt.events)/2:])
			lt.lost += int64(len(lt.events) - n)
			lt.events = lt.events[:n]
		}
		lt.events = append(lt.events, ev)
		lt.mu.Unlock()
	}
}

// send sends a command to the server, if one is up.
func (lt *liveTrace) send(cmd string) {
	if lt.remote != nil {
		lt.remote.Send(cmd)
	}
}

// closeRemote closes the channel of a server that has stopped.
func (lt *liveTrace) closeRemote() {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if lt.remote != nil {
		lt.remote.Close()
		lt.remote = nil
	}
	lt.held = false
}

// Trace implements Tracing: it starts or stops target i's trace.
func (l *live) Trace(i int, on bool) {
	lt := l.sup.traces[i]
	lt.mu.Lock()
	lt.on = on
	if on {
		lt.send(trace.CmdStart)
	} else {
		lt.send(trace.CmdStop)
		lt.held = false
	}
	lt.mu.Unlock()
	l.sup.poke() // the load follows: see loadMix
}

// Hold implements Tracing: slow motion on target i, or free running.
func (l *live) Hold(i int, held bool) {
	lt := l.sup.traces[i]
	lt.mu.Lock()
	lt.held = held
	if held {
		lt.send(trace.CmdHold)
	} else {
		lt.send(trace.CmdFree)
	}
	lt.mu.Unlock()
	l.sup.poke()
}

// Step implements Tracing: one more turn for a held target.
func (l *live) Step(i int) {
	lt := l.sup.traces[i]
	lt.mu.Lock()
	if lt.held {
		lt.send(trace.CmdStep)
	}
	lt.mu.Unlock()
}

// TraceDrain implements Tracing: target i's events since the last call,
// and how many the dashboard lost meanwhile by being slow.
func (l *live) TraceDrain(i int, dst []trace.Event) ([]trace.Event, int64) {
	lt := l.sup.traces[i]
	lt.mu.Lock()
	defer lt.mu.Unlock()
	dst = append(dst, lt.events...)
	lt.events = lt.events[:0]
	lost := lt.lost
	lt.lost = 0
	return dst, lost
}

// loadMix is the load this target's server should get: mix, or the tiny
// one while it is held in slow motion.
func (lt *liveTrace) loadMix(mix load.Mix) load.Mix {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if lt.held {
		return heldMix
	}
	return mix
}
