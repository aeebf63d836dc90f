// Command compare measures serverlab's models against peer servers — nginx
// with one worker, Go's net/http FileServer, a gnet event loop, and the
// floor (a C loop that answers canned bytes, the least any server can do) —
// on one core each, and writes docs/results/peers.md. `make bench-peers`
// runs it.
//
// Method: each server is pinned to CPU 0 and wrk to CPU 1, the targets are
// measured in interleaved rounds (so a slow spell of the VM hits all of them
// alike), each round in a rotated order and each run after a second of
// unmeasured warm-up, and the report gives medians with min-max spreads. The server's
// CPU time per request comes from /proc/PID/stat, which is the finer measure
// when wrk itself nears its one-core ceiling.
//
// For the small file, evloop is also measured side by side with each peer
// named by -pairs: both servers on CPU 0 at the same time, each under its
// own wrk on CPU 1. Measured one after the other, two servers can land on
// different speeds of this VM, which change by more than the few per cent
// between the fastest servers; measured at once, a slow spell hits both,
// and the ratio of their CPU per request keeps only what differs
// (scripts/side-by-side.sh does the same from the shell).
//
// Idle-connection memory is the growth of the server's RSS while it holds N
// idle keep-alive connections, each of which has made one request.
//
// Starting, pinning and sampling the servers is serverlab's own code
// (package proc), the same that `serverlab bench` measures with, so the two
// tools cannot disagree about what a CPU second or a resident byte is.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"serverlab/bench/proc"
)

// The CPUs of the comparison: every server on the first, the load on the
// second, as in serverlab bench's default split.
var (
	serverCPUs = []int{0}
	loadCPUs   = []int{1}
)

// stopGrace is how long a server has to exit after SIGTERM.
const stopGrace = 3 * time.Second

// target is one server under test: how to start it and, once started, its
// process.
type target struct {
	name  string
	start func(ctx context.Context, addr string) (*proc.Server, error)
	addr  string
	srv   *proc.Server
	tmp   string // a folder to remove after it stops (nginx's)
}

