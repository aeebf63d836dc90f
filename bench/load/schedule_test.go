package load

import (
	"math"
	"testing"
	"time"
)

// TestSchedules checks each schedule against itself: the number due by the
// time request i is due is i, and the rate is the slope of the count.
func TestSchedules(t *testing.T) {
	tests := []struct {
		name  string
		s     Schedule
		at1s  float64 // requests due in the first second
		rate2 float64 // rate at 2 s
	}{
		{"constant", Constant(1000), 1000, 1000},
		{"ramp", Ramp{From: 100, To: 1100, Over: 10 * time.Second}, 100 + 1000.0/20, 300},
		{"ramp from zero", Ramp{From: 0, To: 2000, Over: 2 * time.Second}, 500, 2000},
		{"ramp down", Ramp{From: 1000, To: 500, Over: 4 * time.Second}, 1000 - 500.0/8, 750},
		{"steps", Steps{{Rate: 100, For: 500 * time.Millisecond}, {Rate: 1000, For: time.Second}, {Rate: 10, For: time.Second}}, 50 + 500, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validSchedule(tt.s); err != nil {
				t.Fatal(err)
			}
			if got := tt.s.Count(time.Second); math.Abs(got-tt.at1s) > 1e-6*tt.at1s+1e-9 {
				t.Errorf("Count(1s) = %g, want %g", got, tt.at1s)
			}
			if got := tt.s.Rate(2 * time.Second); math.Abs(got-tt.rate2) > 1e-9 {
				t.Errorf("Rate(2s) = %g, want %g", got, tt.rate2)
			}
			prev := time.Duration(-1)
			for i := int64(0); i < 5000; i += 7 {
				at := tt.s.At(i)
				if at < prev {
					t.Fatalf("At(%d) = %v before At of an earlier request, %v", i, at, prev)
				}
				prev = at
				// Tolerance: one request, plus float rounding to ns.
				if got := tt.s.Count(at); math.Abs(got-float64(i)) > 1.01 {
					t.Fatalf("Count(At(%d) = %v) = %g", i, at, got)
				}
			}
		})
	}
}

func TestInvalidSchedules(t *testing.T) {
	for _, s := range []Schedule{Constant(0), Constant(-5), Ramp{From: 10, To: 0, Over: time.Second},
		Ramp{From: 1, To: 10}, Steps{}, Steps{{Rate: 0, For: time.Second}}} {
		if validSchedule(s) == nil {
			t.Errorf("%v accepted", s)
		}
		if (Mix{Rate: s}).Validate() == nil {
			t.Errorf("a mix with %v accepted", s)
		}
	}
}
