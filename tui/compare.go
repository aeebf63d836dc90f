package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// The compare row sits under the columns: for the running scenario, the
// one or two figures its lesson line talks about, a line per server, each
// with its ratio to the first server's. It is the scenario's point in a
// few numbers large enough to read from the back of the room: "threaded:
// p99 274µs, 18.9k× lower than blocking".
//
// Each figure is taken over the last compareWindow intervals of the
// running scenario, not the last interval alone: a quarter of a second is
// too noisy to quote, and in slow-client the blocking server's stall is
// the worst moment of the window, not the moment the eye happens to fall.

// compareWindow is how many intervals a figure covers: ten seconds at the
// load generator's 250 ms.
const compareWindow = 40

// figure is one number of the compare row.
type figure struct {
	label string // its heading: "worst p99"
	// of computes it over a window of samples, oldest first; false when
	// the window has nothing to say (no response, no /proc).
	of     func(win []sample) (float64, bool)
	format func(float64) string
}

// The figures a scenario can ask for.
var (
	figReqRate  = figure{"req/s", meanOf(func(s sample) float64 { return s.rps }), fmtCount}
	figByteRate = figure{"bytes/s", meanOf(func(s sample) float64 { return s.bps }),
		func(v float64) string { return fmtBytes(int64(v)) + "/s" }}
	figWorstP99 = figure{"worst p99", worstOf(func(s sample) time.Duration { return s.p99 }), fmtNanos}
	// The uncorrected p99 beside the corrected one is overload's lesson:
	// measured from when each request was sent, the queue is invisible.
	figUncorrectedP99 = figure{"uncorrected p99", worstOf(func(s sample) time.Duration { return s.uncorrectedP99 }), fmtNanos}
	figThreads        = figure{"threads", latestOf(func(s sample) float64 { return float64(s.threads) }), fmtCount}
	figRSS            = figure{"RSS", latestOf(func(s sample) float64 { return float64(s.rss) }),
		func(v float64) string { return fmtBytes(int64(v)) }}
)

// compareFigures is, for each scenario, what its lesson line is about, in
// the order the line names it. A table, never written. A scenario that is
// not in it gets defaultFigures.
var compareFigures = map[string][]figure{
	"baseline":    {figReqRate, figWorstP99},
	"crowd":       {figReqRate, figWorstP99},
	"slow-client": {figWorstP99, figReqRate},
	"c10k":        {figRSS, figThreads},
	"big-files":   {figByteRate, figWorstP99},
	"slow-reader": {figWorstP99, figReqRate},
	"churn":       {figReqRate, figWorstP99},
	"overload":    {figWorstP99, figUncorrectedP99},
	"slow-disk":   {figReqRate, figWorstP99},
}

var defaultFigures = []figure{figReqRate, figWorstP99}

func figuresFor(scenario string) []figure {
	if f, ok := compareFigures[scenario]; ok {
		return f
	}
	return defaultFigures
}

// meanOf averages f over the window, intervals with no answer included:
// a server that answered nothing for a second did 0 req/s in it.
func meanOf(f func(sample) float64) func([]sample) (float64, bool) {
	return func(win []sample) (float64, bool) {
		if len(win) == 0 {
			return 0, false
		}
		sum := 0.0
		for _, s := range win {
			sum += f(s)
		}
		return sum / float64(len(win)), true
	}
}

// worstOf is the largest latency f gives over the answered intervals, in
// nanoseconds.
func worstOf(f func(sample) time.Duration) func([]sample) (float64, bool) {
	return func(win []sample) (float64, bool) {
		worst, ok := time.Duration(0), false
		for _, s := range win {
			if s.answered {
				worst, ok = max(worst, f(s)), true
			}
		}
		return float64(worst), ok
	}
}

// latestOf is f of the newest interval that could read the process.
func latestOf(f func(sample) float64) func([]sample) (float64, bool) {
	return func(win []sample) (float64, bool) {
		for i := len(win) - 1; i >= 0; i-- {
			if win[i].hasProc {
				return f(win[i]), true
			}
		}
		return 0, false
	}
}

func fmtNanos(ns float64) string { return fmtDuration(time.Duration(ns)) }

