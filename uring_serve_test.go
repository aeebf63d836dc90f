package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestUringUnavailable runs `serverlab serve -model uring` under a seccomp
// filter that answers io_uring_setup with EPERM, as a container's default
// profile does: it must exit 2 with a one-line reason, not start a server
// it cannot run.
func TestUringUnavailable(t *testing.T) {
	if os.Getenv("SERVERLAB_SECCOMP_EXEC") != "" {
		t.Skip("the helper process, not a test")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSeccompHelper$")
	cmd.Env = append(os.Environ(), "SERVERLAB_SECCOMP_EXEC="+binary)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("serve -model uring under seccomp: %v, want exit status 2; stderr:\n%s", err, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "seccomp") {
		t.Fatalf("want one line naming the reason, got:\n%s", msg)
	}
	t.Log(msg)
}

// TestSeccompHelper is TestUringUnavailable's child: it forbids
// io_uring_setup for itself and every thread, then becomes the serverlab
// binary (a filter installed with no_new_privs survives execve).
func TestSeccompHelper(t *testing.T) {
	bin := os.Getenv("SERVERLAB_SECCOMP_EXEC")
	if bin == "" {
		t.Skip("only run as TestUringUnavailable's child")
	}
	// A classic BPF program over struct seccomp_data, whose first word is
	// the system call number.
	const (
		ldAbs    = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq      = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret      = unix.BPF_RET | unix.BPF_K
		retAllow = 0x7fff0000 // SECCOMP_RET_ALLOW
		retErrno = 0x00050000 // SECCOMP_RET_ERRNO
	)
	prog := []unix.SockFilter{
		{Code: ldAbs, K: 0},
		{Code: jeq, Jt: 0, Jf: 1, K: unix.SYS_IO_URING_SETUP},
		{Code: ret, K: retErrno | uint32(unix.EPERM)},
		{Code: ret, K: retAllow},
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	const setModeFilter, flagTsync = 1, 1
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, setModeFilter, flagTsync, uintptr(unsafe.Pointer(&fprog))); errno != 0 {
		t.Fatal(errno)
	}
	err := syscall.Exec(bin, []string{bin, "serve", "-model", "uring", "-addr", "127.0.0.1:0"}, os.Environ())
	t.Fatal(err)
}
