package tui

import (
	"math"

	"github.com/NimbleMarkets/ntcharts/canvas"
	"github.com/NimbleMarkets/ntcharts/canvas/graph"
	"github.com/NimbleMarkets/ntcharts/canvas/runes"
	"github.com/NimbleMarkets/ntcharts/linechart"
	"github.com/NimbleMarkets/ntcharts/sparkline"
	"github.com/charmbracelet/lipgloss"
)

// The charts are drawn afresh from each target's history whenever a frame
// is rendered, at whatever size the layout gives them. Keeping the data in
// our own ring (history.go) rather than inside the chart widgets is what
// makes a resize, a reset or a change of focus trivial: there is no chart
// state to carry over, only numbers to draw again.
//
// One column is one interval of the load generator, newest on the right.
// In one-at-a-time mode a server that is waiting its turn gets no
// intervals, so its chart simply stops moving and picks up where it left
// off: each server keeps its own history.

// series is one line of a chart.
type series struct {
	// glyph marks each column's value; 0 draws a joined line instead. A
	// chart has at most one line, and every other series its own glyph,
	// so the series can be told apart without colour.
	glyph rune
	style lipgloss.Style
	vals  []float64 // oldest first; already in the chart's Y units
}

// plot draws series over a w×h area with a Y axis from 0 to yMax, labelled
// on the rows labels names (row 0 is the bottom).
func plot(w, h int, yMax float64, labels map[int]string, axis lipgloss.Style, ss []series) string {
	if w < 4 || h < 1 {
		return ""
	}
	// linechart spaces its h rows so that row i holds i*maxY/h and the
	// top row is never reached; asking for yMax*h/(h-1) puts yMax on the
	// top row, where its label is.
	top := yMax
	if h > 1 {
		top = yMax * float64(h) / float64(h-1)
	}
	lc := linechart.New(w, h, 0, 1, 0, top,
		linechart.WithXYSteps(0, 1),
		linechart.WithStyles(axis, axis, lipgloss.NewStyle()),
		linechart.WithYLabelFormatter(func(i int, _ float64) string { return labels[i] }))
	lc.DrawXYAxisAndLabel()

	origin, gw := lc.Origin(), lc.GraphWidth()
	row := func(v float64) int {
		if math.IsNaN(v) || v < 0 {
			v = 0
		}
		r := int(math.Round(v / yMax * float64(h-1)))
		return origin.Y - min(r, h-1)
	}
	for _, s := range ss {
		vals := s.vals[max(0, len(s.vals)-gw):]
		startX := origin.X + 1 + gw - len(vals)
		if s.glyph == 0 {
			ys := make([]int, len(vals))
			for i, v := range vals {
				ys[i] = row(v)
			}
			graph.DrawLineSequence(&lc.Canvas, false, startX, ys, runes.ArcLineStyle, s.style)
			continue
		}
		for i, v := range vals {
			lc.Canvas.SetCell(canvas.Point{X: startX + i, Y: row(v)}, canvas.NewCellWithStyle(s.glyph, s.style))
		}
	}
	return lc.View()
}

// spark draws vals as a bar sparkline of w×h against a maximum of yMax, so
// that several servers' sparklines share one scale.
func spark(w, h int, yMax float64, style lipgloss.Style, vals []float64) string {
	if w < 1 || h < 1 {
		return ""
	}
	sl := sparkline.New(w, h, sparkline.WithStyle(style), sparkline.WithMaxValue(max(yMax, 1)), sparkline.WithNoAutoMaxValue())
	sl.PushAll(vals[max(0, len(vals)-w):])
	sl.DrawColumnsOnly()
	return sl.View()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so that an
// axis ends on a number a reader can take in at a glance.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// linearLabels labels the bottom and top rows of an h-row chart, and the
// middle one when the chart is tall enough for three labels to breathe.
func linearLabels(h int, yMax float64, format func(float64) string) map[int]string {
	l := map[int]string{0: "0", h - 1: format(yMax)}
	if h >= 7 && (h-1)%2 == 0 {
		l[(h-1)/2] = format(yMax / 2)
	}
	return l
}

// logLabels labels the rows of a log10(1+v) chart that fall on a power of
// ten: 10, 100, 1k, 10k (and 0 at the bottom).
func logLabels(h int, decades float64) map[int]string {
	l := map[int]string{0: "0"}
	for d := 1.0; d <= decades; d++ {
		r := int(math.Round(d / decades * float64(h-1)))
		if _, taken := l[r]; !taken && r > 0 {
			l[r] = fmtCount(math.Pow(10, d))
		}
	}
	return l
}

// logScale maps a count onto the concurrency chart's axis. Connections can
// be ten thousand while requests in flight are one: on a linear axis the
// smaller would be invisible, on a log axis both read as orders of
// magnitude, which is what the lesson is about.
func logScale(v float64) float64 { return math.Log10(1 + max(v, 0)) }
