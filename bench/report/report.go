package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"serverlab/bench/load"
	"serverlab/bench/proc"
	"serverlab/servers"
)

// Report is the result of a benchmark: one scenario, run on each target in
// turn, in one or more rounds.
type Report struct {
	// Scenario is the scenario's name, "" for a plain closed or open loop;
	// Title and About are its few words and its paragraph.
	Scenario, Title, About string
	// OpenLoop is set when the load ran on a schedule: latency is then
	// measured from when each request was due, and the uncorrected
	// latency is worth showing beside it.
	OpenLoop bool

	Duration   time.Duration // of each run: each target, each round
	Interval   time.Duration // between snapshots
	Rounds     int
	Started    time.Time
	ServerCPUs []int // nil: not pinned
	LoadCPUs   []int
	Targets    []*Result
	// Events are the moments of a run worth marking on a time axis (the
	// slow client arriving), from the start of each run.
	Events []Event
}

// An Event is a moment in every run of a report: the figures mark it on
// their time axis, so "after the slowloris arrives" can be seen.
type Event struct {
	At    time.Duration
	Label string
}

// Result is everything measured on one target.
type Result struct {
	// Name labels the target: the -targets entry as written.
	Name string
	// Kind is "model", "url" or "command".
	Kind string
	// URL is where the timed requests went.
	URL string
	// Summary covers all rounds together.
	Summary load.Summary
	Runs    []Run
	// Crashed is set if the server process died by itself; the run it
	// died in says when and why, and the target's later rounds are
	// skipped.
	Crashed bool
}

// CrashRun is the run in which the server crashed, or nil.
func (r *Result) CrashRun() *Run {
	for i := range r.Runs {
		if r.Runs[i].CrashedAt > 0 {
			return &r.Runs[i]
		}
	}
	return nil
}

// Run is one round on one target.
type Run struct {
	Round     int
	Summary   load.Summary
	Intervals []load.Interval
	// CrashedAt is when the server died, from the start of this run
	// (0: it did not), and CrashMsg why.
	CrashedAt time.Duration
	CrashMsg  string
}

// The rest of this file writes a Report out: a comparison table for people
// (text or markdown), and JSON and CSV with every interval for other
// tools. The JSON schema is documented in doc.go; jsonReport and its
// fields are that schema, so keep the two in step.

type jsonReport struct {
	Scenario   string       `json:"scenario"`
	Title      string       `json:"title"`
	About      string       `json:"about"`
	OpenLoop   bool         `json:"open_loop"`
	Events     []jsonEvent  `json:"events"`
	DurationMs int64        `json:"duration_ms"`
	IntervalMs int64        `json:"interval_ms"`
	Rounds     int          `json:"rounds"`
	Started    time.Time    `json:"started"`
	ServerCPUs []int        `json:"server_cpus"`
	LoadCPUs   []int        `json:"load_cpus"`
	Targets    []jsonTarget `json:"targets"`
}

type jsonEvent struct {
	AtMs  int64  `json:"at_ms"`
	Label string `json:"label"`
}

type jsonLatency struct {
	P50  int64 `json:"p50_us"`
	P90  int64 `json:"p90_us"`
	P99  int64 `json:"p99_us"`
	P999 int64 `json:"p999_us"`
	Max  int64 `json:"max_us"`
}

func jsonLat(l load.Latency) jsonLatency {
	us := func(d time.Duration) int64 { return d.Microseconds() }
	return jsonLatency{us(l.P50), us(l.P90), us(l.P99), us(l.P999), us(l.Max)}
}

