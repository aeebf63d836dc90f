package proc_test

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"serverlab/bench/internal/benchtest"
	"serverlab/bench/proc"
)

func TestMain(m *testing.M) { benchtest.Main(m) }

func TestStartStatsAndStop(t *testing.T) {
	s := benchtest.StartModel(t, "evloop")
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.Name() != "evloop" {
		t.Errorf("addr %q name %q", s.Addr(), s.Name())
	}
	get(t, s.Addr(), "/hello.txt")
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Model != "evloop" || st.Requests != 1 || st.Status2xx != 1 || st.Accepted != 1 {
		t.Errorf("stats after one request: %+v", st)
	}
	if err := s.Stop(5 * time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if crashed, _, _ := s.Crashed(); crashed {
		t.Error("a server we stopped counts as crashed")
	}
	if _, err := s.Stats(); err == nil {
		t.Error("stats from a stopped server")
	}
}

func TestStartFails(t *testing.T) {
	held, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	tests := []struct {
		name string
		spec proc.Spec
		want string
	}{
		{"bad flag", proc.Spec{Model: "threaded", Args: []string{"-no-such-flag"}}, "no-such-flag"},
		{"unknown model", proc.Spec{Model: "forking"}, "forking"},
		{"port in use", proc.Spec{Model: "threaded", Addr: held.Addr().String()}, "address already in use"},
		{"no binary", proc.Spec{Model: "threaded", Binary: "/nonexistent/serverlab"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.spec.Binary == "" {
				tt.spec.Binary = benchtest.Binary(t)
			}
			s, err := proc.Start(context.Background(), tt.spec)
			if err == nil {
				s.Stop(time.Second)
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line mentioning %q", err, tt.want)
			}
		})
	}
}

func TestServerCrashIsReported(t *testing.T) {
	s := benchtest.StartModel(t, "threaded")
	if crashed, _, _ := s.Crashed(); crashed {
		t.Fatal("crashed before anything happened")
	}
	syscall.Kill(s.PID(), syscall.SIGKILL)
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the process died")
	}
	crashed, at, msg := s.Crashed()
	if !crashed || at.IsZero() || !strings.Contains(msg, "killed") {
		t.Errorf("crashed %v at %v: %q", crashed, at, msg)
	}
}

// TestPinnedServer checks that every thread of a pinned child, including
// the ones the Go runtime made after start-up, runs only on its CPU.
func TestPinnedServer(t *testing.T) {
	cpus, err := proc.AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	cpu := cpus[len(cpus)-1]
	s, err := proc.Start(context.Background(), proc.Spec{Model: "threaded", Binary: benchtest.Binary(t), CPUs: []int{cpu}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(5 * time.Second)
	// Make it start its threads: a few connections served at once.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { get(t, s.Addr(), "/1k.bin") })
	}
	wg.Wait()
	tids, err := taskIDs(s.PID())
	if err != nil {
		t.Fatal(err)
	}
	if len(tids) < 2 {
		t.Fatalf("%d threads", len(tids))
	}
	for _, tid := range tids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(s.PID()) + "/task/" + strconv.Itoa(tid) + "/status")
		if err != nil {
			continue // the thread has exited
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && strings.TrimSpace(v) != strconv.Itoa(cpu) {
				t.Errorf("thread %d may run on CPUs %s, want %d", tid, strings.TrimSpace(v), cpu)
			}
		}
	}
	// And the forking thread of this process got its old mask back.
	after, _ := proc.AllowedCPUs()
	if len(after) != len(cpus) {
		t.Errorf("this process's CPUs changed from %v to %v", cpus, after)
	}
}

// TestStartCommand starts a server by command line, as one would nginx,
// and checks that bench finds it, samples it and stops its process group.
func TestStartCommand(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := proc.StartCommand(context.Background(), []string{benchtest.Binary(t), "serve", "-model", "threaded", "-addr", addr}, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr || s.HasStats() || s.PID() <= 0 {
		t.Errorf("addr %s, stats %v, pid %d", s.Addr(), s.HasStats(), s.PID())
	}
	if _, err := s.Stats(); err != proc.ErrNoStats {
		t.Errorf("stats of a plain command: %v", err)
	}
	get(t, addr, "/hello.txt")
	if ps, err := proc.SampleOf(s.PID(), true); err != nil || ps.Procs < 1 || ps.RSS <= 0 {
		t.Errorf("/proc sample of the command: %+v, %v", ps, err)
	}
	if err := s.Stop(5 * time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
	if _, err := proc.StartCommand(context.Background(), []string{"/bin/sh", "-c", "exit 3"}, addr, nil); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("a command that exits at once: %v", err)
	}
	if _, err := exec.LookPath("sleep"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if _, err := proc.StartCommand(ctx, []string{"sleep", "10"}, addr, nil); err == nil {
			t.Error("a command that never listens was accepted")
		}
	}
}

// get makes one request on a fresh connection and reads the whole answer.
func get(t *testing.T, addr, path string) {
	t.Helper()
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || !strings.HasPrefix(string(b), "HTTP/1.1 200 ") {
		t.Fatalf("GET %s: %q, %v", path, b, err)
	}
}

// taskIDs lists the threads of process pid.
func taskIDs(pid int) ([]int, error) {
	names, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	var tids []int
	for _, n := range names {
		if tid, err := strconv.Atoi(n.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, err
}
