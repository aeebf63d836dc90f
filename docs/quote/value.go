package quote

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A kind is what a value measures; it picks the value's format and
// follows arithmetic (see the package doc).
type kind int

const (
	count    kind = iota // requests, clients, threads: a plain number
	rate                 // per second: requests/s
	duration             // seconds
	size                 // bytes
	byteRate             // bytes per second
	ratio                // one value over another of its kind
	percent              // CPU use
)

// A value is a number and what it measures.
type value struct {
	v    float64
	kind kind
}

// combine applies op to two values and works out the kind of the result.
func combine(op byte, a, b value) (value, error) {
	k := a.kind
	var v float64
	switch op {
	case '+', '-':
		if a.kind == count && b.kind != count {
			k = b.kind
		}
		v = a.v + b.v
		if op == '-' {
			v = a.v - b.v
		}
	case '*':
		v = a.v * b.v
		switch {
		case a.kind == count || a.kind == ratio:
			k = b.kind
		case b.kind == count || b.kind == ratio:
			k = a.kind
		case a.kind == duration && b.kind == rate, a.kind == rate && b.kind == duration:
			k = count
		case a.kind == duration && b.kind == byteRate, a.kind == byteRate && b.kind == duration:
			k = size
		}
	case '/':
		if b.v == 0 {
			return value{}, fmt.Errorf("division by zero")
		}
		v = a.v / b.v
		switch {
		case a.kind == b.kind:
			k = ratio
		case b.kind == count || b.kind == ratio:
			k = a.kind
		case a.kind == count && b.kind == rate:
			k = duration // Little's law: in flight / throughput
		case a.kind == count && b.kind == duration:
			k = rate
		case a.kind == size && b.kind == duration:
			k = byteRate
		case a.kind == size && b.kind == byteRate:
			k = duration
		default:
			k = ratio
		}
	}
	return value{v, k}, nil
}

// eval evaluates an expression: keys and numbers joined by + - * / and
// brackets, with the usual precedence.
func (d *Data) eval(expr string) (value, error) {
	p := &exprParser{d: d, toks: tokenize(expr)}
	v, err := p.sum()
	if err != nil {
		return value{}, err
	}
	if p.i < len(p.toks) {
		return value{}, fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	return v, nil
}

// tokenize splits an expression into brackets, operators and operands. An
// operator must stand apart from its operands by spaces ("a / b"), since
// "/" also separates the parts of a key and "-" appears in names.
func tokenize(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		for strings.HasPrefix(f, "(") {
			out, f = append(out, "("), f[1:]
		}
		closing := 0
		for strings.HasSuffix(f, ")") {
			f, closing = f[:len(f)-1], closing+1
		}
		if f != "" {
			out = append(out, f)
		}
		for ; closing > 0; closing-- {
			out = append(out, ")")
		}
	}
	return out
}

type exprParser struct {
	d    *Data
	toks []string
	i    int
}

func (p *exprParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *exprParser) sum() (value, error) {
	v, err := p.product()
	for err == nil && (p.peek() == "+" || p.peek() == "-") {
		op := p.toks[p.i][0]
		p.i++
		var w value
		if w, err = p.product(); err == nil {
			v, err = combine(op, v, w)
		}
	}
	return v, err
}

func (p *exprParser) product() (value, error) {
	v, err := p.operand()
	for err == nil && (p.peek() == "*" || p.peek() == "/") {
		op := p.toks[p.i][0]
		p.i++
		var w value
		if w, err = p.operand(); err == nil {
			v, err = combine(op, v, w)
		}
	}
	return v, err
}

func (p *exprParser) operand() (value, error) {
	t := p.peek()
	p.i++
	switch {
	case t == "":
		return value{}, fmt.Errorf("expression ends too soon")
	case t == "(":
		v, err := p.sum()
		if err != nil {
			return v, err
		}
		if p.peek() != ")" {
			return v, fmt.Errorf("missing )")
		}
		p.i++
		return v, nil
	}
	if n, err := strconv.ParseFloat(t, 64); err == nil {
		return value{n, count}, nil
	}
	return p.d.lookup(t)
}

