package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// Each round starts one target further along, and every target is in every
// round exactly once.
func TestRotate(t *testing.T) {
	ts := []*target{{name: "a"}, {name: "b"}, {name: "c"}}
	want := map[int]string{1: "abc", 2: "bca", 3: "cab", 4: "abc"}
	for r, w := range want {
		got := ""
		for _, x := range rotate(ts, r) {
			got += x.name
		}
		if got != w {
			t.Errorf("round %d: %s, want %s", r, got, w)
		}
	}
	if ts[0].name != "a" {
		t.Error("rotate changed its argument")
	}
}

// A ratio is taken within each round, never across rounds: a slow spell
// that hits both servers in one round cancels out.
func TestRatioPairsRounds(t *testing.T) {
	a := []run{{cpuPerReqUs: 20, round: 1}, {cpuPerReqUs: 11, round: 2}, {cpuPerReqUs: 30, round: 3}}
	b := []run{{cpuPerReqUs: 10, round: 1}, {cpuPerReqUs: 10, round: 2}} // round 3 missing
	med, lo, hi, ok := ratio(a, b, cpuOf)
	if !ok || math.Abs(lo-1.1) > 1e-9 || hi != 2 || (med != 2 && math.Abs(med-1.1) > 1e-9) {
		t.Fatalf("ratio = %v [%v–%v] %v, want the ratios 1.1 and 2 of rounds 1 and 2 only", med, lo, hi, ok)
	}
	if _, _, _, ok := ratio(a, nil, cpuOf); ok {
		t.Fatal("a ratio against nothing")
	}
}

// parseWrk reads wrk's own words, p99 in its unit.
func TestParseWrk(t *testing.T) {
	out := []byte(`Running 1s test @ http://127.0.0.1:18630/1k.bin
  1 threads and 5 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    60.39us   50.28us   1.57ms   97.21%
    Req/Sec    72.28k     7.23k   76.53k    90.91%
  Latency Distribution
     50%   58.00us
     75%   64.00us
     90%   77.00us
     99%    1.74ms
  78862 requests in 1.10s, 94.24MB read
Requests/sec:  71710.65
Transfer/sec:     85.69MB
`)
	r, err := parseWrk(out)
	if err != nil || r.rps != 71710.65 || r.reqs != 78862 || r.p99ms != 1.74 {
		t.Fatalf("parseWrk = %+v, %v; want 71710.65 req/s, 78862 requests, p99 1.74 ms", r, err)
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Fatal("parseWrk read figures from a failed run")
	}
}

// The side-by-side table gives, per peer and case, the ratio within each
// round of evloop's CPU per request to the peer's.
func TestWritePairs(t *testing.T) {
	cases := []benchCase{{name: "1 KiB, 50 conns"}, {name: "1 KiB, 500 conns"}}
	paired := map[string]pairRuns{
		"1 KiB, 50 conns|gnet": {
			ref:  []run{{cpuPerReqUs: 9, round: 1}, {cpuPerReqUs: 12, round: 2}, {cpuPerReqUs: 20, round: 3}},
			peer: []run{{cpuPerReqUs: 10, round: 1}, {cpuPerReqUs: 10, round: 2}, {cpuPerReqUs: 20, round: 3}},
		},
	}
	var b strings.Builder
	writePairs(&b, cases, []*target{{name: "gnet"}}, paired, time.Second)
	if got, want := b.String(), "| gnet | 1.00× [0.90–1.20] | – |"; !strings.Contains(got, want) {
		t.Fatalf("table:\n%s\nwant a row %q", got, want)
	}
}

// The targets are judged on the side-by-side figure where there is one,
// and each verdict follows its limit's direction.
func TestTargets(t *testing.T) {
	cases := []benchCase{{name: "1 KiB, 50 conns", path: "/1k.bin"}, {name: "1 MiB, 50 conns", path: "/1m.bin"}}
	rounds := func(xs ...float64) []run {
		var rs []run
		for i, x := range xs {
			rs = append(rs, run{cpuPerReqUs: x, rps: 1000 / x, clientBusy: 1, round: i + 1})
		}
		return rs
	}
	results := map[string]map[string][]run{
		"1 KiB, 50 conns": {"evloop": rounds(12, 12, 12), "gnet": rounds(10, 10, 10), "floor": rounds(9, 9, 9)},
		"1 MiB, 50 conns": {"evloop": rounds(10, 10, 10), "threaded": rounds(12, 12, 12), "nginx": rounds(11, 11, 11)},
	}
	// One after the other, evloop costs 1.2× gnet; side by side, 0.95×.
	paired := map[string]pairRuns{"1 KiB, 50 conns|gnet": {ref: rounds(9.5, 9.5, 9.5), peer: rounds(10, 10, 10)}}
	var b strings.Builder
	writeTargets(&b, targetFigures(cases, results, cases[:1], paired))
	for _, want := range []string{
		"| evloop CPU/request ÷ gnet's, 1 KiB, 50 conns | ≤ 1.0 | 0.95× [0.95–0.95] | side by side | yes | – |",
		"| evloop CPU/request ÷ the floor's, 1 KiB, 50 conns | ≤ 1.2 | 1.33× [1.33–1.33] | one after the other | **no** |",
		"| evloop req/s ÷ gnet's, 1 KiB, 50 conns | ≥ 1.0 | 0.83× [0.83–0.83] | one after the other | **no** |",
		"| evloop req/s ÷ nginx's, 1 MiB, 50 conns | ≥ 1.0 | 1.10× [1.10–1.10] | one after the other | yes |",
		"| threaded req/s ÷ evloop's, 1 MiB, 50 conns | ≥ 0.9 | 0.83× [0.83–0.83] | one after the other | **no** | 100% / 100% |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no row %q in\n%s", want, b.String())
		}
	}
}
