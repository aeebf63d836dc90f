package evloop

import (
	"strconv"

	"serverlab/servers"
	"serverlab/trace"
)

// The loop's trace hooks (serverlab trace, the dashboard's trace pane). Each
// reports one step when a tracer listens. l.tr is nil unless the server was
// started with a trace channel, and then a hook is a call that returns on
// its first test: a few nanoseconds a request in all (BenchmarkTraceHooksOff
// measures them). The hooks are calls, not inlined tests, because Go inlines
// only functions smaller than a call with these arguments; writing the test
// out at every step would cost the reader more than it saves the machine.
// The loop's turns are marked in run (Turn, Wait), where slow motion holds it.

// tracer is loop id's view of the server's tracer: numbered from 1 when
// there are several loops, so that a trace can tell them apart.
func tracer(s *server, id int) *trace.Tracer {
	if s.opt.Loops > 1 {
		return s.cfg.Trace.Loop(id + 1)
	}
	return s.cfg.Trace.Loop(0)
}

// traceCall reports a system call on c's socket and its result.
func (l *loop) traceCall(c *conn, call string, err error) {
	if l.tr.On() {
		l.tr.Emit(trace.Event{Kind: trace.Call, Conn: c.id, Fd: c.fd, Call: call, Err: trace.Errno(err)})
	}
}

// traceRead reports a read(2): n bytes, EAGAIN, or EOF.
//
// The hooks on every request's path test the tracer here and emit in a
// function of their own, so that the test is inlined into the loop and a
// server nobody traces pays one comparison, not a call. The emitting
// function's name begins with "trace" too, so that the trace still places
// the event at the step that called the hook (see trace's caller).
func (l *loop) traceRead(c *conn, n int, err error) {
	if l.tr != nil {
		l.tracedRead(c, n, err)
	}
}

func (l *loop) tracedRead(c *conn, n int, err error) {
	if l.tr.On() {
		l.tr.Emit(trace.Event{Kind: trace.Call, Conn: c.id, Fd: c.fd, Call: "read", N: int64(n), Err: trace.ReadErr(n, err)})
	}
}

// traceWrite reports a write of n of the want bytes offered.
func (l *loop) traceWrite(c *conn, call string, n, want int, err error) {
	if l.tr != nil {
		l.tracedWrite(c, call, n, want, err)
	}
}

func (l *loop) tracedWrite(c *conn, call string, n, want int, err error) {
	if l.tr.On() {
		l.tr.Emit(trace.Event{Kind: trace.Call, Conn: c.id, Fd: c.fd, Call: call, N: int64(n), Of: int64(want), Err: trace.Errno(err)})
	}
}

// traceAccept reports accept4(2): the new descriptor, or why there is none.
func (l *loop) traceAccept(fd int, err error) {
	if l.tr.On() {
		l.tr.Emit(trace.Event{Kind: trace.Call, Call: "accept4", N: int64(fd), Err: trace.Errno(err)})
	}
}

// traceWatch reports a change to what the poller watches c for.
func (l *loop) traceWatch(c *conn, op string, ev events, err error) {
	if l.tr.On() {
		call := "epoll_ctl"
		if _, ok := l.poller.(*pollPoller); ok {
			call = "poll list" // no system call: poll's list is the loop's own
		}
		if op != "DEL" {
			op += " " + ev.String()
		}
		l.tr.Emit(trace.Event{Kind: trace.Call, Conn: c.id, Fd: c.fd, Call: call, Text: op, Err: trace.Errno(err)})
	}
}

// traceState reports c's state machine moving.
func (l *loop) traceState(c *conn, from, to state) {
	if l.tr != nil {
		l.tracedState(c, from, to)
	}
}

func (l *loop) tracedState(c *conn, from, to state) {
	if l.tr.On() {
		l.tr.Emit(trace.Event{Kind: trace.State, Conn: c.id, Fd: c.fd, From: from.String(), To: to.String()})
	}
}

// traceFile reports a file step: what, and on which file or bytes.
func (l *loop) traceFile(c *conn, what string, n int, off int64, err error) {
	if l.tr.On() {
		if n > 0 || off > 0 {
			what += " " + strconv.Itoa(n) + " bytes at " + strconv.FormatInt(off, 10)
		}
		if err != nil {
			what += ": " + trace.Errno(err)
		}
		l.tr.Emit(trace.Event{Kind: trace.File, Conn: c.id, Fd: c.fd, Text: what})
	}
}

// traceOpen reports a file step the Session asked for: an open.
func (l *loop) traceOpen(c *conn, how string, op *servers.OpenStep) {
	if l.tr.On() {
		l.tr.Emit(trace.Event{Kind: trace.File, Conn: c.id, Fd: c.fd, Text: how + " " + op.Path})
	}
}

// traceJob reports a file step handed to a disk worker, or back from one.
func (l *loop) traceJob(c *conn, j *diskJob, what string) {
	if l.tr.On() {
		switch {
		case j.open != nil:
			what += " open " + j.open.Path
		case j.n == 0 && j.err == nil:
			what += " pread " + strconv.Itoa(len(j.buf)) + " bytes at " + strconv.FormatInt(j.off, 10)
		default:
			what += " pread " + strconv.Itoa(j.n) + " bytes at " + strconv.FormatInt(j.off, 10)
			if j.err != nil {
				what += ": " + trace.Errno(j.err)
			}
		}
		l.tr.Emit(trace.Event{Kind: trace.File, Conn: c.id, Fd: c.fd, Text: what})
	}
}

// traceTimer reports c's deadline passing, and what its Session made of it.
func (l *loop) traceTimer(c *conn, answer bool) {
	if l.tr.On() {
		what := "deadline passed: close"
		if answer {
			what = "deadline passed: answer 408, then close"
		}
		l.tr.Emit(trace.Event{Kind: trace.Timer, Conn: c.id, Fd: c.fd, Text: what})
	}
}

func (ev events) String() string {
	switch ev {
	case readable:
		return "readable"
	case writable:
		return "writable"
	case readable | writable:
		return "readable|writable"
	}
	return "nothing"
}
