package tui

import (
	"fmt"
	"math"
	"time"
)

// The dashboard prints numbers for people reading them from the back of a
// classroom: at most four significant characters and a unit, never
// "0.000123s" or "9437184".

// fmtDuration writes a latency in the unit that keeps it short: 81µs,
// 1.25ms, 15.0ms, 150ms, 2.50s.
func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", (d+time.Microsecond/2)/time.Microsecond)
	case d < time.Second:
		return threeDigits(float64(d)/float64(time.Millisecond)) + "ms"
	default:
		return threeDigits(d.Seconds()) + "s"
	}
}

// threeDigits prints v (at least 1) with three significant digits.
func threeDigits(v float64) string {
	switch {
	case v < 9.995:
		return fmt.Sprintf("%.2f", v)
	case v < 99.95:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// fmtBytes writes a size in binary units, as /proc and `free` count them.
func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return threeDigits(v) + " " + string("KMGT"[i]) + "iB"
}

// fmtCount writes a count or a rate with a metric suffix: 950, 12.3k, 1.20M.
func fmtCount(v float64) string {
	switch {
	case v < 0:
		return "-" + fmtCount(-v)
	case v < 1000:
		return fmt.Sprintf("%.0f", math.Round(v))
	case v < 999.5e3:
		return threeDigits(v/1e3) + "k"
	default:
		return threeDigits(v/1e6) + "M"
	}
}

// fmtClock writes an elapsed time as m:ss, or h:mm:ss past an hour.
func fmtClock(d time.Duration) string {
	s := int(d / time.Second)
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
