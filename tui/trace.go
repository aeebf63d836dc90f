package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"serverlab/trace"
)

// The trace pane: the focused server's latest steps, as serverlab trace
// prints them, each with the line of source that took it; and slow motion,
// in which the server waits before each step until the teacher presses `.`
// — a turn of the loop for an event loop, a system call for the blocking
// server. A loop held still is itself the lesson: every other connection
// waits while it does, and their latency shows it.

// Tracing is what the trace pane needs from a driver that can trace its
// servers (the live one can). A driver without it has no pane.
type Tracing interface {
	// Trace starts or stops tracing target i.
	Trace(i int, on bool)
	// Hold puts target i in slow motion, or lets it run free; while
	// held, its load is a request or two a second.
	Hold(i int, held bool)
	// Step lets a held target take one more step.
	Step(i int)
	// TraceDrain appends target i's events since the last call to dst,
	// and says how many the driver itself had to drop meanwhile. It
	// never waits.
	TraceDrain(i int, dst []trace.Event) ([]trace.Event, int64)
}

// paneKeep is how many events the pane remembers: more than any terminal
// shows, so that a resize finds them.
const paneKeep = 200

// tracePane is the pane's state.
type tracePane struct {
	open   bool
	target int  // the server traced: the focused one
	held   bool // slow motion asked for
	// unit and at are where a held server waits: before "turn" at, or
	// "system call" at; at is 0 until it reaches the gate.
	unit    string
	at      int64
	events  []trace.Event // the latest, oldest first
	start   time.Time     // the first event's time: the lines count from it
	dropped int64         // events lost on the way, by the server or the driver
	buf     []trace.Event
}

// slowMotion says in what steps a model can be held, or why it cannot.
// The name may carry serve flags ("threaded+osthreads").
func slowMotion(name string) (unit, whyNot string) {
	model, _, _ := strings.Cut(name, "+")
	switch model {
	case "evloop", "uring":
		return "turn", ""
	case "blocking":
		return "system call", ""
	case "threaded":
		return "", "no slow motion for threaded: it has no one loop to hold. Each connection has its own goroutine, " +
			"and Go's runtime decides which runs when, on threads of its choosing: the trace shows them interleaved."
	}
	return "", "no slow motion for " + name + ": the dashboard did not start it, so it cannot trace it"
}

// tracing is the driver's Tracing, or nil.
func (m *Model) tracing() Tracing {
	tr, _ := m.drv.(Tracing)
	return tr
}

// toggleTrace is `t`: open the pane on the focused server, or close it
// (which also lets a held server run free).
func (m *Model) toggleTrace() {
	tr := m.tracing()
	if tr == nil {
		m.note = "this dashboard's driver cannot trace its servers"
		return
	}
	p := &m.trace
	if p.open {
		m.closeTrace()
		return
	}
	*p = tracePane{open: true, target: m.focus, buf: p.buf[:0]}
	tr.Trace(p.target, true)
}

func (m *Model) closeTrace() {
	p := &m.trace
	if tr := m.tracing(); tr != nil && p.open {
		tr.Trace(p.target, false) // stopping also frees a held server
	}
	p.open, p.held, p.at = false, false, 0
}

// stepTrace is `.`: the first press holds the traced server (opening the
// pane if need be), each further press lets it take exactly one step.
func (m *Model) stepTrace() {
	if !m.trace.open {
		m.toggleTrace()
		if !m.trace.open {
			return
		}
	}
	p := &m.trace
	unit, whyNot := slowMotion(m.targets[p.target].name)
	if unit == "" {
		m.note = whyNot
		return
	}
	tr := m.tracing()
	if !p.held {
		p.held, p.unit, p.at = true, unit, 0
		tr.Hold(p.target, true)
		return
	}
	if p.at > 0 {
		tr.Step(p.target)
	}
}

// freeTrace lets a held server run free: a new scenario runs at speed.
func (m *Model) freeTrace() {
	p := &m.trace
	if p.open && p.held {
		m.tracing().Hold(p.target, false)
		p.held, p.at = false, 0
	}
}

// pollTrace takes in the traced server's new events, follows the focus to
// another server, and reports whether the pane changed.
func (m *Model) pollTrace() bool {
	p := &m.trace
	tr := m.tracing()
	if !p.open || tr == nil {
		return false
	}
	if p.target != m.focus {
		m.closeTrace()
		m.toggleTrace()
	}
	var lost int64
	p.buf, lost = tr.TraceDrain(p.target, p.buf[:0])
	p.dropped += lost
	for _, ev := range p.buf {
		switch ev.Kind {
		case trace.Hold:
			p.unit, p.at = ev.Text, ev.N
		case trace.Run:
			p.at = 0
		case trace.Drop:
			p.dropped += ev.N
		}
		if p.start.IsZero() {
			p.start = ev.Time
		}
		p.events = append(p.events, ev)
	}
	if n := len(p.events); n > paneKeep {
		p.events = append(p.events[:0], p.events[n-paneKeep:]...)
	}
	return len(p.buf) > 0 || lost > 0
}

// traceHeight is how many of the body's rows the pane takes: none when
// closed, else about two fifths, within bounds that keep both it and the
// charts readable.
func (m *Model) traceHeight(bodyH int) int {
	if !m.trace.open {
		return 0
	}
	return min(max(bodyH*2/5, 8), 18, bodyH-6)
}

// viewTrace draws the pane, h rows of w cells, preceded by a newline so that
// it follows the columns; "" when it has no room.
func (m *Model) viewTrace(w, h int) string {
	if h <= 0 {
		return ""
	}
	p, st := &m.trace, m.st
	name := m.targets[p.target].name
	unit, whyNot := slowMotion(name)

	title := st.title.Render("trace · " + name)
	hint := "t closes · . slow motion"
	switch {
	case p.held && p.at > 0:
		title = st.warn.Render(fmt.Sprintf("slow motion · %s %d", p.unit, p.at)) + st.dim.Render(" · "+name)
		hint = ". one " + p.unit + " · t runs free"
	case p.held:
		title = st.warn.Render("slow motion · waiting for the next "+unit) + st.dim.Render(" · "+name)
		hint = "t runs free"
	case unit == "":
		hint = "t closes"
	}
	if p.dropped > 0 {
		// Honest, and not alarming: at full load the server takes far
		// more steps than a pane can show, and the rest are dropped.
		hint = "⚠ " + fmtCount(float64(p.dropped)) + " steps dropped, too many to show · " + hint
	}
	lines := []string{title + "  " + st.dim.Render(hint)}
	note := func(style lipgloss.Style, text string) {
		for _, l := range strings.Split(wrap(text, w), "\n") {
			lines = append(lines, style.Render(l))
		}
	}
	switch {
	case p.held:
		note(st.warn, fmt.Sprintf("Held on purpose: %s waits before each %s until you press . — and so does every client "+
			"it serves (the load is now a request or two a second).", name, p.unit))
	case unit == "":
		note(st.dim, whyNot)
	}
	rows := h - len(lines)
	evs := p.events
	if len(evs) > rows {
		evs = evs[len(evs)-rows:]
	}
	for _, ev := range evs {
		lines = append(lines, ev.Line(p.start))
	}
	if len(p.events) == 0 && rows > 0 {
		lines = append(lines, st.dim.Render("no steps yet: the server has not been asked anything since the pane opened"))
	}
	return "\n" + fit(strings.Join(lines, "\n"), w, h)
}
