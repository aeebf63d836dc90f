package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"serverlab/blocking"
	"serverlab/demosite"
	"serverlab/evloop"
	"serverlab/internal/control"
	"serverlab/internal/model"
	"serverlab/servers"
	"serverlab/threaded"
	"serverlab/trace"
	"serverlab/uring"
)

// models maps each model's name (from package model, which a test holds
// this map to) to how it is built from the flags. All of them take the same
// Config and give the same Server interface: that is what makes them
// interchangeable under the same tests, load and dashboard. Each also takes
// its own Options, from its own flags.
var models = map[string]func(*serveFlags) (servers.Server, error){
	"blocking": func(f *serveFlags) (servers.Server, error) { return blocking.New(f.cfg, f.blocking) },
	"threaded": func(f *serveFlags) (servers.Server, error) { return threaded.New(f.cfg, f.threaded) },
	"evloop":   func(f *serveFlags) (servers.Server, error) { return evloop.New(f.cfg, f.evloop) },
	"uring":    func(f *serveFlags) (servers.Server, error) { return uring.New(f.cfg, f.uring) },
}

// shutdownGrace is how long responses under way may take to finish after
// SIGINT or SIGTERM.
const shutdownGrace = 5 * time.Second

// serveFlags are the parsed flags of `serverlab serve`.
type serveFlags struct {
	model, addr, root string
	diskDelay         time.Duration
	noCache           bool
	cfg               servers.Config
	blocking          blocking.Options
	threaded          threaded.Options
	evloop            evloop.Options
	uring             uring.Options
	controlFd         int
	traceFd           int
}

func parseServeFlags(args []string, stdout io.Writer) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by the caller
	fs.StringVar(&f.model, "model", "evloop", "server model: "+strings.Join(model.Names(), ", "))
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "loopback address to listen on (port 0 picks a free one)")
	fs.StringVar(&f.root, "root", "", "folder to serve (default: the built-in demo site, in a temporary folder)")
	fs.DurationVar(&f.diskDelay, "disk-delay", 0, "simulated delay before every file read (turns sendfile off)")
	l := &f.cfg.Limits
	// The defaults depend on the model, which is not known until the
	// flags are parsed: the help names them, and a flag left unset takes
	// them below.
	def := model.ProtectiveLimits()
	fs.DurationVar(&l.HeaderTimeout, "header-timeout", 0, fmt.Sprintf("time to receive a whole request head; 0 off (default %v, blocking: off)", def.HeaderTimeout))
	fs.DurationVar(&l.IdleTimeout, "idle-timeout", 0, fmt.Sprintf("close keep-alive connections idle this long; 0 off (default %v, blocking: off)", def.IdleTimeout))
	fs.DurationVar(&l.WriteTimeout, "write-timeout", 0, fmt.Sprintf("end a connection whose writes make no progress this long; 0 off (default %v, blocking: off)", def.WriteTimeout))
	fs.IntVar(&l.MaxConns, "max-conns", 0, "refuse connections beyond this many open at once; 0 no cap")
	fs.BoolVar(&f.blocking.KeepAlive, "keepalive", false, "blocking: keep connections alive between requests (default: answer, then close)")
	fs.BoolVar(&f.threaded.OSThreads, "osthreads", false, "threaded: one OS thread per connection, blocking syscalls")
	fs.IntVar(&f.evloop.Loops, "loops", 1, "evloop: number of event loops (SO_REUSEPORT)")
	fs.StringVar(&f.evloop.Poller, "poller", "epoll", "evloop: readiness API, epoll or poll")
	fs.IntVar(&f.evloop.DiskWorkers, "disk-workers", 0, "evloop: threads that open and read files for the loop; 0: the loop does it itself")
	fs.BoolVar(&f.uring.OwnBuffers, "own-buffers", false, "uring: each waiting receive holds a buffer of its own (the memory trap; default: provided buffers)")
	sendfile := fs.Bool("sendfile", true, "send file bodies with sendfile(2)")
	cache := fs.Bool("cache", true, "keep small files (up to 64 KiB) in memory, checked once a second (off with -disk-delay)")
	fs.IntVar(&f.controlFd, "control-fd", -1, "descriptor of a stats channel to a parent process (see internal/control)")
	fs.IntVar(&f.traceFd, "trace-fd", -1, "descriptor of a trace channel to a parent process (see serverlab trace)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "usage: serverlab serve [flags]")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, ok := models[f.model]; !ok {
		return nil, fmt.Errorf("unknown model %q (want one of %s)", f.model, strings.Join(model.Names(), ", "))
	}
	if err := f.evloop.Check(); err != nil {
		return nil, err
	}
	if f.evloop.Loops < 1 || l.MaxConns < 0 || f.diskDelay < 0 {
		return nil, errors.New("-loops must be at least 1; -disk-workers, -max-conns and -disk-delay not negative")
	}
	f.cfg.NoSendfile = !*sendfile
	f.noCache = !*cache
	// A protection the user did not set takes the model's default.
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	def = model.DefaultLimits(f.model)
	if !set["header-timeout"] {
		l.HeaderTimeout = def.HeaderTimeout
	}
	if !set["idle-timeout"] {
		l.IdleTimeout = def.IdleTimeout
	}
	if !set["write-timeout"] {
		l.WriteTimeout = def.WriteTimeout
	}
	return f, nil
}

