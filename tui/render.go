package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Layout. A server column needs about 60 cells to draw readable charts;
// the terminal's width decides how many columns fit, and the servers that
// do not get one line each under them. The numbers panel sits beside the
// charts when a column is wide enough (an 80-column terminal) and under
// them otherwise (three columns on a wide screen).
const (
	minColWidth  = 60
	panelWidth   = 24
	sideBySideAt = 76 // column width from which the panel goes beside the charts
)

// viewCache holds the last frame drawn. bubbletea calls View after every
// message, ten times a second at least because of the frame clock; when
// nothing changed, View returns this string and costs nothing. Every
// change to the model calls invalidate.
type viewCache struct {
	s     string
	valid bool
}

func (c *viewCache) invalidate() { c.valid = false }

// View draws the screen: exactly as many lines as the terminal has, each
// no wider than it, so that the renderer never scrolls.
func (m *Model) View() string {
	if !m.view.valid {
		m.view.s, m.view.valid = m.render(), true
	}
	return m.view.s
}

func (m *Model) render() string {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return "serverlab tui: waiting for the terminal size…"
	}
	cols := max(1, min(len(m.targets), w/minColWidth))
	first := min(m.focus, len(m.targets)-cols)
	if m.showHelp || m.picker.open {
		// The page covers the columns: every server gets its line.
		cols, first = 0, 0
	}
	var summaries []string
	for i, t := range m.targets {
		if i < first || i >= first+cols {
			summaries = append(summaries, m.viewSummary(i, t, w))
		}
	}
	header := m.viewHeader(w)
	lesson := m.viewLesson(w)
	helpLine := m.viewHelpLine(w)
	bodyH := h - lipgloss.Height(header) - len(summaries) - lipgloss.Height(lesson) - 1

	var body string
	switch {
	case bodyH < 3 || w < 40:
		// Too small to draw anything useful: say so, keep the help line.
		body = m.st.warn.Render(fmt.Sprintf("terminal %dx%d is too small; 80x24 or more, please", w, h))
	case m.showHelp:
		body = m.viewFullHelp(w)
	case m.picker.open:
		body = m.viewPicker(w, bodyH)
	default:
		body = m.viewColumns(first, cols, w, bodyH)
	}
	parts := []string{header, fit(body, w, max(bodyH, 1))}
	parts = append(parts, summaries...)
	parts = append(parts, lesson, helpLine)
	return fit(strings.Join(parts, "\n"), w, h)
}

// viewHeader is two lines: the scenario and its state, then the knobs
// with the keys that turn them.
func (m *Model) viewHeader(w int) string {
	st, k := m.st, m.knobs
	run := st.good.Render("▶ running " + m.clockText())
	if k.Paused {
		run = st.warn.Render("‖ paused " + m.clockText())
	}
	line1 := st.title.Render("serverlab") + " · scenario " + st.title.Render(m.scenarios[m.scenario].Name) +
		" · " + run + " · drive: " + k.Mode.String() + " (m)"
	rate := "off"
	switch {
	case k.Rate > 0 && k.Ramp:
		rate = "↗" + fmtCount(float64(k.Rate)) + "/s"
	case k.Rate > 0:
		rate = fmtCount(float64(k.Rate)) + "/s"
	}
	knob := func(name, value, keys string) string {
		return name + " " + st.title.Render(value) + st.dim.Render(" "+keys)
	}
	line2 := strings.Join([]string{
		knob("clients", fmt.Sprint(k.Clients), "+/-"),
		knob("rate", rate, "R/r"),
		knob("slow", fmt.Sprint(k.Slow), "S/s"),
		knob("idle", fmt.Sprint(k.Idle), "I/i"),
	}, " · ")
	return line1 + "\n" + line2
}

// viewLesson is the running scenario's lesson, or a note if there is one.
func (m *Model) viewLesson(w int) string {
	text := "Watch: " + lessonFor(m.scenarios[m.scenario])
	style := m.st.dim
	switch {
	case m.note != "":
		text, style = m.note, m.st.warn
	case m.notice != "":
		text, style = m.notice, m.st.warn
	}
	return style.Render(fit(wrap(text, w), w, 2))
}

func (m *Model) viewHelpLine(w int) string {
	m.help.Width = w
	if m.picker.open && !m.showHelp {
		return m.help.ShortHelpView(m.keys.pickerHelp())
	}
	return m.help.ShortHelpView(m.keys.ShortHelp())
}

