package quote

import (
	"strings"
	"testing"

	"serverlab/bench/report"
)

// testData is a results file of two targets with a few intervals, enough
// for every kind of key.
func testData() *Data {
	iv := func(t int64, rps float64, p50 int64, rss int64, open int64) Interval {
		i := Interval{Round: 1, TMs: t, LenMs: 250, Requests: int64(rps / 4), RPS: rps, RSS: rss, CPUPercent: 50}
		i.P50 = p50
		i.Server = &struct {
			Open int64 `json:"open"`
		}{open}
		return i
	}
	// The fragment of an interval left when a run stops.
	stub := iv(760, 5, 1, 14<<20, 10000)
	stub.LenMs = 10
	return &Data{Dir: "testdata", Runs: map[string]*Run{
		"crowd": {Scenario: "crowd", DurationMs: 1000, IntervalMs: 250, Targets: []Target{
			{Target: "blocking", Requests: 13_249, Errors: 396, ErrorsByKind: map[string]int64{"timeout": 396},
				RPS: 13_249.4, Latency: Latency{P50: 71, P99: 171}, PeakRSS: 11_639_193, PeakThreads: 7, ServerCPUMs: 993,
				Intervals: []Interval{iv(250, 12000, 70, 11<<20, 1), iv(500, 14000, 72, 11<<20, 1)}},
			{Target: "evloop", Requests: 100_875, RPS: 100_875, Latency: Latency{P50: 948, P99: 2_080, Max: 1_999_700},
				PeakRSS: 14 << 20, Intervals: []Interval{
					iv(250, 90000, 900, 11<<20, 0), iv(500, 100000, 950, 12<<20, 5000),
					iv(750, 110000, 1000, 14<<20, 10000), stub}},
		}},
		"ex/crowd-1000": {Targets: []Target{{Target: "evloop+loops=2", RPS: 57_500.2}}},
	}}
}

func TestQuote(t *testing.T) {
	d := testData()
	for _, tt := range []struct{ spec, want string }{
		{"crowd/blocking/rps", "13,249"},
		{"crowd/blocking/rps sig=2", "13,000"},
		{"crowd/evloop/rps sig=1", "100,000"},
		{"crowd/blocking/p50", "71 µs"},
		{"crowd/evloop/p50", "948 µs"},
		{"crowd/evloop/p50 sig=1", "900 µs"},
		{"crowd/evloop/p50 unit=ms", "0.948 ms"},
		{"crowd/evloop/p99", "2.08 ms"},
		{"crowd/evloop/p99 sig=2", "2.1 ms"},
		{"crowd/evloop/max", "2 s"}, // 1.9997 s at three digits
		{"crowd/blocking/errors", "396"},
		{"crowd/blocking/errors.timeout", "396"},
		{"crowd/blocking/rss", "11.1 MiB"},
		{"crowd/blocking/threads", "7"},
		{"crowd/blocking/cpu_per_request sig=2", "75 µs"},
		{"crowd/evloop/rps / crowd/blocking/rps x", "7.6"},
		{"crowd/evloop/rps / crowd/blocking/rps sig=1", "8"},
		// Little's law: a count over a rate is a time.
		{"100 / crowd/evloop/rps", "991 µs"},
		// The price of a connection: a size over a count.
		{"(crowd/evloop/rss.max - crowd/evloop/rss.first) / crowd/evloop/server_open.max unit=KiB", "0.3 KiB"},
		{"crowd/evloop/rps.min", "90,000"},
		{"crowd/evloop/rps.p10", "90,000"},
		{"crowd/evloop/rps.p90", "110,000"},
		{"crowd/evloop/rps.max@0.3s-1s", "110,000"},
		// The mean rate is requests over time; the 10 ms stub is left out.
		{"crowd/evloop/rps@0.25-1", "105,000"},
		{"crowd/evloop/p50.max", "1 ms"},
		// Half a core over a quarter-second's requests.
		{"crowd/evloop/cpu_per_request.max@0-1", "5.56 µs"},
		{"crowd/blocking/duration", "1 s"},
		{"ex/crowd-1000/evloop+loops=2/rps", "57,500"},
		{"crowd/clients", "100"},
		{"slow-client/slow_pace", "10 ms"},
		{"slow-client/slow_pace sig=1", "10 ms"},
		{"slow-client/churn", "20"},
		{"slow-reader/slow_read_rate", "4.0 MiB/s"},
		{"slow-reader/slow_read_size", "16.0 MiB"},
		{"baseline/size", "1.0 KiB"},
		{"slow-disk/disk_delay sig=1", "5 ms"},
		{"overload/rate_to", "60,000"},
		{"crowd/blocking/errors / crowd/blocking/requests pct sig=2", "3.0%"},
	} {
		got, err := d.Quote(tt.spec)
		if err != nil {
			t.Errorf("Quote(%q): %v", tt.spec, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.spec, got, tt.want)
		}
	}
}

