package tui

import (
	"math"
	"strings"

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
// The charts use ntcharts' plain linechart (its canvas, axes and labels)
// and draw the series themselves with graph.DrawLineSequence, rather than
// its timeserieslinechart: that one places points by Time.Unix(), whole
// seconds, so the four 250 ms intervals of a second would share one X; and
// its two line styles differ only in their corners, too little to tell
// series apart without colour.
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
	vals  []float64 // oldest first, in the chart's Y units; NaN is a gap
}

// plot draws series over a w×h area with a Y axis from 0 to yMax, labelled
// on the rows labels names (row 0 is the bottom), in the axis style ax.
func plot(w, h int, yMax float64, labels map[int]string, ax axisStyle, ss []series) string {
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
		linechart.WithStyles(ax.line, ax.label, lipgloss.NewStyle()),
		linechart.WithYLabelFormatter(func(i int, _ float64) string { return labels[i] }))
	lc.DrawXYAxisAndLabel()

	origin, gw := lc.Origin(), lc.GraphWidth()
	row := func(v float64) int {
		if v < 0 {
			v = 0
		}
		r := int(math.Round(v / yMax * float64(h-1)))
		return origin.Y - min(r, h-1)
	}
	for _, s := range ss {
		vals := s.vals[max(0, len(s.vals)-gw):]
		startX := origin.X + 1 + gw - len(vals)
		if s.glyph == 0 {
			// A line is drawn run by run between the gaps.
			for i := 0; i < len(vals); {
				if math.IsNaN(vals[i]) {
					i++
					continue
				}
				var ys []int
				j := i
				for ; j < len(vals) && !math.IsNaN(vals[j]); j++ {
					ys = append(ys, row(vals[j]))
				}
				graph.DrawLineSequence(&lc.Canvas, false, startX+i, ys, runes.ArcLineStyle, s.style)
				i = j
			}
			continue
		}
		for i, v := range vals {
			if !math.IsNaN(v) {
				lc.Canvas.SetCell(canvas.Point{X: startX + i, Y: row(v)}, canvas.NewCellWithStyle(s.glyph, s.style))
			}
		}
	}
	return lc.View()
}

// axisStyle is how a chart's axis looks: its line faint, its numbers, the
// scale every column shares, as readable as the data.
type axisStyle struct{ line, label lipgloss.Style }

// spark draws vals as a bar sparkline of w×h against a maximum of yMax, so
// that several servers' sparklines share one scale.
func spark(w, h int, yMax float64, style lipgloss.Style, vals []float64) string {
	if w < 1 || h < 1 {
		return ""
	}
	yMax = max(yMax, 1)
	sl := sparkline.New(w, h, sparkline.WithStyle(style), sparkline.WithMaxValue(yMax), sparkline.WithNoAutoMaxValue())
	// A server doing 20 req/s beside one doing 20,000 would draw nothing
	// at all on the shared scale, which reads as "stopped". Any non-zero
	// value gets at least the lowest eighth of a cell, ▁.
	least := yMax / float64(8*h)
	for _, v := range vals[max(0, len(vals)-w):] {
		if v > 0 {
			v = max(v, least)
		}
		sl.Push(v)
	}
	sl.DrawColumnsOnly()
	return sl.View()
}

// niceCeil rounds v up to a round number (1, 1.5, 2, 3, 4, 5, 6 or 8 times
// a power of ten), so that an axis ends on a number a reader takes in at a
// glance, and the data still fills most of the chart's height.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 3, 4, 5, 6, 8, 10} {
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
			l[r] = pow10Label(int(d))
		}
	}
	return l
}

// logScale maps a count onto the concurrency chart's axis. Connections can
// be ten thousand while requests in flight are one: on a linear axis the
// smaller would be invisible, on a log axis both read as orders of
// magnitude, which is what the lesson is about.
func logScale(v float64) float64 { return math.Log10(1 + max(v, 0)) }

// pow10Label writes 10^d as an axis label: 10, 100, 1k, 10k, 100k, 1M.
func pow10Label(d int) string {
	suffix := []string{"", "k", "M", "G"}[min(d/3, 3)]
	return "1" + strings.Repeat("0", d-3*min(d/3, 3)) + suffix
}