// viewFullHelp is the `?` page: every key, and how to read the charts.
func (m *Model) viewFullHelp(w int) string {
	m.help.Width = w
	legend := "Charts: latency ─ p99, • p50, on one axis for all servers; a gap is an interval " +
		"in which nothing was answered. Concurrency, on a log axis: ─ connections and • requests " +
		"in flight as the clients see them, o connections and + requests in flight as the server " +
		"counts them, # the server's OS threads. The numbers panel repeats each glyph."
	return m.st.title.Render("Keys") + m.st.dim.Render("  (any key closes this page)") + "\n\n" +
		m.help.FullHelpView(m.keys.FullHelp()) + "\n\n" + wrap(legend, w)
}

// scales are the axes that every column shares. A server whose latency
// is flat must look flat beside one whose latency jumps, so the latency
// and throughput axes are the same for all; each column autoscaling on
// its own would blow a flat line's noise up to full height.
type scales struct {
	latMax  float64 // µs
	rpsMax  float64
	decades float64       // of the concurrency chart
	samples int           // how many intervals a chart shows
	span    time.Duration // the time they cover, for the "last 15s" caption
}

func (m *Model) scalesFor(n int) scales {
	sc := scales{samples: n, decades: 1}
	var peakCount float64
	for _, t := range m.targets {
		hist := t.hist.last(n)
		if len(hist) > 1 {
			sc.span = max(sc.span, hist[len(hist)-1].at.Sub(hist[0].at))
		}
		for _, s := range hist {
			sc.latMax = max(sc.latMax, float64(s.p99.Microseconds()), float64(s.p50.Microseconds()))
			sc.rpsMax = max(sc.rpsMax, s.rps)
			peakCount = max(peakCount, float64(s.conns), float64(s.inFlight), float64(s.srvOpen),
				float64(s.srvInFlight), float64(s.threads))
		}
	}
	sc.latMax = niceCeil(sc.latMax)
	sc.decades = max(1, math.Ceil(logScale(peakCount)))
	return sc
}

// viewColumns draws cols full columns side by side from target first.
func (m *Model) viewColumns(first, cols, w, h int) string {
	gap := 2
	cw := (w - gap*(cols-1)) / cols
	chartW := cw
	if cw >= sideBySideAt {
		chartW = cw - panelWidth - gap
	}
	sc := m.scalesFor(chartW)
	var out []string
	for i := first; i < first+cols; i++ {
		out = append(out, fit(m.viewColumn(i, cw, h, sc), cw, h))
		if i < first+cols-1 {
			out = append(out, strings.Repeat(" ", gap))
		}
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, out...)
}

// viewColumn is one server: its state, latency, concurrency and
// throughput charts, and its numbers.
func (m *Model) viewColumn(i, w, h int, sc scales) string {
	t, st := m.targets[i], m.st
	side := w >= sideBySideAt
	chartW := w
	panel := m.numbers(t)
	panelH := 0
	if side {
		chartW = w - panelWidth - 2
	} else {
		panelH = (len(panel) + 1) / 2
	}

	// Rows: the title, three chart captions, the panel if it goes
	// underneath, and the rest shared by the charts.
	rows := h - 1 - 3 - panelH
	if rows < 5 {
		// No room for charts: the numbers alone still tell the story.
		return m.viewTitle(i, t, w) + "\n" + panelLines(panel, min(w, 2*panelWidth))
	}
	sparkH := max(1, min(3, rows/5))
	latH := max(2, (rows-sparkH)/2)
	concH := max(2, rows-sparkH-latH)

	window := ""
	if sc.span >= time.Second {
		window = fmt.Sprintf(" · last %.0fs", sc.span.Seconds())
	}
	hist := t.hist.last(sc.samples)
	rps, bps := 0.0, 0.0
	if t.seen && t.last.Interval > 0 {
		rps = float64(t.last.Requests) / t.last.Interval.Seconds()
		bps = float64(t.last.Bytes) / t.last.Interval.Seconds()
	}
	charts := strings.Join([]string{
		st.dim.Render("latency ─ p99 • p50" + window),
		m.latencyChart(hist, chartW, latH, sc),
		st.dim.Render("concurrency (log) ─conns •in flight o+ server #thr"),
		m.concurrencyChart(t, hist, chartW, concH, sc),
		st.dim.Render(fmt.Sprintf("throughput %s req/s · %s/s", fmtCount(rps), fmtBytes(int64(bps)))),
		spark(chartW, sparkH, sc.rpsMax, st.spark, seriesOf(hist, func(s sample) float64 { return s.rps })),
	}, "\n")
	charts = fit(charts, chartW, h-1-panelH)

	var bodyView string
	if side {
		bodyView = lipgloss.JoinHorizontal(lipgloss.Top, charts, "  ", panelLines(panel, panelWidth))
	} else {
		half := (w - 2) / 2
		left, right := panel[:panelH], panel[panelH:]
		bodyView = charts + "\n" + lipgloss.JoinHorizontal(lipgloss.Top,
			panelLines(left, half), "  ", panelLines(right, half))
	}
	return m.viewTitle(i, t, w) + "\n" + bodyView
}

