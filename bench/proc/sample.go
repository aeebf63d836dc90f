package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Sample is what /proc says about a server process at one moment: the
// numbers that differ most between the models. A thread-per-connection
// server's Threads follows its connections; a goroutine-per-connection
// server's RSS does; an event loop's stay flat.
type Sample struct {
	Time time.Time
	PID  int
	// Procs is how many processes were summed (1, or more for a tree
	// such as nginx's master and workers).
	Procs   int
	RSS     int64         // resident memory, bytes
	Threads int           // OS threads
	CPU     time.Duration // user + system CPU time used since start
	FDs     int           // open file descriptors (-1 if unreadable)
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. The
// kernel fixes it at 100 for user space on every Linux architecture Go
// supports, whatever the kernel's internal HZ, so no sysconf is needed.
const clockTicks = 100

// SampleOf reads /proc for pid; with tree, it adds up pid and all its
// descendants (a server that forks workers, as nginx does). It works for any
// process this user may inspect, not only the project's own servers.
func SampleOf(pid int, tree bool) (Sample, error) {
	s := Sample{Time: time.Now(), PID: pid}
	pids := []int{pid}
	if tree {
		pids = append(pids, descendants(pid)...)
	}
	for i, p := range pids {
		st, err := readStat(p)
		if err != nil {
			if i == 0 {
				return s, err
			}
			continue // a worker that exited between the scan and now
		}
		s.Procs++
		s.RSS += st.rss
		s.Threads += st.threads
		s.CPU += st.cpu
		if n := countFDs(p); n >= 0 && s.FDs >= 0 {
			s.FDs += n
		} else {
			s.FDs = -1
		}
	}
	return s, nil
}

type stat struct {
	ppid    int
	threads int
	rss     int64
	cpu     time.Duration
}

// readStat parses /proc/PID/stat (see proc(5)). The command name, field 2,
// is in parentheses and may itself hold spaces and parentheses, so the
// fields are counted from the LAST ')'.
func readStat(pid int) (stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, fmt.Errorf("read /proc/%d/stat: %w", pid, err)
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state), so field k of proc(5) is f[k-3].
	const ppid, utime, stime, threads, rss = 4 - 3, 14 - 3, 15 - 3, 20 - 3, 24 - 3
	if len(f) <= rss {
		return stat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	num := func(k int) int64 { n, _ := strconv.ParseInt(string(f[k]), 10, 64); return n }
	ticks := num(utime) + num(stime)
	return stat{
		ppid:    int(num(ppid)),
		threads: int(num(threads)),
		rss:     num(rss) * int64(os.Getpagesize()),
		cpu:     time.Duration(ticks) * time.Second / clockTicks,
	}, nil
}

// countFDs counts the entries of /proc/PID/fd, one per open descriptor.
func countFDs(pid int) int {
	d, err := os.Open("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return -1
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names)
}

// descendants finds every process below pid by reading each process's
// parent from /proc/*/stat: the one method that works on every kernel.
func descendants(pid int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	kids := make(map[int][]int)
	for _, name := range names {
		p, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if st, err := readStat(p); err == nil {
			kids[st.ppid] = append(kids[st.ppid], p)
		}
	}
	var out []int
	queue := kids[pid]
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		queue = append(queue, kids[p]...)
	}
	return out
}
