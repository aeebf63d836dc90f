package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

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

// ratio is a's figure over b's, measured side by side: the median, over
// the rounds in which both ran, of the ratio within each round, so that a
// slow spell of the VM, which hits both alike, cancels out. ok is false
// when no round had both.
func ratio(a, b []run, f func(run) float64) (med, lo, hi float64, ok bool) {
	var xs []float64
	for _, ra := range a {
		for _, rb := range b {
			if ra.round == rb.round && f(rb) > 0 {
				xs = append(xs, f(ra)/f(rb))
			}
		}
	}
	if len(xs) == 0 {
		return 0, 0, 0, false
	}
	med, lo, hi = median(xs)
	return med, lo, hi, true
}

// ratioCell formats ratio's answer for a table ("–" when there is none).
func ratioCell(a, b []run, f func(run) float64, spread bool) string {
	m, lo, hi, ok := ratio(a, b, f)
	switch {
	case !ok:
		return "–"
	case spread:
		return fmt.Sprintf("%.2f× [%.2f–%.2f]", m, lo, hi)
	}
	return fmt.Sprintf("%.2f×", m)
}

func cpuOf(r run) float64    { return r.cpuPerReqUs }
func clientOf(r run) float64 { return r.clientBusy }
func rpsOf(r run) float64    { return r.rps }

