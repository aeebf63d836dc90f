package proc

import (
	"fmt"
	"syscall"
)

// RaiseFDLimit makes sure this process may open need file descriptors, by
// raising its soft RLIMIT_NOFILE up to the hard limit, and says in one
// line what to do if even the hard limit is too low.
//
// Every socket is a file descriptor, so 10,000 idle connections need
// 10,000 of them on each side. The soft limit is what the kernel enforces
// and a process may raise it up to the hard limit on its own; only root
// raises the hard one. Go already raises the soft limit at start-up (and
// lowers it again for the programs it starts, which may not expect it);
// the server children are Go programs too, so they raise theirs, and they
// inherit our hard limit. We use syscall.Setrlimit, not x/sys, so that the
// runtime knows we chose the limit on purpose.
func RaiseFDLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur >= uint64(need) {
		return nil
	}
	if lim.Max < uint64(need) {
		return fmt.Errorf("this load needs %d open files per process but the hard limit (RLIMIT_NOFILE) is %d: raise it (ulimit -Hn %d as root, or LimitNOFILE= for a service) or use fewer connections", need, lim.Max, need)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("setrlimit RLIMIT_NOFILE to %d: %w", lim.Cur, err)
	}
	return nil
}

// FileLimit is how many file descriptors this process may have open: its
// soft RLIMIT_NOFILE, after any RaiseFDLimit.
func FileLimit() (int, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit RLIMIT_NOFILE: %w", err)
	}
	return int(min(lim.Cur, 1<<30)), nil
}
