package load

import (
	"errors"
	"time"

	"serverlab/bench/proc"
	"serverlab/servers"
)

// Target is a server to load: an address, and optionally where to read its
// own numbers. A load knows nothing of a server's code; this is all it needs.
type Target struct {
	// Name labels the target in reports: "threaded", or the URL.
	Name string
	// Addr is the loopback address to connect to, "127.0.0.1:PORT".
	Addr string
	// Path is the default request path when a Mix names none.
	Path string
	// PID, if not 0, is the server process to sample from /proc each
	// interval; with Tree, its child processes are added in.
	PID  int
	Tree bool
	// Stats, if set, fetches the server's own counters each interval
	// (proc.Server.Stats does, for the project's models).
	Stats func() (servers.Snapshot, error)
}

// TargetOf describes a server process for a Load: its address, its PID
// for /proc, and its stats channel if it has one. A server without one
// (nginx, say) may fork workers, so its /proc samples add up its children.
func TargetOf(s *proc.Server) Target {
	t := Target{Name: s.Name(), Addr: s.Addr(), PID: s.PID()}
	if s.HasStats() {
		t.Stats = s.Stats
	} else {
		t.Tree = true
	}
	return t
}

// DefaultPath is what the timed clients fetch when neither the Mix nor the
// Target names a path: a small file, so that a request costs the server
// its fixed work and little copying.
const DefaultPath = "/1k.bin"

// Mix is the load put on one target: how many clients of each behaviour,
// and how they behave. Its fields are the dashboard's knobs; change one and
// call Load.Set. Zero values mean "none" for counts and a sensible default
// for everything else.
type Mix struct {
	// Path is what the timed clients (keep-alive, churn, open loop)
	// fetch. Default: the target's Path, else DefaultPath.
	Path string

	// Clients keep-alive connections in a closed loop (closed.go),
	// pausing Think between an answer and their next request.
	Clients int
	Think   time.Duration

	// Churn clients open a connection per request (churn.go).
	Churn int

	// Rate, if set, runs an open loop (open.go) on that schedule over at
	// most OpenConns connections (default 64).
	Rate      Schedule
	OpenConns int

	// Slowloris clients send their requests a byte every SlowPace
	// (default 10 ms, so about a second a request) (slowloris.go).
	Slowloris int
	SlowPace  time.Duration

	// SlowReaders fetch SlowReadPath (default "/1m.bin") at SlowReadRate
	// bytes/s (default 1 MiB/s, so about a second a file) (slowreader.go).
	SlowReaders  int
	SlowReadPath string
	SlowReadRate int

	// SlowStart delays slow clients and slow readers by that long after
	// they are added, so that figures show the time before they arrive.
	SlowStart time.Duration

	// Idle connections make one request for IdlePath (default
	// "/hello.txt") and then sit silent (idle.go).
	Idle     int
	IdlePath string
}

// Defaulted is m with every default filled in, as the load runs it: what
// the lessons quote when they say "a byte every 10 ms".
func (m Mix) Defaulted() Mix { return m.withDefaults(Target{}) }

// withDefaults fills in the zero fields that have a default.
func (m Mix) withDefaults(t Target) Mix {
	if m.Path == "" {
		m.Path = t.Path
	}
	if m.Path == "" {
		m.Path = DefaultPath
	}
	if m.OpenConns <= 0 {
		m.OpenConns = 64
	}
	if m.SlowPace <= 0 {
		m.SlowPace = 10 * time.Millisecond
	}
	if m.SlowReadPath == "" {
		m.SlowReadPath = "/1m.bin"
	}
	if m.SlowReadRate <= 0 {
		m.SlowReadRate = 1 << 20
	}
	if m.IdlePath == "" {
		m.IdlePath = "/hello.txt"
	}
	return m
}

// Conns is the most connections the mix can hold open at once.
func (m Mix) Conns() int {
	n := m.Clients + m.Churn + m.Slowloris + m.SlowReaders + m.Idle
	if m.Rate != nil {
		n += max(m.OpenConns, 0)
		if m.OpenConns <= 0 {
			n += 64
		}
	}
	return n
}

// FDs is how many file descriptors a process needs to run the mix: one per
// connection, plus room for the runtime, /proc reads and the like.
func (m Mix) FDs() int { return m.Conns() + 64 }

// Validate says what is wrong with a mix that cannot run: a negative count
// or a schedule that would never send.
func (m Mix) Validate() error {
	if m.Clients < 0 || m.Churn < 0 || m.Slowloris < 0 || m.SlowReaders < 0 || m.Idle < 0 {
		return errors.New("mix: client counts cannot be negative")
	}
	if m.Rate != nil {
		return validSchedule(m.Rate)
	}
	return nil
}
