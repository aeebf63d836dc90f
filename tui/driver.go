package tui

import "time"

// Driver is everything the dashboard needs from the world outside it: the
// load generator, the server processes and their numbers. The dashboard's
// model talks only to this interface, for two reasons. Tests drive the
// model with fixed, fake frames, so its views can be compared to golden
// files; and the real adapter (live.go) can change with the bench packages
// without touching a line of the model.
//
// Every method must return quickly and must never wait for the load
// generator: the model calls them from bubbletea's event loop, and a slow
// call would freeze the screen and the keyboard with it.
type Driver interface {
	// Targets names the servers, one column each, in a fixed order. A
	// target's index in this slice is how every other method refers to it.
	Targets() []string

	// Scenarios lists the presets the picker offers, in menu order.
	Scenarios() []Scenario

	// Start switches to the named scenario (restarting the servers if it
	// needs other server flags) and returns its knobs. Whether the load
	// runs is unchanged until the dashboard passes the knobs, with its own
	// pause and drive mode, to Set.
	Start(scenario string) (Knobs, error)

	// Set changes the load to k: clients, rate, slow clients, idle
	// connections, pause and drive mode. It returns at once; the driver
	// applies the change in the background.
	Set(k Knobs)

	// Drain appends to dst the frames produced since the last call and
	// returns the extended slice. It never blocks; with nothing new it
	// returns dst unchanged.
	Drain(dst []Frame) []Frame

	// Status reports where target i is in its life.
	Status(i int) Status

	// Restart relaunches target i, a server process that crashed or was
	// stopped. It returns at once; Status shows the progress.
	Restart(i int) error

	// Notice is the driver's latest word to the teacher, or "": a knob it
	// had to hold back (too few file descriptors for that many idle
	// connections, say) or a load that failed to start.
	Notice() string

	// Close stops the load and every server process the driver started,
	// and returns only when they are gone.
	Close() error
}

// Scenario is one entry of the picker.
type Scenario struct {
	Name string
	// Shows is the "what this shows" paragraph.
	Shows string
	// Lesson is what to watch while it runs, in a sentence or two. Empty
	// means the dashboard's own text for that name (see lessons.go).
	Lesson string
}

// DriveMode says how the load is shared between the servers.
type DriveMode int

const (
	// AllAtOnce drives every server with the same load at the same time,
	// each from its own set of clients.
	AllAtOnce DriveMode = iota
	// OneAtATime drives one server for a turn, then the next, so that
	// they never compete for the CPU. Each keeps its own history.
	OneAtATime
)

// String names the mode as the header shows it.
func (m DriveMode) String() string {
	if m == OneAtATime {
		return "one at a time"
	}
	return "all at once"
}

// Knobs are the live settings of the load. Each count is a number of
// clients of one kind, which the teacher turns up and down with a key. The
// scenario decides what kind: Clients are its ordinary clients (keep-alive,
// or a new connection per request where the scenario is built that way)
// and Slow its slow ones (slowloris, or slow readers).
type Knobs struct {
	Clients int  // keep-alive clients in a closed loop
	Rate    int  // open-loop requests per second; 0 is off
	Ramp    bool // the rate climbs to Rate rather than holding it
	Slow    int  // slowloris clients, sending a byte at a time
	Idle    int  // connections that made one request and now sit idle
	Paused  bool
	Mode    DriveMode
}

// Frame is what one target did during one interval of the load generator
// (a quarter of a second, typically). The dashboard only ever adds frames to
// a target's history; it never asks the generator for anything.
type Frame struct {
	Target   int           // index into Driver.Targets
	At       time.Time     // end of the interval
	Interval time.Duration // its length

	// The client's view, from the load generator.
	Requests      int64         // responses completed in the interval
	Bytes         int64         // bytes received in the interval
	P50, P99, Max time.Duration // latency of those responses, from when each was due
	// UncorrectedP99 is the p99 measured from when each request was sent.
	// It differs from P99 only under an open-loop load, where the gap is
	// the queueing that coordinated omission would hide.
	UncorrectedP99 time.Duration
	Errors         []ErrorCount // failures in the interval, by kind
	InFlight       int          // requests sent and not yet answered, at the end
	Conns          int          // connections open, at the end

	// The server's view, from its stats over the control channel. HasServer
	// is false for an external server such as nginx.
	HasServer      bool
	ServerOpen     int64 // connections the server holds open
	ServerInFlight int64 // requests it is working on

	// The kernel's view of the server process, from /proc. HasProc is false
	// when the process cannot be read.
	HasProc bool
	RSS     int64   // resident memory, bytes
	Threads int     // OS threads
	CPU     float64 // percent of one core during the interval
}

// ErrorCount is how many requests failed one way.
type ErrorCount struct {
	Kind string // "refused", "reset", "timeout", ...
	N    int64
}

// State is where a server is in its life.
type State int

// The states of a target. Only the project's own models, which the driver
// starts as child processes, go through Starting and Crashed; an external
// server is External from the start.
const (
	Starting  State = iota // launched, not yet listening
	Listening              // answering on its address
	Crashed                // the process died; Status.Detail has why
	Stopped                // stopped on purpose
	External               // a server the dashboard did not start (nginx)
	Held                   // answering, but its loop waits before each turn (slow motion)
)

// String is the state as a word, which the screen shows beside its glyph.
func (s State) String() string {
	switch s {
	case Starting:
		return "starting"
	case Listening:
		return "listening"
	case Crashed:
		return "crashed"
	case Stopped:
		return "stopped"
	case External:
		return "external"
	case Held:
		return "held"
	}
	return "unknown"
}

// Status is a target's lifecycle as the dashboard shows it.
type Status struct {
	State State
	Addr  string // "127.0.0.1:PORT" once known
	// Detail explains the state: the last line the server wrote to stderr
	// when it crashed, or an error while starting.
	Detail string
	// Driving is true while the load is on this target. In AllAtOnce mode
	// every running target drives; in OneAtATime, only the one whose turn
	// it is.
	Driving bool
}
