package proc

import (
	"bufio"
	"context"
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
	"sync/atomic"
	"syscall"
	"time"

	"serverlab/internal/control"
	"serverlab/servers"
)

// The project's models are started by re-executing the serverlab binary
// ("serverlab serve -model ..."), the way a shell would: the caller (bench,
// the dashboard) never links a model's code, and each child is a process of
// its own (see doc.go for why that matters).

// Spec says how to start one of the project's models.
type Spec struct {
	// Model is one of model.Names (package serverlab/internal/model).
	Model string
	// Binary is the serverlab executable; default: this program itself
	// (os.Executable), which is right when the caller is serverlab.
	Binary string
	// Addr to listen on; default "127.0.0.1:0", a free port.
	Addr string
	// Root is the folder to serve; default: serve's built-in demo site.
	Root string
	// Args are more serve flags, such as "-disk-delay", "5ms".
	Args []string
	// CPUs, if set, pins the server (every thread) to those CPUs.
	CPUs []int
	// StartTimeout bounds the wait for the listening line; default 10 s.
	StartTimeout time.Duration
	// Stderr, if set, gets a copy of the server's standard error.
	Stderr io.Writer
	// ExtraFiles are more descriptors for the child, after its control
	// channel: ExtraFiles[i] is descriptor 4+i there (a trace channel,
	// say, with "-trace-fd", "4" in Args).
	ExtraFiles []*os.File
}

// Server is a running server process: one of the models started by
// Start, or any command started by StartCommand.
type Server struct {
	name string
	cmd  *exec.Cmd
	addr string
	ctrl *control.Client // the model's control channel; nil for a command

	stopping atomic.Bool   // Stop was called: an exit is not a crash
	done     chan struct{} // closed when the process has exited
	exitErr  error         // why it exited; valid after done
	exitAt   time.Time

	errMu   sync.Mutex
	errTail []string // the last lines of its stderr
}

// listenLine finds the address in serve's one line on stdout:
// "serverlab threaded listening on http://127.0.0.1:PORT (root DIR)".
var listenLine = regexp.MustCompile(`http://[0-9.]+:[0-9]+`)

// ErrNoStats is returned by Stats for a server with no control channel.
var ErrNoStats = errors.New("server has no control channel")

// Start starts a model as a child process and waits until it listens.
// The child has its own process group, so a Ctrl-C at the terminal reaches
// only its parent, which then stops its children in order; and it gets
// SIGTERM if the parent dies without stopping it (Pdeathsig). Its stats
// come over a control channel (package control), whose closing also tells
// it to shut down.
func Start(ctx context.Context, spec Spec) (*Server, error) {
	bin := spec.Binary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("start %s: find own binary: %w", spec.Model, err)
		}
		bin = exe
	}
	addr := spec.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	args := []string{"serve", "-model", spec.Model, "-addr", addr}
	if spec.Root != "" {
		args = append(args, "-root", spec.Root)
	}
	args = append(args, spec.Args...)
	args = append(args, "-control-fd", strconv.Itoa(control.ChildFD))

	ctrl, theirs, err := control.Pair()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Model, err)
	}
	defer theirs.Close() // the child has its own copy once started

	cmd := exec.Command(bin, args...)
	cmd.ExtraFiles = append([]*os.File{theirs}, spec.ExtraFiles...) // theirs becomes control.ChildFD in the child
	s := &Server{name: spec.Model, cmd: cmd, ctrl: ctrl}
	if err := s.start(ctx, spec.CPUs, spec.Stderr, spec.StartTimeout, nil); err != nil {
		ctrl.Close()
		return nil, fmt.Errorf("start %s: %w", spec.Model, err)
	}
	return s, nil
}