// latencyChart draws p99 as a line and p50 as dots, on the shared axis.
func (m *Model) latencyChart(hist []sample, w, h int, sc scales) string {
	// An interval in which nothing was answered has no latency: it is a
	// gap in the line, not a zero, which would read as "fast" at the very
	// moment a server is stuck.
	latency := func(d func(sample) time.Duration) func(sample) float64 {
		return func(s sample) float64 {
			if !s.answered {
				return math.NaN()
			}
			return float64(d(s).Microseconds())
		}
	}
	return plot(w, h, sc.latMax, linearLabels(h, sc.latMax, fmtMicros), m.st.axis, []series{
		{style: m.st.p99, vals: seriesOf(hist, latency(func(s sample) time.Duration { return s.p99 }))},
		{glyph: '•', style: m.st.p50, vals: seriesOf(hist, latency(func(s sample) time.Duration { return s.p50 }))},
	})
}

// concurrencyChart draws, on a log axis, the connections and requests in
// flight as the client sees them, the server's own counts of the same
// (for the project's models) and its OS threads (for any local process).
func (m *Model) concurrencyChart(t *target, hist []sample, w, h int, sc scales) string {
	st := m.st
	count := func(c func(sample) int64) []float64 {
		return seriesOf(hist, func(s sample) float64 { return logScale(float64(c(s))) })
	}
	hasServer, hasProc := t.last.HasServer || !t.seen, t.last.HasProc || !t.seen
	// Later series draw over earlier ones where they meet, so the order
	// is a priority: the server's own in-flight count, the one that shows
	// a model serving one request at a time, goes on top.
	ss := []series{{style: st.conns, vals: count(func(s sample) int64 { return int64(s.conns) })}}
	if hasServer {
		ss = append(ss, series{glyph: 'o', style: st.srvOpen, vals: count(func(s sample) int64 { return s.srvOpen })})
	}
	ss = append(ss, series{glyph: '•', style: st.inFlight, vals: count(func(s sample) int64 { return int64(s.inFlight) })})
	if hasProc {
		ss = append(ss, series{glyph: '#', style: st.threads, vals: count(func(s sample) int64 { return int64(s.threads) })})
	}
	if hasServer {
		ss = append(ss, series{glyph: '+', style: st.srvInFlight, vals: count(func(s sample) int64 { return s.srvInFlight })})
	}
	return plot(w, h, sc.decades, logLabels(h, sc.decades), st.axis, ss)
}

// seriesOf maps each sample through f.
func seriesOf(hist []sample, f func(sample) float64) []float64 {
	v := make([]float64, len(hist))
	for i, s := range hist {
		v[i] = f(s)
	}
	return v
}

// viewTitle is a column's first line: focus arrow, name and state.
func (m *Model) viewTitle(i int, t *target, w int) string {
	name := "  " + t.name
	style := m.st.title
	if i == m.focus {
		name, style = "▶ "+t.name, m.st.focused
	}
	return fit(style.Render(name)+" "+m.stateText(t, true), w, 1)
}

