package tui

import (
	"testing"
	"time"
)

func TestUnits(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtDuration(0), "0"},
		{fmtDuration(81 * time.Microsecond), "81µs"},
		{fmtDuration(999 * time.Microsecond), "999µs"},
		{fmtDuration(1250 * time.Microsecond), "1.25ms"},
		{fmtDuration(15 * time.Millisecond), "15.0ms"},
		{fmtDuration(150 * time.Millisecond), "150ms"},
		{fmtDuration(2500 * time.Millisecond), "2.50s"},
		{fmtBytes(512), "512 B"},
		{fmtBytes(1536), "1.50 KiB"},
		{fmtBytes(9 << 20), "9.00 MiB"},
		{fmtBytes(3 << 30), "3.00 GiB"},
		{fmtCount(950), "950"},
		{fmtCount(12345), "12.3k"},
		{fmtCount(999_999), "1.00M"},
		{fmtCount(1_200_000), "1.20M"},
		{fmtClock(65 * time.Second), "1:05"},
		{fmtClock(3725 * time.Second), "1:02:05"},
		{pow10Label(1), "10"},
		{pow10Label(3), "1k"},
		{pow10Label(4), "10k"},
		{pow10Label(6), "1M"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{0, 1}, {1, 1}, {1.2, 1.5}, {2.6, 3}, {5.18, 6}, {7, 8}, {9, 10}, {180, 200}, {12000, 15000},
	} {
		if got := niceCeil(c.in); got != c.want {
			t.Errorf("niceCeil(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestHistoryRing fills the ring past its size and checks it keeps the
// newest samples, in order, in fixed memory.
func TestHistoryRing(t *testing.T) {
	var h history
	for i := range historyLen + 10 {
		h.push(sample{rps: float64(i)})
	}
	if h.len() != historyLen || cap(h.buf) != historyLen {
		t.Fatalf("len %d cap %d, want %d", h.len(), cap(h.buf), historyLen)
	}
	last := h.last(3)
	for i, s := range last {
		if want := float64(historyLen + 7 + i); s.rps != want {
			t.Errorf("last(3)[%d] = %v, want %v", i, s.rps, want)
		}
	}
	if all := h.last(historyLen * 2); len(all) != historyLen || all[0].rps != 10 {
		t.Errorf("last(all): %d samples from %v", len(all), all[0].rps)
	}
	h.reset()
	if h.len() != 0 || len(h.last(5)) != 0 {
		t.Error("reset left samples")
	}
}
