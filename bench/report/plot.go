package report

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"serverlab/bench/load"
)

// The figures are SVG so that they read in a browser and in a markdown page
// at any size. Latency is drawn on a log scale: a p50 of 40 µs and a max of
// 2 s belong on the same figure, and on a linear axis the first would be a
// flat line at zero.
//
// A figure is read to compare, so each scenario's figures are drawn to be
// compared: every latency figure of a report has the same y-axis, every
// time axis the same range and ticks, and each series differs from the
// others in colour, dash and marker (style.go), so that a reader who
// cannot tell orange from red, or a page printed in grey, loses nothing.

// WritePlots writes the report's figures into dir (made if missing) and
// returns their paths:
//
//	latency-TARGET.svg  p50, p90, p99, p99.9 and max over time, one per target
//	throughput.svg      requests/s over time, all targets
//	rss-conns.svg       server memory against connections open, all targets
func (r *Report) WritePlots(dir string) ([]string, error) {
	figs, names, err := r.Figures()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	var paths []string
	for _, name := range names {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, figs[name], 0o644); err != nil {
			return paths, fmt.Errorf("plot: %w", err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// Figures renders the report's figures as SVG in memory, by file name, and
// lists the names in the order WritePlots writes them. The same report
// always gives the same bytes, so figures made again from saved data can
// be compared with the committed ones.
func (r *Report) Figures() (map[string][]byte, []string, error) {
	figs := map[string][]byte{}
	var names []string
	add := func(p *plot.Plot, name string) error {
		b, err := render(p)
		if err != nil {
			return fmt.Errorf("plot %s: %w", name, err)
		}
		figs[name] = b
		names = append(names, name)
		return nil
	}
	lo, hi := r.latencyRange()
	for _, t := range r.Targets {
		if err := add(r.latencyPlot(t, lo, hi), "latency-"+fileName(t.Name)+".svg"); err != nil {
			return nil, nil, err
		}
	}
	if err := add(r.throughputPlot(), "throughput.svg"); err != nil {
		return nil, nil, err
	}
	if err := add(r.memoryPlot(), "rss-conns.svg"); err != nil {
		return nil, nil, err
	}
	return figs, names, nil
}

// The size of every figure.
const (
	figWidth  = 16 * vg.Centimeter
	figHeight = 9 * vg.Centimeter
)

// render draws p as SVG with its legend beside the data, on the right,
// rather than over it: six percentiles' worth of legend inside the axes
// would cover the lines it names.
func render(p *plot.Plot) ([]byte, error) {
	legend := p.Legend
	p.Legend = plot.NewLegend() // p draws no legend of its own
	legend.TextStyle.Font.Size = vg.Points(9)
	legend.ThumbnailWidth = vg.Points(22)
	c := vgsvg.New(figWidth, figHeight)
	dc := draw.New(c)
	var lw vg.Length
	if legend.Rectangle(dc).Size().X > 0 {
		lw = legend.Rectangle(dc).Size().X + vg.Points(10)
	}
	p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	legend.Top, legend.Left = true, true
	// Below the title, so the first entry lines up with the top of the
	// data.
	legend.Draw(draw.Crop(dc, figWidth-lw+vg.Points(6), 0, 0, -vg.Points(30)))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// unsafeName matches runs of characters that have no place in a file name
// (a URL target's "://" and slashes).
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName makes a target name safe in a file name.
func fileName(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// when is an interval's place on a time axis that runs through all rounds.
func (r *Report) when(round int, iv load.Interval) float64 {
	return (time.Duration(round-1)*r.Duration + iv.Elapsed).Seconds()
}

// span is the length of the time axis: every round of one target.
func (r *Report) span() float64 {
	return (time.Duration(max(r.Rounds, 1)) * r.Duration).Seconds()
}

// timeAxis gives p the report's time axis: from 0 to the end of the last
// round, with the same ticks on every figure of the report.
func (r *Report) timeAxis(p *plot.Plot) {
	p.X.Label.Text = "time (s)"
	p.X.Min, p.X.Max = 0, r.span()
	p.X.Tick.Marker = timeTicks{}
}

// percentile is one line of a latency figure.
type percentile struct {
	name string
	get  func(load.Interval) time.Duration
}

func (r *Report) percentiles() []percentile {
	ps := []percentile{
		{"p50", func(iv load.Interval) time.Duration { return iv.Latency.P50 }},
		{"p90", func(iv load.Interval) time.Duration { return iv.Latency.P90 }},
		{"p99", func(iv load.Interval) time.Duration { return iv.Latency.P99 }},
		{"p99.9", func(iv load.Interval) time.Duration { return iv.Latency.P999 }},
		{"max", func(iv load.Interval) time.Duration { return iv.Latency.Max }},
	}
	if r.OpenLoop {
		ps = append(ps, percentile{"p99 uncorrected", func(iv load.Interval) time.Duration { return iv.Uncorrected.P99 }})
	}
	return ps
}

// latencyPoints is one percentile of one target over time, in ms. An
// interval with no answers has no latency; leaving it out is honest, and
// zero has no logarithm anyway.
func (r *Report) latencyPoints(t *Result, pc percentile) plotter.XYs {
	var xys plotter.XYs
	for _, run := range t.Runs {
		for _, iv := range run.Intervals {
			if d := pc.get(iv); d > 0 {
				xys = append(xys, plotter.XY{X: r.when(run.Round, iv), Y: float64(d) / float64(time.Millisecond)})
			}
		}
	}
	return xys
}

// latencyRange is the y-axis every latency figure of the report shares,
// in ms: from the decade below the lowest point to a little above the
// highest. Shared, so that two figures that look alike are
// alike.
func (r *Report) latencyRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, t := range r.Targets {
		for _, pc := range r.percentiles() {
			for _, xy := range r.latencyPoints(t, pc) {
				lo, hi = min(lo, xy.Y), max(hi, xy.Y)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return 0.01, 1000 // nothing answered anywhere: 10 µs to 1 s
	}
	// The lowest decade is on the axis (and labelled); the top leaves a
	// little room above the highest point, for the event labels.
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi *= 2.5
	return lo, hi
}

func (r *Report) latencyPlot(t *Result, lo, hi float64) *plot.Plot {
	p := newPlot(fmt.Sprintf("%s — latency (%s)", t.Name, r.scenarioName()), "time (s)", "latency (log scale)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = decadeTicks{}
	p.Y.Min, p.Y.Max = lo, hi
	points := 0
	for i, pc := range r.percentiles() {
		xys := r.latencyPoints(t, pc)
		addSeries(p, pc.name, xys, percentileStyle(i, pc.name))
		points += len(xys)
	}
	r.markEvents(p, lo, hi)
	if points == 0 {
		// Not one answer (a blocking server under c10k, or one that
		// crashed at once): say so where the lines would be, rather
		// than draw an empty axis that looks like a broken figure.
		msg := "no request was answered"
		if n := t.Summary.Errors.Total(); n > 0 {
			msg += fmt.Sprintf(" (%s failed: %s)", WithSeparators(float64(n), 0), t.Summary.Errors)
		}
		say(p, r.span()/2, math.Sqrt(lo*hi), msg)
	}
	// Adding a plotter widens the axes to its data; the shared ranges
	// are set last, so that they win.
	r.timeAxis(p)
	p.Y.Min, p.Y.Max = lo, hi
	return p
}

func (r *Report) throughputPlot() *plot.Plot {
	p := newPlot(fmt.Sprintf("throughput (%s)", r.scenarioName()), "time (s)", "requests/s")
	p.Y.Tick.Marker = countTicks{}
	top := 0.0
	if r.OpenLoop && len(r.Targets) > 0 {
		// The open loop's schedule is the same for every target: the
		// rate offered, which a server that keeps up follows.
		var xys plotter.XYs
		for _, run := range r.Targets[0].Runs {
			for _, iv := range run.Intervals {
				if iv.TargetRate > 0 {
					xys = append(xys, plotter.XY{X: r.when(run.Round, iv), Y: iv.TargetRate})
					top = max(top, iv.TargetRate)
				}
			}
		}
		addSeries(p, "offered (open loop)", xys, offeredStyle)
	}
	for i, t := range r.Targets {
		var xys plotter.XYs
		for _, run := range t.Runs {
			for _, iv := range run.Intervals {
				// The fragment of an interval left when a run stops
				// can be a few milliseconds: too short for a rate.
				if iv.Length < r.Interval/2 {
					continue
				}
				xys = append(xys, plotter.XY{X: r.when(run.Round, iv), Y: iv.RPS})
				top = max(top, iv.RPS)
			}
		}
		addSeries(p, t.Name, xys, targetStyle(i, len(r.Targets)))
	}
	if top == 0 {
		top = 1
	}
	r.markEvents(p, 0, top*1.08)
	r.timeAxis(p)
	p.Y.Min, p.Y.Max = 0, top*1.08
	return p
}

// memoryPlot draws each server's RSS against its open connections: the
// slope is what one more connection costs. The server's own count of open
// connections is used when it has a stats channel, the client's otherwise.
func (r *Report) memoryPlot() *plot.Plot {
	p := newPlot(fmt.Sprintf("server memory against connections (%s)", r.scenarioName()), "connections open", "RSS (MiB)")
	p.X.Tick.Marker = countTicks{}
	p.Y.Tick.Marker = countTicks{}
	maxX, maxY := 0.0, 0.0
	for i, t := range r.Targets {
		var xys plotter.XYs
		for _, run := range t.Runs {
			for _, iv := range run.Intervals {
				if iv.Proc == nil {
					continue
				}
				conns := float64(iv.Conns)
				if iv.Server != nil {
					conns = float64(iv.Server.Open)
				}
				xys = append(xys, plotter.XY{X: conns, Y: float64(iv.Proc.RSS) / (1 << 20)})
				maxX, maxY = max(maxX, conns), max(maxY, float64(iv.Proc.RSS)/(1<<20))
			}
		}
		st := targetStyle(i, len(r.Targets))
		st.line = false // a cloud of samples, not a path
		addSeries(p, t.Name, xys, st)
	}
	xMax, yMax := max(maxX*1.05, 1), max(maxY*1.1, 1)
	if maxY == 0 {
		say(p, xMax/2, yMax/2, "no memory samples (no server process to read)")
	}
	p.X.Min, p.Y.Min, p.X.Max, p.Y.Max = 0, 0, xMax, yMax
	return p
}

// newPlot is a figure with its title, its axis labels and a grid; its
// legend is drawn beside it (see render).
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// markEvents draws each event as a dashed vertical line, once per round,
// labelled at the top, between y values lo and hi.
func (r *Report) markEvents(p *plot.Plot, lo, hi float64) {
	evs := append([]Event(nil), r.Events...)
	sort.Slice(evs, func(i, j int) bool { return evs[i].At < evs[j].At })
	for _, e := range evs {
		for round := 1; round <= max(r.Rounds, 1); round++ {
			x := (time.Duration(round-1)*r.Duration + e.At).Seconds()
			l, err := plotter.NewLine(plotter.XYs{{X: x, Y: lo}, {X: x, Y: hi}})
			if err != nil {
				continue
			}
			l.LineStyle = eventLine
			p.Add(l)
			if round == 1 {
				labelAt(p, x, hi, " "+e.Label)
			}
		}
	}
}

func (r *Report) scenarioName() string {
	if r.Scenario == "" {
		if r.OpenLoop {
			return "open loop"
		}
		return "closed loop"
	}
	return r.Scenario
}
