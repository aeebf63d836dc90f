package bench

import (
	"context"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartServerStatsAndStop(t *testing.T) {
	s := startModel(t, "evloop")
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.URL() != "http://"+s.Addr() || s.Name() != "evloop" {
		t.Errorf("addr %q url %q name %q", s.Addr(), s.URL(), s.Name())
	}
	var c Conn
	if err := c.Dial(context.Background(), s.Addr()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Do(NewRequest(s.Addr(), "/hello.txt", false)); err != nil {
		t.Fatal(err)
	}
	c.Close()
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

func TestStartServerFails(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	held, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	tests := []struct {
		name string
		spec ServerSpec
		want string
	}{
		{"bad flag", ServerSpec{Model: "threaded", Args: []string{"-no-such-flag"}}, "no-such-flag"},
		{"unknown model", ServerSpec{Model: "forking"}, "forking"},
		{"port in use", ServerSpec{Model: "threaded", Addr: held.Addr().String()}, "address already in use"},
		{"no binary", ServerSpec{Model: "threaded", Binary: "/nonexistent/serverlab"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.spec.Binary == "" {
				tt.spec.Binary = serverlabBin
			}
			s, err := StartServer(context.Background(), tt.spec)
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
	s := startModel(t, "threaded")
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
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	cpu := cpus[len(cpus)-1]
	s, err := StartServer(context.Background(), ServerSpec{Model: "threaded", Binary: serverlabBin, CPUs: []int{cpu}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(5 * time.Second)
	runLoad(t, s.Target(), Mix{Clients: 8}, 200*time.Millisecond) // make it start its threads
	tids, err := threads(s.PID())
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
	after, _ := AllowedCPUs()
	if len(after) != len(cpus) {
		t.Errorf("this process's CPUs changed from %v to %v", cpus, after)
	}
}

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

// TestStartCommand starts a server by command line, as one would nginx,
// and checks that bench finds it, samples it and stops its process group.
func TestStartCommand(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := StartCommand(context.Background(), []string{serverlabBin, "serve", "-model", "threaded", "-addr", addr}, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := s.Target()
	if tg.Addr != addr || !tg.Tree || tg.Stats != nil || tg.PID != s.PID() {
		t.Errorf("target %+v", tg)
	}
	if _, err := s.Stats(); err != ErrNoStats {
		t.Errorf("stats of a plain command: %v", err)
	}
	sum, ivs := runLoad(t, tg, Mix{Clients: 2}, 300*time.Millisecond)
	if sum.Requests == 0 || ivs[len(ivs)-1].Proc == nil || ivs[len(ivs)-1].Server != nil {
		t.Errorf("summary %v; last interval proc %v server %v", sum, ivs[len(ivs)-1].Proc, ivs[len(ivs)-1].Server)
	}
	if err := s.Stop(5 * time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
	if _, err := StartCommand(context.Background(), []string{"/bin/sh", "-c", "exit 3"}, addr, nil); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("a command that exits at once: %v", err)
	}
	if _, err := exec.LookPath("sleep"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if _, err := StartCommand(ctx, []string{"sleep", "10"}, addr, nil); err == nil {
			t.Error("a command that never listens was accepted")
		}
	}
}