// lookup finds one key's value: FILE/TARGET/METRIC or SCENARIO/PARAM.
func (d *Data) lookup(key string) (value, error) {
	parts := strings.Split(key, "/")
	if len(parts) == 2 {
		return param(parts[0], parts[1])
	}
	if len(parts) < 3 {
		return value{}, fmt.Errorf("key %q: want FILE/TARGET/METRIC or SCENARIO/PARAM", key)
	}
	n := len(parts)
	run, err := d.run(strings.Join(parts[:n-2], "/"))
	if err != nil {
		return value{}, fmt.Errorf("key %q: %w", key, err)
	}
	t, err := run.target(parts[n-2])
	if err != nil {
		return value{}, fmt.Errorf("key %q: %w", key, err)
	}
	v, err := run.metric(t, parts[n-1])
	if err != nil {
		return value{}, fmt.Errorf("key %q: %w", key, err)
	}
	return v, nil
}

// aggregates are how a figure over intervals becomes one number.
var aggregates = []string{"mean", "min", "max", "median", "p10", "p90", "first", "last"}

// metric finds one figure of one target: a summary figure, or an
// aggregate of its intervals (METRIC[.AGG][@FROM-TO]).
func (r *Run) metric(t *Target, m string) (value, error) {
	name, window, windowed := strings.Cut(m, "@")
	agg := ""
	if base, a, ok := strings.Cut(name, "."); ok && slices.Contains(aggregates, a) {
		name, agg = base, a
	}
	if !windowed && agg == "" {
		if v, ok := r.summary(t, name); ok {
			return v, nil
		}
	}
	get, k, def, ok := intervalFigure(name)
	if !ok {
		return value{}, fmt.Errorf("no metric %q", name)
	}
	if agg == "" {
		agg = def
	}
	from, to := math.Inf(-1), math.Inf(1)
	if windowed {
		var err error
		if from, to, err = parseWindow(window); err != nil {
			return value{}, err
		}
	}
	var vals []float64
	var reqs, secs float64
	for _, iv := range t.Intervals {
		// The fragment left when a run stops can be a few
		// milliseconds: too short to say anything.
		if r.IntervalMs > 0 && iv.LenMs < float64(r.IntervalMs)/2 {
			continue
		}
		mid := (float64(int64(iv.Round-1)*r.DurationMs+iv.TMs) - iv.LenMs/2) / 1000
		if mid < from || mid >= to {
			continue
		}
		v := get(iv)
		if math.IsNaN(v) {
			continue
		}
		vals = append(vals, v)
		reqs += float64(iv.Requests)
		secs += iv.LenMs / 1000
	}
	if len(vals) == 0 {
		return value{}, fmt.Errorf("%s: no intervals in the window", m)
	}
	if name == "rps" && agg == "mean" {
		// A rate's mean over time is what was done over the time taken.
		return value{reqs / secs, rate}, nil
	}
	return value{aggregate(agg, vals), k}, nil
}

