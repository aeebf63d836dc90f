package robust

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/servers"
	"serverlab/uring"
)

// processModels are the models as `serverlab serve` runs them: the same
// variants as the in-process tests, by their flags.
var processModels = []struct {
	name     string
	args     []string
	blocking bool
	closes   bool // ends every connection after one answer
}{
	{"blocking", []string{"-model", "blocking"}, true, true},
	{"blocking-keepalive", []string{"-model", "blocking", "-keepalive"}, true, false},
	{"threaded", []string{"-model", "threaded"}, false, false},
	{"threaded-osthreads", []string{"-model", "threaded", "-osthreads"}, false, false},
	{"evloop", []string{"-model", "evloop"}, false, false},
	{"evloop-workers", []string{"-model", "evloop", "-loops", "2", "-disk-workers", "2", "-sendfile=false"}, false, false},
	{"uring", []string{"-model", "uring"}, false, false},
}

// child is a `serverlab serve` process started by a test.
type child struct {
	cmd     *exec.Cmd
	addr    string
	control *os.File // the parent's end of the control channel, if asked for
	stderr  *lockedBuffer
	exited  chan struct{} // closed when the process has been waited for
	err     error         // its exit status, once exited is closed
}

type childOpts struct {
	wrap    []string // a command that runs the child, such as prlimit
	control bool     // give the child a control channel on fd 3
	args    []string
}

var listenAddr = regexp.MustCompile(`http://[0-9.]+:[0-9]+`)

// startChild starts `serverlab serve` on a free port and waits for the
// line saying where it listens. The child is killed when the test ends, if
// it has not exited by then.
func startChild(t *testing.T, o childOpts) *child {
	t.Helper()
	args := append([]string{binary, "serve", "-addr", "127.0.0.1:0"}, o.args...)
	if o.control {
		args = append(args, "-control-fd", "3")
	}
	args = append(append([]string(nil), o.wrap...), args...)
	ch := &child{cmd: exec.Command(args[0], args[1:]...), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	// If the test process dies, the kernel sends its children SIGTERM.
	ch.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	ch.cmd.Stderr = ch.stderr
	if o.control {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		ch.control = os.NewFile(uintptr(fds[0]), "control")
		theirs := os.NewFile(uintptr(fds[1]), "control (child's end)")
		defer theirs.Close() // the child has its own copy once started
		ch.cmd.ExtraFiles = []*os.File{theirs}
		t.Cleanup(func() { ch.control.Close() })
	}
	out, err := ch.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		ch.err = ch.cmd.Wait()
		close(ch.exited)
	}()
	t.Cleanup(func() {
		ch.cmd.Process.Kill()
		<-ch.exited
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
		io.Copy(io.Discard, out) // nothing more is expected; never block the child
	}()
	select {
	case s := <-line:
		addr := listenAddr.FindString(s)
		if addr == "" {
			skipUnavailable(t, ch)
			t.Fatalf("no address in %q; stderr:\n%s", s, ch.stderr)
		}
		ch.addr = strings.TrimPrefix(addr, "http://")
	case <-time.After(30 * time.Second):
		t.Fatalf("no listen line within 30s; stderr:\n%s", ch.stderr)
	}
	return ch
}

// skipUnavailable skips the test if the child exited because this machine
// cannot run its model (serve's exit status 2, with the reason).
func skipUnavailable(t *testing.T, ch *child) {
	t.Helper()
	select {
	case <-ch.exited:
	case <-time.After(10 * time.Second):
		return
	}
	var ee *exec.ExitError
	if errors.As(ch.err, &ee) && ee.ExitCode() == 2 && strings.Contains(ch.stderr.String(), uring.ErrUnavailable.Error()) {
		t.Skip(strings.TrimSpace(ch.stderr.String()))
	}
}

func (ch *child) pid() int { return ch.cmd.Process.Pid }

// wait waits up to limit for the child to exit and returns its status.
func (ch *child) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case <-ch.exited:
		return ch.err
	case <-time.After(limit):
		t.Fatalf("child %d still running %v later; stderr:\n%s", ch.pid(), limit, ch.stderr)
		return nil
	}
}

// stats asks the child for its counters over the control channel.
func (ch *child) stats(t *testing.T) servers.Snapshot {
	t.Helper()
	if _, err := io.WriteString(ch.control, "stats\n"); err != nil {
		t.Fatalf("control channel: %v", err)
	}
	// One byte at a time, so that nothing past the line is read ahead
	// and lost to the next call.
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := ch.control.Read(b); err != nil {
			t.Fatalf("control channel: %v", err)
		}
		if b[0] == '\n' {
			break
		}
		line = append(line, b[0])
	}
	var snap servers.Snapshot
	if err := json.Unmarshal(line, &snap); err != nil {
		t.Fatalf("stats %q: %v", line, err)
	}
	return snap
}

// cpuTime is the CPU time, user and system, the process pid has used.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count the fields after its closing one. utime and stime are fields
	// 14 and 15 (proc(5)), in clock ticks of 1/100 s (USER_HZ on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, err1 := strconv.ParseInt(f[14-3], 10, 64)
	stime, err2 := strconv.ParseInt(f[15-3], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parse /proc/%d/stat: %q", pid, b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// lockedBuffer collects a child's stderr, which exec copies from another
// goroutine while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fetch gets path from addr on a new connection, as a client that closes.
func fetch(addr, path string) (head, []byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return head{}, nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: robust\r\nConnection: close\r\n\r\n", path)
	return readFull(bufio.NewReader(c))
}

// TestControlChannel: a child whose parent sends garbage on the control
// channel exits with status 3 rather than guess; one whose parent closes
// the channel (as a parent's death does) shuts down and exits 0.
func TestControlChannel(t *testing.T) {
	t.Parallel()
	for _, v := range processModels {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ch := startChild(t, childOpts{control: true, args: v.args})
			if snap := ch.stats(t); !strings.HasPrefix(v.name, snap.Model) {
				t.Errorf("stats name model %q", snap.Model)
			}
			io.WriteString(ch.control, "\x00\xffgarbage\n")
			var ee *exec.ExitError
			if err := ch.wait(t, 10*time.Second); !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Errorf("after garbage: %v, want exit status 3", err)
			}

			ch = startChild(t, childOpts{control: true, args: v.args})
			if h, _, err := fetch(ch.addr, "/hello.txt"); err != nil || h.status != 200 {
				t.Fatalf("GET: status %d, %v", h.status, err)
			}
			ch.control.Close()
			if err := ch.wait(t, 10*time.Second); err != nil {
				t.Errorf("after the parent closed the channel: %v, want exit 0; stderr:\n%s", err, ch.stderr)
			}
		})
	}
}
