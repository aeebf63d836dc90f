// Command compare measures serverlab's models against peer servers — nginx
// with one worker, Go's net/http FileServer and a gnet event loop — on one
// core each, and writes docs/results/peers.md. `make bench-peers` runs it.
//
// Method: each server is pinned to CPU 0 and wrk to CPU 1 (taskset), the
// targets are measured in interleaved rounds (so a slow spell of the VM hits
// all of them alike), and the report gives medians with min-max spreads. The
// server's CPU time per request comes from /proc/PID/stat, which is the finer
// measure when wrk itself nears its one-core ceiling. Idle-connection memory
// is the growth of the server's RSS while it holds N idle keep-alive
// connections, each of which has made one request.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// target is one server under test: how to start it and what to call it.
type target struct {
	name string
	cmd  []string // the command, without taskset
	env  []string
	addr string
	proc *exec.Cmd
}

func main() {
	var (
		bin      = flag.String("serverlab", "bin/serverlab", "serverlab binary")
		fileSrv  = flag.String("fileserver", "", "net/http FileServer peer binary (empty: skip)")
		gnetPeer = flag.String("gnet", "", "gnet peer binary (empty: skip)")
		nginx    = flag.String("nginx", "/usr/sbin/nginx", "nginx binary (empty: skip)")
		root     = flag.String("root", "", "site folder (must hold 1k.bin and 1m.bin)")
		dur      = flag.Duration("duration", 8*time.Second, "length of each wrk run")
		rounds   = flag.Int("rounds", 3, "interleaved rounds")
		idle     = flag.Int("idle", 10000, "idle connections for the memory figure")
		out      = flag.String("out", "docs/results/peers.md", "report to write")
		rate     = flag.Float64("rate", 20000, "open-loop rate for the latency-at-equal-load case (0: skip)")
	)
	flag.Parse()
	if *root == "" {
		fail("-root is required")
	}
	targets := []*target{
		{name: "evloop", cmd: []string{*bin, "serve", "-model", "evloop", "-root", *root}},
		{name: "threaded", cmd: []string{*bin, "serve", "-model", "threaded", "-root", *root}, env: []string{"GOMAXPROCS=1"}},
	}
	if *nginx != "" {
		targets = append(targets, &target{name: "nginx", cmd: nginxCmd(*nginx, *root)})
	}
	if *fileSrv != "" {
		targets = append(targets, &target{name: "net/http", cmd: []string{*fileSrv, "-root", *root}, env: []string{"GOMAXPROCS=1"}})
	}
	if *gnetPeer != "" {
		targets = append(targets, &target{name: "gnet", cmd: []string{*gnetPeer, "-root", *root}})
	}
	for i, t := range targets {
		t.addr = fmt.Sprintf("127.0.0.1:%d", 18300+i)
		if err := t.start(); err != nil {
			stopAll(targets)
			fail(err.Error())
		}
	}
	defer stopAll(targets)

	cases := []struct {
		name  string
		path  string
		conns int
	}{
		{"1 KiB, 50 conns", "/1k.bin", 50},
		{"1 KiB, 500 conns", "/1k.bin", 500},
		{"1 MiB, 50 conns", "/1m.bin", 50},
	}
	results := map[string]map[string][]run{} // case -> target -> runs
	latency := map[string][]latRun{}         // target -> open-loop runs
	for r := 1; r <= *rounds; r++ {
		for _, c := range cases {
			if results[c.name] == nil {
				results[c.name] = map[string][]run{}
			}
			for _, t := range targets {
				fmt.Fprintf(os.Stderr, "round %d/%d  %-18s %-9s ", r, *rounds, c.name, t.name)
				res, err := t.wrk(c.path, c.conns, *dur)
				if err != nil {
					fmt.Fprintf(os.Stderr, "error: %v\n", err)
					continue
				}
				fmt.Fprintf(os.Stderr, "%9.0f req/s  p99 %6.2f ms  cpu %5.2f µs/req  busy %3.0f%%\n",
					res.rps, res.p99ms, res.cpuPerReqUs, res.busy*100)
				results[c.name][t.name] = append(results[c.name][t.name], res)
			}
		}
		for _, t := range targets {
			if *rate <= 0 {
				break
			}
			fmt.Fprintf(os.Stderr, "round %d/%d  %-18s %-9s ", r, *rounds, "open loop", t.name)
			res, err := t.openLoop(*bin, "/1k.bin", 50, *rate, *dur)
			if err != nil {
				fmt.Fprintf(os.Stderr, "error: %v\n", err)
				continue
			}
			fmt.Fprintf(os.Stderr, "p50 %6.3f ms  p99 %6.3f ms  p99.9 %6.3f ms  max %6.3f ms\n", res.p50ms, res.p99ms, res.p999ms, res.maxms)
			latency[t.name] = append(latency[t.name], res)
		}
	}
	mem := map[string]float64{}
	for _, t := range targets {
		if t.name == "gnet" {
			continue // it serves from memory; its RSS says nothing comparable
		}
		perConn, err := t.idleCost(*idle)
		if err != nil {
			fmt.Fprintf(os.Stderr, "idle %s: %v\n", t.name, err)
			continue
		}
		fmt.Fprintf(os.Stderr, "idle %-9s %6.2f KiB per connection\n", t.name, perConn/1024)
		mem[t.name] = perConn
	}
	if err := writeReport(*out, targets, cases, results, latency, *rate, mem, *dur, *rounds, *idle); err != nil {
		fail(err.Error())
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
}

func fail(msg string) {
	fmt.Fprintf(os.Stderr, "compare: %s\n", msg)
	os.Exit(1)
}

// nginxCmd writes a minimal nginx.conf: one worker, sendfile, no access log,
// keep-alive as long as the benchmark needs.
func nginxCmd(nginx, root string) []string {
	dir, _ := os.MkdirTemp("", "serverlab-nginx-")
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 16384; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path %[1]s;
  proxy_temp_path %[1]s;
  fastcgi_temp_path %[1]s;
  uwsgi_temp_path %[1]s;
  scgi_temp_path %[1]s;
  types { application/octet-stream bin; }
  server { listen {{ADDR}}; root %[2]s; }
}
`, dir, root)
	os.WriteFile(filepath.Join(dir, "nginx.conf.tmpl"), []byte(conf), 0o644)
	return []string{nginx, "-c", filepath.Join(dir, "nginx.conf")}
}

// start launches the target pinned to CPU 0 and waits until it accepts.
func (t *target) start() error {
	args := slices.Clone(t.cmd)
	if strings.HasSuffix(args[0], "nginx") {
		conf := args[len(args)-1]
		tmpl, err := os.ReadFile(conf + ".tmpl")
		if err != nil {
			return err
		}
		if err := os.WriteFile(conf, []byte(strings.ReplaceAll(string(tmpl), "{{ADDR}}", t.addr)), 0o644); err != nil {
			return err
		}
	} else {
		args = append(args, "-addr", t.addr)
	}
	t.proc = exec.Command("taskset", append([]string{"-c", "0"}, args...)...)
	t.proc.Env = append(os.Environ(), t.env...)
	t.proc.Stdout = io.Discard
	t.proc.Stderr = os.Stderr
	if err := t.proc.Start(); err != nil {
		return fmt.Errorf("start %s: %w", t.name, err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", t.addr); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("%s did not listen on %s", t.name, t.addr)
}

func stopAll(ts []*target) {
	for _, t := range ts {
		if t.proc != nil && t.proc.Process != nil {
			t.proc.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { t.proc.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				t.proc.Process.Kill()
			}
		}
	}
}

// run is one wrk measurement.
type run struct {
	rps, p99ms, cpuPerReqUs, busy float64
}

var (
	reRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reP99 = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
	reReq = regexp.MustCompile(`([0-9]+) requests in`)
)

// wrk runs wrk pinned to CPU 1 and reads the server's CPU time around it.
func (t *target) wrk(path string, conns int, d time.Duration) (run, error) {
	pid := t.proc.Process.Pid
	cpu0, err := cpuTime(pid)
	if err != nil {
		return run{}, err
	}
	start := time.Now()
	out, err := exec.Command("taskset", "-c", "1", "wrk", "-t1", "-c"+strconv.Itoa(conns),
		"-d"+d.String(), "--latency", "http://"+t.addr+path).CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		return run{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	cpu1, _ := cpuTime(pid)
	var r run
	m := reRPS.FindSubmatch(out)
	n := reReq.FindSubmatch(out)
	p := reP99.FindSubmatch(out)
	if m == nil || n == nil || p == nil {
		return run{}, fmt.Errorf("cannot read wrk output: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	reqs, _ := strconv.ParseFloat(string(n[1]), 64)
	r.p99ms, _ = strconv.ParseFloat(string(p[1]), 64)
	switch string(p[2]) {
	case "us":
		r.p99ms /= 1000
	case "s":
		r.p99ms *= 1000
	}
	used := (cpu1 - cpu0).Seconds()
	r.cpuPerReqUs = used / reqs * 1e6
	r.busy = used / wall.Seconds()
	return r, nil
}

// latRun is one open-loop latency measurement.
type latRun struct {
	p50ms, p99ms, p999ms, maxms float64
}

// openLoop runs serverlab bench's open loop on CPU 1 against the target at
// a fixed rate, and reads the corrected latency from its JSON.
func (t *target) openLoop(bin, path string, conns int, rate float64, d time.Duration) (latRun, error) {
	out, err := exec.Command(bin, "bench", "-q", "-json", "-load-cpus", "1", "-targets", "http://"+t.addr+path,
		"-c", strconv.Itoa(conns), "-rate", strconv.FormatFloat(rate, 'f', 0, 64), "-duration", d.String()).Output()
	if err != nil {
		return latRun{}, fmt.Errorf("serverlab bench: %w", err)
	}
	var raw struct {
		Targets []map[string]any `json:"targets"`
	}
	if err := json.Unmarshal(out, &raw); err != nil || len(raw.Targets) != 1 {
		return latRun{}, fmt.Errorf("cannot read serverlab bench's JSON: %v", err)
	}
	num := func(k string) float64 { v, _ := raw.Targets[0][k].(float64); return v }
	if num("errors") != 0 {
		return latRun{}, fmt.Errorf("%v errors", num("errors"))
	}
	return latRun{p50ms: num("p50_us") / 1000, p99ms: num("p99_us") / 1000, p999ms: num("p999_us") / 1000, maxms: num("max_us") / 1000}, nil
}

// cpuTime is user+system CPU time of a process and its threads, from
// /proc/PID/stat fields 14 and 15 (in clock ticks of 1/100 s on Linux).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// rss reads VmRSS of a process in bytes.
func rss(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// idleCost opens n keep-alive connections, makes one small request on each
// (so the server has really accepted and served it), and returns the growth
// of the server's RSS per connection while all are held.
func (t *target) idleCost(n int) (float64, error) {
	pid := t.proc.Process.Pid // taskset execs the server: the same PID
	before, err := rss(pid)
	if err != nil {
		return 0, err
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	req := []byte("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 4096)
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", t.addr, 5*time.Second)
		if err != nil {
			return 0, fmt.Errorf("after %d connections: %w", i, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(req); err != nil {
			return 0, err
		}
		if _, err := c.Read(buf); err != nil {
			return 0, fmt.Errorf("connection %d: %w", i, err)
		}
	}
	time.Sleep(time.Second) // let the server settle
	after, err := rss(pid)
	if err != nil {
		return 0, err
	}
	return (after - before) / float64(n), nil
}

// trusted keeps the runs whose server core was at least 95% busy, or all
// of them when none was.
func trusted(runs []run) []run {
	var busy []run
	for _, r := range runs {
		if r.busy >= 0.95 {
			busy = append(busy, r)
		}
	}
	if len(busy) == 0 {
		return runs
	}
	return busy
}

func median(xs []float64) (med, lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2], s[0], s[len(s)-1]
}

func pick(runs []run, f func(run) float64) []float64 {
	var xs []float64
	for _, r := range runs {
		xs = append(xs, f(r))
	}
	return xs
}

func writeReport(path string, targets []*target, cases []struct {
	name  string
	path  string
	conns int
}, results map[string]map[string][]run, latency map[string][]latRun, rate float64, mem map[string]float64, d time.Duration, rounds, idle int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# serverlab against its peers\n\n")
	fmt.Fprintf(&b, "Generated by `make bench-peers` (bench/peers/compare). Each server pinned to CPU 0, wrk (`-t1`, keep-alive) to CPU 1; %d interleaved rounds of %s; medians with [min–max] over the rounds in which the server's core was at least 95%% busy (all rounds when none was: then the client is the limit, and server CPU per request is the figure to compare).\n\n", rounds, d)
	fmt.Fprintf(&b, "Machine: %s\n\n", machine())
	for _, c := range cases {
		fmt.Fprintf(&b, "## %s (`wrk -t1 -c%d -d%s --latency http://ADDR%s`)\n\n", c.name, c.conns, d, c.path)
		fmt.Fprintf(&b, "| server | req/s | p99 ms | server CPU µs/req | server core busy | rounds used |\n|---|---|---|---|---|---|\n")
		for _, t := range targets {
			all := results[c.name][t.name]
			if len(all) == 0 {
				continue
			}
			// This VM's cores change speed when one idles, so a run in
			// which a CPU-bound server's core was under 95% busy is not
			// trusted: when some rounds were busy enough, only those
			// count. When none were (big files: the client is the
			// limit), all count, and CPU per request is the measure.
			runs := trusted(all)
			rps, rlo, rhi := median(pick(runs, func(r run) float64 { return r.rps }))
			p99, plo, phi := median(pick(runs, func(r run) float64 { return r.p99ms }))
			cpu, _, _ := median(pick(runs, func(r run) float64 { return r.cpuPerReqUs }))
			busy, _, _ := median(pick(runs, func(r run) float64 { return r.busy }))
			fmt.Fprintf(&b, "| %s | %.0f [%.0f–%.0f] | %.2f [%.2f–%.2f] | %.2f | %.0f%% | %d of %d |\n", t.name, rps, rlo, rhi, p99, plo, phi, cpu, busy*100, len(runs), len(all))
		}
		b.WriteString("\n")
	}
	if rate > 0 {
		fmt.Fprintf(&b, "## 1 KiB, 50 conns, latency at an equal load: open loop at %.0f req/s (`serverlab bench -load-cpus 1 -targets http://ADDR/1k.bin -c 50 -rate %.0f -duration %s`)\n\n", rate, rate, d)
		b.WriteString("A closed loop (wrk) gives each server as many requests as it can take, so a faster server is measured at a higher load, with longer queues; this compares latency with every server at the same offered load. Latency is counted from when each request was due (coordinated omission corrected).\n\n")
		b.WriteString("| server | p50 ms | p99 ms | p99.9 ms | max ms | rounds |\n|---|---|---|---|---|---|\n")
		for _, t := range targets {
			runs := latency[t.name]
			if len(runs) == 0 {
				continue
			}
			col := func(f func(latRun) float64) string {
				var xs []float64
				for _, r := range runs {
					xs = append(xs, f(r))
				}
				m, lo, hi := median(xs)
				return fmt.Sprintf("%.3f [%.3f–%.3f]", m, lo, hi)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d |\n", t.name,
				col(func(r latRun) float64 { return r.p50ms }), col(func(r latRun) float64 { return r.p99ms }),
				col(func(r latRun) float64 { return r.p999ms }), col(func(r latRun) float64 { return r.maxms }), len(runs))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## Memory per idle connection (%d held, one request each)\n\n| server | RSS growth per connection |\n|---|---|\n", idle)
	for _, t := range targets {
		if v, ok := mem[t.name]; ok {
			fmt.Fprintf(&b, "| %s | %.2f KiB |\n", t.name, v/1024)
		}
	}
	b.WriteString("\n")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	wrkV, _ := exec.Command("wrk", "-v").CombinedOutput()
	ngV, _ := exec.Command("nginx", "-v").CombinedOutput()
	return fmt.Sprintf("%s, kernel %s, %s, %s, %s, %s", cpu, strings.TrimSpace(string(kernel)), runtime.Version(),
		strings.TrimSpace(strings.SplitN(string(wrkV), "\n", 2)[0]), strings.TrimSpace(string(ngV)), time.Now().UTC().Format("2006-01-02"))
}
