package load

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Schedule is an open-loop timeline: when each request is due, whatever the
// server is doing. Request i (from 0) is due At(i) after the schedule
// starts. Schedules never end; a ramp or the last step holds its final
// rate, and the load's own duration ends the run.
type Schedule interface {
	// At is when request i is due, measured from the start.
	At(i int64) time.Duration
	// Rate is the target rate, in requests/s, at time t.
	Rate(t time.Duration) float64
	// Count is how many requests are due by time t.
	Count(t time.Duration) float64
	String() string
}

// Constant is a steady rate in requests/s; request i is due at i/R.
type Constant float64

// At implements Schedule.
func (r Constant) At(i int64) time.Duration { return seconds(float64(i) / float64(r)) }

// Rate implements Schedule.
func (r Constant) Rate(time.Duration) float64 { return float64(r) }

// Count implements Schedule.
func (r Constant) Count(t time.Duration) float64 { return float64(r) * t.Seconds() }

// String describes the schedule: "500 req/s".
func (r Constant) String() string { return fmt.Sprintf("%g req/s", float64(r)) }

// Ramp rises (or falls) linearly from From to To requests/s over Over, then
// holds To. It is how the overload scenario walks a server past its
// capacity: somewhere on the ramp the server stops keeping up, and from
// that moment latency measured from the due time climbs without bound.
type Ramp struct {
	From, To float64
	Over     time.Duration
}

// At implements Schedule. The number of requests due by t is the area
// under the rate line, From*t + (To-From)*t²/(2*Over), so the time of
// request i is the root of that quadratic.
func (r Ramp) At(i int64) time.Duration {
	n := float64(i)
	over := r.Over.Seconds()
	if n >= r.Count(r.Over) || over <= 0 {
		return r.Over + seconds((n-r.Count(r.Over))/r.To)
	}
	a := (r.To - r.From) / (2 * over)
	if a == 0 {
		return seconds(n / r.From)
	}
	return seconds((-r.From + math.Sqrt(r.From*r.From+4*a*n)) / (2 * a))
}

// Rate implements Schedule.
func (r Ramp) Rate(t time.Duration) float64 {
	if t >= r.Over {
		return r.To
	}
	return r.From + (r.To-r.From)*t.Seconds()/r.Over.Seconds()
}

// Count implements Schedule.
func (r Ramp) Count(t time.Duration) float64 {
	if t > r.Over {
		return r.Count(r.Over) + r.To*(t-r.Over).Seconds()
	}
	s := t.Seconds()
	if r.Over <= 0 {
		return 0
	}
	return r.From*s + (r.To-r.From)*s*s/(2*r.Over.Seconds())
}

// String describes the schedule: "1000 to 60000 req/s over 10s".
func (r Ramp) String() string {
	return fmt.Sprintf("%g to %g req/s over %v", r.From, r.To, r.Over)
}

// Step is one stair of a Steps schedule.
type Step struct {
	Rate float64
	For  time.Duration
}

// Steps is a staircase of rates; the last step holds for ever.
type Steps []Step

// At implements Schedule.
func (s Steps) At(i int64) time.Duration {
	n, t := float64(i), time.Duration(0)
	for k, st := range s {
		in := st.Rate * st.For.Seconds()
		if k == len(s)-1 || n < in {
			return t + seconds(n/st.Rate)
		}
		n -= in
		t += st.For
	}
	return t
}

// Rate implements Schedule.
func (s Steps) Rate(t time.Duration) float64 {
	for k, st := range s {
		if k == len(s)-1 || t < st.For {
			return st.Rate
		}
		t -= st.For
	}
	return 0
}

// Count implements Schedule.
func (s Steps) Count(t time.Duration) float64 {
	var n float64
	for k, st := range s {
		if k == len(s)-1 || t < st.For {
			return n + st.Rate*t.Seconds()
		}
		n += st.Rate * st.For.Seconds()
		t -= st.For
	}
	return n
}

// String describes the schedule, step by step.
func (s Steps) String() string {
	parts := make([]string, len(s))
	for k, st := range s {
		parts[k] = fmt.Sprintf("%g req/s for %v", st.Rate, st.For)
	}
	return strings.Join(parts, ", then ")
}

// validSchedule rejects schedules that would never send or divide by zero.
func validSchedule(s Schedule) error {
	switch s := s.(type) {
	case Constant:
		if s <= 0 {
			return fmt.Errorf("rate %g: must be above 0", float64(s))
		}
	case Ramp:
		if s.From < 0 || s.To <= 0 || s.Over <= 0 {
			return fmt.Errorf("ramp %v: rates must be above 0 and Over positive", s)
		}
	case Steps:
		if len(s) == 0 {
			return fmt.Errorf("steps: none given")
		}
		for _, st := range s {
			if st.Rate <= 0 || st.For <= 0 {
				return fmt.Errorf("steps %v: every rate and length must be above 0", s)
			}
		}
	}
	return nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
