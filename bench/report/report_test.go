package report

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"

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
	if !bytes.Contains(b, []byte("no request was answered")) {
		t.Errorf("%s does not say it has no answers", paths[0])
	}
}

// TestJSONRoundTrip reads back what WriteJSON wrote and writes it again:
// the docs make their tables and figures from saved reports, so nothing
// they use may be lost on the way.
func TestJSONRoundTrip(t *testing.T) {
	rep := &Report{
		Scenario: "slow-client", Title: "one slowloris", About: "a paragraph", OpenLoop: true,
		Duration: 2 * time.Second, Interval: 250 * time.Millisecond, Rounds: 2,
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ServerCPUs: []int{0}, LoadCPUs: []int{1},
		Events: []Event{{At: time.Second, Label: "slowloris arrives"}},
	}
	for _, name := range []string{"blocking", "evloop"} {
		res := &Result{Name: name, Kind: "model", URL: "http://127.0.0.1:1/1k.bin",
			Summary: load.Summary{Requests: 100, RPS: 50, Latency: load.Latency{P50: 3 * time.Millisecond, Max: time.Second},
				Errors: load.Errors{load.ErrTimeout: 2}, PeakRSS: 1 << 20, PeakThreads: 7, CPU: 40 * time.Millisecond}}
		for round := 1; round <= 2; round++ {
			res.Runs = append(res.Runs, Run{Round: round, Intervals: []load.Interval{
				{Elapsed: 250 * time.Millisecond, Length: 250 * time.Millisecond, Requests: 12, RPS: 48,
					Latency: load.Latency{P99: 9 * time.Millisecond}, TargetRate: 50, Errors: load.Errors{load.ErrReset: 1}},
			}})
		}
		rep.Targets = append(rep.Targets, res)
	}
	var first, second bytes.Buffer
	if err := rep.WriteJSON(&first); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := back.WriteJSON(&second); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Errorf("JSON changed on the way back:\nfirst:\n%s\nsecond:\n%s", first.String(), second.String())
	}
	var a, b bytes.Buffer
	rep.WriteMarkdown(&a)
	back.WriteMarkdown(&b)
	if a.String() != b.String() {
		t.Errorf("table changed on the way back:\n%s\n%s", a.String(), b.String())
	}
}

func TestTicks(t *testing.T) {
	labels := func(ticks []plot.Tick) string {
		var out []string
		for _, tk := range ticks {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct {
		name string
		got  string
		want string
	}{
		{"counts", labels(countTicks{}.Ticks(0, 81000)), "0 20,000 40,000 60,000 80,000"},
		{"small", labels(countTicks{}.Ticks(0, 0.9)), "0.0 0.2 0.4 0.6 0.8"},
		{"quarters", labels(countTicks{}.Ticks(0, 1.1)), "0.00 0.25 0.50 0.75 1.00"},
		// The lowest decade is labelled, in units a reader knows.
		{"decades", labels(decadeTicks{}.Ticks(0.01, 2500)), "10 µs 100 µs 1 ms 10 ms 100 ms 1 s"},
		// Ten seconds, or three rounds of them: ticks at one step all over.
		{"time", labels(timeTicks{}.Ticks(0, 10)), "0 1 2 3 4 5 6 7 8 9 10"},
		{"rounds", labels(timeTicks{}.Ticks(0, 30)), "0 5 10 15 20 25 30"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: ticks %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
