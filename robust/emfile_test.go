package robust

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fdLimit is the child's RLIMIT_NOFILE, soft and hard. Both: Go raises the
// soft limit to the hard one when a program starts.
const fdLimit = 64

// TestOutOfDescriptors starts each model as a child limited to 64 open
// descriptors, holds keep-alive connections to it, and floods it with 500
// more. Running out of descriptors must not make it spin, drop the
// connections it holds, or stop it serving once descriptors are free.
func TestOutOfDescriptors(t *testing.T) {
	t.Parallel()
	for _, v := range processModels {
		t.Run(v.name, func(t *testing.T) {
			if v.closes {
				t.Skipf("%s closes every connection after one answer: it holds none; %s-keepalive runs this", v.name, v.name)
			}
			held := 10
			if v.blocking {
				// The blocking model serves one connection at a time:
				// nine more held connections would wait in the backlog,
				// unanswered, by design. With one connection open it
				// never comes near its limit; the test still shows it
				// sleeps through a flood and serves afterwards.
				held = 1
			}
			// Long limits: the connections the flood gets accepted must
			// stay open through the quiet second.
			args := append([]string{"-header-timeout", "30s", "-idle-timeout", "30s", "-write-timeout", "5s"}, v.args...)
			ch := startChild(t, childOpts{wrap: []string{"prlimit", fmt.Sprintf("--nofile=%d:%d", fdLimit, fdLimit), "--"}, control: true, args: args})
			outOfDescriptors(t, ch, v.name, held, !v.blocking)
		})
	}
}

func outOfDescriptors(t *testing.T, ch *child, name string, held int, exhausts bool) {
	fdDir := fmt.Sprintf("/proc/%d/fd", ch.pid())
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", ch.pid()))
	if err != nil || !strings.Contains(string(limits), fmt.Sprintf("Max open files            %d", fdLimit)) {
		t.Fatalf("the child does not run under a limit of %d descriptors: %v\n%s", fdLimit, err, limits)
	}
	if h, _, err := fetch(ch.addr, "/hello.txt"); err != nil || h.status != 200 {
		t.Fatalf("GET: status %d, %v", h.status, err)
	}
	eventually(t, "the child to close the first connection", func() bool { return ch.stats(t).Open == 0 })
	rest := countDir(t, fdDir)

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range held {
		c, err := net.DialTimeout("tcp", ch.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	hello := demoFile(t, "/hello.txt")
	// ask sends a request on every held connection and checks the answer.
	// While descriptors are short, a 503 is an honest answer (the core's
	// when it cannot open a file), but only if the connection survives it:
	// a server that drops the connections it holds is not serving them.
	// It returns how many of each status came back.
	ask := func(when string, allow503 bool) map[int]int {
		t.Helper()
		got := map[int]int{}
		for i, c := range conns {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "GET /hello.txt HTTP/1.1\r\nHost: robust\r\n\r\n")
			h, body, err := readFull(bufio.NewReader(c))
			switch {
			case err != nil:
				t.Fatalf("%s: held connection %d: %v", when, i, err)
			case h.status == 200 && !bytes.Equal(body, hello):
				t.Fatalf("%s: held connection %d: wrong body %q", when, i, body)
			case h.status == 200, h.status == 503 && allow503 && !h.close:
			default:
				t.Fatalf("%s: held connection %d: status %d, Connection: close %v", when, i, h.status, h.close)
			}
			got[h.status]++
		}
		return got
	}
	ask("before the flood", false)

	// The flood: 500 connection attempts, 50 at a time, each given a
	// second. Most finish their handshake in the kernel's backlog.
	var (
		mu    sync.Mutex
		flood []net.Conn
		wg    sync.WaitGroup
	)
	attempts := make(chan struct{}, 500)
	for range 500 {
		attempts <- struct{}{}
	}
	close(attempts)
	for range 50 {
		wg.Go(func() {
			for range attempts {
				if c, err := net.DialTimeout("tcp", ch.addr, time.Second); err == nil {
					mu.Lock()
					flood = append(flood, c)
					mu.Unlock()
				}
			}
		})
	}
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	flooded := make(chan struct{})
	go func() { wg.Wait(); close(flooded) }()
	during := map[int]int{}
	for waiting := true; waiting; {
		for k, n := range ask("during the flood", true) {
			during[k] += n
		}
		select {
		case <-flooded:
			waiting = false
		default:
		}
	}
	if exhausts {
		eventually(t, fmt.Sprintf("the child to use all %d descriptors", fdLimit), func() bool {
			return countDir(t, fdDir) >= fdLimit
		})
	}

	// The quiet second: the flood's connections are still open, no
	// client sends anything, and the child must be asleep.
	before := cpuTime(t, ch.pid())
	time.Sleep(time.Second)
	cpu := cpuTime(t, ch.pid()) - before
	t.Logf("%s: %v of CPU in the quiet second after the flood (%d of 500 flood connections made; %d descriptors open in the child; answers to held connections during the flood, by status: %v)",
		name, cpu, len(flood), countDir(t, fdDir), during)
	if cpu >= 300*time.Millisecond {
		t.Errorf("%s used %v of CPU in a quiet second while out of descriptors: spinning", name, cpu)
	}
	after := ask("after the flood, its connections still open", true)

	for _, c := range flood {
		c.Close()
	}
	flood = nil
	// Once the server has noticed the flood is gone, descriptors are
	// free again, and the held connections get their file.
	eventually(t, "the held connections to be answered 200 again", func() bool { return ask("after the flood closed", true)[200] == held })
	t.Logf("%s: answers to held connections with the flood still open: %v", name, after)

	if !exhausts {
		// The blocking model must finish with the held connection
		// before it can take the next one.
		for _, c := range conns {
			c.Close()
		}
		conns = nil
	}
	// Until the server has worked through the dead connections the flood
	// left in its backlog, it may still be short of descriptors, and a
	// model using the spare-descriptor trick then turns a new client away
	// at once: an honest, quick refusal, after which the client tries
	// again. A hang, or a wrong answer, is a failure.
	refusals := 0
	eventually(t, "a new client to be served after the flood", func() bool {
		h, body, err := fetch(ch.addr, "/hello.txt")
		switch {
		case err == nil && h.status == 200 && bytes.Equal(body, hello):
			return true
		case err == nil || !ended(err):
			t.Fatalf("a new client after the flood: status %d, %v", h.status, err)
		}
		refusals++
		return false
	})
	t.Logf("%s: a new client was served after %d refusals", name, refusals)

	// Leak check on the child: with every client gone, it is back to the
	// descriptors it had at rest.
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	eventually(t, fmt.Sprintf("the child's descriptors back to %d", rest), func() bool {
		return ch.stats(t).Open == 0 && countDir(t, fdDir) <= rest
	})
	if err := ch.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := ch.wait(t, 2*shutdownGrace); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
}
