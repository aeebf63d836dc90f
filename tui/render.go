package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
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
	lay := layoutFor(w, len(m.targets), m.focus, m.showHelp || m.picker.open)
	var summaries []string
	for i, t := range m.targets {
		if !lay.has(i) {
			summaries = append(summaries, m.viewSummary(i, t, w))
		}
	}
	header := m.viewHeader(w)
	lesson := m.viewLesson(w, lessonLines(h))
	helpLine := m.viewHelpLine(w)
	bodyH := h - lipgloss.Height(header) - len(summaries) - lipgloss.Height(lesson) - 1

	// The compare row needs at least two columns to compare, and gives
	// way on a short terminal, where the charts are worth more.
	compare := ""
	if lay.cols >= 2 && bodyH-compareHeight(len(m.targets)) >= minBodyWithCompare {
		compare = m.viewCompare(w)
		bodyH -= lipgloss.Height(compare)
	}

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
		paneH := m.traceHeight(bodyH)
		body = m.viewColumns(lay, bodyH-paneH) + m.viewTrace(w, paneH)
	}
	parts := []string{header, fit(body, w, max(bodyH, 1))}
	parts = append(parts, summaries...)
	if compare != "" {
		parts = append(parts, compare)
	}
	parts = append(parts, lesson, helpLine)
	return fit(strings.Join(parts, "\n"), w, h)
}

// minBodyWithCompare is the fewest rows the columns keep when the compare
// row is shown: enough for a title, three captions, the panel under the
// charts and charts of four rows or more.
const minBodyWithCompare = 22

// lessonLines is how many lines the lesson may take: two on a small
// terminal, three on a tall one, where even the longest lesson fits.
func lessonLines(h int) int {
	if h >= 30 {
		return 3
	}
	return 2
}

