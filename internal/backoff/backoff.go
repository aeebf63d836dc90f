// Package backoff is the project's one rule for "try again later": a pause
// that starts small, doubles with every failure in a row up to a ceiling,
// and starts over after a success.
//
// Why doubling: retrying at once turns a failure that lasts (a server that
// refuses, a process out of descriptors) into a busy loop that burns a CPU
// and measures nothing; a fixed long pause makes a brief failure cost more
// than it must. Doubling is quick to retry a blip and quick to back off from
// an outage: after ten failures a 1 ms pause has become a second.
package backoff

import "time"

// Doubling is a pause that doubles from First up to Max. The zero value of
// its progress is "no failure yet"; set First and Max, then call Next after
// each failure and Reset after each success. It is not safe for concurrent
// use: each retrying loop keeps its own.
type Doubling struct {
	First, Max time.Duration
	d          time.Duration
}

// Next is the pause after one more failure in a row.
func (b *Doubling) Next() time.Duration {
	b.d = min(max(2*b.d, b.First), b.Max)
	return b.d
}

// Reset starts over: the next failure pauses First again.
func (b *Doubling) Reset() { b.d = 0 }
