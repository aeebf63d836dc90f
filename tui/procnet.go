package tui

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// A server the dashboard did not start (nginx, say) is known only by its
// address. To show its memory and threads too, we find the process that
// listens there the way ss(8) and lsof(8) do: /proc/net/tcp maps each
// listening socket to an inode number, and /proc/PID/fd lists every
// process's open files, a socket among them as "socket:[INODE]".

// listenerPID returns the process listening on addr ("127.0.0.1:PORT"),
// or 0 if it cannot be found or its files cannot be read (another user's
// process, without root). When several processes share the socket, as
// nginx's master and workers do, it returns the one that is not a child
// of another: the master, whose tree bench then adds up.
func listenerPID(addr string) int {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return 0
	}
	inode := listeningInode(ap)
	if inode == "" {
		return 0
	}
	holders := socketHolders("socket:[" + inode + "]")
	for _, pid := range holders {
		if ppid, _, ok := procStatus(pid); ok && !slices.Contains(holders, ppid) {
			return pid
		}
	}
	return 0
}

// listeningInode finds the inode of the TCP socket listening on ap, or on
// the same port on every address (0.0.0.0).
func listeningInode(ap netip.AddrPort) string {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return ""
	}
	defer f.Close()
	// Addresses are hex, the IPv4 address in the kernel's (little-endian)
	// byte order: 127.0.0.1:8080 is "0100007F:1F90".
	a := ap.Addr().As4()
	exact := fmt.Sprintf("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], ap.Port())
	any := fmt.Sprintf("00000000:%04X", ap.Port())
	const listen = "0A" // TCP_LISTEN in the kernel's enum of states
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != listen {
			continue
		}
		if fields[1] == exact || fields[1] == any {
			return fields[9]
		}
	}
	return ""
}

// socketHolders lists the processes that have link among their open files.
func socketHolders(link string) []int {
	var pids []int
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := "/proc/" + e.Name() + "/fd/"
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			if l, err := os.Readlink(dir + fd.Name()); err == nil && l == link {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// procStatus reads a process's parent and state from /proc/PID/stat.
func procStatus(pid int) (ppid int, state string, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", false
	}
	// The command name is in parentheses and may hold spaces and
	// parentheses itself; the fields after the last ')' are state, ppid, ...
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0], true
}
