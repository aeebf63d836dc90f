package evloop

import (
	"testing"

	"serverlab/trace"
)

// BenchmarkTraceHooksOff is what the trace hooks cost one request when
// nobody traces: the hooks a keep-alive request for a small file passes
// through in one turn of the loop, with the loop's tracer nil (as serve
// without -trace-fd has it) and with a tracer attached but paused (as the
// dashboard's servers have it until the trace pane opens). Compare with
// the server CPU time of a whole request (scripts/tracecost.sh measures it
// side by side with a binary without hooks).
func BenchmarkTraceHooksOff(b *testing.B) {
	run := func(b *testing.B, tr *trace.Tracer) {
		l := &loop{tr: tr, poller: &pollPoller{}}
		c := &conn{fd: 7, id: l.tr.Conn(), sess: nil}
		for range b.N {
			l.tr.Turn()
			l.tr.Wait("epoll_wait", 1, nil)
			l.traceRead(c, 41, nil)
			l.traceState(c, readingRequest, openingFile)
			l.traceState(c, openingFile, fetchingFile)
			l.traceFile(c, "pread", 1024, 0, nil)
			l.traceState(c, fetchingFile, writingHead)
			l.traceWrite(c, "writev", 1253, 1253, nil)
			l.traceState(c, writingHead, writingBody)
			l.traceState(c, writingBody, readingRequest)
		}
	}
	b.Run("nil", func(b *testing.B) { run(b, nil) })
	b.Run("paused", func(b *testing.B) { run(b, trace.New(16)) })
}
