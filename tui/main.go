package tui

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	tea "github.com/charmbracelet/bubbletea"

	"serverlab/bench"
	"serverlab/bench/proc"
	"serverlab/internal/model"
)

// Main is `serverlab tui`: it parses args (the words after "tui"), starts
// the servers and runs the dashboard until the teacher quits. It returns
// the exit code: 0 after a normal quit, 2 for a bad flag (with a one-line
// error on stderr), 1 for a failure while running.
//
//	serverlab tui [-models blocking,threaded,evloop] [-target http://127.0.0.1:PORT]...
//	              [-root DIR] [-scenario NAME] [-binary PATH]
func Main(args []string, stdout, stderr io.Writer) int {
	cfg, scenario, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "serverlab tui: %v\n", err)
		return 2
	}

	// On a machine with two or more cores the servers get one and the
	// dashboard with its load generator another, as `serverlab bench`
	// does: otherwise the load and the servers fight for the same core
	// and the charts show the fight.
	serverCPUs, loadCPUs := proc.DefaultPinning()
	if loadCPUs != nil {
		if undo, err := proc.PinSelf(loadCPUs); err == nil {
			defer undo()
			cfg.ServerCPUs = serverCPUs
		}
	}
	drv, err := NewLive(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "serverlab tui: %v\n", err)
		return 1
	}
	return run(drv, Options{Scenario: scenario}, nil, stdout, stderr)
}

// run shows the dashboard over drv until it quits, and stops drv however
// it quits: by a key, by a signal, or by a panic, in the dashboard or here.
// A nil in reads the terminal.
func run(drv Driver, opts Options, in io.Reader, stdout, stderr io.Writer) (code int) {
	// Deferred calls run last-in first-out, so on a panic the servers are
	// stopped (Close, below) before this reports it.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "serverlab tui: panic: %v\n%s", r, debug.Stack())
			code = 1
		}
	}()
	defer drv.Close()

	m, err := New(drv, opts)
	if err != nil {
		fmt.Fprintf(stderr, "serverlab tui: %v\n", err)
		return 1
	}
	popts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithOutput(stdout), tea.WithFPS(int(1 / m.opts.Tick.Seconds()))}
	if in != nil {
		popts = append(popts, tea.WithInput(in))
	}
	p := tea.NewProgram(m, popts...)

	// bubbletea turns SIGINT and SIGTERM into a quit, and restores the
	// terminal on the way out. A closed terminal (SIGHUP, as when a tmux
	// session or an ssh connection ends) deserves the same clean exit:
	// without this, the default action would kill the process before
	// Close could stop the servers.
	hup, done := make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	defer close(done)
	go func() {
		select {
		case <-hup:
			p.Quit()
		case <-done:
		}
	}()

	if _, err := p.Run(); err != nil {
		// A panic inside Update or View is caught by bubbletea, which
		// restores the terminal, prints it and returns this error.
		fmt.Fprintf(stderr, "serverlab tui: %v\n", err)
		return 1
	}
	return 0
}

// parseFlags reads the command line into a live configuration and the
// scenario to start with.
func parseFlags(args []string, stdout io.Writer) (LiveConfig, string, error) {
	var cfg LiveConfig
	fs := flag.NewFlagSet("tui", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by Main
	models := fs.String("models", strings.Join(model.Classic(), ","),
		"models to run side by side, in order; serve flags after +, as in threaded+osthreads")
	var external []bench.TargetSpec
	fs.Func("target", "a server already running, http://127.0.0.1:PORT[/path] (repeatable, or a comma list)", func(v string) error {
		for s := range strings.SplitSeq(v, ",") {
			t, err := bench.ParseTarget(s)
			if err != nil {
				return err
			}
			if t.Model != "" {
				return fmt.Errorf("%q is a model; give models with -models, and -target an http:// URL", s)
			}
			external = append(external, t)
		}
		return nil
	})
	fs.StringVar(&cfg.Root, "root", "", "folder to serve (default: the built-in demo site)")
	scenario := fs.String("scenario", "", "scenario to start running (default: baseline, paused, with the picker open)")
	fs.StringVar(&cfg.Binary, "binary", "", "serverlab binary that serves (default: this one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "usage: serverlab tui [flags]")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		return cfg, "", err
	}
	if fs.NArg() > 0 {
		return cfg, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if strings.TrimSpace(*models) != "" {
		specs, err := bench.ParseTargets(*models)
		if err != nil {
			return cfg, "", err
		}
		for _, s := range specs {
			if s.Model == "" {
				return cfg, "", fmt.Errorf("-models takes model names; give %s with -target", s.Name)
			}
		}
		cfg.Targets = specs
	}
	cfg.Targets = append(cfg.Targets, external...)
	if len(cfg.Targets) == 0 {
		return cfg, "", errors.New("nothing to show: -models is empty and no -target given")
	}
	if *scenario != "" {
		if _, ok := bench.ScenarioByName(*scenario); !ok {
			return cfg, "", fmt.Errorf("unknown scenario %q (want one of %s)", *scenario, strings.Join(bench.ScenarioNames(), ", "))
		}
	}
	for _, p := range []struct{ flag, path string }{{"-root", cfg.Root}, {"-binary", cfg.Binary}} {
		if p.path == "" {
			continue
		}
		if _, err := os.Stat(p.path); err != nil {
			return cfg, "", fmt.Errorf("%s: %w", p.flag, err)
		}
	}
	return cfg, *scenario, nil
}
