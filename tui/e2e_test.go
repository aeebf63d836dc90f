package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the real serverlab binary in a real terminal,
// a tmux pane, as a teacher would: the three models as child processes,
// real load on loopback, the screen read back as text. They check what a
// class needs: on a projector-sized terminal every model's column with
// non-zero throughput, colours a projector keeps and none under NO_COLOR,
// and no server process left behind after q, SIGTERM or a closed terminal.
//
// The machine running them may be loaded: every wait is on a condition
// seen on screen, with a generous bound, never a fixed sleep.

// e2eBin is the serverlab binary the end-to-end tests share, built once
// (into e2eDir, removed by TestMain) or taken from $SERVERLAB_BIN.
var e2eBin struct {
	once      sync.Once
	dir, path string
	err       error
}

// e2eBinary returns the serverlab binary, building it on first use.
func e2eBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	e2eBin.once.Do(func() {
		if bin := os.Getenv("SERVERLAB_BIN"); bin != "" {
			e2eBin.path = bin
			return
		}
		dir, err := os.MkdirTemp("", "serverlab-tui-e2e-")
		if err != nil {
			e2eBin.err = err
			return
		}
		e2eBin.dir, e2eBin.path = dir, filepath.Join(dir, "serverlab")
		if out, err := exec.Command("go", "build", "-o", e2eBin.path, "serverlab").CombinedOutput(); err != nil {
			e2eBin.err = fmt.Errorf("go build serverlab: %v\n%s", err, out)
		}
	})
	if e2eBin.err != nil {
		t.Fatal(e2eBin.err)
	}
	return e2eBin.path
}

// pane is a tmux session on a private tmux server, so the test neither
// sees nor disturbs anyone's own tmux.
type pane struct {
	t      *testing.T
	socket string
}

func newPane(t *testing.T, w, h int, command string) *pane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not found: install tmux (apt-get install tmux) to run the dashboard's end-to-end test")
	}
	p := &pane{t: t, socket: fmt.Sprintf("serverlab-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	p.tmux("new-session", "-d", "-s", "e2e", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), command)
	t.Cleanup(func() { exec.Command("tmux", "-L", p.socket, "kill-server").Run() })
	return p
}

func (p *pane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (p *pane) screen() string { return p.tmux("capture-pane", "-p", "-t", "e2e") }

// waitScreen polls the screen until ok accepts it.
func (p *pane) waitScreen(what string, limit time.Duration, ok func(string) bool) string {
	p.t.Helper()
	var s string
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if s = p.screen(); ok(s) {
			return s
		}
	}
	p.t.Fatalf("timed out after %v waiting for %s; the screen:\n%s", limit, what, s)
	return ""
}

// childrenOf lists the processes whose parent is pid, by scanning /proc.
func childrenOf(pid int) []int {
	var kids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStatus(n); ok && ppid == pid {
			kids = append(kids, n)
		}
	}
	return kids
}

func alive(pid int) bool {
	_, state, ok := procStatus(pid)
	return ok && state != "Z"
}

// startDashboard runs `serverlab tui -scenario NAME` in a w×h pane, with
// env (VAR=value words) before it, and returns the pane, the dashboard's
// pid and its server children's pids.
func startDashboard(t *testing.T, bin, env, scenario string, w, h int) (*pane, int, []int) {
	t.Helper()
	shell := fmt.Sprintf("%s %s tui -scenario %s; echo TUI-EXIT=$?; sleep 60", env, bin, scenario)
	p := newPane(t, w, h, shell)
	shPID, _ := strconv.Atoi(strings.TrimSpace(p.tmux("list-panes", "-t", "e2e", "-F", "#{pane_pid}")))
	var tuiPID int
	for deadline := time.Now().Add(20 * time.Second); tuiPID == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if kids := childrenOf(shPID); len(kids) > 0 {
			tuiPID = kids[0]
		}
	}
	if tuiPID == 0 {
		t.Fatalf("the dashboard did not start; screen:\n%s", p.screen())
	}
	var servers []int
	for deadline := time.Now().Add(30 * time.Second); len(servers) < 3 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		servers = childrenOf(tuiPID)
	}
	if len(servers) < 3 {
		t.Fatalf("want 3 server processes under the dashboard, have %v; screen:\n%s", servers, p.screen())
	}
	return p, tuiPID, servers
}

