package bench

import (
	"os"
	"testing"

	"serverlab/bench/internal/benchtest"
	"serverlab/bench/proc"
)

func TestMain(m *testing.M) { benchtest.Main(m) }

// processes counts this process and every process below it: the servers a
// run has started and not yet stopped.
func processes(t *testing.T) int {
	t.Helper()
	s, err := proc.SampleOf(os.Getpid(), true)
	if err != nil {
		t.Fatal(err)
	}
	return s.Procs
}