func TestQuoteErrors(t *testing.T) {
	d := testData()
	for _, tt := range []struct{ spec, want string }{
		{"crowd/nginx/rps", `no target "nginx"`},
		{"crowd/blocking/speed", `no metric "speed"`},
		{"churn/blocking/rps", "no results file churn.json"},
		{"crowd/colour", "no such parameter"},
		{"nosuch/clients", `no scenario "nosuch"`},
		{"crowd/blocking/rps sig=9", "sig is 1 to 6"},
		{"crowd/blocking/rps /", "ends too soon"},
		{"(crowd/blocking/rps", "missing )"},
		{"crowd/blocking/rps / 0", "division by zero"},
		{"crowd/blocking/rps@5-9", "no intervals in the window"},
		{"sig=2", "names no value"},
	} {
		_, err := d.Quote(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Quote(%q) = error %v, want one with %q", tt.spec, err, tt.want)
		}
	}
}

func TestFill(t *testing.T) {
	d := testData()
	page := "Blocking did <!-- m:crowd/blocking/rps sig=2 -->10,000<!-- /m --> requests/s,\n" +
		"evloop <!-- m:crowd/evloop/rps / crowd/blocking/rps x -->9.9<!-- /m --> times more.\n" +
		"and <!-- m:crowd/nginx/rps -->1<!-- /m --> and <!-- m:crowd/blocking/p50 -->forgot the end\n"
	out, problems := d.Fill([]byte(page))
	want := "Blocking did <!-- m:crowd/blocking/rps sig=2 -->13,000<!-- /m --> requests/s,\n" +
		"evloop <!-- m:crowd/evloop/rps / crowd/blocking/rps x -->7.6<!-- /m --> times more.\n" +
		"and <!-- m:crowd/nginx/rps -->1<!-- /m --> and <!-- m:crowd/blocking/p50 -->forgot the end\n"
	if string(out) != want {
		t.Errorf("Fill gave\n%s\nwant\n%s", out, want)
	}
	if len(problems) != 2 || problems[0].Line != 3 || problems[1].Line != 3 ||
		!strings.Contains(problems[0].Msg+problems[1].Msg, "no <!-- /m -->") {
		t.Errorf("problems = %v, want two on line 3: an unknown target and an unclosed span", problems)
	}
}

func TestClaims(t *testing.T) {
	d := testData()
	page := "evloop leads <!-- check: crowd/evloop/rps > crowd/blocking/rps -->\n" +
		"by less than twice <!-- check: crowd/evloop/rps / crowd/blocking/rps < 2 -->\n" +
		"and <!-- check: crowd/evloop/rps -->\n"
	_, problems := d.Fill([]byte(page))
	if len(problems) != 2 || problems[0].Line != 2 || !strings.Contains(problems[0].Msg, "no longer holds") ||
		problems[1].Line != 3 || !strings.Contains(problems[1].Msg, "want LEFT < RIGHT") {
		t.Errorf("problems = %v, want line 2 no longer holding and line 3 malformed", problems)
	}
}

func TestMarkerAtLineStart(t *testing.T) {
	d := testData()
	_, problems := d.Fill([]byte("Blocking did\n<!-- m:crowd/blocking/rps -->13,249<!-- /m --> requests/s.\n\n" +
		"> In a quote, \n> <!-- m:crowd/blocking/rps -->13,249<!-- /m --> too.\n"))
	if len(problems) != 2 || problems[0].Line != 2 || problems[1].Line != 5 || !strings.Contains(problems[0].Msg, "starts the line") {
		t.Errorf("problems = %v, want one on line 2 and one on line 5 for the markers that start them", problems)
	}
}

func TestTypedFigures(t *testing.T) {
	page := strings.Join([]string{
		"# 02 · crowd", // 1
		"",             // 2
		"Threaded did 71,439 requests/s and evloop",                   // 3: typed
		"<!-- m:crowd/evloop/rps -->100,875<!-- /m --> requests/s.",   // 4: generated
		"A median of 1.7 and 0.9 ms, between 20,000 and 40,000 req/s", // 5: two typed
		"for 7 seconds, with 100 clients, 11 KiB each, CPU 32%.",      // 6: four typed
		"",
		"Run `bench -duration 5s` with p99 of c10k over HTTP/1.1 in 2009; lesson 05.", // 8: none
		"",
		"```sh",
		"bin/serverlab bench -c 1000 -duration 5s   # 57,500 requests/s",
		"```",
		"",
		"    indented code: 3 ms",
		"",
		"- a list item of 12 threads", // 16: typed
		"",
		"| model | req/s |",
		"| --- | --- |",
		"| evloop | about 4 MiB/s |", // 20: typed
		"",
		"[a link](../results/c10k.md#10-ms) a hundred clients, about a second.", // 22: none
		"",
		"<details><summary>3 ms in HTML</summary>", // 24: HTML, not prose
		"",
		"Six times: 10-second timeout.", // 26: typed
	}, "\n")
	var got []string
	for _, f := range TypedFigures([]byte(page)) {
		got = append(got, strings.Join([]string{itoa(f.Line), f.Text}, ": "))
	}
	want := []string{
		"3: 71,439 requests/s",
		"5: 1.7 and 0.9 ms", "5: 20,000 and 40,000 req/s",
		"6: 7 seconds", "6: 100 clients", "6: 11 KiB", "6: 32%",
		"16: 12 threads",
		"20: 4 MiB/s",
		"26: 10-second",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("typed figures found:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func itoa(n int) string { return report.WithSeparators(float64(n), 0) }
