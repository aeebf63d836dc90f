package report

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"serverlab/bench/load"
)

// The figures are SVG so that they read in a browser and in a markdown page
// at any size. Latency is drawn on a log scale: a p50 of 40 µs and a max of
// 2 s belong on the same figure, and on a linear axis the first would be a
// flat line at zero.

// WritePlots writes the report's figures into dir (made if missing) and
// returns their paths:
//
//	latency-TARGET.svg  p50, p90, p99, p99.9 and max over time, one per target
//	throughput.svg      requests/s over time, all targets
//	rss-conns.svg       server memory against connections open, all targets
func (r *Report) WritePlots(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	var paths []string
	save := func(p *plot.Plot, name string) error {
		path := filepath.Join(dir, name)
		if err := p.Save(16*vg.Centimeter, 9*vg.Centimeter, path); err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		paths = append(paths, path)
		return nil
	}
	for _, t := range r.Targets {
		p, err := r.latencyPlot(t)
		if err != nil {
			return paths, err
		}
		if err := save(p, "latency-"+fileName(t.Name)+".svg"); err != nil {
			return paths, err
		}
	}
	p, err := r.throughputPlot()
	if err != nil {
		return paths, err
	}
	if err := save(p, "throughput.svg"); err != nil {
		return paths, err
	}
	p, err = r.memoryPlot()
	if err != nil {
		return paths, err
	}
	return paths, save(p, "rss-conns.svg")
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

func (r *Report) latencyPlot(t *Result) (*plot.Plot, error) {
	p := newPlot(fmt.Sprintf("%s — latency (%s)", t.Name, r.scenarioName()), "time (s)", "latency (ms, log scale)")
	lines := []struct {
		name string
		get  func(load.Interval) time.Duration
	}{
		{"p50", func(iv load.Interval) time.Duration { return iv.Latency.P50 }},
		{"p90", func(iv load.Interval) time.Duration { return iv.Latency.P90 }},
		{"p99", func(iv load.Interval) time.Duration { return iv.Latency.P99 }},
		{"p99.9", func(iv load.Interval) time.Duration { return iv.Latency.P999 }},
		{"max", func(iv load.Interval) time.Duration { return iv.Latency.Max }},
	}
	if r.OpenLoop {
		lines = append(lines, struct {
			name string
			get  func(load.Interval) time.Duration
		}{"p99 uncorrected", func(iv load.Interval) time.Duration { return iv.Uncorrected.P99 }})
	}
	points := 0
	for i, ln := range lines {
		var xys plotter.XYs
		for _, run := range t.Runs {
			for _, iv := range run.Intervals {
				// An interval with no answers has no latency; leaving
				// it out is honest, and zero has no log anyway.
				if d := ln.get(iv); d > 0 {
					xys = append(xys, plotter.XY{X: r.when(run.Round, iv), Y: float64(d) / float64(time.Millisecond)})
				}
			}
		}
		if err := addLine(p, ln.name, xys, i); err != nil {
			return nil, err
		}
		points += len(xys)
	}
	if points == 0 {
		// Not one answer (a server that served nobody, or crashed at
		// once): an empty figure that says so, rather than no figure.
		p.Title.Text += ": no answers"
		p.Y.Label.Text = "latency (ms)"
		p.Y.Min, p.Y.Max = 0, 1
		return p, nil
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	// A decade of headroom on the log axis keeps the legend off the lines.
	p.Y.Max *= 10
	return p, nil
}

func (r *Report) throughputPlot() (*plot.Plot, error) {
	p := newPlot(fmt.Sprintf("throughput (%s)", r.scenarioName()), "time (s)", "requests/s")
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
			}
		}
		if err := addLine(p, t.Name, xys, i); err != nil {
			return nil, err
		}
	}
	p.Y.Min = 0
	p.Y.Max *= 1.3 // room for the legend
	return p, nil
}

// memoryPlot draws each server's RSS against its open connections: the
// slope is what one more connection costs. The server's own count of open
// connections is used when it has a stats channel, the client's otherwise.
func (r *Report) memoryPlot() (*plot.Plot, error) {
	p := newPlot(fmt.Sprintf("server memory against connections (%s)", r.scenarioName()), "connections open", "RSS (MiB)")
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
			}
		}
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Color = plotutil.Color(i)
		s.GlyphStyle.Shape = plotutil.Shape(i)
		p.Add(s)
		p.Legend.Add(t.Name, s)
	}
	p.X.Min, p.Y.Min = 0, 0
	p.Y.Max *= 1.3 // room for the legend
	return p, nil
}

// newPlot is a figure with its title and axis labels, and the legend in
// the top left corner, where the lines of a run that starts quiet leave
// room for it.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.Left = true
	return p
}

func addLine(p *plot.Plot, name string, xys plotter.XYs, i int) error {
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.2)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
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
