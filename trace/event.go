package trace

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Kind says what an Event reports.
type Kind string

// The kinds of event. A model reports the first seven; the tracer itself
// reports the last four, about the trace rather than the server.
const (
	// Call is a system call and its result: Call names it, N is what it
	// returned (bytes, descriptors, ready events), Of what was asked, Err
	// its error, Took how long it slept or blocked.
	Call Kind = "call"
	// Request is a request parsed by the core: Text is its request line.
	Request Kind = "request"
	// Answer is the answer the core decided: Text says it, N is its status.
	Answer Kind = "answer"
	// File is a step of the file I/O the core asked for: Text says which
	// (an open, a cache hit, a read of so many bytes at an offset).
	File Kind = "file"
	// State is a connection's state machine moving: From -> To.
	State Kind = "state"
	// Timer is a limit running out: Text names it (idle, header, write).
	Timer Kind = "timer"
	// Ring is an io_uring step: Call is "submit" or "complete", Text the
	// operation, Data its user data, N a completion's result.
	Ring Kind = "ring"

	// On: tracing has started; what follows is every step.
	On Kind = "on"
	// Hold: the server is held, in slow motion, before step N (Text is
	// the unit: "turn" or "system call") until the parent releases it.
	Hold Kind = "hold"
	// Run: slow motion is over; the server runs free again.
	Run Kind = "run"
	// Drop: N events were dropped because the reader fell behind.
	Drop Kind = "drop"
)

