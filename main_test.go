package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/servers"

	"serverlab/internal/model"
)

// binary is the serverlab binary built once for these tests, so that they
// run the real command as a teacher would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "serverlab-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "serverlab")
	if out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nosuch"},
		{"serve", "-model", "nosuch"},
		{"serve", "-bogus"},
		{"serve", "-loops", "0"},
		{"serve", "-poller", "kqueue"},
		{"serve", "-addr"},
		{"serve", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
		if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n"); len(args) > 0 && lines != 0 {
			t.Errorf("%q: want a one-line error, got:\n%s", args, stderr.String())
		}
	}
	var stdout bytes.Buffer
	if code := run([]string{"help"}, &stdout, io.Discard); code != 0 || !strings.Contains(stdout.String(), "serve") {
		t.Errorf("help: exit %d, output %q", code, stdout.String())
	}
}

var listenLine = regexp.MustCompile(`^serverlab (\w+) listening on http://([0-9.]+:[0-9]+) \(root (.+)\)$`)

// startServe runs `serverlab serve` with args and returns the process, the
// address it printed and the parsed line.
func startServe(t *testing.T, extra []*os.File, args ...string) (*exec.Cmd, string, []string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...)
	cmd.ExtraFiles = extra
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no listen line: %v", err)
	}
	m := listenLine.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		t.Fatalf("listen line %q does not match %v", line, listenLine)
	}
	return cmd, m[2], m
}

func get(t *testing.T, addr, path string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
	b, _ := io.ReadAll(c)
	return string(b)
}

// TestModelsHaveConstructors holds serve's constructors to the one list of
// model names that bench and the dashboard use too.
func TestModelsHaveConstructors(t *testing.T) {
	names := model.Names()
	for _, name := range names {
		if models[name] == nil {
			t.Errorf("model %q has no constructor in serve.go", name)
		}
	}
	if len(models) != len(names) {
		t.Errorf("serve.go has %d constructors for %d models %v", len(models), len(names), names)
	}
}

// TestServeEachModel starts each model over the demo site, fetches a page,
// stops it with SIGTERM and checks it exits 0 and removes its demo folder.
func TestServeEachModel(t *testing.T) {
	for _, name := range model.Names() {
		t.Run(name, func(t *testing.T) {
			cmd, addr, m := startServe(t, nil, "-model", name)
			if m[1] != name {
				t.Errorf("line names model %q", m[1])
			}
			if resp := get(t, addr, "/hello.txt"); !strings.HasPrefix(resp, "HTTP/1.1 200 OK") ||
				!strings.HasSuffix(resp, "Hello from serverlab.\n") {
				t.Fatalf("GET /hello.txt:\n%s", resp)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit after SIGTERM: %v", err)
			}
			if _, err := os.Stat(m[3]); !os.IsNotExist(err) {
				t.Errorf("demo site %s not removed: %v", m[3], err)
			}
		})
	}
}

// TestServeControl checks the stats channel: "stats" gets a JSON snapshot,
// garbage makes the child exit 3, and a parent closing the channel makes it
// exit 0.
func TestServeControl(t *testing.T) {
	pair := func() (*os.File, *os.File) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		return os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child")
	}

	parent, child := pair()
	cmd, addr, _ := startServe(t, []*os.File{child}, "-model", "threaded", "-control-fd", "3")
	child.Close()
	get(t, addr, "/1k.bin")
	fmt.Fprintln(parent, "stats")
	line, err := bufio.NewReader(parent).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var snap servers.Snapshot
	if err := json.Unmarshal([]byte(line), &snap); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if snap.Model != "threaded" || snap.Requests != 1 || snap.Status2xx != 1 || snap.BytesSent < 1024 {
		t.Errorf("snapshot %+v", snap)
	}
	parent.Close()
	if err := waitExit(cmd); err != nil {
		t.Errorf("after the parent closed the channel: %v, want exit 0", err)
	}

	parent, child = pair()
	cmd, _, _ = startServe(t, []*os.File{child}, "-model", "evloop", "-control-fd", "3")
	child.Close()
	fmt.Fprintln(parent, "\x00garbage")
	err = waitExit(cmd)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("after garbage: %v, want exit status 3", err)
	}
	parent.Close()
}

func waitExit(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		return fmt.Errorf("did not exit within 10s")
	}
}
