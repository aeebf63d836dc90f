package proc

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// On a machine with few cores, a server and the load generator that drives
// it fight for the same CPUs, and the result measures the fight as much as
// the server. So by default the server gets one core and the load another
// (sched_setaffinity(2)), and each model gets the same deal.
//
// Affinity belongs to THREADS, not processes: sched_setaffinity(pid, ...)
// with a process's id changes only its main thread. A new thread inherits
// the mask of the thread that created it, and exec keeps it. So:
//
//   - to pin a child from birth, we set the mask on the thread that forks
//     it (locked to our goroutine for the moment) and fork; every thread
//     the child ever creates descends from that one, so inherits the mask;
//   - to pin the load generator, whose goroutines the Go scheduler moves
//     freely between its threads, we set the mask on every thread it has
//     (/proc/self/task) — threads it creates later inherit it — and set
//     GOMAXPROCS to the number of CPUs, so the runtime does not run more
//     threads of Go code at once than there are CPUs for them.

// AllowedCPUs lists the CPUs this process may run on.
func AllowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var cpus []int
	for c := range 1024 {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// DefaultPinning is the split used when nothing else is asked: the first
// allowed CPU for the server, the second for the load. With a single CPU
// there is nothing to split, and both are nil.
func DefaultPinning() (server, load []int) {
	cpus, err := AllowedCPUs()
	if err != nil || len(cpus) < 2 {
		return nil, nil
	}
	return cpus[:1], cpus[1:2]
}

func cpuSet(cpus []int) (unix.CPUSet, error) {
	var set unix.CPUSet
	for _, c := range cpus {
		if c < 0 || c >= 1024 {
			return set, fmt.Errorf("no CPU %d", c)
		}
		set.Set(c)
	}
	if set.Count() == 0 {
		return set, fmt.Errorf("no CPUs given")
	}
	return set, nil
}

// pinPID pins every thread that process pid has now to cpus. Threads it
// creates later inherit the mask from their creator, so unless one is
// being created at this very moment, the whole process stays pinned; two
// passes catch a thread born during the first.
func pinPID(pid int, cpus []int) error {
	set, err := cpuSet(cpus)
	if err != nil {
		return err
	}
	done := map[int]bool{}
	for range 2 {
		tids, err := threads(pid)
		if err != nil {
			return err
		}
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("pin thread %d of %d to CPUs %v: %w", tid, pid, cpus, err)
			}
			done[tid] = true
		}
	}
	return nil
}

// PinSelf pins the whole load generator (this process) to cpus and sets
// GOMAXPROCS to match. The returned function puts both back.
func PinSelf(cpus []int) (undo func(), err error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	if err := pinPID(os.Getpid(), cpus); err != nil {
		return nil, err
	}
	procs := runtime.GOMAXPROCS(len(cpus))
	return func() {
		var was []int
		for c := range 1024 {
			if old.IsSet(c) {
				was = append(was, c)
			}
		}
		pinPID(os.Getpid(), was)
		runtime.GOMAXPROCS(procs)
	}, nil
}

// StartPinned starts cmd with every thread of the child on cpus (none:
// unpinned), by forking from a thread that is itself pinned for the moment
// (see the comment at the top of this file): what taskset does, without a
// second program in between. It must unlock the thread, not exit with it
// locked: a locked goroutine that exits takes its thread with it, and the
// death of the thread that forked a child is what triggers the child's
// Pdeathsig.
func StartPinned(cmd *exec.Cmd, cpus []int) error {
	if len(cpus) == 0 {
		return cmd.Start()
	}
	set, err := cpuSet(cpus)
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin to CPUs %v: %w", cpus, err)
	}
	err = cmd.Start()
	if rerr := unix.SchedSetaffinity(0, &old); rerr != nil && err == nil {
		err = fmt.Errorf("restore affinity: %w", rerr)
	}
	return err
}

// threads lists the thread ids of process pid.
func threads(pid int) ([]int, error) {
	d, err := os.Open("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list threads of %d: %w", pid, err)
	}
	tids := make([]int, 0, len(names))
	for _, n := range names {
		if tid, err := strconv.Atoi(n); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
