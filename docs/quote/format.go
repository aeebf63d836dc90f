package quote

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"serverlab/bench/report"
)

// options are how a span prints its value (see the package doc).
type options struct {
	sig  int    // significant digits; 0: the kind's default
	unit string // "ms", "MiB"...; "": the value's own
	asX  bool   // a ratio with one decimal
	pct  bool   // a percentage
}

func parseOptions(fields []string) (options, error) {
	var o options
	for _, f := range fields {
		switch k, v, _ := strings.Cut(f, "="); k {
		case "sig":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 6 {
				return o, fmt.Errorf("option %q: sig is 1 to 6", f)
			}
			o.sig = n
		case "unit":
			if _, ok := unitScale[v]; !ok {
				return o, fmt.Errorf("option %q: no unit %q", f, v)
			}
			o.unit = v
		case "x":
			o.asX = true
		case "pct":
			o.pct = true
		default:
			return o, fmt.Errorf("unknown option %q (sig=N, unit=U, x, pct)", f)
		}
	}
	return o, nil
}

// unitScale is how many of the base unit (seconds, bytes) each unit is.
var unitScale = map[string]float64{
	"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1,
	"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
}

// format prints a value as prose quotes it.
func format(v value, o options) string {
	switch {
	case o.pct:
		return number(v.v*100, o.sig, 0) + "%"
	case o.asX && o.sig == 0:
		return report.WithSeparators(v.v, 1)
	case o.asX:
		return number(v.v, o.sig, 0)
	}
	switch v.kind {
	case duration:
		u := o.unit
		if u == "" {
			u = durationUnit(v.v, o.sig)
		}
		return number(v.v/unitScale[u], o.sig, 3) + " " + u
	case size, byteRate:
		u := o.unit
		if u == "" {
			u = sizeUnit(v.v)
		}
		s := number(v.v/unitScale[u], o.sig, -1) + " " + u
		if u == "B" {
			s = number(v.v, o.sig, 0) + " bytes"
		}
		if v.kind == byteRate {
			s += "/s"
		}
		return s
	case ratio:
		return number(v.v, o.sig, 2)
	case percent:
		return number(v.v, o.sig, 0) + "%"
	}
	return number(v.v, o.sig, 0)
}

// durationUnit picks µs, ms or s so the number is at least 1, after
// rounding: 999.7 µs at three digits is 1.00 ms.
func durationUnit(sec float64, sig int) string {
	if sig == 0 {
		sig = 3
	}
	r := roundSig(math.Abs(sec), sig)
	switch {
	case r < 1e-3:
		return "µs"
	case r < 1:
		return "ms"
	}
	return "s"
}

func sizeUnit(b float64) string {
	switch b = math.Abs(b); {
	case b >= 1<<30:
		return "GiB"
	case b >= 1<<20:
		return "MiB"
	case b >= 1<<10:
		return "KiB"
	}
	return "B"
}

// number prints x with thousands separators. With sig > 0 it is rounded
// to that many significant digits; otherwise def is the default: 0 a whole
// number, -1 one decimal, and d > 0 d significant digits, but never
// fewer than the whole number has (1,370 µs keeps four).
func number(x float64, sig, def int) string {
	switch {
	case sig > 0:
		return report.WithSeparators(roundSig(x, sig), decimalsFor(x, sig))
	case def == 0:
		return report.WithSeparators(math.Round(x), 0)
	case def == -1:
		return report.WithSeparators(x, 1)
	}
	// Three digits by default, but no zeros after the point: 10 ms, not
	// 10.0 ms, and 1.5 ms, not 1.50 ms.
	s := report.WithSeparators(roundSig(x, def), decimalsFor(x, def))
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func roundSig(x float64, sig int) float64 {
	if x == 0 {
		return 0
	}
	p := math.Pow(10, float64(sig-1)-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}

// decimalsFor is how many decimals show sig significant digits of x.
func decimalsFor(x float64, sig int) int {
	if x == 0 {
		return 0
	}
	r := roundSig(x, sig)
	return max(0, sig-1-int(math.Floor(math.Log10(math.Abs(r)))))
}