// viewHeader is two lines: the scenario and its state, then the knobs
// with the keys that turn them.
func (m *Model) viewHeader(w int) string {
	st, k := m.st, m.knobs
	run := st.goodBadge.Render(" ▶ RUNNING " + m.clockText() + " ")
	if k.Paused {
		run = st.warnBadge.Render(" ‖ PAUSED " + m.clockText() + " ")
	}
	line1 := st.title.Render("serverlab") + " · scenario " + st.title.Render(m.scenarios[m.scenario].Name) +
		" " + run + " drive: " + k.Mode.String() + " (m)"
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

// viewLesson is the running scenario's lesson, or a note if there is
// one, at most maxLines lines. It is the line a teacher points at, so it
// is bold, behind a badge, and cut only at a word, with an ellipsis.
func (m *Model) viewLesson(w, maxLines int) string {
	st := m.st
	badge, text, style := st.lessonBadge.Render(" WATCH "), lessonFor(m.scenarios[m.scenario]), st.lesson
	switch {
	case m.note != "":
		badge, text, style = st.warnBadge.Render(" NOTE "), m.note, st.warn
	case m.notice != "":
		badge, text, style = st.warnBadge.Render(" NOTE "), m.notice, st.warn
	}
	indent := lipgloss.Width(badge) + 1
	lines := strings.Split(wrap(text, w-indent), "\n")
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = fitWords(lines[maxLines-1]+" …", w-indent)
	}
	for i, l := range lines {
		lead := strings.Repeat(" ", indent)
		if i == 0 {
			lead = badge + " "
		}
		lines[i] = lead + style.Render(l)
	}
	return fit(strings.Join(lines, "\n"), w, len(lines))
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
		"counts them, # the server's OS threads. The numbers panel repeats each glyph. " +
		"Compare: the figures the scenario's lesson is about, over its last 10 s, each against the first server."
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

// viewColumns draws the columns lay gives, side by side, h rows high.
func (m *Model) viewColumns(lay layout, h int) string {
	sc := m.scalesFor(chartWidth(lay.colW))
	var out []string
	for i := lay.first; i < lay.first+lay.cols; i++ {
		out = append(out, fit(m.viewColumn(i, lay.colW, h, sc), lay.colW, h))
		if i < lay.first+lay.cols-1 {
			out = append(out, strings.Repeat(" ", colGap))
		}
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, out...)
}

// viewColumn is one server: its state, latency, concurrency and
// throughput charts, and its numbers.
func (m *Model) viewColumn(i, w, h int, sc scales) string {
	t, st := m.targets[i], m.st
	side := w >= sideBySideAt
	chartW := chartWidth(w)
	panel := m.numbers(t)
	panelH := 0
	if !side {
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
	// Each caption is also its chart's legend; a narrow column gets the
	// shorter words, never a legend cut in half.
	charts := strings.Join([]string{
		firstFit(chartW, "latency ─ p99 • p50"+window, "latency ─ p99 • p50"),
		m.latencyChart(hist, chartW, latH, sc),
		firstFit(chartW, "concurrency (log) ─conns •in flight o+ server #thr",
			"concurrency (log) ─conns •in flight o+ srv #thr", "concurrency ─conns •req o+srv #thr"),
		m.concurrencyChart(t, hist, chartW, concH, sc),
		firstFit(chartW, fmt.Sprintf("throughput %s req/s · %s/s", fmtCount(rps), fmtBytes(int64(bps))),
			fmt.Sprintf("throughput %s req/s", fmtCount(rps))),
		spark(chartW, sparkH, sc.rpsMax, st.spark, seriesOf(hist, func(s sample) float64 { return s.rps })),
	}, "\n")
	charts = fit(charts, chartW, h-1-panelH)

	var bodyView string
	if side {
		bodyView = lipgloss.JoinHorizontal(lipgloss.Top, charts, strings.Repeat(" ", colGap), panelLines(panel, panelWidth))
	} else {
		half := (w - colGap) / 2
		left, right := panel[:panelH], panel[panelH:]
		bodyView = charts + "\n" + lipgloss.JoinHorizontal(lipgloss.Top,
			panelLines(left, half), strings.Repeat(" ", colGap), panelLines(right, half))
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
	return plot(w, h, sc.latMax, linearLabels(h, sc.latMax, fmtMicros), m.st.axes(), []series{
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
	return plot(w, h, sc.decades, logLabels(h, sc.decades), st.axes(), ss)
}

// seriesOf maps each sample through f.
func seriesOf(hist []sample, f func(sample) float64) []float64 {
	v := make([]float64, len(hist))
	for i, s := range hist {
		v[i] = f(s)
	}
	return v
}

// viewTitle is a column's first line: focus arrow, name, the state as a
// badge, then whatever else fits, each part whole or not at all.
func (m *Model) viewTitle(i int, t *target, w int) string {
	st, s := m.st, t.status
	name := "  " + t.name
	style := st.title
	if i == m.focus {
		name, style = "▶ "+t.name, st.focused
	}
	name = fitWords(name, w-lipgloss.Width(m.stateBadge(s.State))-1)
	line := style.Render(name) + " " + m.stateBadge(s.State)
	// add appends text if it fits whole; a sentence (a crash's detail)
	// may instead be cut at a word.
	add := func(text string, style lipgloss.Style, sentence bool) {
		room := w - lipgloss.Width(line) - 1
		if sentence {
			text = fitWords(text, room)
		}
		if text != "" && text != "…" && lipgloss.Width(text) <= room {
			line += " " + style.Render(text)
		}
	}
	switch s.State {
	case Crashed, Stopped:
		add("x restarts", st.dim, false)
		add(s.Detail, st.bad, true)
	default:
		add(m.turnText(s), st.title, false)
		if s.State == External {
			add("external", st.dim, false)
		} else if s.Addr != "" && !strings.Contains(t.name, s.Addr) {
			add(s.Addr, st.dim, false)
		}
	}
	return fit(line, w, 1)
}

// stateBadge is a server's state as a word in reverse video: " ● UP ",
// " ✗ CRASHED ", " ‖ HELD ". The glyph and the word say it without colour;
// the block of colour says it from the back of the room.
func (m *Model) stateBadge(s State) string {
	st := m.st
	style := st.goodBadge
	switch s {
	case Starting, Held:
		style = st.warnBadge
	case Crashed, Stopped:
		style = st.badBadge
	}
	return style.Render(" " + strings.ToUpper(stateLabel(s)) + " ")
}

// stateWord is the same state in colour and lower case, for the compare
// row, where a column of badges would shout.
func (m *Model) stateWord(s State) string {
	st := m.st
	style := st.good
	switch s {
	case Starting, Held:
		style = st.warn
	case Crashed, Stopped:
		style = st.bad
	}
	return style.Render(stateLabel(s))
}

// stateLabel is a state's glyph and word. A server listening on its
// address is "up", the word a class uses; an external one is up as far
// as the dashboard can tell.
func stateLabel(s State) string {
	switch s {
	case Starting:
		return "◌ starting"
	case Crashed:
		return "✗ crashed"
	case Stopped:
		return "■ stopped"
	case Held:
		return "‖ held"
	}
	return "● up"
}

// turnText says, in one-at-a-time mode, whether the load is on this
// server now.
func (m *Model) turnText(s Status) string {
	if m.knobs.Mode != OneAtATime || m.knobs.Paused {
		return ""
	}
	if s.Driving {
		return "◆ its turn"
	}
	return "◇ waiting"
}

// numbers is the panel of current values: label and value per line. The
// glyph before a label is the one its series has in the charts, which
// makes the panel the charts' legend as well.
func (m *Model) numbers(t *target) []entry {
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
	return []entry{
		{label: "  req/s", value: val(t.seen, fmtCount(rps))},
		{label: "• p50", value: val(f.Requests > 0, fmtDuration(f.P50))},
		{label: "─ p99", value: val(f.Requests > 0, fmtDuration(f.P99))},
		{label: "  p99 uncorrected", short: "  p99 uncorr.", value: val(f.Requests > 0 && m.knobs.Rate > 0, fmtDuration(f.UncorrectedP99))},
		{label: "  max", value: val(t.maxLatency > 0, fmtDuration(t.maxLatency))},
		{label: "─ conns", value: val(t.seen, fmt.Sprint(f.Conns))},
		{label: "• in flight", value: val(t.seen, fmt.Sprint(f.InFlight))},
		{label: "o srv open", value: val(f.HasServer, fmt.Sprint(f.ServerOpen))},
		{label: "+ srv in flight", short: "+ srv busy", value: val(f.HasServer, fmt.Sprint(f.ServerInFlight))},
		{label: "# threads", value: val(f.HasProc, fmt.Sprint(f.Threads))},
		{label: "  RSS", value: val(f.HasProc, fmtBytes(f.RSS))},
		{label: "  CPU", value: val(f.HasProc, fmt.Sprintf("%.0f%%", f.CPU))},
		{label: "  errors", value: val(t.seen, fmtCount(float64(t.errorTotal())))},
		{kinds: t.errors},
	}
}

// entry is one line of the numbers panel. short is the label for a panel
// too narrow for the long one; kinds, when set, makes the line the list of
// error kinds instead.
type entry struct {
	label, short, value string
	kinds               []ErrorCount
}

// errorKinds lists the kinds of error seen, "timeout 3 reset 1", as many
// as fit in w. The panel gives it one line whatever the count, so that
// every column has the same height and their charts line up.
func errorKinds(errs []ErrorCount, w int) string {
	line := ""
	for _, e := range errs {
		next := e.Kind + " " + fmtCount(float64(e.N))
		if line != "" {
			next = line + " " + next
		}
		if ansi.StringWidth(next) > w {
			return fitWords(line+" …", w)
		}
		line = next
	}
	return line
}

// panelLines lays entries out w wide, values right-aligned. A value is
// never cut: a label that leaves it no room gives way to its short form.
func panelLines(lines []entry, w int) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		if l.label == "" {
			kinds := errorKinds(l.kinds, w)
			out[i] = strings.Repeat(" ", max(0, w-ansi.StringWidth(kinds))) + kinds
			continue
		}
		label := l.label
		if ansi.StringWidth(label)+1+ansi.StringWidth(l.value) > w && l.short != "" {
			label = l.short
		}
		pad := max(1, w-ansi.StringWidth(label)-ansi.StringWidth(l.value))
		out[i] = label + strings.Repeat(" ", pad) + l.value
	}
	return fit(strings.Join(out, "\n"), w, len(lines))
}

// viewSummary is a server that has no column, on one line.
func (m *Model) viewSummary(i int, t *target, w int) string {
	name := "  " + padRight(t.name, 9)
	if i == m.focus {
		name = m.st.focused.Render("▶ " + padRight(t.name, 9))
	}
	line := name + " " + m.stateBadge(t.status.State)
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
		text := fmt.Sprintf("%s req/s p50 %s p99 %s err %s",
			fmtCount(rps), p50, p99, fmtCount(float64(t.errorTotal())))
		if f.HasProc {
			text += fmt.Sprintf(" thr %d %s", f.Threads, fmtBytes(f.RSS))
		}
		if room := w - lipgloss.Width(line) - 1; room > 1 {
			line += " " + fitWords(text, room)
		}
	}
	return fit(line, w, 1)
}

// fmtMicros labels a latency axis whose unit is the microsecond.
func fmtMicros(us float64) string { return fmtDuration(durationOfMicros(us)) }