// writeRatios writes one table: every server's CPU per request over that
// of the reference server ref, for every case.
func writeRatios(b *strings.Builder, ref string, targets []*target, cases []benchCase, results map[string]map[string][]run) {
	b.WriteString("| server |")
	for _, c := range cases {
		fmt.Fprintf(b, " %s |", c.name)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(cases)) + "\n")
	for _, t := range targets {
		if t.name == ref {
			continue
		}
		fmt.Fprintf(b, "| %s |", t.name)
		for _, c := range cases {
			fmt.Fprintf(b, " %s |", ratioCell(results[c.name][t.name], results[c.name][ref], cpuOf, false))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// A target is a figure the comparison is run to check, with its limit:
// figure ≤ limit (atMost) or figure ≥ limit. The figure is a ratio of two
// servers, each round's own, and the median over the rounds is judged.
type targetFigure struct {
	what    string
	atMost  bool
	limit   float64
	a, b    []run // the two servers' runs, round by round
	of      func(run) float64
	measure string // how a and b were measured
}

// targetFigures are the comparison's targets, as far as this run measured
// them: evloop at or under gnet's CPU per small request and within 1.2× of
// the floor's (side by side where it was measured so, since a sequential
// run cannot resolve a few per cent here), its rate at least gnet's on
// small files and nginx's on large ones, threaded within 0.9× of evloop on
// large files, and the older ones against nginx and net/http.
func targetFigures(cases []benchCase, results map[string]map[string][]run, pairCases []benchCase, paired map[string]pairRuns) []targetFigure {
	var ts []targetFigure
	side := map[string]bool{}
	for _, c := range pairCases {
		side[c.name] = true
	}
	for _, c := range cases {
		r := results[c.name]
		cpuVs := func(peer, what string, limit float64) {
			if pr, ok := paired[c.name+"|"+peer]; ok && side[c.name] {
				ts = append(ts, targetFigure{what, true, limit, pr.ref, pr.peer, cpuOf, "side by side"})
			} else if r[peer] != nil {
				ts = append(ts, targetFigure{what, true, limit, r["evloop"], r[peer], cpuOf, "one after the other"})
			}
		}
		switch c.path {
		case "/1k.bin":
			cpuVs("gnet", "evloop CPU/request ÷ gnet's, "+c.name, 1)
			cpuVs("floor", "evloop CPU/request ÷ the floor's, "+c.name, 1.2)
			add := func(what, a, b string, limit float64) {
				if r[a] != nil && r[b] != nil {
					ts = append(ts, targetFigure{what, false, limit, r[a], r[b], rpsOf, "one after the other"})
				}
			}
			add("evloop req/s ÷ gnet's, "+c.name, "evloop", "gnet", 1)
			add("evloop req/s ÷ nginx's, "+c.name, "evloop", "nginx", 1)
			add("threaded req/s ÷ net/http's, "+c.name, "threaded", "net/http", 1)
		case "/1m.bin":
			if r["nginx"] != nil {
				ts = append(ts, targetFigure{"evloop req/s ÷ nginx's, " + c.name, false, 1, r["evloop"], r["nginx"], rpsOf, "one after the other"})
			}
			ts = append(ts, targetFigure{"threaded req/s ÷ evloop's, " + c.name, false, 0.9, r["threaded"], r["evloop"], rpsOf, "one after the other"})
		}
	}
	return ts
}

// writeTargets writes the targets' table: each figure, its limit, and
// whether this run met it.
func writeTargets(b *strings.Builder, ts []targetFigure) {
	if len(ts) == 0 {
		return
	}
	b.WriteString("## Targets\n\n")
	b.WriteString("What the comparison is run to check, judged on this run's figures: each a ratio of two servers within each round, median [min–max] over the rounds. Where evloop was also measured side by side with the peer (below), that figure is the one judged.\n\n")
	b.WriteString("A rate is the server's only while the client keeps up. The last column gives, for a rate, how busy wrk's core was (the median over the rounds, for each of the two servers): at or near 100%, wrk itself set the rate, and the ratio says how fast wrk took each server's answers, on a VM whose speed swings from one run to the next; the server's own capacity is then what its CPU per request says.\n\n")
	b.WriteString("| target | limit | figure | measured | met | client core busy |\n|---|---|---|---|---|---|\n")
	for _, t := range ts {
		m, lo, hi, ok := ratio(t.a, t.b, t.of)
		if !ok {
			continue
		}
		op, met := "≥", m >= t.limit
		if t.atMost {
			op, met = "≤", m <= t.limit
		}
		verdict := "yes"
		if !met {
			verdict = "**no**"
		}
		client := "–"
		if !t.atMost { // a rate
			ca, _, _ := median(pick(t.a, clientOf))
			cb, _, _ := median(pick(t.b, clientOf))
			client = fmt.Sprintf("%.0f%% / %.0f%%", ca*100, cb*100)
		}
		fmt.Fprintf(b, "| %s | %s %.1f | %.2f× [%.2f–%.2f] | %s | %s | %s |\n", t.what, op, t.limit, m, lo, hi, t.measure, verdict, client)
	}
	b.WriteString("\n")
}

// writePairs writes the side-by-side table: evloop's CPU per request over
// each peer's, measured at the same time, for every case measured so.
func writePairs(b *strings.Builder, cases []benchCase, pairs []*target, paired map[string]pairRuns, d time.Duration) {
	b.WriteString("## Side by side: evloop and a peer at the same time\n\n")
	fmt.Fprintf(b, "Both servers pinned to CPU 0 at once, each under its own `wrk -t1` on CPU 1, for the same %s (after %s of warm-up for both). Measured one after the other, two servers can land on different speeds of this VM; measured at once, a slow spell hits both alike, and the ratio keeps only what differs between them. Sharing the core and its caches makes each figure higher than alone: read the ratio, not the figures. Median [min–max] over the rounds of evloop's server CPU per request over the peer's, within each round.\n\n", d, warmUp)
	b.WriteString("| evloop ÷ |")
	for _, c := range cases {
		fmt.Fprintf(b, " %s |", c.name)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(cases)) + "\n")
	for _, p := range pairs {
		fmt.Fprintf(b, "| %s |", p.name)
		for _, c := range cases {
			pr := paired[c.name+"|"+p.name]
			fmt.Fprintf(b, " %s |", ratioCell(pr.ref, pr.peer, cpuOf, true))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func pick(runs []run, f func(run) float64) []float64 {
	var xs []float64
	for _, r := range runs {
		xs = append(xs, f(r))
	}
	return xs
}

func writeReport(path string, targets []*target, cases []benchCase, results map[string]map[string][]run, pairCases []benchCase, pairs []*target, paired map[string]pairRuns, latency map[string][]latRun, rate float64, mem map[string]float64, d time.Duration, rounds, idle int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# serverlab against its peers\n\n")
	fmt.Fprintf(&b, "Generated by `make bench-peers` (peers/compare). Each server pinned to CPU 0, wrk (`-t1`, keep-alive) to CPU 1; %d interleaved rounds of %s, in a rotated order, each after %s of unmeasured warm-up; medians with [min–max] over the rounds in which the server's core was at least 95%% busy (all rounds when none was: then the client is the limit, and server CPU per request is the figure to compare). The ratio columns (÷ floor, ÷ gnet) are medians [min–max] of the ratio within each round, over every round.\n\n", rounds, d, warmUp)
	fmt.Fprintf(&b, "Machine: %s\n\n", machine())
	writeTargets(&b, targetFigures(cases, results, pairCases, paired))
	names := map[string]bool{}
	for _, t := range targets {
		names[t.name] = true
	}
	for _, ref := range []string{"floor", "gnet"} {
		if !names[ref] {
			continue
		}
		fmt.Fprintf(&b, "## Server CPU per request, as a multiple of %s's\n\n", ref)
		if ref == "floor" {
			b.WriteString("The floor (peers/floor) is a C epoll loop that answers every request with bytes prepared at start-up, one read and one write: the least any server can do. A server's multiple of it is the price of everything it does more.\n\n")
		}
		b.WriteString("Medians over the rounds of the ratio measured within each round (side by side).\n\n")
		writeRatios(&b, ref, targets, cases, results)
	}
	if len(pairCases) > 0 && len(pairs) > 0 {
		writePairs(&b, pairCases, pairs, paired, d)
	}
	for _, c := range cases {
		fmt.Fprintf(&b, "## %s (`wrk -t1 -c%d -d%s --latency http://ADDR%s`)\n\n", c.name, c.conns, d, c.path)
		fmt.Fprintf(&b, "| server | req/s | p99 ms | server CPU µs/req | CPU ÷ floor | CPU ÷ gnet | req/s ÷ gnet | server core busy | client core busy | rounds used |\n|---|---|---|---|---|---|---|---|---|---|\n")
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
			client, _, _ := median(pick(runs, clientOf))
			floor, gnet := results[c.name]["floor"], results[c.name]["gnet"]
			fmt.Fprintf(&b, "| %s | %.0f [%.0f–%.0f] | %.2f [%.2f–%.2f] | %.2f | %s | %s | %s | %.0f%% | %.0f%% | %d of %d |\n",
				t.name, rps, rlo, rhi, p99, plo, phi, cpu,
				ratioCell(all, floor, cpuOf, true), ratioCell(all, gnet, cpuOf, true), ratioCell(all, gnet, rpsOf, true),
				busy*100, client*100, len(runs), len(all))
		}
		b.WriteString("\n")
	}
	if rate > 0 {
		fmt.Fprintf(&b, "## 1 KiB, 50 conns, latency at an equal load: open loop at %.0f req/s (`serverlab bench -load-cpus 1 -targets http://ADDR/1k.bin -c 50 -rate %.0f -duration %s`)\n\n", rate, rate, d)
		b.WriteString("A closed loop (wrk) gives each server as many requests as it can take, so a faster server is measured at a higher load, with longer queues; this compares latency with every server at the same offered load. Latency is counted from when each request was due (coordinated omission corrected).\n\n")
		b.WriteString("Server CPU per request is measured here too: at one offered load every server does the same work in the same time, so neither the client nor a faster rival's longer batches tilt it.\n\n")
		b.WriteString("| server | p50 ms | p99 ms | p99.9 ms | max ms | server CPU µs/req | CPU ÷ floor | CPU ÷ gnet | rounds |\n|---|---|---|---|---|---|---|---|---|\n")
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
			cpu := func(name string) []run {
				var rs []run
				for _, l := range latency[name] {
					rs = append(rs, run{cpuPerReqUs: l.cpuPerReqUs, round: l.round})
				}
				return rs
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", t.name,
				col(func(r latRun) float64 { return r.p50ms }), col(func(r latRun) float64 { return r.p99ms }),
				col(func(r latRun) float64 { return r.p999ms }), col(func(r latRun) float64 { return r.maxms }),
				col(func(r latRun) float64 { return r.cpuPerReqUs }),
				ratioCell(cpu(t.name), cpu("floor"), cpuOf, true), ratioCell(cpu(t.name), cpu("gnet"), cpuOf, true), len(runs))
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