// Event is one step a model took. Which fields mean something depends on
// Kind; the rest are zero, and left out of the JSON.
type Event struct {
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`
	// Loop is which event loop (with more than one); Turn is that loop's
	// turn, counted from 1. Zero for models without a loop.
	Loop int    `json:"loop,omitempty"`
	Turn uint64 `json:"turn,omitempty"`
	// Conn numbers connections from 1 in the order they were accepted;
	// Fd is the connection's descriptor. Conn is 0 for the loop's own
	// steps (epoll_wait, accept4 before it has a connection).
	Conn uint64 `json:"conn,omitempty"`
	Fd   int    `json:"fd,omitempty"`
	// Tid is the operating-system thread that took the step: always the
	// same one for a loop, and whichever the Go runtime chose for a
	// goroutine.
	Tid int `json:"tid,omitempty"`

	Call string        `json:"call,omitempty"`
	N    int64         `json:"n,omitempty"`
	Of   int64         `json:"of,omitempty"`
	Err  string        `json:"err,omitempty"`
	Took time.Duration `json:"took,omitempty"`
	Text string        `json:"text,omitempty"`
	From string        `json:"from,omitempty"`
	To   string        `json:"to,omitempty"`
	Data uint64        `json:"data,omitempty"`

	// Func and Where are where in the source the step happened:
	// "(*loop).readRequest" and "evloop/conn.go:261", the path as the
	// annotated source names its pages.
	Func  string `json:"func,omitempty"`
	Where string `json:"where,omitempty"`
}

// Errno names a system call's error the way its man page does ("EAGAIN",
// "ECONNRESET"); "" for nil. Errors that are not errnos keep their text.
func Errno(err error) string {
	if err == nil {
		return ""
	}
	var e unix.Errno
	if errors.As(err, &e) {
		if name := unix.ErrnoName(e); name != "" {
			return name
		}
	}
	return err.Error()
}

// EOF is the Err of a read that returned 0: the peer closed its side.
const EOF = "EOF"

// ReadErr is Errno for a read(2): a read of 0 bytes without an error is
// end of input, and says so.
func ReadErr(n int, err error) string {
	if err == nil && n == 0 {
		return EOF
	}
	return Errno(err)
}

// units says what a call's result counts, for the readable line.
var units = map[string]string{
	"epoll_wait": "ready", "poll": "ready", "io_uring_enter": "done",
	"read": "bytes", "recv": "bytes", "write": "bytes", "writev": "bytes",
	"send": "bytes", "sendmsg": "bytes", "sendfile": "bytes", "pread": "bytes",
	"conn.Read": "bytes", "conn.Write": "bytes", "raw.Write(sendmsg)": "bytes", "raw.Write(sendfile)": "bytes",
	"accept4": "fd", "accept": "fd", "listener.Accept": "fd",
}

// What is the middle of the readable line: what happened, without when,
// where or to whom, for instance "read → 78 bytes" or
// "state readingRequest → fetchingFile".
func (e Event) What() string {
	switch e.Kind {
	case Call:
		return e.callText()
	case Request:
		s := "request " + strconv.Quote(e.Text)
		if e.N != 0 {
			s += " → " + strconv.FormatInt(e.N, 10) // the status the core chose
		}
		return s
	case Answer:
		return "answer " + e.Text
	case File:
		return "file: " + e.Text
	case State:
		return "state " + e.From + " → " + e.To
	case Timer:
		return "timer fired: " + e.Text
	case Ring:
		s := e.Call + " " + e.Text
		if e.Call == "complete" {
			s += " → " + e.result()
		}
		// Hexadecimal: user data is usually packed fields (a kind, a
		// slot), which read best in hex.
		return s + fmt.Sprintf(" (user data %#x)", e.Data)
	case On:
		return "tracing on"
	case Hold:
		return fmt.Sprintf("held before %s %d: slow motion, waiting for a step", e.Text, e.N)
	case Run:
		return "running free"
	case Drop:
		return fmt.Sprintf("⚠ %d events dropped: the reader fell behind", e.N)
	}
	return string(e.Kind) + " " + e.Text
}

func (e Event) callText() string {
	s := e.Call
	if e.Text != "" {
		s += " " + e.Text
	}
	s += " → " + e.result()
	if e.Took > 0 {
		verb := "blocked"
		switch {
		case units[e.Call] == "ready" || units[e.Call] == "done":
			verb = "slept"
		case strings.Contains(e.Call, "."):
			// A Go method such as conn.Read: its goroutine waited,
			// parked, while its thread ran others.
			verb = "waited"
		}
		s += ", " + verb + " " + Duration(e.Took)
	}
	return s
}

// result is a call's outcome: its error, or its count in the call's unit.
func (e Event) result() string {
	if e.Err != "" {
		return e.Err
	}
	unit := units[e.Call]
	switch {
	case unit == "fd":
		return "fd " + strconv.FormatInt(e.N, 10)
	case e.Of > 0:
		return fmt.Sprintf("%d of %d %s", e.N, e.Of, unit)
	case unit != "":
		return fmt.Sprintf("%d %s", e.N, unit)
	case e.N != 0:
		return strconv.FormatInt(e.N, 10)
	}
	return "ok"
}

// Duration prints d short and readable: 850ns, 12µs, 1.2ms, 3.4s.
func Duration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatInt(int64(d/time.Microsecond), 10) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}

// Elapsed is the time column, d after the first event: "+1.204ms" within
// the first second, to the microsecond, then "+12.345678s".
func Elapsed(d time.Duration) string {
	if d < time.Second {
		return "+" + strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + "ms"
	}
	return "+" + strconv.FormatFloat(d.Seconds(), 'f', 6, 64) + "s"
}

// Who is the readable line's connection column: "c2 fd8", "fd8" for a
// descriptor not yet a connection, "" for the loop itself.
func (e Event) Who() string {
	switch {
	case e.Conn != 0:
		return "c" + strconv.FormatUint(e.Conn, 10) + " fd" + strconv.Itoa(e.Fd)
	case e.Fd != 0:
		return "fd" + strconv.Itoa(e.Fd)
	}
	return ""
}

// Line is the event as one readable line, its time counted from start
// (the first event, say), for example:
//
//	+1.204ms  turn 3  c1 fd7  read → 78 bytes      (*loop).readRequest evloop/conn.go:261
func (e Event) Line(start time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s ", Elapsed(e.Time.Sub(start)))
	// The second column is the loop's turn for an event loop; for the
	// models without one, the thread, which shows the Go runtime moving
	// goroutines between threads.
	turn := ""
	switch {
	case e.Turn > 0:
		turn = "turn " + strconv.FormatUint(e.Turn, 10)
	case e.Tid > 0:
		turn = "tid " + strconv.Itoa(e.Tid)
	}
	if e.Loop > 0 {
		turn = "loop " + strconv.Itoa(e.Loop) + " " + turn
	}
	fmt.Fprintf(&b, "%-10s %-11s %-52s", turn, e.Who(), e.What())
	if e.Where != "" {
		b.WriteString(" " + e.Func + " " + e.Where)
	}
	return strings.TrimRight(b.String(), " ")
}
