package proc

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
)

func TestSampleOfSelf(t *testing.T) {
	s, err := SampleOf(os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	if s.Procs != 1 || s.RSS < 1<<20 || s.Threads < 2 || s.FDs < 3 || s.PID != os.Getpid() {
		t.Errorf("implausible sample of this test: %+v", s)
	}
	// Burn a little CPU and watch the counter move.
	x := 0
	for i := range 200_000_000 {
		x += i
	}
	runtime.KeepAlive(x)
	s2, err := SampleOf(os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	if s2.CPU <= s.CPU {
		t.Errorf("CPU time did not grow: %v then %v", s.CPU, s2.CPU)
	}
}

func TestSampleOfTree(t *testing.T) {
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if !slices.Contains(descendants(os.Getpid()), cmd.Process.Pid) {
		t.Fatalf("descendants of %d do not include the child %d", os.Getpid(), cmd.Process.Pid)
	}
	one, err := SampleOf(os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := SampleOf(os.Getpid(), true)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Procs < 2 || tree.Threads <= one.Threads || tree.RSS <= one.RSS {
		t.Errorf("tree %+v should add the child to %+v", tree, one)
	}
}

func TestSampleOfGone(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	if _, err := SampleOf(cmd.Process.Pid, false); err == nil {
		t.Error("sampled a process that has exited and been reaped")
	}
}

// TestReadStatOddName checks the parser with a command name holding spaces
// and parentheses, which is why it counts fields from the last ')'.
func TestReadStatOddName(t *testing.T) {
	dir := t.TempDir()
	odd := dir + "/a) (b c"
	if err := os.Symlink("/bin/sleep", odd); err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(odd, "5")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	st, err := readStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != os.Getpid() || st.threads != 1 {
		t.Errorf("parsed %+v; want ppid %d and 1 thread", st, os.Getpid())
	}
}
