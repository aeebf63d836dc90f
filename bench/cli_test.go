package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"serverlab/bench/internal/benchtest"
	"serverlab/bench/load"
	"serverlab/bench/proc"
)

// bench runs `serverlab bench args...` in this process, with the test's
// binary for the models and pinning off (the tests share the machine).
func bench(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"-bin", benchtest.Binary(t), "-pin=false", "-interval", "100ms"}, args...)
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func oneLine(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "serverlab bench: ") {
		t.Errorf("stderr %q: want one line starting \"serverlab bench: \"", stderr)
	}
}

func TestMainBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-no-such-flag"},
		{"-duration", "0s"},
		{"-duration", "soon"},
		{"-rounds", "0"},
		{"-c", "-3"},
		{"-scenario", "stampede"},
		{"-targets", "apache"},
		{"-targets", "http://192.168.1.1:80/"},
		{"-json", "-csv"},
		{"-pid", "12"},
		{"-server-cpus", "x"},
		{"extra"},
	} {
		code, out, errs := bench(t, args...)
		if code != 2 || out != "" {
			t.Errorf("%v: exit %d, stdout %q; want 2 and nothing", args, code, out)
		}
		oneLine(t, errs)
	}
}

func TestMainHelpAndList(t *testing.T) {
	code, out, _ := bench(t, "-h")
	if code != 0 || !strings.Contains(out, "-targets") || !strings.Contains(out, "-scenario") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
	code, out, _ = bench(t, "-list")
	if code != 0 {
		t.Errorf("-list: exit %d", code)
	}
	for _, s := range Scenarios() {
		if !strings.Contains(out, s.Name) || !strings.Contains(out, s.Title) {
			t.Errorf("-list does not show %s", s.Name)
		}
	}
}

// TestMainRunFailures covers the runs that cannot start: each says why in
// one line and exits 1, without leaving a server behind.
func TestMainRunFailures(t *testing.T) {
	held, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	free, _ := net.Listen("tcp4", "127.0.0.1:0")
	nobody := free.Addr().String()
	free.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing listening", []string{"-targets", "http://" + nobody + "/"}, "nothing answers"},
		{"port in use", []string{"-targets", "threaded@" + held.Addr().String()}, "address already in use"},
		{"model fails to start", []string{"-targets", "evloop,threaded+no-such-flag"}, "no-such-flag"},
		{"fd limit too low", []string{"-targets", "threaded", "-scenario", "c10k", "-c", "30000"}, "hard limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := processes(t)
			start := time.Now()
			code, out, errs := bench(t, append(tt.args, "-duration", "30s")...)
			if code != 1 || out != "" || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, out, errs, tt.want)
			}
			oneLine(t, errs)
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("took %v to fail; it should fail before running any load", d)
			}
			if !benchtest.WaitFor(5*time.Second, func() bool { return processes(t) <= before }) {
				t.Errorf("server processes left behind")
			}
		})
	}
}

