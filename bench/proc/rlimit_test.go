package proc

import (
	"strings"
	"syscall"
	"testing"
)

func TestRaiseFDLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if err := RaiseFDLimit(int(lim.Max)); err != nil {
		t.Errorf("up to the hard limit: %v", err)
	}
	if n, err := FileLimit(); err != nil || uint64(n) != min(lim.Max, 1<<30) {
		t.Errorf("FileLimit %d, %v after raising it to the hard limit %d", n, err, lim.Max)
	}
	err := RaiseFDLimit(int(lim.Max) + 1)
	if err == nil || !strings.Contains(err.Error(), "hard limit") || strings.Contains(err.Error(), "\n") {
		t.Errorf("above the hard limit: %v; want one line naming the hard limit", err)
	}
}
