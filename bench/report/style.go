package report

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// How the figures tell their series apart. Colour alone is not enough: a
// colour-blind reader, a grey printout or a washed-out projector loses
// it. So every series also has its own dash pattern and marker, and the
// colours are Okabe and Ito's palette, chosen to stay distinct for the
// common kinds of colour blindness.

// okabeIto is the palette, in the order series take it.
var okabeIto = []color.Color{
	color.RGBA{0x00, 0x72, 0xB2, 0xff}, // blue
	color.RGBA{0xE6, 0x9F, 0x00, 0xff}, // orange
	color.RGBA{0x00, 0x9E, 0x73, 0xff}, // bluish green
	color.RGBA{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	color.RGBA{0x00, 0x00, 0x00, 0xff}, // black
	color.RGBA{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	color.RGBA{0x56, 0xB4, 0xE9, 0xff}, // sky blue
}

// dashes are the line patterns, in the same order: solid, dashed, dotted,
// dash-dot, long dash, short dash.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2.5)},
	{vg.Points(7), vg.Points(2.5), vg.Points(1.5), vg.Points(2.5)},
	{vg.Points(11), vg.Points(3)},
	{vg.Points(3), vg.Points(2)},
	{vg.Points(9), vg.Points(2), vg.Points(2), vg.Points(2), vg.Points(2), vg.Points(2)},
}

// glyphs are the markers, in the same order.
var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.BoxGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{},
	draw.RingGlyph{}, draw.PlusGlyph{}, draw.PyramidGlyph{},
}

// A style is how one series is drawn.
type style struct {
	colour color.Color
	dashes []vg.Length
	glyph  draw.GlyphDrawer
	width  vg.Length
	line   bool // join the points; false: markers only
}

func nth(i int) style {
	return style{
		colour: okabeIto[i%len(okabeIto)], dashes: dashes[i%len(dashes)], glyph: glyphs[i%len(glyphs)],
		width: vg.Points(1.3), line: true,
	}
}

// percentileStyle is the style of a latency figure's i-th line. The
// uncorrected p99 of an open loop is the one the lesson points at, so it
// has a style no other line has: vermillion, long-dashed, with rings.
func percentileStyle(i int, name string) style {
	if name == "p99 uncorrected" {
		return style{colour: okabeIto[5], dashes: dashes[4], glyph: draw.RingGlyph{}, width: vg.Points(1.8), line: true}
	}
	return nth(i)
}

// targetStyle is the style of the i-th of n targets on a figure that
// shows them all. Earlier targets get wider lines, so that a line drawn
// over another (evloop's over threaded's, when both follow the same ramp)
// still shows the one beneath along its edges.
func targetStyle(i, n int) style {
	s := nth(i)
	s.width = vg.Points(1.6 + 0.8*float64(n-1-i))
	return s
}

// offeredStyle is the open loop's schedule: thin, grey, dashed, under the
// targets' lines, with no markers of its own.
var offeredStyle = style{colour: color.Gray{0x70}, dashes: []vg.Length{vg.Points(4), vg.Points(3)}, width: vg.Points(1.5), line: true}

// eventLine marks a moment on a time axis.
var eventLine = draw.LineStyle{Color: color.Gray{0x60}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}

// addSeries adds xys to p in style s, with a legend entry that shows the
// line and the marker together. An empty series adds nothing.
func addSeries(p *plot.Plot, name string, xys plotter.XYs, s style) {
	if len(xys) == 0 {
		return
	}
	var thumbs []plot.Thumbnailer
	if s.line {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return // only for NaN or infinite points, which are never made
		}
		l.LineStyle = draw.LineStyle{Color: s.colour, Width: s.width, Dashes: s.dashes}
		p.Add(l)
		thumbs = append(thumbs, l)
	}
	if s.glyph != nil {
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return
		}
		// A marker a little wider than its line, so a thick line does
		// not hide it.
		sc.GlyphStyle = draw.GlyphStyle{Color: s.colour, Radius: max(vg.Points(2), s.width*0.6+vg.Points(1)), Shape: s.glyph}
		p.Add(sc)
		thumbs = append(thumbs, sc)
	}
	p.Legend.Add(name, thumbs...)
}

// say writes a sentence in the middle of a figure with nothing to draw.
func say(p *plot.Plot, x, y float64, msg string) {
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: y}}, Labels: []string{msg}})
	if err != nil {
		return
	}
	l.TextStyle[0].XAlign, l.TextStyle[0].YAlign = draw.XCenter, draw.YCenter
	l.TextStyle[0].Font = font.From(plotter.DefaultFont, vg.Points(14))
	p.Add(l)
}

// labelAt writes a small label whose top-left corner is at (x, y).
func labelAt(p *plot.Plot, x, y float64, msg string) {
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: y}}, Labels: []string{msg}})
	if err != nil {
		return
	}
	l.TextStyle[0] = text.Style{Color: color.Gray{0x40}, Font: font.From(plotter.DefaultFont, vg.Points(8)),
		Handler: plot.DefaultTextHandler, YAlign: draw.YTop}
	p.Add(l)
}

// countTicks are a linear axis's ticks, labelled as whole numbers with
// thousands separators (75,000, not 75000.00), or with as few decimals as
// the step needs.
type countTicks struct{}

// Ticks implements plot.Ticker: about five labelled steps of 1, 2, 2.5 or
// 5 times a power of ten, and a minor tick between each two.
func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: WithSeparators(lo, 0)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	decimals := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	if step == 2.5*mag && mag < 10 {
		decimals++ // 0.25 needs one more than 0.2
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: WithSeparators(v, decimals)})
		if mid := v + step/2; mid < hi {
			ticks = append(ticks, plot.Tick{Value: mid})
		}
	}
	return ticks
}

// WithSeparators prints v with d decimals and commas between thousands, as
// every table, figure and quoted number of the docs does.
func WithSeparators(v float64, d int) string {
	s := strconv.FormatFloat(v, 'f', d, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// timeTicks are a time axis's ticks, in whole seconds, at a step that
// depends only on the axis's length, so that every figure of one report
// has the same ones.
type timeTicks struct{}

// Ticks implements plot.Ticker.
func (timeTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 20, 30, 60, 120, 300} {
		step = s
		if (hi-lo)/s <= 12 {
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// decadeTicks are a log axis's ticks in milliseconds: every decade
// labelled with its unit (10 µs, 1 ms, 1 s), the lowest one included, and
// unlabelled minor ticks between.
type decadeTicks struct{}

// Ticks implements plot.Ticker.
func (decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		dec := math.Pow(10, e)
		if dec >= lo*(1-1e-9) && dec <= hi*(1+1e-9) {
			ticks = append(ticks, plot.Tick{Value: dec, Label: msLabel(dec)})
		}
		for m := 2.0; m < 10; m++ {
			if v := m * dec; v > lo && v < hi {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}

// msLabel names a decade of milliseconds in the unit that reads best.
func msLabel(ms float64) string {
	switch {
	case ms < 1e-3:
		return strconv.FormatFloat(ms*1e6, 'f', -1, 64) + " ns"
	case ms < 1:
		return strconv.FormatFloat(math.Round(ms*1e3), 'f', -1, 64) + " µs"
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(ms/1000, 'f', -1, 64) + " s"
}
