package uring

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"serverlab/trace"
)

// The loop's trace hooks (serverlab trace, the dashboard's trace pane). A
// completion loop's story is its requests: each is reported twice, when it
// is submitted and when it completes, with the user data that joins the
// two. l.tr is nil unless the server was started with a trace channel, and
// then each hook costs one nil check. The loop's turns are marked in run
// (Turn, Wait), where slow motion holds it.

// kindNames name the requests in a trace, as io_uring names its operations.
var kindNames = [...]string{
	kAccept: "ACCEPT", kWake: "READ eventfd", kAlarm: "TIMEOUT", kAlarmSet: "TIMEOUT_REMOVE",
	kRecv: "RECV", kOpen: "OPENAT2", kStatx: "STATX", kDelay: "TIMEOUT (disk delay)",
	kRead: "READ", kSend: "SEND", kShutdown: "SHUTDOWN", kClose: "CLOSE", kCancel: "ASYNC_CANCEL",
}

// traceSubmit reports a request of c's put in the ring: what it asks for.
func (l *loop) traceSubmit(c *conn, s *sqe) {
	if l.tr.On() {
		what := kindNames[kindOf(s.userData)]
		switch s.opcode {
		case opSendmsg:
			what = "SENDMSG"
		case opRead, opRecv, opSend:
			if s.flags&sqeBufferSelect != 0 {
				what += " up to " + strconv.Itoa(int(s.len)) + " bytes, into a provided buffer"
			} else {
				what += " " + strconv.Itoa(int(s.len)) + " bytes"
			}
			if s.opcode == opRead {
				what += " at " + strconv.FormatUint(s.off, 10)
			}
		case opOpenat2:
			what += " " + c.out.opPath()
		case opAsyncCancel:
			what += " of " + kindNames[kindOf(s.addr)] + fmt.Sprintf(" (user data %#016x)", s.addr)
		}
		l.tr.Emit(trace.Event{Kind: trace.Ring, Call: "submit", Conn: c.id, Fd: c.fd, Text: what, Data: s.userData})
	}
}

// traceComplete reports a completion for c: its result.
func (l *loop) traceComplete(c *conn, e *cqe) {
	if l.tr.On() {
		l.traceCQE(c.id, c.fd, e)
	}
}

// traceAccept reports a completion of the multishot accept: a new
// descriptor, or why there is none.
func (l *loop) traceAccept(e *cqe) {
	if l.tr.On() {
		l.traceCQE(0, 0, e)
	}
}

func (l *loop) traceCQE(id uint64, fd int, e *cqe) {
	ev := trace.Event{Kind: trace.Ring, Call: "complete", Conn: id, Fd: fd, Text: kindNames[kindOf(e.userData)],
		N: int64(e.res), Data: e.userData}
	switch k := kindOf(e.userData); {
	case e.res < 0:
		ev.N, ev.Err = 0, trace.Errno(unix.Errno(-e.res))
	case e.res == 0 && k == kRecv:
		ev.Err = trace.EOF // the client closed its side
	}
	if e.flags&cqeFBuffer != 0 {
		ev.Text += " (provided buffer " + strconv.Itoa(int(e.flags>>cqeBufferShift)) + ")"
	}
	l.tr.Emit(ev)
}

// traceState reports c's state machine moving.
func (l *loop) traceState(c *conn, from, to state) {
	if l.tr.On() && from != to {
		l.tr.Emit(trace.Event{Kind: trace.State, Conn: c.id, Fd: c.fd, From: from.String(), To: to.String()})
	}
}

// traceTimer reports c's deadline passing, and the state its Session's
// verdict sends it to once the request under way is cancelled.
func (l *loop) traceTimer(c *conn, then state) {
	if l.tr.On() {
		what := "deadline passed: cancel, then close"
		if then == receivingRequest {
			what = "deadline passed: cancel, answer 408, then close"
		}
		l.tr.Emit(trace.Event{Kind: trace.Timer, Conn: c.id, Fd: c.fd, Text: what})
	}
}

// opPath is the path being opened, without its NUL.
func (o *response) opPath() string {
	if len(o.path) == 0 {
		return ""
	}
	return string(o.path[:len(o.path)-1])
}
