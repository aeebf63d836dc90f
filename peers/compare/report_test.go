package main

import (
	"math"
	"testing"
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