// stateText says where a target is in its life, in words and a glyph, so
// that it reads the same with colours or without.
func (m *Model) stateText(t *target, long bool) string {
	st, s := m.st, t.status
	switch s.State {
	case Starting:
		return st.warn.Render("◌ starting")
	case Crashed, Stopped:
		text := "✗ " + s.State.String()
		if long && s.Detail != "" {
			text += ": " + s.Detail
		}
		return st.bad.Render(text) + st.dim.Render(" (x restarts)")
	}
	word := s.State.String()
	if !long && s.State == Listening {
		word = "up" // a summary line has no room for the long word
	}
	text := st.good.Render("● " + word)
	if long && s.Addr != "" && !strings.Contains(t.name, s.Addr) {
		text += st.dim.Render(" " + s.Addr)
	}
	if m.knobs.Mode == OneAtATime && !m.knobs.Paused {
		if s.Driving {
			text += " " + st.title.Render("◆ its turn")
		} else {
			text += st.dim.Render(" ◇ waiting")
		}
	}
	return text
}

// numbers is the panel of current values: label and value per line. The
// glyph before a label is the one its series has in the charts, which
// makes the panel the charts' legend as well.
func (m *Model) numbers(t *target) [][2]string {
	f := t.last
	dash := "–"
	val := func(ok bool, s string) string {
		if !ok {
			return dash
		}
		return s
	}
	rps := 0.0
	if f.Interval > 0 {
		rps = float64(f.Requests) / f.Interval.Seconds()
	}
	lines := [][2]string{
		{"  req/s", val(t.seen, fmtCount(rps))},
		{"• p50", val(f.Requests > 0, fmtDuration(f.P50))},
		{"─ p99", val(f.Requests > 0, fmtDuration(f.P99))},
		{"  p99 uncorrected", val(f.Requests > 0 && m.knobs.Rate > 0, fmtDuration(f.UncorrectedP99))},
		{"  max", val(t.maxLatency > 0, fmtDuration(t.maxLatency))},
		{"─ conns", val(t.seen, fmt.Sprint(f.Conns))},
		{"• in flight", val(t.seen, fmt.Sprint(f.InFlight))},
		{"o srv open", val(f.HasServer, fmt.Sprint(f.ServerOpen))},
		{"+ srv in flight", val(f.HasServer, fmt.Sprint(f.ServerInFlight))},
		{"# threads", val(f.HasProc, fmt.Sprint(f.Threads))},
		{"  RSS", val(f.HasProc, fmtBytes(f.RSS))},
		{"  CPU", val(f.HasProc, fmt.Sprintf("%.0f%%", f.CPU))},
		{"  errors", val(t.seen, fmtCount(float64(t.errorTotal())))},
		{"", errorKinds(t.errors)},
	}
	return lines
}

// errorKinds lists the kinds of error seen, "timeout 3 reset 1". The
// panel gives it one line whatever the count, so that every column has the
// same height and their charts line up.
func errorKinds(errs []ErrorCount) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Kind + " " + fmtCount(float64(e.N))
	}
	return strings.Join(parts, " ")
}

// panelLines lays label/value pairs out w wide, values right-aligned.
func panelLines(lines [][2]string, w int) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		pad := max(1, w-ansi.StringWidth(l[0])-ansi.StringWidth(l[1]))
		out[i] = l[0] + strings.Repeat(" ", pad) + l[1]
	}
	return fit(strings.Join(out, "\n"), w, len(lines))
}

// viewSummary is a server that has no column, on one line.
func (m *Model) viewSummary(i int, t *target, w int) string {
	name := "  " + padRight(t.name, 9)
	if i == m.focus {
		name = m.st.focused.Render("▶ " + padRight(t.name, 9))
	}
	var b strings.Builder
	b.WriteString(name + " " + m.stateText(t, false))
	if t.seen {
		f := t.last
		rps := 0.0
		if f.Interval > 0 {
			rps = float64(f.Requests) / f.Interval.Seconds()
		}
		p50, p99 := "–", "–"
		if f.Requests > 0 {
			p50, p99 = fmtDuration(f.P50), fmtDuration(f.P99)
		}
		fmt.Fprintf(&b, " %s req/s p50 %s p99 %s err %s",
			fmtCount(rps), p50, p99, fmtCount(float64(t.errorTotal())))
		if f.HasProc {
			fmt.Fprintf(&b, " thr %d %s", f.Threads, fmtBytes(f.RSS))
		}
	}
	return fit(b.String(), w, 1)
}

// fmtMicros labels a latency axis whose unit is the microsecond.
func fmtMicros(us float64) string { return fmtDuration(durationOfMicros(us)) }
