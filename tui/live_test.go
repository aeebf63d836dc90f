package tui

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"serverlab/bench"
)

// TestLiveDriver runs the real driver over the real models: frames with
// the client's, the server's and the kernel's numbers; a change of flags
// (slow-disk) restarts the servers; a killed server shows as crashed and
// comes back with Restart; Close leaves no process behind.
func TestLiveDriver(t *testing.T) {
	bin := e2eBinary(t)
	specs, err := bench.ParseTargets("blocking,threaded,evloop")
	if err != nil {
		t.Fatal(err)
	}
	drv, err := NewLive(LiveConfig{Targets: specs, Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	k, err := drv.Start("crowd")
	if err != nil {
		t.Fatal(err)
	}
	k.Paused = false
	drv.Set(k)

	// Every target sends frames with all three views filled in.
	seen := map[int]bool{}
	var buf []Frame
	waitLive(t, "frames with server and /proc numbers from all three", func() bool {
		buf = drv.Drain(buf[:0])
		for _, f := range buf {
			if f.Requests > 0 && f.HasServer && f.HasProc && f.Threads > 0 && f.RSS > 0 && f.Conns > 0 {
				seen[f.Target] = true
			}
		}
		return len(seen) == 3
	})
	addrs := make([]string, 3)
	pids := make([]int, 3)
	for i := range 3 {
		s := drv.Status(i)
		if s.State != Listening || !s.Driving || s.Addr == "" {
			t.Fatalf("target %d: %+v", i, s)
		}
		addrs[i] = s.Addr
		pids[i] = listenerPID(s.Addr)
		if pids[i] == 0 {
			t.Fatalf("no process listens on %s", s.Addr)
		}
	}

	// Pausing stops the frames.
	k.Paused = true
	drv.Set(k)
	time.Sleep(600 * time.Millisecond) // an interval or two in flight
	drv.Drain(nil)
	time.Sleep(time.Second)
	if fs := drv.Drain(nil); len(fs) != 0 {
		t.Errorf("%d frames while paused", len(fs))
	}

	// slow-disk needs other serve flags: every server starts again.
	k, _ = drv.Start("slow-disk")
	drv.Set(k)
	waitLive(t, "the servers to restart with -disk-delay", func() bool {
		for i := range 3 {
			if s := drv.Status(i); s.State != Listening || s.Addr == addrs[i] {
				return false
			}
		}
		return true
	})
	for i := range 3 {
		if alive(pids[i]) {
			t.Errorf("old server %d (pid %d) still running after the restart", i, pids[i])
		}
		pids[i] = listenerPID(drv.Status(i).Addr)
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pids[i]))
		if !bytes.Contains(cmdline, []byte("-disk-delay")) {
			t.Errorf("server %d restarted without -disk-delay: %q", i, cmdline)
		}
	}

	// A server that dies is crashed until restarted.
	syscall.Kill(pids[1], syscall.SIGKILL)
	waitLive(t, "threaded to show as crashed", func() bool { return drv.Status(1).State == Crashed })
	if d := drv.Status(1).Detail; !strings.Contains(d, "killed") {
		t.Errorf("crash detail %q does not say it was killed", d)
	}
	if err := drv.Restart(1); err != nil {
		t.Fatal(err)
	}
	waitLive(t, "threaded to come back", func() bool { return drv.Status(1).State == Listening })
	pids[1] = listenerPID(drv.Status(1).Addr)

	if err := drv.Close(); err != nil {
		t.Fatal(err)
	}
	for i, pid := range pids {
		if alive(pid) {
			t.Errorf("server %d (pid %d) still running after Close", i, pid)
		}
	}
}

func waitLive(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestMainUsageErrors checks that a bad command line gets exit code 2 and
// one line on stderr, before any server is started.
func TestMainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-bogus"},
		{"-scenario", "nosuch"},
		{"-models", "blocking,nosuch"},
		{"-models", "http://127.0.0.1:8080"},
		{"-target", "http://10.0.0.1:80"},
		{"-target", "threaded"},
		{"-target", "ftp://127.0.0.1:21"},
		{"-models", "", "-target", ""},
		{"-root", "/no/such/folder"},
		{"-binary", "/no/such/binary"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if s := strings.TrimSpace(stderr.String()); s == "" || strings.Contains(s, "\n") {
			t.Errorf("%q: want a one-line error, got %q", args, s)
		}
	}
	var stdout bytes.Buffer
	if code := Main([]string{"-h"}, &stdout, &stdout); code != 0 || !strings.Contains(stdout.String(), "-scenario") {
		t.Errorf("-h: exit %d, output %q", code, stdout.String())
	}
}

func TestParseFlags(t *testing.T) {
	cfg, scenario, err := parseFlags([]string{"-models", "threaded+osthreads,evloop",
		"-target", "http://127.0.0.1:8080/1k.bin,http://localhost:8081", "-scenario", "c10k"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range cfg.Targets {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "threaded+osthreads evloop http://127.0.0.1:8080/1k.bin http://localhost:8081" {
		t.Errorf("targets %s", got)
	}
	if cfg.Targets[0].Model != "threaded" || cfg.Targets[0].Flags[0] != "-osthreads" {
		t.Errorf("model with flags parsed as %+v", cfg.Targets[0])
	}
	if cfg.Targets[2].Addr != "127.0.0.1:8080" || cfg.Targets[2].Path != "/1k.bin" || cfg.Targets[3].Addr != "127.0.0.1:8081" {
		t.Errorf("URL targets parsed as %+v %+v", cfg.Targets[2], cfg.Targets[3])
	}
	if scenario != "c10k" {
		t.Errorf("scenario %q", scenario)
	}
}