// fmtRatio says how v compares with base in words a class reads aloud:
// "357× higher", "18.9k× lower", "same". A ratio needs a base above zero.
func fmtRatio(v, base float64) string {
	if base <= 0 || math.IsNaN(v) {
		return ""
	}
	r := v / base
	switch {
	case r == 0:
		return "none"
	case math.Abs(r-1) < 0.005:
		return "same"
	case r > 1:
		return fmtFactor(r) + " higher"
	default:
		return fmtFactor(1/r) + " lower"
	}
}

// fmtFactor writes a factor of at least 1 in three digits: 1.05×, 35.7×,
// 357×, 18.9k×.
func fmtFactor(r float64) string {
	if r < 999.5 {
		return threeDigits(r) + "×"
	}
	return fmtCount(r) + "×"
}

// compareHeight is the rows the compare row takes with n servers: its
// heading and a line each.
func compareHeight(n int) int { return 1 + n }

// viewCompare draws the compare row w wide.
func (m *Model) viewCompare(w int) string {
	st := m.st
	figs := figuresFor(m.scenarios[m.scenario].Name)
	type cell struct{ value, ratio string }
	rows := make([][]cell, len(m.targets))
	base := make([]float64, len(figs))
	span := time.Duration(0)
	for i, t := range m.targets {
		win := t.hist.last(min(compareWindow, t.fresh))
		if len(win) > 1 {
			span = max(span, win[len(win)-1].at.Sub(win[0].at)+win[1].at.Sub(win[0].at))
		}
		for j, f := range figs {
			v, ok := f.of(win)
			c := cell{value: "–"}
			if ok {
				c.value = f.format(v)
				if i == 0 {
					base[j] = v
				} else {
					c.ratio = fmtRatio(v, base[j])
				}
			}
			rows[i] = append(rows[i], c)
		}
	}

	nameW := 10
	for _, t := range m.targets {
		nameW = max(nameW, ansi.StringWidth(t.name)+3)
	}
	nameW = min(nameW, 28)
	vs := "vs " + m.targets[0].name
	const stateW = 12
	ratioW := max(14, ansi.StringWidth(vs))
	valW := make([]int, len(figs))
	for j, f := range figs {
		valW[j] = max(ansi.StringWidth(f.label), 6)
		for _, r := range rows {
			valW[j] = max(valW[j], ansi.StringWidth(r[j].value))
		}
	}

	var b strings.Builder
	badge := st.lessonBadge.Render(" COMPARE ")
	head := ""
	if span >= time.Second {
		head = fmt.Sprintf(" last %.0fs", span.Seconds())
	}
	b.WriteString(badge + padRight(fitWords(head, nameW+stateW-lipgloss.Width(badge)), nameW+stateW-lipgloss.Width(badge)))
	for j, f := range figs {
		label := strings.Repeat(" ", valW[j]-ansi.StringWidth(f.label)) + f.label
		b.WriteString(st.title.Render(label) + "  " + st.dim.Render(padRight(vs, ratioW)))
		if j < len(figs)-1 {
			b.WriteString("  ")
		}
	}
	for i, t := range m.targets {
		b.WriteString("\n")
		name := "  " + t.name
		if i == m.focus {
			name = "▶ " + t.name
		}
		b.WriteString(padRight(fitWords(name, nameW-1), nameW))
		b.WriteString(padRight(m.stateWord(t.status.State), stateW))
		line := ""
		for j, c := range rows[i] {
			value := strings.Repeat(" ", valW[j]-ansi.StringWidth(c.value)) + c.value
			line += st.title.Render(value) + "  " + padRight(c.ratio, ratioW)
			if j < len(figs)-1 {
				line += "  "
			}
		}
		// The figures of a server that is down are from before it went;
		// why it went is worth the rest of its line.
		if s := t.status; (s.State == Crashed || s.State == Stopped) && s.Detail != "" {
			if room := w - nameW - stateW - lipgloss.Width(line) - 2; room > 10 {
				line += "  " + st.bad.Render(fitWords(s.Detail, room))
			}
		}
		b.WriteString(line)
	}
	return fit(b.String(), w, compareHeight(len(m.targets)))
}
