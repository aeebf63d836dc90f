package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"time"

	"serverlab/bench/proc"
)

// benchCase is one closed-loop measurement: a path, over so many
// keep-alive connections.
type benchCase struct {
	name  string
	path  string
	conns int
}

// run is one wrk measurement, in round round.
type run struct {
	rps, reqs, p99ms, cpuPerReqUs float64
	busy, clientBusy              float64 // the server's core, wrk's core: busy share
	round                         int
}

var (
	reRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reP99 = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
	reReq = regexp.MustCompile(`([0-9]+) requests in`)
)

// warmUp is an unmeasured wrk run before each measured one. The server has
// been asleep while the others were measured, and this VM's cores change
// speed when one idles: without it, the first second of every run would be
// measured on a core still coming back up to speed.
const warmUp = time.Second

// measure runs wrk against every target in ts at once, each under its own
// wrk pinned to the load CPU, after warmUp, and reads each server's CPU time
// around the measured run. One target is measured alone; two are measured
// side by side (see pairs in main.go).
func measure(ctx context.Context, ts []*target, path string, conns int, d time.Duration) ([]run, error) {
	if _, err := wrkAll(ctx, ts, path, conns, warmUp); err != nil {
		return nil, err
	}
	before := make([]proc.Sample, len(ts))
	for i, t := range ts {
		var err error
		if before[i], err = proc.SampleOf(t.srv.PID(), true); err != nil {
			return nil, err
		}
	}
	outs, err := wrkAll(ctx, ts, path, conns, d)
	if err != nil {
		return nil, err
	}
	runs := make([]run, len(ts))
	for i, t := range ts {
		after, err := proc.SampleOf(t.srv.PID(), true)
		if err != nil {
			return nil, err
		}
		if runs[i], err = parseWrk(outs[i].text); err != nil {
			return nil, err
		}
		// wrk's own share of its core: at 100% the client, not the
		// server, sets the rate (wrk runs a little longer than d,
		// starting and connecting; its whole life is counted).
		runs[i].clientBusy = outs[i].cpu.Seconds() / outs[i].wall.Seconds()
		used := (after.CPU - before[i].CPU).Seconds()
		runs[i].cpuPerReqUs = used / runs[i].reqs * 1e6
		runs[i].busy = used / after.Time.Sub(before[i].Time).Seconds()
	}
	return runs, nil
}

// wrkAll runs one wrk per target, all at once, and returns their outputs.
func wrkAll(ctx context.Context, ts []*target, path string, conns int, d time.Duration) ([]wrkOut, error) {
	outs := make([]wrkOut, len(ts))
	errs := make([]error, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Go(func() { outs[i], errs[i] = t.runWrk(ctx, path, conns, d) })
	}
	wg.Wait()
	return outs, errors.Join(errs...)
}

// parseWrk reads the rate, the request count and the p99 from wrk's output.
func parseWrk(out []byte) (run, error) {
	m := reRPS.FindSubmatch(out)
	n := reReq.FindSubmatch(out)
	p := reP99.FindSubmatch(out)
	if m == nil || n == nil || p == nil {
		return run{}, fmt.Errorf("cannot read wrk output: %s", out)
	}
	var r run
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	r.reqs, _ = strconv.ParseFloat(string(n[1]), 64)
	r.p99ms, _ = strconv.ParseFloat(string(p[1]), 64)
	switch string(p[2]) {
	case "us":
		r.p99ms /= 1000
	case "s":
		r.p99ms *= 1000
	}
	if r.reqs == 0 {
		return run{}, fmt.Errorf("wrk made no request: %s", out)
	}
	return r, nil
}

// runWrk runs wrk, pinned to the load CPU, for d, and returns its output
// and the CPU time wrk used (its user and system time, from wait4).
func (t *target) runWrk(ctx context.Context, path string, conns int, d time.Duration) (wrkOut, error) {
	cmd := exec.CommandContext(ctx, "wrk", "-t1", "-c"+strconv.Itoa(conns),
		"-d"+d.String(), "--latency", "http://"+t.addr+path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := proc.StartPinned(cmd, loadCPUs); err != nil {
		return wrkOut{}, fmt.Errorf("wrk: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return wrkOut{}, fmt.Errorf("wrk: %v: %s", err, out.Bytes())
	}
	st := cmd.ProcessState
	return wrkOut{out.Bytes(), st.UserTime() + st.SystemTime(), time.Since(start)}, nil
}

// wrkOut is what one wrk run printed, the CPU time it used, and how long
// it ran.
type wrkOut struct {
	text      []byte
	cpu, wall time.Duration
}

// latRun is one open-loop measurement: the latency, and the server's CPU
// time per request at that load.
type latRun struct {
	p50ms, p99ms, p999ms, maxms float64
	cpuPerReqUs                 float64
	round                       int
}

// openLoop runs serverlab bench's open loop on the load CPU against the
// target at a fixed rate, and reads the corrected latency from its JSON.
func (t *target) openLoop(ctx context.Context, bin, path string, conns int, rate float64, d time.Duration) (latRun, error) {
	before, err := proc.SampleOf(t.srv.PID(), true)
	if err != nil {
		return latRun{}, err
	}
	out, err := exec.CommandContext(ctx, bin, "bench", "-q", "-json", "-load-cpus", strconv.Itoa(loadCPUs[0]),
		"-targets", "http://"+t.addr+path, "-c", strconv.Itoa(conns),
		"-rate", strconv.FormatFloat(rate, 'f', 0, 64), "-duration", d.String()).Output()
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
	after, err := proc.SampleOf(t.srv.PID(), true)
	if err != nil {
		return latRun{}, err
	}
	// The server's time includes the harness's start and end, a few
	// requests' worth at most against rate × d of them.
	cpu := (after.CPU - before.CPU).Seconds() / max(num("requests"), 1) * 1e6
	return latRun{p50ms: num("p50_us") / 1000, p99ms: num("p99_us") / 1000, p999ms: num("p999_us") / 1000,
		maxms: num("max_us") / 1000, cpuPerReqUs: cpu}, nil
}

// idleCost opens n keep-alive connections, makes one small request on each
// (so the server has really accepted and served it), and returns the growth
// of the server's RSS per connection while all are held.
func (t *target) idleCost(n int) (float64, error) {
	before, err := proc.SampleOf(t.srv.PID(), true)
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
	for i := range n {
		c, err := net.DialTimeout("tcp4", t.addr, 5*time.Second)
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
	after, err := proc.SampleOf(t.srv.PID(), true)
	if err != nil {
		return 0, err
	}
	return float64(after.RSS-before.RSS) / float64(n), nil
}