func main() {
	var (
		bin      = flag.String("serverlab", "bin/serverlab", "serverlab binary")
		fileSrv  = flag.String("fileserver", "", "net/http FileServer peer binary (empty: skip)")
		gnetPeer = flag.String("gnet", "", "gnet peer binary (empty: skip)")
		floor    = flag.String("floor", "", "floor peer binary, peers/floor built with cc (empty: skip)")
		nginx    = flag.String("nginx", "/usr/sbin/nginx", "nginx binary (empty: skip)")
		root     = flag.String("root", "", "site folder (must hold 1k.bin, 64k.bin and 1m.bin)")
		dur      = flag.Duration("duration", 5*time.Second, "length of each wrk run")
		rounds   = flag.Int("rounds", 3, "interleaved rounds")
		idle     = flag.Int("idle", 10000, "idle connections for the memory figure")
		out      = flag.String("out", "docs/results/peers.md", "report to write")
		rate     = flag.Float64("rate", 20000, "open-loop rate for the latency-at-equal-load case (0: skip)")
		sizes    = flag.String("sizes", "1k,64k,1m", "the file sizes to compare, comma-separated (1k, 64k, 1m)")
		pairList = flag.String("pairs", "gnet,floor", "peers to measure side by side with evloop on 1 KiB, comma-separated (empty: none)")
	)
	flag.Parse()
	for _, k := range strings.Split(*sizes, ",") {
		if k != "1k" && k != "64k" && k != "1m" {
			fmt.Fprintf(os.Stderr, "compare: -sizes %q: each size must be 1k, 64k or 1m\n", *sizes)
			os.Exit(2)
		}
	}
	for _, name := range strings.Split(*pairList, ",") {
		if name != "" && !slices.Contains([]string{"threaded", "nginx", "net/http", "gnet", "floor"}, name) {
			fmt.Fprintf(os.Stderr, "compare: -pairs %q: each peer must be threaded, nginx, net/http, gnet or floor\n", *pairList)
			os.Exit(2)
		}
	}
	if *root == "" {
		fail("-root is required")
	}
	if *rounds < 1 || *dur <= 0 || *idle < 0 {
		fail("-rounds must be at least 1, -duration positive and -idle not negative")
	}
	// The idle-memory case holds -idle connections in this process.
	if err := proc.RaiseFDLimit(*idle + 256); err != nil {
		fail(err.Error())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// A Go server pinned from birth to one CPU runs with GOMAXPROCS=1:
	// the runtime counts the CPUs its affinity mask allows.
	model := func(name string) *target {
		return &target{name: name, start: func(ctx context.Context, addr string) (*proc.Server, error) {
			return proc.Start(ctx, proc.Spec{Model: name, Binary: *bin, Addr: addr, Root: *root, CPUs: serverCPUs})
		}}
	}
	command := func(name string, argv ...string) *target {
		return &target{name: name, start: func(ctx context.Context, addr string) (*proc.Server, error) {
			return proc.StartCommand(ctx, append(argv, "-addr", addr), addr, serverCPUs)
		}}
	}
	targets := []*target{model("evloop"), model("threaded")}
	if *nginx != "" {
		ng := &target{name: "nginx"}
		ng.start = func(ctx context.Context, addr string) (*proc.Server, error) {
			argv, dir, err := nginxCmd(*nginx, *root, addr)
			ng.tmp = dir
			if err != nil {
				return nil, err
			}
			return proc.StartCommand(ctx, argv, addr, serverCPUs)
		}
		targets = append(targets, ng)
	}
	if *fileSrv != "" {
		targets = append(targets, command("net/http", *fileSrv, "-root", *root))
	}
	if *gnetPeer != "" {
		targets = append(targets, command("gnet", *gnetPeer, "-root", *root))
	}
	if *floor != "" {
		targets = append(targets, command("floor", *floor, "-root", *root))
	}
	for i, t := range targets {
		srv, err := t.start(ctx, fmt.Sprintf("127.0.0.1:%d", 18300+i))
		if err != nil {
			stopAll(targets)
			fail(fmt.Sprintf("start %s: %v", t.name, err))
		}
		t.srv, t.addr = srv, srv.Addr()
	}
	defer stopAll(targets)

	var cases []benchCase
	for _, size := range []struct{ key, name, path string }{{"1k", "1 KiB", "/1k.bin"}, {"64k", "64 KiB", "/64k.bin"}, {"1m", "1 MiB", "/1m.bin"}} {
		if !slices.Contains(strings.Split(*sizes, ","), size.key) {
			continue
		}
		for _, conns := range []int{50, 500} {
			cases = append(cases, benchCase{fmt.Sprintf("%s, %d conns", size.name, conns), size.path, conns})
		}
	}
	// Side by side: evloop and one peer measured at the same time (see
	// pairs), for the small file, where the differences are smallest.
	var pairs []*target
	for _, name := range strings.Split(*pairList, ",") {
		if i := slices.IndexFunc(targets, func(t *target) bool { return t.name == name }); i >= 0 {
			pairs = append(pairs, targets[i])
		} else if name != "" {
			fmt.Fprintf(os.Stderr, "compare: -pairs names %s, which is not being compared: left out\n", name)
		}
	}
	pairRef := targets[0] // evloop
	var pairCases []benchCase
	if len(pairs) > 0 {
		for _, c := range cases {
			if c.path == "/1k.bin" {
				pairCases = append(pairCases, c)
			}
		}
	}
	paired := map[string]pairRuns{} // "case|peer" -> both sides' runs

	results := map[string]map[string][]run{} // case -> target -> runs
	latency := map[string][]latRun{}         // target -> open-loop runs
	for r := 1; r <= *rounds && ctx.Err() == nil; r++ {
		for _, c := range cases {
			if results[c.name] == nil {
				results[c.name] = map[string][]run{}
			}
			for _, t := range rotate(targets, r) {
				fmt.Fprintf(os.Stderr, "round %d/%d  %-18s %-9s ", r, *rounds, c.name, t.name)
				rs, err := measure(ctx, []*target{t}, c.path, c.conns, *dur)
				if err != nil {
					fmt.Fprintf(os.Stderr, "error: %v\n", err)
					continue
				}
				res := rs[0]
				res.round = r
				fmt.Fprintf(os.Stderr, "%9.0f req/s  p99 %6.2f ms  cpu %5.2f µs/req  busy %3.0f%%  client %3.0f%%\n",
					res.rps, res.p99ms, res.cpuPerReqUs, res.busy*100, res.clientBusy*100)
				results[c.name][t.name] = append(results[c.name][t.name], res)
			}
		}
		for _, c := range pairCases {
			for _, p := range pairs {
				fmt.Fprintf(os.Stderr, "round %d/%d  %-18s %-9s ", r, *rounds, c.name, "evloop+"+p.name)
				rs, err := measure(ctx, []*target{pairRef, p}, c.path, c.conns, *dur)
				if err != nil {
					fmt.Fprintf(os.Stderr, "error: %v\n", err)
					continue
				}
				rs[0].round, rs[1].round = r, r
				fmt.Fprintf(os.Stderr, "cpu %5.2f ÷ %5.2f µs/req = %.3f\n", rs[0].cpuPerReqUs, rs[1].cpuPerReqUs, rs[0].cpuPerReqUs/rs[1].cpuPerReqUs)
				pr := paired[c.name+"|"+p.name]
				pr.ref, pr.peer = append(pr.ref, rs[0]), append(pr.peer, rs[1])
				paired[c.name+"|"+p.name] = pr
			}
		}
		for _, t := range rotate(targets, r) {
			if *rate <= 0 {
				break
			}
			fmt.Fprintf(os.Stderr, "round %d/%d  %-18s %-9s ", r, *rounds, "open loop", t.name)
			res, err := t.openLoop(ctx, *bin, "/1k.bin", 50, *rate, *dur)
			res.round = r
			if err != nil {
				fmt.Fprintf(os.Stderr, "error: %v\n", err)
				continue
			}
			fmt.Fprintf(os.Stderr, "p50 %6.3f ms  p99 %6.3f ms  p99.9 %6.3f ms  max %6.3f ms  cpu %5.2f µs/req\n",
				res.p50ms, res.p99ms, res.p999ms, res.maxms, res.cpuPerReqUs)
			latency[t.name] = append(latency[t.name], res)
		}
	}
	mem := map[string]float64{}
	for _, t := range targets {
		if t.name == "gnet" || t.name == "floor" || ctx.Err() != nil {
			continue // they serve from memory; their RSS says nothing comparable
		}
		perConn, err := t.idleCost(*idle)
		if err != nil {
			fmt.Fprintf(os.Stderr, "idle %s: %v\n", t.name, err)
			continue
		}
		fmt.Fprintf(os.Stderr, "idle %-9s %6.2f KiB per connection\n", t.name, perConn/1024)
		mem[t.name] = perConn
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "compare: interrupted; no report written")
		return
	}
	if err := writeReport(*out, targets, cases, results, pairCases, pairs, paired, latency, *rate, mem, *dur, *rounds, *idle); err != nil {
		fail(err.Error())
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
}

// pairRuns is a side-by-side measurement over the rounds: evloop's runs
// and the peer's, made at the same time, round by round.
type pairRuns struct{ ref, peer []run }

// rotate is the order of the targets in round r: each round starts one
// further along, so that no server is always measured first (after the
// longest idle) or always right after the same neighbour.
func rotate(ts []*target, r int) []*target {
	k := (r - 1) % len(ts)
	return append(append([]*target(nil), ts[k:]...), ts[:k]...)
}

func fail(msg string) {
	fmt.Fprintf(os.Stderr, "compare: %s\n", msg)
	os.Exit(1)
}

// nginxCmd writes a minimal nginx.conf into a new temporary folder (nginx
// keeps its pid file, error log and temp files there too): one worker, no
// master, sendfile, no access log, keep-alive as long as the benchmark
// needs.
func nginxCmd(nginx, root, addr string) (argv []string, dir string, err error) {
	dir, err = os.MkdirTemp("", "serverlab-nginx-")
	if err != nil {
		return nil, "", err
	}
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
  server { listen %[3]s; root %[2]s; }
}
`, dir, root, addr)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, dir, err
	}
	return []string{nginx, "-c", path}, dir, nil
}

// stopAll stops every server that started, each with SIGTERM and a grace,
// and removes what it left in temporary folders.
func stopAll(ts []*target) {
	for _, t := range ts {
		if t.srv != nil {
			t.srv.Stop(stopGrace)
		}
		if t.tmp != "" {
			os.RemoveAll(t.tmp)
		}
	}
}