// StartCommand starts any server by its command line (argv, no shell), for
// instance nginx with "daemon off", and waits until addr accepts
// connections. It runs in its own process group, which Stop signals as a
// whole, and /proc samples for it add up its child processes (nginx's
// workers). It has no stats channel.
func StartCommand(ctx context.Context, argv []string, addr string, cpus []int) (*Server, error) {
	if len(argv) == 0 {
		return nil, errors.New("start command: empty command line")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	s := &Server{name: argv[0], cmd: cmd}
	if err := s.start(ctx, cpus, nil, 0, func() (string, bool) {
		c, err := net.DialTimeout("tcp4", addr, 100*time.Millisecond)
		if err != nil {
			return "", false
		}
		c.Close()
		return addr, true
	}); err != nil {
		return nil, fmt.Errorf("start %s: %w", strings.Join(argv, " "), err)
	}
	return s, nil
}

// start runs the command and waits for it to be ready: for the listening
// line on stdout, or, if ready is given, until ready says so.
func (s *Server) start(ctx context.Context, cpus []int, stderr io.Writer, timeout time.Duration, ready func() (string, bool)) error {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	errPipe, err := s.cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := StartPinned(s.cmd, cpus); err != nil {
		return err
	}
	s.done = make(chan struct{})
	found := make(chan string, 1)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		s.readStdout(stdout, found)
	}()
	go func() {
		defer readers.Done()
		s.readStderr(errPipe, stderr)
	}()
	go func() {
		// Wait must come after the pipes are drained (os/exec's rule).
		readers.Wait()
		err := s.cmd.Wait()
		s.exitAt = time.Now()
		s.exitErr = err
		close(s.done)
	}()

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case addr := <-found:
			s.addr = addr
			return nil
		case <-poll.C:
			if ready != nil {
				if addr, ok := ready(); ok {
					s.addr = addr
					return nil
				}
			}
		case <-s.done:
			return fmt.Errorf("exited before listening (%v): %s", s.exitErr, s.lastStderr())
		case <-deadline.C:
			s.kill()
			return fmt.Errorf("not listening after %v: %s", timeout, s.lastStderr())
		case <-ctx.Done():
			s.kill()
			return ctx.Err()
		}
	}
}

func (s *Server) readStdout(r io.Reader, found chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := listenLine.FindString(sc.Text()); m != "" {
			select {
			case found <- strings.TrimPrefix(m, "http://"):
			default:
			}
		}
	}
}

func (s *Server) readStderr(r io.Reader, copyTo io.Writer) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if copyTo != nil {
			fmt.Fprintln(copyTo, line)
		}
		s.errMu.Lock()
		s.errTail = append(s.errTail, line)
		if len(s.errTail) > 20 {
			s.errTail = s.errTail[1:]
		}
		s.errMu.Unlock()
	}
}

// Name is the model name, or the command's name.
func (s *Server) Name() string { return s.name }

// Addr is where the server listens, "127.0.0.1:PORT".
func (s *Server) Addr() string { return s.addr }

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// HasStats reports whether the server has a control channel to ask for
// its own counters: the project's models do, other commands do not.
func (s *Server) HasStats() bool { return s.ctrl != nil }

// Stats asks the server for its own counters over the control channel.
func (s *Server) Stats() (servers.Snapshot, error) {
	if s.ctrl == nil {
		return servers.Snapshot{}, ErrNoStats
	}
	snap, err := s.ctrl.Stats()
	if err != nil {
		return snap, fmt.Errorf("%s %w", s.name, err)
	}
	return snap, nil
}

// Done is closed when the process has exited, for whatever reason.
func (s *Server) Done() <-chan struct{} { return s.done }

// Crashed reports whether the process exited without being asked to, and
// if so when and why (with its last line on stderr).
func (s *Server) Crashed() (bool, time.Time, string) {
	select {
	case <-s.done:
	default:
		return false, time.Time{}, ""
	}
	if s.stopping.Load() {
		return false, time.Time{}, ""
	}
	msg := fmt.Sprint(s.exitErr)
	if s.exitErr == nil {
		msg = "exited with status 0"
	}
	if tail := s.stderrTail(); len(tail) > 0 {
		msg += ": " + tail[len(tail)-1]
	}
	return true, s.exitAt, msg
}

// lastStderr is the server's last line on standard error, if any.
func (s *Server) lastStderr() string {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if len(s.errTail) == 0 {
		return "(nothing on stderr)"
	}
	return s.errTail[len(s.errTail)-1]
}

// stderrTail is the server's last lines (up to 20) on standard error.
func (s *Server) stderrTail() []string {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return append([]string(nil), s.errTail...)
}

// Stop shuts the server down gracefully: SIGTERM (and, for a model, EOF on
// its control channel), then up to grace for it to finish the responses
// under way, then SIGKILL. It returns the exit error if the server did not
// exit cleanly by itself.
func (s *Server) Stop(grace time.Duration) error {
	s.stopping.Store(true)
	select {
	case <-s.done:
		return nil
	default:
	}
	// The negative pid signals the whole process group: nginx's
	// workers as well as its master. The signal goes first: a model told
	// by its control channel may shut down and restore the default
	// action for SIGTERM (death) before a signal sent after would arrive.
	syscall.Kill(-s.PID(), syscall.SIGTERM)
	if s.ctrl != nil {
		s.ctrl.Close()
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-s.done:
		return s.exitErr
	case <-t.C:
		s.kill()
		<-s.done
		return fmt.Errorf("%s did not stop within %v; killed", s.name, grace)
	}
}

func (s *Server) kill() {
	s.stopping.Store(true)
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}