type jsonTarget struct {
	Target       string           `json:"target"`
	Kind         string           `json:"kind"`
	URL          string           `json:"url"`
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	ErrorsByKind map[string]int64 `json:"errors_by_kind"`
	RPS          float64          `json:"rps"`
	BytesPerSec  float64          `json:"bytes_per_sec"`
	jsonLatency
	Uncorrected    jsonLatency `json:"uncorrected"`
	PeakRSS        int64       `json:"peak_rss_bytes"`
	PeakThreads    int         `json:"peak_threads"`
	PeakConns      int64       `json:"peak_conns"`
	PeakFDs        int         `json:"peak_fds"`
	PeakServerOpen int64       `json:"peak_server_open"`
	PeakInFlight   int64       `json:"peak_in_flight"`
	PeakBacklog    int64       `json:"peak_backlog"`
	ServerCPUMs    int64       `json:"server_cpu_ms"`
	RatioRPS       float64     `json:"ratio_rps"`
	RatioP99       float64     `json:"ratio_p99"`
	Crashed        bool        `json:"crashed"`
	CrashRound     int         `json:"crash_round,omitempty"`
	CrashAtMs      int64       `json:"crash_at_ms,omitempty"`
	CrashMsg       string      `json:"crash_msg,omitempty"`
	Intervals      []jsonIv    `json:"intervals"`
}

type jsonIv struct {
	Round        int              `json:"round"`
	TMs          int64            `json:"t_ms"`
	LenMs        float64          `json:"len_ms"`
	Requests     int64            `json:"requests"`
	RPS          float64          `json:"rps"`
	BytesPerSec  float64          `json:"bytes_per_sec"`
	Errors       int64            `json:"errors"`
	ErrorsByKind map[string]int64 `json:"errors_by_kind"`
	jsonLatency
	Uncorrected jsonLatency       `json:"uncorrected"`
	InFlight    int64             `json:"in_flight"`
	Conns       int64             `json:"conns"`
	Backlog     int64             `json:"backlog"`
	TargetRPS   float64           `json:"target_rps"`
	RSS         int64             `json:"rss_bytes"`
	Threads     int               `json:"threads"`
	FDs         int               `json:"fds"`
	CPUPercent  float64           `json:"cpu_percent"`
	Server      *servers.Snapshot `json:"server"`
}

