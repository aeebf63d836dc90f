package proc

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestPinSelf(t *testing.T) {
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	procs := runtime.GOMAXPROCS(0)
	undo, err := PinSelf(cpus[:1])
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOMAXPROCS(0) != 1 {
		t.Errorf("GOMAXPROCS %d while pinned to one CPU", runtime.GOMAXPROCS(0))
	}
	tids, _ := threads(os.Getpid())
	for _, tid := range tids {
		b, _ := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/status")
		if strings.Contains(string(b), "Cpus_allowed_list:") && !strings.Contains(string(b), "Cpus_allowed_list:\t"+strconv.Itoa(cpus[0])+"\n") {
			t.Errorf("thread %d not pinned", tid)
		}
	}
	undo()
	if runtime.GOMAXPROCS(0) != procs {
		t.Errorf("GOMAXPROCS %d after undo, want %d", runtime.GOMAXPROCS(0), procs)
	}
	if after, _ := AllowedCPUs(); len(after) != len(cpus) {
		t.Errorf("CPUs %v after undo, want %v", after, cpus)
	}
	if _, err := PinSelf([]int{5000}); err == nil {
		t.Error("pinned to a CPU that does not exist")
	}
}