func aggregate(agg string, vals []float64) float64 {
	switch agg {
	case "min":
		return slices.Min(vals)
	case "max":
		return slices.Max(vals)
	case "first":
		return vals[0]
	case "last":
		return vals[len(vals)-1]
	case "median":
		s := slices.Clone(vals)
		slices.Sort(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	case "p10", "p90":
		// The tenth and ninetieth percentiles of the intervals, nearest
		// rank: the range most of them fell in, without the odd one out.
		s := slices.Clone(vals)
		slices.Sort(s)
		q := 0.1
		if agg == "p90" {
			q = 0.9
		}
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	return sum / float64(len(vals))
}

// parseWindow reads "2s-10s" (or "2-10"): seconds from the start.
func parseWindow(w string) (from, to float64, err error) {
	a, b, ok := strings.Cut(w, "-")
	num := func(s string) (float64, error) {
		if s == "" {
			return math.Inf(1), nil
		}
		return strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64)
	}
	if !ok {
		return 0, 0, fmt.Errorf("window %q: want FROM-TO in seconds", w)
	}
	if from, err = num(a); err != nil || a == "" {
		return 0, 0, fmt.Errorf("window %q: want FROM-TO in seconds", w)
	}
	if to, err = num(b); err != nil {
		return 0, 0, fmt.Errorf("window %q: want FROM-TO in seconds", w)
	}
	return from, to, nil
}

func us(n int64) value { return value{float64(n) / 1e6, duration} }

func pick(l Latency, p string) (int64, bool) {
	switch p {
	case "p50":
		return l.P50, true
	case "p90":
		return l.P90, true
	case "p99":
		return l.P99, true
	case "p999":
		return l.P999, true
	case "max":
		return l.Max, true
	}
	return 0, false
}

// summary is a figure of the whole run.
func (r *Run) summary(t *Target, m string) (value, bool) {
	if n, ok := pick(t.Latency, m); ok {
		return us(n), true
	}
	if p, ok := strings.CutPrefix(m, "uncorrected."); ok {
		if n, ok := pick(t.Uncorrected, p); ok {
			return us(n), true
		}
	}
	if k, ok := strings.CutPrefix(m, "errors."); ok {
		if n, ok := t.ErrorsByKind[k]; ok {
			return value{float64(n), count}, true
		}
	}
	switch m {
	case "rps":
		return value{t.RPS, rate}, true
	case "requests":
		return value{float64(t.Requests), count}, true
	case "errors":
		return value{float64(t.Errors), count}, true
	case "bytes_per_sec":
		return value{t.BytesPerSec, byteRate}, true
	case "rss":
		return value{float64(t.PeakRSS), size}, true
	case "threads":
		return value{float64(t.PeakThreads), count}, true
	case "conns":
		return value{float64(t.PeakConns), count}, true
	case "fds":
		return value{float64(t.PeakFDs), count}, true
	case "server_open":
		return value{float64(t.PeakServerOpen), count}, true
	case "cpu":
		return value{float64(t.ServerCPUMs) / 1000, duration}, true
	case "cpu_per_request":
		if t.Requests == 0 {
			return value{}, false
		}
		return value{float64(t.ServerCPUMs) / 1000 / float64(t.Requests), duration}, true
	case "duration":
		return value{float64(r.DurationMs) / 1000, duration}, true
	}
	return value{}, false
}

// intervalFigure is how to read a figure from one interval: the getter,
// its kind, and its default aggregate.
func intervalFigure(m string) (get func(Interval) float64, k kind, agg string, ok bool) {
	lat := func(sel func(Interval) Latency, p string) (func(Interval) float64, bool) {
		if _, ok := pick(Latency{}, p); !ok {
			return nil, false
		}
		return func(iv Interval) float64 {
			// An interval with no answers has no latency, not a
			// latency of zero.
			if n, _ := pick(sel(iv), p); n > 0 {
				return float64(n) / 1e6
			}
			return math.NaN()
		}, true
	}
	if g, ok := lat(func(iv Interval) Latency { return iv.Latency }, m); ok {
		return g, duration, "median", true
	}
	if p, ok := strings.CutPrefix(m, "uncorrected."); ok {
		if g, ok := lat(func(iv Interval) Latency { return iv.Uncorrected }, p); ok {
			return g, duration, "median", true
		}
	}
	figs := map[string]struct {
		get  func(Interval) float64
		kind kind
		agg  string
	}{
		"rps":           {func(iv Interval) float64 { return iv.RPS }, rate, "mean"},
		"target_rps":    {func(iv Interval) float64 { return iv.TargetRPS }, rate, "mean"},
		"bytes_per_sec": {func(iv Interval) float64 { return iv.BytesPerSec }, byteRate, "mean"},
		"requests":      {func(iv Interval) float64 { return float64(iv.Requests) }, count, "mean"},
		"errors":        {func(iv Interval) float64 { return float64(iv.Errors) }, count, "mean"},
		"in_flight":     {func(iv Interval) float64 { return float64(iv.InFlight) }, count, "max"},
		"conns":         {func(iv Interval) float64 { return float64(iv.Conns) }, count, "max"},
		"server_open":   {func(iv Interval) float64 { return float64(iv.Open()) }, count, "max"},
		"rss":           {func(iv Interval) float64 { return float64(iv.RSS) }, size, "max"},
		"threads":       {func(iv Interval) float64 { return float64(iv.Threads) }, count, "max"},
		"fds":           {func(iv Interval) float64 { return float64(iv.FDs) }, count, "max"},
		"cpu":           {func(iv Interval) float64 { return iv.CPUPercent }, percent, "mean"},
		// What one request cost the server in this interval: its CPU
		// time over the requests answered (none answered: no value).
		"cpu_per_request": {func(iv Interval) float64 {
			if iv.Requests == 0 {
				return math.NaN()
			}
			return iv.CPUPercent / 100 * iv.LenMs / 1000 / float64(iv.Requests)
		}, duration, "median"},
	}
	f, ok := figs[m]
	return f.get, f.kind, f.agg, ok
}