// checkGone fails if any of pids is still running.
func checkGone(t *testing.T, pids []int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		left := 0
		for _, pid := range pids {
			if alive(pid) {
				left++
			}
		}
		if left == 0 {
			return
		}
	}
	for _, pid := range pids {
		if alive(pid) {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			t.Errorf("server process %d still running: %s", pid, strings.ReplaceAll(string(cmd), "\x00", " "))
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

var throughput = regexp.MustCompile(`throughput ([0-9.]+)([kM]?) req/s`)

// sgrCodes matches the colour and attribute codes in a pane captured with
// its escapes (capture-pane -e).
var sgrCodes = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// TestEndToEndProjector runs slow-client at 160x45, the size of a
// projected terminal a class can read, and checks what the class came
// for: every model in its own column with non-zero throughput, and the
// compare row; then that the colours are the sixteen ANSI ones only, and
// that q quits and takes the servers with it.
func TestEndToEndProjector(t *testing.T) {
	bin := e2eBinary(t)
	// A colour terminal, said explicitly. termenv takes any CI variable
	// to mean "not a terminal" and draws no colour at all, and CI sets
	// one; but this pane is a real terminal, which is what is tested.
	p, _, servers := startDashboard(t, bin, "CI= TERM=xterm-256color", "slow-client", 160, 45)
	// The blocking server stalls for a second whenever it meets the slow
	// client, so its throughput is zero in some intervals: each column
	// must show a non-zero figure at some point, not all at one instant.
	names := []string{"blocking", "threaded", "evloop"}
	moved := make([]bool, len(names))
	screen := p.waitScreen("three models in columns with non-zero throughput, and the compare row", 90*time.Second, func(s string) bool {
		for _, name := range names {
			if !strings.Contains(s, name) {
				return false
			}
		}
		m := throughput.FindAllStringSubmatch(s, -1)
		if len(m) != len(names) {
			return false // not yet three columns, each with its throughput
		}
		for i, r := range m {
			if v, _ := strconv.ParseFloat(r[1], 64); v > 0 {
				moved[i] = true
			}
		}
		return strings.Contains(s, "COMPARE") && !slices.Contains(moved, false)
	})
	t.Logf("slow-client at 160x45:\n%s", screen)

	coloured := p.tmux("capture-pane", "-p", "-e", "-t", "e2e")
	if !sgrCodes.MatchString(coloured) {
		t.Errorf("no colour codes on a colour terminal:\n%q", coloured)
	}
	for _, m := range sgrCodes.FindAllStringSubmatch(coloured, -1) {
		if strings.Contains(m[1], "38;") || strings.Contains(m[1], "48;") || strings.Contains(m[1], ":") {
			t.Errorf("colour %q outside the sixteen ANSI colours", m[0])
			break
		}
	}

	p.tmux("send-keys", "-t", "e2e", "q")
	p.waitScreen("the dashboard to exit", 30*time.Second, func(s string) bool { return strings.Contains(s, "TUI-EXIT=") })
	if s := p.screen(); !strings.Contains(s, "TUI-EXIT=0") {
		t.Errorf("dashboard exit status not 0:\n%s", s)
	}
	checkGone(t, servers)
}

// TestEndToEndSIGTERM runs the dashboard at 80x24 without colour
// (NO_COLOR), checks that it says everything in words and draws no
// colour, and that SIGTERM is a clean quit.
func TestEndToEndSIGTERM(t *testing.T) {
	bin := e2eBinary(t)
	p, tuiPID, servers := startDashboard(t, bin, "NO_COLOR=1", "crowd", 80, 24)
	p.waitScreen("the servers to be up", 60*time.Second, func(s string) bool {
		return strings.Count(s, "● UP") == 3 && strings.Contains(s, "▶ RUNNING")
	})
	for _, m := range sgrCodes.FindAllStringSubmatch(p.tmux("capture-pane", "-p", "-e", "-t", "e2e"), -1) {
		if m[1] != "" && m[1] != "0" {
			t.Errorf("NO_COLOR, and yet the screen has %q", m[0])
			break
		}
	}
	if err := syscall.Kill(tuiPID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitScreen("the dashboard to exit", 20*time.Second, func(s string) bool { return strings.Contains(s, "TUI-EXIT=") })
	checkGone(t, servers)
	// SIGTERM is a clean quit, not a death by signal (which would be 143).
	if s := p.screen(); !strings.Contains(s, "TUI-EXIT=0") {
		t.Errorf("exit status after SIGTERM not 0:\n%s", s)
	}
	// The terminal is back to normal: the shell's echo landed on the
	// main screen, not in the dashboard's alternate screen.
	if s := p.screen(); strings.Contains(s, "serverlab · scenario") {
		t.Errorf("dashboard still on screen after exit:\n%s", s)
	}
}

// TestEndToEndHangup closes the terminal under the dashboard, as when an
// ssh connection drops: the kernel sends SIGHUP, and the servers must go
// with the dashboard.
func TestEndToEndHangup(t *testing.T) {
	bin := e2eBinary(t)
	p, tuiPID, servers := startDashboard(t, bin, "", "crowd", 80, 24)
	p.waitScreen("the servers to be up", 60*time.Second, func(s string) bool {
		return strings.Count(s, "● UP") == 3
	})
	exec.Command("tmux", "-L", p.socket, "kill-server").Run()
	checkGone(t, append(servers, tuiPID))
}
