package trace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"serverlab/internal/sock"
)

// The trace channel is a socketpair between a parent (serverlab trace, the
// dashboard) and the server it started, passed to the server as a second
// descriptor beside its control channel (serve -trace-fd). Events go up as
// JSON lines, one per event; commands come down as words, one per line:
//
//	start   trace every step from now (answered by an On event)
//	stop    stop tracing (and run free)
//	hold    slow motion: wait before each turn (or system call)
//	step    let one more turn (or system call) through
//	free    end slow motion
//
// The parent closing its end stops tracing and frees a held server.

// Commands a parent sends down the trace channel.
const (
	CmdStart = "start"
	CmdStop  = "stop"
	CmdHold  = "hold"
	CmdStep  = "step"
	CmdFree  = "free"
)

// Serve carries t's events to the parent over ch, and the parent's
// commands to t, until the parent closes its end; then it stops tracing
// and frees a held server. It returns an error for a command it does not
// know. The writing happens on a goroutine of its own, so however slowly
// the parent reads, the model only ever meets a full queue, and drops.
func (t *Tracer) Serve(ch io.ReadWriter) error {
	done := make(chan struct{})
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		t.write(ch, done)
	}()
	err := t.obey(ch)
	t.Stop()
	close(done)
	if err == nil {
		// The parent has gone, so the writer's next write fails at once
		// if it is not already waiting for an event, and done ends that.
		<-wrote
	}
	return err
}

// obey carries out the parent's commands until it closes its end.
func (t *Tracer) obey(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		switch cmd := strings.TrimSpace(sc.Text()); cmd {
		case CmdStart:
			t.Start()
		case CmdStop:
			t.Stop()
		case CmdHold:
			t.Hold()
		case CmdStep:
			t.Step()
		case CmdFree:
			t.Free()
		default:
			return fmt.Errorf("trace channel: unknown command %q", cmd)
		}
	}
	return nil
}

// write takes events off the queue and writes them to w, one JSON line
// each, until done. Before an event it reports, as a Drop event, any that
// were dropped since the last: a reader sees exactly where its trace has a
// hole. It flushes whenever the queue is empty, so a trickle of events
// arrives at once and a flood goes out in large writes.
func (t *Tracer) write(w io.Writer, done <-chan struct{}) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	for {
		var ev Event
		select {
		case ev = <-t.queue:
		case <-done:
			return
		}
		if d := t.drops.Swap(0); d > 0 {
			enc.Encode(Event{Time: ev.Time, Kind: Drop, N: int64(d)})
		}
		if err := enc.Encode(ev); err != nil {
			return // the parent's end is gone
		}
		if len(t.queue) == 0 && bw.Flush() != nil {
			return
		}
	}
}

// Remote is the parent's end of a trace channel.
type Remote struct {
	conn net.Conn
	dec  *json.Decoder
	mu   sync.Mutex // one command at a time
}

// Pair makes a trace channel: the parent's end, and the server's end, an
// *os.File to hand to the child (exec.Cmd.ExtraFiles) and close after the
// child has started.
func Pair() (*Remote, *os.File, error) {
	conn, theirs, err := sock.Pair("trace channel")
	if err != nil {
		return nil, nil, err
	}
	return &Remote{conn: conn, dec: json.NewDecoder(bufio.NewReaderSize(conn, 64<<10))}, theirs, nil
}

// Next waits for the next event from the server.
func (r *Remote) Next() (Event, error) {
	var ev Event
	err := r.dec.Decode(&ev)
	return ev, err
}

// SetReadDeadline bounds the wait of Next.
func (r *Remote) SetReadDeadline(t time.Time) error { return r.conn.SetReadDeadline(t) }

// Send sends one command (CmdStart, CmdHold, ...).
func (r *Remote) Send(cmd string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := io.WriteString(r.conn, cmd+"\n")
	return err
}

// Close closes the parent's end: the server stops tracing.
func (r *Remote) Close() error { return r.conn.Close() }
