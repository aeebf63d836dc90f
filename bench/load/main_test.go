package load

import (
	"sync"
	"testing"
	"time"

	"serverlab/bench/internal/benchtest"
)

func TestMain(m *testing.M) { benchtest.Main(m) }

// runLoad runs mix on target for d and returns the summary and intervals.
func runLoad(t *testing.T, target Target, mix Mix, d time.Duration) (Summary, []Interval) {
	t.Helper()
	var mu sync.Mutex
	var ivs []Interval
	l, err := Start(target, mix, Options{
		Interval: 100 * time.Millisecond,
		OnInterval: func(iv Interval) {
			mu.Lock()
			ivs = append(ivs, iv)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	s := l.Stop()
	mu.Lock()
	defer mu.Unlock()
	return s, ivs
}
