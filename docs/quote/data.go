package quote

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// A Run is one results file: what `serverlab bench -json` wrote, decoded
// as far as the docs need it. The field names follow the JSON schema in
// bench's package documentation.
type Run struct {
	Scenario   string   `json:"scenario"`
	About      string   `json:"about"`
	DurationMs int64    `json:"duration_ms"`
	IntervalMs int64    `json:"interval_ms"`
	Rounds     int      `json:"rounds"`
	ServerCPUs []int    `json:"server_cpus"`
	LoadCPUs   []int    `json:"load_cpus"`
	Targets    []Target `json:"targets"`

	// Title is the line above the run's table, when the file has one.
	Title string `json:"title,omitempty"`
}

// Latency is a set of percentiles, in microseconds.
type Latency struct {
	P50  int64 `json:"p50_us"`
	P90  int64 `json:"p90_us"`
	P99  int64 `json:"p99_us"`
	P999 int64 `json:"p999_us"`
	Max  int64 `json:"max_us"`
}

// Target is one target's results in a Run.
type Target struct {
	Target       string           `json:"target"`
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	ErrorsByKind map[string]int64 `json:"errors_by_kind"`
	RPS          float64          `json:"rps"`
	BytesPerSec  float64          `json:"bytes_per_sec"`
	Latency
	Uncorrected    Latency    `json:"uncorrected"`
	PeakRSS        int64      `json:"peak_rss_bytes"`
	PeakThreads    int64      `json:"peak_threads"`
	PeakConns      int64      `json:"peak_conns"`
	PeakFDs        int64      `json:"peak_fds"`
	PeakServerOpen int64      `json:"peak_server_open"`
	ServerCPUMs    int64      `json:"server_cpu_ms"`
	Crashed        bool       `json:"crashed"`
	CrashMsg       string     `json:"crash_msg,omitempty"`
	Intervals      []Interval `json:"intervals"`
}

// Interval is one sample of a run.
type Interval struct {
	Round       int     `json:"round"`
	TMs         int64   `json:"t_ms"`
	LenMs       float64 `json:"len_ms"`
	Requests    int64   `json:"requests"`
	RPS         float64 `json:"rps"`
	BytesPerSec float64 `json:"bytes_per_sec"`
	Errors      int64   `json:"errors"`
	Latency
	Uncorrected Latency `json:"uncorrected"`
	InFlight    int64   `json:"in_flight"`
	Conns       int64   `json:"conns"`
	TargetRPS   float64 `json:"target_rps"`
	RSS         int64   `json:"rss_bytes"`
	Threads     int64   `json:"threads"`
	FDs         int64   `json:"fds"`
	CPUPercent  float64 `json:"cpu_percent"`
	Server      *struct {
		Open int64 `json:"open"`
	} `json:"server"`
}

// Open is the connections the server holds: its own count when it
// reports one, else the clients'.
func (iv Interval) Open() int64 {
	if iv.Server != nil {
		return iv.Server.Open
	}
	return iv.Conns
}

// target finds a target by name.
func (r *Run) target(name string) (*Target, error) {
	var names []string
	for i := range r.Targets {
		if r.Targets[i].Target == name {
			return &r.Targets[i], nil
		}
		names = append(names, r.Targets[i].Target)
	}
	return nil, fmt.Errorf("no target %q (the run has %s)", name, strings.Join(names, ", "))
}

// Data is every results file under one folder, by name: "crowd" for
// crowd.json, "ex/crowd-1000" for ex/crowd-1000.json.
type Data struct {
	Dir  string
	Runs map[string]*Run
	// ScreensDir holds the dashboard captures the lessons show
	// (docs/lessons/screens); "" leaves the captures in the pages alone.
	ScreensDir string
}

// Load reads every .json file under dir (docs/results).
func Load(dir string) (*Data, error) {
	d := &Data{Dir: dir, Runs: map[string]*Run{}}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read results: %w", err)
		}
		r := &Run{}
		if err := json.Unmarshal(b, r); err != nil {
			return fmt.Errorf("results %s: %w", path, err)
		}
		d.Runs[strings.TrimSuffix(filepath.ToSlash(rel), ".json")] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// run finds a results file by name.
func (d *Data) run(name string) (*Run, error) {
	if r, ok := d.Runs[name]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("no results file %s.json in %s (make bench writes it)", name, d.Dir)
}

// Names lists the results files, sorted.
func (d *Data) Names() []string {
	var out []string
	for n := range d.Runs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