// WriteJSON writes the report as one JSON object (schema in doc.go).
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{
		Scenario: r.Scenario, Title: r.Title, About: r.About, OpenLoop: r.OpenLoop, Events: []jsonEvent{},
		DurationMs: r.Duration.Milliseconds(), IntervalMs: r.Interval.Milliseconds(),
		Rounds: r.Rounds, Started: r.Started,
		ServerCPUs: nonNil(r.ServerCPUs), LoadCPUs: nonNil(r.LoadCPUs),
		Targets: []jsonTarget{},
	}
	for _, e := range r.Events {
		out.Events = append(out.Events, jsonEvent{e.At.Milliseconds(), e.Label})
	}
	for _, t := range r.Targets {
		s := t.Summary
		jt := jsonTarget{
			Target: t.Name, Kind: t.Kind, URL: t.URL,
			Requests: s.Requests, Errors: s.Errors.Total(), ErrorsByKind: s.Errors.Map(),
			RPS: s.RPS, BytesPerSec: s.BytesPerSec,
			jsonLatency: jsonLat(s.Latency), Uncorrected: jsonLat(s.Uncorrected),
			PeakRSS: s.PeakRSS, PeakThreads: s.PeakThreads, PeakConns: s.PeakConns, PeakFDs: s.PeakFDs,
			PeakServerOpen: s.PeakServerOpen, PeakInFlight: s.PeakInFlight, PeakBacklog: s.PeakBacklog,
			ServerCPUMs: s.CPU.Milliseconds(),
			RatioRPS:    ratio(s.RPS, r.first().RPS),
			RatioP99:    ratio(float64(s.Latency.P99), float64(r.first().Latency.P99)),
			Crashed:     t.Crashed,
			Intervals:   []jsonIv{},
		}
		if c := t.CrashRun(); c != nil {
			jt.CrashRound, jt.CrashAtMs, jt.CrashMsg = c.Round, c.CrashedAt.Milliseconds(), c.CrashMsg
		}
		for _, run := range t.Runs {
			for _, iv := range run.Intervals {
				jt.Intervals = append(jt.Intervals, jsonInterval(run.Round, iv))
			}
		}
		out.Targets = append(out.Targets, jt)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func jsonInterval(round int, iv load.Interval) jsonIv {
	j := jsonIv{
		Round: round, TMs: iv.Elapsed.Milliseconds(), LenMs: float64(iv.Length) / float64(time.Millisecond),
		Requests: iv.Requests, RPS: iv.RPS, BytesPerSec: iv.BytesPerSec,
		Errors: iv.Errors.Total(), ErrorsByKind: iv.Errors.Map(),
		jsonLatency: jsonLat(iv.Latency), Uncorrected: jsonLat(iv.Uncorrected),
		InFlight: iv.InFlight, Conns: iv.Conns, Backlog: iv.Backlog, TargetRPS: iv.TargetRate,
		CPUPercent: iv.CPUPercent, Server: iv.Server,
	}
	if p := iv.Proc; p != nil {
		j.RSS, j.Threads, j.FDs = p.RSS, p.Threads, p.FDs
	}
	return j
}

// ReadJSON reads back a report WriteJSON wrote, so that its tables and
// figures can be made again from the data alone (make docs does, from
// docs/results). What JSON does not keep (the histograms, a sample's
// time) is not needed for either.
func ReadJSON(rd io.Reader) (*Report, error) {
	var in jsonReport
	if err := json.NewDecoder(rd).Decode(&in); err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	r := &Report{
		Scenario: in.Scenario, Title: in.Title, About: in.About, OpenLoop: in.OpenLoop,
		Duration: ms(in.DurationMs), Interval: ms(in.IntervalMs), Rounds: in.Rounds, Started: in.Started,
		ServerCPUs: in.ServerCPUs, LoadCPUs: in.LoadCPUs,
	}
	if len(r.ServerCPUs) == 0 {
		r.ServerCPUs, r.LoadCPUs = nil, nil
	}
	for _, e := range in.Events {
		r.Events = append(r.Events, Event{ms(e.AtMs), e.Label})
	}
	for _, jt := range in.Targets {
		t := &Result{Name: jt.Target, Kind: jt.Kind, URL: jt.URL, Crashed: jt.Crashed}
		t.Summary = load.Summary{
			Target: jt.Target, Requests: jt.Requests, RPS: jt.RPS, BytesPerSec: jt.BytesPerSec,
			Latency: fromJSONLat(jt.jsonLatency), Uncorrected: fromJSONLat(jt.Uncorrected),
			Errors:    load.ErrorsFromMap(jt.ErrorsByKind),
			PeakConns: jt.PeakConns, PeakInFlight: jt.PeakInFlight, PeakBacklog: jt.PeakBacklog,
			PeakRSS: jt.PeakRSS, PeakThreads: jt.PeakThreads, PeakFDs: jt.PeakFDs, PeakServerOpen: jt.PeakServerOpen,
			CPU: ms(jt.ServerCPUMs),
		}
		for _, iv := range jt.Intervals {
			if len(t.Runs) == 0 || t.Runs[len(t.Runs)-1].Round != iv.Round {
				t.Runs = append(t.Runs, Run{Round: iv.Round})
			}
			run := &t.Runs[len(t.Runs)-1]
			run.Intervals = append(run.Intervals, fromJSONInterval(jt.Target, iv))
		}
		if jt.Crashed && jt.CrashRound > 0 {
			for i := range t.Runs {
				if t.Runs[i].Round == jt.CrashRound {
					t.Runs[i].CrashedAt, t.Runs[i].CrashMsg = ms(jt.CrashAtMs), jt.CrashMsg
				}
			}
		}
		r.Targets = append(r.Targets, t)
	}
	return r, nil
}

func fromJSONLat(l jsonLatency) load.Latency {
	us := func(n int64) time.Duration { return time.Duration(n) * time.Microsecond }
	return load.Latency{P50: us(l.P50), P90: us(l.P90), P99: us(l.P99), P999: us(l.P999), Max: us(l.Max)}
}

func fromJSONInterval(target string, j jsonIv) load.Interval {
	iv := load.Interval{
		Target: target, Elapsed: time.Duration(j.TMs) * time.Millisecond,
		Length:   time.Duration(j.LenMs * float64(time.Millisecond)),
		Requests: j.Requests, RPS: j.RPS, BytesPerSec: j.BytesPerSec,
		Latency: fromJSONLat(j.jsonLatency), Uncorrected: fromJSONLat(j.Uncorrected),
		Errors:   load.ErrorsFromMap(j.ErrorsByKind),
		InFlight: j.InFlight, Conns: j.Conns, Backlog: j.Backlog, TargetRate: j.TargetRPS,
		CPUPercent: j.CPUPercent, Server: j.Server,
	}
	// A sample with no memory reading was no sample: /proc could not
	// be read (a URL target with no PID).
	if j.RSS > 0 || j.Threads > 0 {
		iv.Proc = &proc.Sample{RSS: j.RSS, Threads: j.Threads, FDs: j.FDs}
	}
	return iv
}

func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// first is the summary every ratio is taken against.
func (r *Report) first() load.Summary {
	if len(r.Targets) == 0 {
		return load.Summary{}
	}
	return r.Targets[0].Summary
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// csvHeader is the CSV's columns. Each interval is one row ("interval"),
// and each target's whole-run summary one more ("summary", with t_ms the
// active time), so one file loads into a spreadsheet or pandas as is.
var csvHeader = []string{
	"row", "target", "round", "t_ms", "requests", "rps", "bytes_per_sec", "errors",
	"p50_us", "p90_us", "p99_us", "p999_us", "max_us",
	"uncorrected_p50_us", "uncorrected_p99_us",
	"in_flight", "conns", "backlog", "target_rps", "rss_bytes", "threads", "fds", "cpu_percent", "server_open",
}

// WriteCSV writes every interval and every summary as CSV rows.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	us := func(d time.Duration) string { return i64(d.Microseconds()) }
	for _, t := range r.Targets {
		for _, run := range t.Runs {
			for _, iv := range run.Intervals {
				var rss, threads, fds, open string
				if p := iv.Proc; p != nil {
					rss, threads, fds = i64(p.RSS), strconv.Itoa(p.Threads), strconv.Itoa(p.FDs)
				}
				if iv.Server != nil {
					open = i64(iv.Server.Open)
				}
				cw.Write([]string{
					"interval", t.Name, strconv.Itoa(run.Round), i64(iv.Elapsed.Milliseconds()),
					i64(iv.Requests), f(iv.RPS), f(iv.BytesPerSec), i64(iv.Errors.Total()),
					us(iv.Latency.P50), us(iv.Latency.P90), us(iv.Latency.P99), us(iv.Latency.P999), us(iv.Latency.Max),
					us(iv.Uncorrected.P50), us(iv.Uncorrected.P99),
					i64(iv.InFlight), i64(iv.Conns), i64(iv.Backlog), f(iv.TargetRate), rss, threads, fds, f(iv.CPUPercent), open,
				})
			}
		}
	}
	for _, t := range r.Targets {
		s := t.Summary
		cw.Write([]string{
			"summary", t.Name, "", i64(s.Active.Milliseconds()),
			i64(s.Requests), f(s.RPS), f(s.BytesPerSec), i64(s.Errors.Total()),
			us(s.Latency.P50), us(s.Latency.P90), us(s.Latency.P99), us(s.Latency.P999), us(s.Latency.Max),
			us(s.Uncorrected.P50), us(s.Uncorrected.P99),
			i64(s.PeakInFlight), i64(s.PeakConns), i64(s.PeakBacklog), "", i64(s.PeakRSS),
			strconv.Itoa(s.PeakThreads), strconv.Itoa(s.PeakFDs), "", i64(s.PeakServerOpen),
		})
	}
	cw.Flush()
	return cw.Error()
}

// table is the comparison, as rows of cells, shared by the text and the
// markdown writers.
func (r *Report) table() (header []string, rows [][]string, notes []string) {
	open := r.OpenLoop
	header = []string{"target", "req/s", "×", "p50", "p99", "p99.9", "max"}
	if open {
		header = append(header, "p99 uncorr.")
	}
	header = append(header, "errors", "peak RSS", "×", "threads", "conns", "CPU/req")
	base := r.first()
	for _, t := range r.Targets {
		s := t.Summary
		row := []string{t.Name, FormatCount(s.RPS), fmtRatio(s.RPS, base.RPS),
			FormatDuration(s.Latency.P50), FormatDuration(s.Latency.P99), FormatDuration(s.Latency.P999), FormatDuration(s.Latency.Max)}
		if open {
			row = append(row, FormatDuration(s.Uncorrected.P99))
		}
		row = append(row, strconv.FormatInt(s.Errors.Total(), 10), fmtBytes(s.PeakRSS),
			fmtRatio(float64(s.PeakRSS), float64(base.PeakRSS)), fmtInt(int64(s.PeakThreads)), fmtInt(s.PeakConns),
			cpuPerRequest(s))
		rows = append(rows, row)
		if s.Errors.Total() > 0 {
			notes = append(notes, fmt.Sprintf("%s errors: %s", t.Name, s.Errors))
		}
		if c := t.CrashRun(); c != nil {
			notes = append(notes, fmt.Sprintf("%s CRASHED at %v in round %d: %s", t.Name, c.CrashedAt.Round(time.Millisecond), c.Round, c.CrashMsg))
		}
	}
	for _, t := range r.Targets {
		if t.Summary.Errors.Total() > 0 {
			notes = append(notes, "Latency counts answered requests only; a failed request is an error, not a latency.")
			break
		}
	}
	if len(r.Targets) > 1 {
		notes = append(notes, fmt.Sprintf("× is the ratio to the first target, %s.", r.Targets[0].Name))
	}
	if open {
		notes = append(notes, "Latency is from when each request was due (open loop); \"uncorr.\" is from when it was sent.")
	}
	notes = append(notes, "CPU/req is the server's CPU time (user and system, from /proc) over the requests it answered.")
	return header, rows, notes
}

// cpuPerRequest is the server's CPU time over the requests answered: what
// one request cost it, whatever else the machine was doing.
func cpuPerRequest(s load.Summary) string {
	if s.Requests == 0 || s.CPU <= 0 {
		return "-"
	}
	return FormatDuration(s.CPU / time.Duration(s.Requests))
}

// title is the line above the table.
func (r *Report) title() string {
	// A run without a scenario is titled by what it is ("10 keep-alive
	// clients, closed loop"); a scenario by its name first.
	s := fmt.Sprintf("%s; %v per target", r.Title, r.Duration)
	if name := r.Scenario; name != "" {
		s = name + ": " + s
	}
	if r.Rounds > 1 {
		s += fmt.Sprintf(", %d rounds", r.Rounds)
	}
	if len(r.ServerCPUs) > 0 {
		s += fmt.Sprintf("; servers on CPU %s, load on CPU %s", FormatCPUs(r.ServerCPUs), FormatCPUs(r.LoadCPUs))
	} else {
		s += "; not pinned"
	}
	return s
}

// WriteTable writes the comparison table for a terminal.
func (r *Report) WriteTable(w io.Writer) error {
	header, rows, notes := r.table()
	width := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	b.WriteString(r.title() + "\n\n")
	for _, row := range append([][]string{header}, rows...) {
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		b.WriteString("\n")
	}
	writeNotes(&b, notes)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeNotes ends a table with its notes, after a blank line.
func writeNotes(b *strings.Builder, notes []string) {
	if len(notes) > 0 {
		b.WriteString("\n")
	}
	for _, n := range notes {
		b.WriteString(n + "\n")
	}
}

// WriteMarkdown writes the comparison as a markdown table, for docs.
func (r *Report) WriteMarkdown(w io.Writer) error {
	header, rows, notes := r.table()
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n", r.title())
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for i := range header {
		if i == 0 {
			b.WriteString(" --- |")
		} else {
			b.WriteString(" ---: |")
		}
	}
	b.WriteString("\n")
	for _, row := range rows {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	writeNotes(&b, notes)
	_, err := io.WriteString(w, b.String())
	return err
}
