package tui

// Each knob moves along a 1-2-5 ladder (1, 2, 5, 10, 20, 50, ...), like the
// range switch of an oscilloscope: a few presses cover three orders of
// magnitude, and every value is a round number a class can remember.

// knob is the ladder of one setting: from 0 the first step up goes to
// floor (an open loop of 1 request/s shows nothing worth a key press),
// and nothing goes past limit, so that a stray key cannot ask for a
// million sockets. The driver may hold a count back further, to what the
// file descriptor limit allows.
type knob struct{ floor, limit int }

// The ladders of the four knobs; tables, never written.
var (
	clientsKnob = knob{floor: 1, limit: 2000}
	rateKnob    = knob{floor: 100, limit: 200000}
	slowKnob    = knob{floor: 1, limit: 1000}
	idleKnob    = knob{floor: 10, limit: 20000}
)

// up returns the next ladder value above v.
func (k knob) up(v int) int {
	if v < k.floor {
		return k.floor
	}
	for base := 1; base <= k.limit; base *= 10 {
		for _, m := range []int{1, 2, 5} {
			if n := base * m; n > v {
				return min(n, k.limit)
			}
		}
	}
	return k.limit
}

// down returns the next ladder value below v, or 0 below the floor.
func (k knob) down(v int) int {
	prev := 0
	for base := 1; base <= k.limit; base *= 10 {
		for _, m := range []int{1, 2, 5} {
			n := base * m
			if n >= v {
				if prev < k.floor {
					return 0
				}
				return prev
			}
			prev = n
		}
	}
	return min(prev, k.limit)
}