// TestMainLikeWrk is the measurement the instrument note makes: a plain
// closed loop against a server given by URL, with a table at the end.
func TestMainLikeWrk(t *testing.T) {
	srv := benchtest.StartModel(t, "evloop")
	url := "http://" + srv.Addr() + "/1k.bin"
	code, out, errs := bench(t, "-targets", url, "-c", "50", "-duration", "500ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(out, "50 keep-alive clients, closed loop; 500ms per target; not pinned") ||
		!strings.Contains(out, "req/s") || !strings.HasPrefix(lines[3], url) {
		t.Errorf("table:\n%s", out)
	}
	fields := strings.Fields(lines[3])
	if fields[1] == "0" || fields[7] != "0" || fields[len(fields)-2] != "50" {
		t.Errorf("row %q: want requests/s > 0, no errors, 50 connections", lines[3])
	}
	// 50 clients, and the one connection that checked the server was up.
	st, _ := srv.Stats()
	if st.Accepted != 51 {
		t.Errorf("server accepted %d connections for -c 50", st.Accepted)
	}
}

// jsonKeys are the fields bench/report/doc.go promises for each target.
var jsonKeys = []string{"target", "requests", "errors", "rps", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
	"peak_rss_bytes", "peak_threads", "peak_conns", "intervals"}

func TestMainJSON(t *testing.T) {
	code, out, errs := bench(t, "-targets", "threaded,blocking", "-scenario", "baseline", "-duration", "400ms", "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep["scenario"] != "baseline" || rep["duration_ms"] != 400.0 || rep["rounds"] != 1.0 {
		t.Errorf("header: %v %v %v", rep["scenario"], rep["duration_ms"], rep["rounds"])
	}
	targets := rep["targets"].([]any)
	if len(targets) != 2 {
		t.Fatalf("%d targets", len(targets))
	}
	for i, name := range []string{"threaded", "blocking"} {
		tg := targets[i].(map[string]any)
		for _, k := range jsonKeys {
			if _, ok := tg[k]; !ok {
				t.Errorf("%s: no %q", name, k)
			}
		}
		if tg["target"] != name || tg["kind"] != "model" || tg["requests"].(float64) <= 0 ||
			tg["peak_rss_bytes"].(float64) <= 0 || tg["peak_conns"] != 1.0 || tg["p50_us"].(float64) <= 0 {
			t.Errorf("%s: %v", name, tg)
		}
		ivs := tg["intervals"].([]any)
		if len(ivs) < 3 {
			t.Fatalf("%s: %d intervals", name, len(ivs))
		}
		iv := ivs[0].(map[string]any)
		for _, k := range []string{"round", "t_ms", "requests", "rps", "p50_us", "p99_us", "max_us", "errors_by_kind", "conns", "rss_bytes", "threads", "server"} {
			if _, ok := iv[k]; !ok {
				t.Errorf("%s interval: no %q", name, k)
			}
		}
		if server, ok := iv["server"].(map[string]any); !ok || server["model"] != name {
			t.Errorf("%s interval server stats: %v", name, iv["server"])
		}
	}
	if r := targets[0].(map[string]any)["ratio_rps"]; r != 1.0 {
		t.Errorf("the first target's ratio to itself is %v", r)
	}
}

func TestMainCSVAndMarkdown(t *testing.T) {
	code, out, errs := bench(t, "-targets", "threaded", "-c", "2", "-duration", "300ms", "-csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The columns are a schema other tools read: written out here, so
	// that changing them is a decision and not an accident.
	const header = "row,target,round,t_ms,requests,rps,bytes_per_sec,errors," +
		"p50_us,p90_us,p99_us,p999_us,max_us,uncorrected_p50_us,uncorrected_p99_us," +
		"in_flight,conns,backlog,target_rps,rss_bytes,threads,fds,cpu_percent,server_open"
	if strings.Join(rows[0], ",") != header {
		t.Errorf("header %v", rows[0])
	}
	kinds := map[string]int{}
	for _, r := range rows[1:] {
		kinds[r[0]]++
		if len(r) != len(rows[0]) || r[1] != "threaded" {
			t.Errorf("row %v", r)
		}
	}
	if kinds["interval"] < 2 || kinds["summary"] != 1 {
		t.Errorf("row kinds %v", kinds)
	}

	code, out, errs = bench(t, "-targets", "threaded,evloop", "-c", "2", "-duration", "300ms", "-md")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "**2 keep-alive clients, closed loop") || !strings.HasPrefix(lines[2], "| target | req/s |") ||
		!strings.HasPrefix(lines[3], "| --- | ---: |") || !strings.HasPrefix(lines[4], "| threaded | ") || !strings.HasPrefix(lines[5], "| evloop | ") {
		t.Errorf("markdown:\n%s", out)
	}
}

func TestMainPlots(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "figs")
	code, _, errs := bench(t, "-targets", "threaded,evloop", "-c", "2", "-duration", "300ms", "-plot", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for f, name := range map[string]string{"latency-threaded.svg": "p99.9", "latency-evloop.svg": "p99.9",
		"throughput.svg": "evloop", "rss-conns.svg": "evloop"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Error(err)
			continue
		}
		if !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte(name)) {
			t.Errorf("%s is not an SVG figure with %q in its legend (%d bytes)", f, name, len(b))
		}
	}
	if !strings.Contains(errs, "throughput.svg") {
		t.Errorf("stderr does not list the figures: %q", errs)
	}
}