// runServe is `serverlab serve`.
func runServe(args []string, stdout, stderr io.Writer) int {
	f, err := parseServeFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "serverlab serve: %v\n", err)
		return 2
	}
	if err := serve(f, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "serverlab serve: %v\n", err)
		if errors.Is(err, uring.ErrUnavailable) {
			return 2 // like a bad flag: this machine cannot run that model
		}
		var pe control.ProtocolError
		if errors.As(err, &pe) {
			return 3
		}
		return 1
	}
	return 0
}

func serve(f *serveFlags, stdout, stderr io.Writer) error {
	root := f.root
	if root == "" {
		dir, remove, err := demosite.Temp()
		if err != nil {
			return err
		}
		defer remove()
		root = dir
	}
	site, err := servers.NewSite(root, servers.SiteOptions{DiskDelay: f.diskDelay, NoCache: f.noCache})
	if err != nil {
		return err
	}
	defer site.Close()

	f.cfg.Addr, f.cfg.Site, f.cfg.Stats = f.addr, site, servers.NewStats()
	if f.traceFd >= 0 {
		f.cfg.Trace = openTrace(f.traceFd, stderr)
	}
	srv, err := models[f.model](f)
	if err != nil {
		return fmt.Errorf("start %s: %w", f.model, err)
	}
	// Three things end a server: a signal, the parent closing the control
	// channel, or the server failing by itself. The signals are caught
	// before the listen line is printed: a parent may send SIGTERM the
	// moment it reads that line, and must not find the default action
	// (death, leaving the demo site behind) still in place.
	stop := make(chan error, 2)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	fmt.Fprintf(stdout, "serverlab %s listening on http://%s (root %s)\n", f.model, srv.Addr(), root)
	go func() {
		<-sigs
		stop <- nil
	}()
	if f.controlFd >= 0 {
		ctl := os.NewFile(uintptr(f.controlFd), "control")
		defer ctl.Close()
		go func() {
			stop <- control.Serve(ctl, func() servers.Snapshot {
				snap := f.cfg.Stats.Snapshot()
				snap.Model = f.model
				return snap
			})
		}()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()

	var reason error
	select {
	case err := <-served:
		return fmt.Errorf("%s stopped: %w", f.model, err)
	case reason = <-stop:
	}
	if f.cfg.Trace != nil {
		f.cfg.Trace.Free() // a held loop could not see the shutdown
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	go func() {
		// A second signal means "now": don't make a teacher wait.
		<-sigs
		cancel()
	}()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "serverlab serve: shutdown: %v\n", err)
	}
	if err := <-served; err != nil {
		return fmt.Errorf("%s: %w", f.model, err)
	}
	return reason
}

// openTrace starts the trace channel on descriptor fd: the tracer is off
// until the parent says "start". A broken channel only ends the trace,
// never the server.
func openTrace(fd int, stderr io.Writer) *trace.Tracer {
	tr := trace.New(0)
	ch := os.NewFile(uintptr(fd), "trace")
	go func() {
		defer ch.Close()
		if err := tr.Serve(ch); err != nil {
			fmt.Fprintf(stderr, "serverlab serve: %v (tracing stopped)\n", err)
		}
	}()
	return tr
}
