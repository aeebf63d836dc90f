// Package trace lets a server model report every step it takes — each
// system call and what it returned, the request it parsed, the state its
// connection moved to, and the line of source that did it — so that a
// student can watch a loop think, and hold it still one turn at a time.
//
// What a student should learn here:
//
//   - Observing a program must not change what it does. The server never
//     waits for the observer: events go into a bounded queue, a goroutine of
//     the tracer's own writes them out, and when the queue is full an event
//     is dropped and counted, never waited for. A trace with a hole that
//     says so is honest; a server slowed by its own trace is not.
//   - A hook that is off must cost next to nothing. A model holds a *Tracer
//     that is nil unless a trace was asked for, so each hook is one nil
//     check (and one load of a flag while a listener has paused it); the
//     time, the strings and the source location are computed only when
//     tracing is on.
//   - Slow motion is a gate, not a sleep: the loop stops before a turn
//     until someone lets it through, and every other connection's latency
//     grows while it waits — the event loop's one rule, felt.
//
// The events travel to the parent process (serverlab trace, the dashboard)
// over a socketpair of their own, described in wire.go.
package trace