// TestRunCrashMidRun kills a server in the middle of its run: the report
// says when it crashed and why, and the next target still runs.
func TestRunCrashMidRun(t *testing.T) {
	var killed bool
	var killedAt time.Duration // from the run's start
	var events []string
	specs, _ := ParseTargets("threaded,evloop")
	rep, err := Run(context.Background(), Plan{
		Targets: specs, Scenario: Scenario{Name: "test", Mix: load.Mix{Clients: 2}},
		Duration: 800 * time.Millisecond, Rounds: 2, Interval: 100 * time.Millisecond, Binary: benchtest.Binary(t),
		OnInterval: func(target string, round int, iv load.Interval) {
			if target == "threaded" && iv.Elapsed > 300*time.Millisecond && !killed && iv.Proc != nil {
				killed, killedAt = true, iv.Elapsed
				syscall.Kill(iv.Proc.PID, syscall.SIGKILL)
			}
		},
		OnEvent: func(msg string) { events = append(events, msg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	th, ev := rep.Targets[0], rep.Targets[1]
	c := th.CrashRun()
	// The crash is timed from the start of its run, when the parent saw
	// the process gone: after the kill, and (on a machine so busy that
	// the parent notices late) within a few seconds of it.
	if !th.Crashed || c == nil || c.Round != 1 || c.CrashedAt < killedAt || c.CrashedAt > killedAt+5*time.Second ||
		!strings.Contains(c.CrashMsg, "killed") {
		t.Fatalf("crash not reported: crashed %v, killed at %v, run %+v", th.Crashed, killedAt, c)
	}
	if len(th.Runs) != 1 {
		t.Errorf("threaded ran %d rounds; a crashed target's later rounds are skipped", len(th.Runs))
	}
	if ev.Crashed || len(ev.Runs) != 2 || ev.Summary.Requests == 0 {
		t.Errorf("evloop: crashed %v, %d runs, %d requests", ev.Crashed, len(ev.Runs), ev.Summary.Requests)
	}
	want := []string{"round 1/2: threaded", "threaded crashed", "round 1/2: evloop", "round 2/2: evloop"}
	if len(events) != len(want) {
		t.Fatalf("events %q", events)
	}
	for i, w := range want {
		if !strings.HasPrefix(events[i], w) {
			t.Errorf("event %d: %q, want %q...", i, events[i], w)
		}
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	if !strings.Contains(table.String(), "threaded CRASHED at") {
		t.Errorf("table does not report the crash:\n%s", table.String())
	}
	var js bytes.Buffer
	rep.WriteJSON(&js)
	if !strings.Contains(js.String(), `"crashed": true`) || !strings.Contains(js.String(), `"crash_at_ms"`) {
		t.Error("JSON does not report the crash")
	}
}

// TestMainPinned runs with the default pinning (server on the first CPU,
// load on the second), and checks that it is reported and undone.
func TestMainPinned(t *testing.T) {
	server, loadCPUs := proc.DefaultPinning()
	if server == nil {
		t.Skip("one CPU: nothing to pin apart")
	}
	before, _ := proc.AllowedCPUs()
	procs := runtime.GOMAXPROCS(0)
	var out, errb bytes.Buffer
	code := Main([]string{"-bin", benchtest.Binary(t), "-targets", "threaded", "-c", "2", "-duration", "300ms", "-json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		ServerCPUs []int `json:"server_cpus"`
		LoadCPUs   []int `json:"load_cpus"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.ServerCPUs, server) || !slices.Equal(rep.LoadCPUs, loadCPUs) {
		t.Errorf("pinned %v and %v, want %v and %v", rep.ServerCPUs, rep.LoadCPUs, server, loadCPUs)
	}
	if after, _ := proc.AllowedCPUs(); !slices.Equal(after, before) || runtime.GOMAXPROCS(0) != procs {
		t.Errorf("after the run: CPUs %v (was %v), GOMAXPROCS %d (was %d)", after, before, runtime.GOMAXPROCS(0), procs)
	}
}
