package report

import (
	"bytes"
	"os"
	"testing"
	"time"

	"serverlab/bench/load"
)

func TestFormatting(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{FormatDuration(0), "-"}, {FormatDuration(37 * time.Microsecond), "37µs"}, {FormatDuration(1234 * time.Microsecond), "1.23ms"},
		{FormatDuration(2010 * time.Millisecond), "2.01s"},
		{fmtBytes(0), "-"}, {fmtBytes(512), "512 B"}, {fmtBytes(1536), "1.5 KiB"}, {fmtBytes(27 << 20), "27.0 MiB"},
		{FormatCount(41203.4), "41,203"}, {FormatCount(999), "999"}, {fmtInt(1234567), "1,234,567"}, {fmtInt(-1234), "-1,234"},
		{fmtRatio(3, 2), "1.50"}, {fmtRatio(1, 0), "-"}, {FormatCPUs([]int{0, 1}), "0,1"},
		{load.Errors{load.ErrTimeout: 3, load.ErrReset: 1}.String(), "reset 1, timeout 3"}, {load.Errors{}.String(), "0"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestPlotsOfNothing draws the figures of a run in which a target answered
// nothing and had no /proc samples (a blocking server under c10k, a URL
// with no PID): the figures must still be made, not crash on a log axis.
func TestPlotsOfNothing(t *testing.T) {
	rep := &Report{
		Scenario: "c10k", Duration: time.Second,
		Targets: []*Result{{
			Name: "blocking",
			Runs: []Run{{Round: 1, Intervals: []load.Interval{
				{Elapsed: 250 * time.Millisecond, Errors: load.Errors{load.ErrTimeout: 3}},
				{Elapsed: 500 * time.Millisecond},
			}}},
		}},
	}
	paths, err := rep.WritePlots(t.TempDir())
	if err != nil || len(paths) != 3 {
		t.Fatalf("paths %v, err %v", paths, err)
	}
	b, _ := os.ReadFile(paths[0])
	if !bytes.Contains(b, []byte("no answers")) {
		t.Errorf("%s does not say it has no answers", paths[0])
	}
}
