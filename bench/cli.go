package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"serverlab/bench/load"
	"serverlab/bench/proc"
	"serverlab/bench/report"
	"serverlab/internal/model"
)

// usageText opens `serverlab bench -h`; %s is the list of models.
const usageText = `usage: serverlab bench [flags]

Drives load at servers and compares them: each target in turn, then a table.

  serverlab bench -scenario crowd                        every model, a named scenario  
  serverlab bench -targets http://127.0.0.1:8080/1k.bin -c 50 -duration 10s
                                                          like wrk, against any local server
  serverlab bench -scenario c10k -plot figs -md          a markdown table and SVG figures

Targets (-targets, comma-separated): a model (%s),
started as a child process on a free port; MODEL@127.0.0.1:PORT to choose
its port; MODEL+FLAG or MODEL+FLAG=V to pass serve -FLAG (threaded+osthreads,
evloop+disk-workers=4); or http://127.0.0.1:PORT/PATH for a server already
running (only loopback addresses). Without -scenario, a closed loop of -c
keep-alive connections (or, with -rate, an open loop at that rate).

Flags:
`

// Main is `serverlab bench`: args are the arguments after "bench". It
// returns the exit code: 0 done, 1 the run failed, 2 a bad flag (each with
// a one-line message on stderr).
func Main(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "serverlab bench: %v\n", err)
		return 2
	}
	if cfg.list {
		for _, s := range Scenarios() {
			fmt.Fprintf(stdout, "%-12s %s\n%s\n\n", s.Name, s.Title, indent(wrap(s.About, 72), "             "))
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	progress := newProgress(stderr, cfg.quiet, cfg.plan.Duration)
	cfg.plan.OnInterval = progress.interval
	cfg.plan.OnEvent = progress.event
	urls := 0
	for _, t := range cfg.plan.Targets {
		if t.Model != "" {
			continue
		}
		if len(cfg.plan.ServerCPUs) > 0 && urls >= len(cfg.plan.Commands) {
			progress.event(fmt.Sprintf("note: %s is not pinned by bench; pin it yourself (taskset -c %s) for a fair comparison", t.Name, report.FormatCPUs(cfg.plan.ServerCPUs)))
		}
		urls++
	}
	var rep *report.Report
	if cfg.from != "" {
		rep, err = readReport(cfg.from)
	} else {
		rep, err = Run(ctx, cfg.plan)
	}
	progress.done()
	if rep == nil {
		fmt.Fprintf(stderr, "serverlab bench: %v\n", err)
		return 1
	}
	code := 0
	if err != nil {
		fmt.Fprintf(stderr, "serverlab bench: stopped early (%v); results so far:\n", err)
		code = 1
	}
	if werr := cfg.write(rep, stdout); werr != nil {
		fmt.Fprintf(stderr, "serverlab bench: %v\n", werr)
		return 1
	}
	if cfg.plotDir != "" {
		paths, perr := rep.WritePlots(cfg.plotDir)
		if perr != nil {
			fmt.Fprintf(stderr, "serverlab bench: %v\n", perr)
			return 1
		}
		if !cfg.quiet {
			fmt.Fprintf(stderr, "figures: %s\n", strings.Join(paths, " "))
		}
	}
	return code
}

// config is the parsed command line.
type config struct {
	plan    Plan
	format  string // "table", "json", "csv" or "md"
	plotDir string
	from    string // a saved -json report to write out again, instead of a run
	list    bool
	quiet   bool
}

func (c *config) write(rep *report.Report, w io.Writer) error {
	switch c.format {
	case "json":
		return rep.WriteJSON(w)
	case "csv":
		return rep.WriteCSV(w)
	case "md":
		return rep.WriteMarkdown(w)
	}
	return rep.WriteTable(w)
}

// parseFlags turns the arguments into a Plan, or an error that fits on one
// line. The flag package's own messages are multi-line with the usage
// appended, so it is told to be quiet and its error is passed up as is.
func parseFlags(args []string, stdout io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		targets    = fs.String("targets", strings.Join(model.Names(), ","), "comma-separated `list` of models and URLs (see above)")
		scenario   = fs.String("scenario", "", "named scenario to run (-list shows them); none: a plain closed loop")
		list       = fs.Bool("list", false, "list the scenarios and what each shows, and exit")
		duration   = fs.Duration("duration", 10*time.Second, "length of each run (each target, each round)")
		clients    = fs.Int("c", 0, "connections: keep-alive clients (default 10 without a scenario; else the scenario's main count)")
		rate       = fs.Float64("rate", 0, "open-loop rate in requests/s (the top of overload's ramp; without a scenario, an open loop)")
		rounds     = fs.Int("rounds", 1, "run the targets in this many interleaved rounds")
		interval   = fs.Duration("interval", 250*time.Millisecond, "snapshot interval")
		timeout    = fs.Duration("timeout", 2*time.Second, "per-request timeout")
		asJSON     = fs.Bool("json", false, "write JSON (summaries and intervals) instead of the table")
		asCSV      = fs.Bool("csv", false, "write CSV (intervals and summaries) instead of the table")
		asMD       = fs.Bool("md", false, "write a markdown table instead of the text table")
		plotDir    = fs.String("plot", "", "write SVG figures into `DIR`")
		from       = fs.String("from", "", "run nothing: read a report saved with -json from `FILE` and write its table, -md, -csv or -plot")
		binary     = fs.String("bin", "", "serverlab `binary` to start the models with (default: this one)")
		root       = fs.String("root", "", "folder for the models to serve (default: the demo site)")
		serveArgs  = fs.String("serve-args", "", "more serve flags for every model, space-separated (\"-disk-workers 4\")")
		pin        = fs.Bool("pin", true, "pin servers and load to separate CPUs (when there are 2 or more)")
		serverCPUs = fs.String("server-cpus", "", "CPUs for the servers, comma-separated (default: the first allowed)")
		loadCPUs   = fs.String("load-cpus", "", "CPUs for the load generator (default: the second allowed)")
		quiet      = fs.Bool("q", false, "no progress on stderr")
		pids       intList
		cmds       stringList
	)
	fs.Var(&pids, "pid", "PID of a URL target's server, to sample /proc (repeat, in URL-target order)")
	fs.Var(&cmds, "cmd", "command line that starts a URL target's server (repeat, in URL-target order)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, usageText, strings.Join(model.Names(), ", "))
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := &config{format: "table", plotDir: *plotDir, from: *from, list: *list, quiet: *quiet}
	if *list {
		return cfg, nil
	}
	formats := 0
	for f, on := range map[string]bool{"json": *asJSON, "csv": *asCSV, "md": *asMD} {
		if on {
			cfg.format = f
			formats++
		}
	}
	switch {
	case formats > 1:
		return nil, errors.New("choose one of -json, -csv and -md")
	case *duration <= 0:
		return nil, fmt.Errorf("-duration %v: must be positive", *duration)
	case *rounds < 1:
		return nil, fmt.Errorf("-rounds %d: must be at least 1", *rounds)
	case *clients < 0:
		return nil, fmt.Errorf("-c %d: cannot be negative", *clients)
	case *rate < 0:
		return nil, fmt.Errorf("-rate %g: cannot be negative", *rate)
	case *interval < 10*time.Millisecond:
		return nil, fmt.Errorf("-interval %v: must be at least 10ms", *interval)
	case *timeout <= 0:
		return nil, fmt.Errorf("-timeout %v: must be positive", *timeout)
	}
	specs, err := ParseTargets(*targets)
	if err != nil {
		return nil, err
	}
	sc, err := chooseScenario(*scenario, *clients, *rate)
	if err != nil {
		return nil, err
	}
	urls := 0
	for _, t := range specs {
		if t.Model == "" {
			urls++
		}
	}
	if len(pids) > urls || len(cmds) > urls {
		return nil, fmt.Errorf("%d -pid and %d -cmd flags for %d URL targets", len(pids), len(cmds), urls)
	}
	p := Plan{
		Targets: specs, Scenario: sc, Duration: *duration, Rounds: *rounds,
		Interval: *interval, Timeout: *timeout,
		Binary: *binary, Root: *root, ServeArgs: strings.Fields(*serveArgs),
		PIDs: pids,
	}
	for _, c := range cmds {
		p.Commands = append(p.Commands, strings.Fields(c))
	}
	server, load, err := choosePinning(*serverCPUs, *loadCPUs)
	if err != nil {
		return nil, err
	}
	if *pin {
		p.ServerCPUs, p.LoadCPUs = server, load
	}
	cfg.plan = p
	return cfg, nil
}

// chooseScenario finds the named scenario and applies -c and -rate, or
// makes the plain closed (or open) loop of a run without one.
func chooseScenario(name string, clients int, rate float64) (Scenario, error) {
	if name == "" {
		if clients == 0 {
			clients = 10 // wrk's default
		}
		s := Scenario{
			Title: fmt.Sprintf("%d keep-alive clients, closed loop", clients),
			About: "A plain closed loop: each connection sends its next request as soon as the last is answered, as wrk does.",
			Mix:   load.Mix{Clients: clients},
		}
		if rate > 0 {
			s = s.WithRate(rate)
			s.Title = fmt.Sprintf("open loop at %g req/s over %d connections", rate, clients)
			s.About = "A plain open loop: requests are due on a fixed schedule, and latency counts from when each was due, as wrk2 does."
		}
		return s, nil
	}
	s, ok := ScenarioByName(name)
	if !ok {
		return s, fmt.Errorf("-scenario %q: unknown; try %s", name, strings.Join(ScenarioNames(), ", "))
	}
	if clients > 0 {
		s = s.WithClients(clients)
	}
	if rate > 0 {
		s = s.WithRate(rate)
	}
	return s, nil
}

// choosePinning applies -server-cpus and -load-cpus over the default split.
// With one CPU there is nothing to split and nothing is pinned.
func choosePinning(server, load string) ([]int, []int, error) {
	ds, dl := proc.DefaultPinning()
	s, err := parseCPUs(server, ds)
	if err != nil {
		return nil, nil, fmt.Errorf("-server-cpus: %w", err)
	}
	l, err := parseCPUs(load, dl)
	if err != nil {
		return nil, nil, fmt.Errorf("-load-cpus: %w", err)
	}
	if len(s) == 0 || len(l) == 0 {
		return nil, nil, nil
	}
	return s, l, nil
}

func parseCPUs(s string, def []int) ([]int, error) {
	if s == "" {
		return def, nil
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad CPU number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// intList is a repeatable integer flag.
type intList []int

// String implements flag.Value.
func (l *intList) String() string { return fmt.Sprint(*l) }

// Set implements flag.Value: each -pid adds one.
func (l *intList) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("not a PID: %q", s)
	}
	*l = append(*l, n)
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

// String implements flag.Value.
func (l *stringList) String() string { return strings.Join(*l, "; ") }

// Set implements flag.Value: each -cmd adds one.
func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// progress shows what is running: on a terminal, one line redrawn each
// interval; elsewhere, only the news (runs starting, crashes), so that a
// log or a CI transcript stays readable.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	quiet    bool
	duration time.Duration
	drawn    bool
}

func newProgress(w io.Writer, quiet bool, d time.Duration) *progress {
	return &progress{w: w, tty: isTerminal(w), quiet: quiet, duration: d}
}

func (p *progress) interval(target string, round int, iv load.Interval) {
	if p.quiet || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[K%s  round %d  %4.1fs/%v  %s req/s  p99 %s  conns %d  errors %d",
		target, round, iv.Elapsed.Seconds(), p.duration, report.FormatCount(iv.RPS), report.FormatDuration(iv.Latency.P99), iv.Conns, iv.Errors.Total())
	p.drawn = true
}

func (p *progress) event(msg string) {
	if p.quiet && !strings.Contains(msg, "crashed") {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintln(p.w, msg)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// isTerminal reports whether w is a terminal: the one ioctl every terminal
// answers (TCGETS) and nothing else does.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// wrap breaks text into lines of at most width characters.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		if n > 0 && n+1+len(w) > width {
			b.WriteString("\n")
			n = 0
		} else if n > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// readReport reads a report saved with -json, for -from.
func readReport(path string) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-from: %w", err)
	}
	defer f.Close()
	return report.ReadJSON(f)
}
