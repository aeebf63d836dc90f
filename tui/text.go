package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// fit makes s exactly h lines of exactly w cells: longer lines are cut,
// shorter ones padded, missing lines added and extra ones dropped. Every
// block of the screen goes through it, which is how the whole frame comes
// out the terminal's size and a resize can never leave debris behind.
// Widths are counted in cells, not bytes, and colour codes count as none.
func fit(s string, w, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = padRight(ansi.Truncate(l, w, ""), w)
	}
	return strings.Join(lines, "\n")
}

// clip is fit for a block that should keep its own width when narrower.
func clip(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return strings.Join(lines, "\n")
}

// padRight pads s with spaces to w cells.
func padRight(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// wrap breaks s into lines of at most w cells at spaces.
func wrap(s string, w int) string { return ansi.Wrap(s, max(w, 1), "") }

func durationOfMicros(us float64) time.Duration {
	return time.Duration(us * float64(time.Microsecond))
}
