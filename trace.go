package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"serverlab/bench"
	"serverlab/bench/proc"
	"serverlab/internal/model"
	"serverlab/trace"
)

// traceFlags are the parsed flags of `serverlab trace`.
type traceFlags struct {
	model, scenario, root, path string
	n, c                        int
	json, pipeline, pseudocode  bool
	slow                        bool // one slow client besides (the slow-client scenario)
	close                       bool // a connection per request (the churn scenario)
	serveArgs                   []string
}

func parseTraceFlags(args []string, stdout io.Writer) (*traceFlags, error) {
	f := &traceFlags{}
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.model, "model", "evloop", "server model: "+strings.Join(model.Names(), ", "))
	fs.IntVar(&f.n, "n", 3, "requests to send")
	fs.IntVar(&f.c, "c", 1, "keep-alive connections to send them over (round robin)")
	fs.StringVar(&f.scenario, "scenario", "baseline", "a bench scenario: its file and server flags; slow-client adds a slow client, churn a connection per request")
	fs.BoolVar(&f.json, "json", false, "print each event as one JSON object per line")
	fs.BoolVar(&f.pipeline, "pipeline", false, "send each connection's requests all at once, without waiting for answers")
	fs.BoolVar(&f.pseudocode, "pseudocode", false, "print each event beside the line of lesson 00's loop it carries out")
	fs.StringVar(&f.path, "path", "", "file to ask for (default: the scenario's, or /1k.bin)")
	fs.StringVar(&f.root, "root", "", "folder to serve (default: the built-in demo site)")
	serveArgs := fs.String("serve", "", `more flags for the server, as serve takes them ("-disk-workers 2")`)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "usage: serverlab trace [flags]\n\nStarts one model with tracing on, sends a few requests, and prints every step it takes.")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if !model.Known(f.model) {
		return nil, fmt.Errorf("unknown model %q (want one of %s)", f.model, strings.Join(model.Names(), ", "))
	}
	if f.pseudocode && f.json {
		return nil, errors.New("-pseudocode and -json: choose one")
	}
	if _, ok := pseudocode[f.model]; f.pseudocode && !ok {
		return nil, fmt.Errorf("-pseudocode: lesson 00 has no loop for %s", f.model)
	}
	if f.n < 1 || f.c < 1 || f.c > f.n || f.n > 1000 {
		return nil, errors.New("-n must be 1 to 1000, and -c from 1 to -n")
	}
	sc, ok := bench.ScenarioByName(f.scenario)
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q (see serverlab bench -list)", f.scenario)
	}
	if f.path == "" {
		f.path = sc.Mix.Path
	}
	if f.path == "" {
		f.path = "/1k.bin"
	}
	if !strings.HasPrefix(f.path, "/") {
		return nil, fmt.Errorf("-path %q: want a path beginning with /", f.path)
	}
	f.slow = sc.Mix.Slowloris > 0
	f.close = sc.Mix.Churn > 0 && !f.slow
	f.serveArgs = append(sc.ServerArgs, strings.Fields(*serveArgs)...)
	return f, nil
}

// runTrace is `serverlab trace`: one model started as a child with its trace
// channel open, a handful of requests, and every step the model took to
// answer them, printed as it happens.
func runTrace(args []string, stdout, stderr io.Writer) int {
	f, err := parseTraceFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "serverlab trace: %v\n", err)
		return 2
	}
	if err := traceRun(f, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "serverlab trace: %v\n", err)
		return 1
	}
	return 0
}

func traceRun(f *traceFlags, stdout, stderr io.Writer) error {
	remote, child, err := trace.Pair()
	if err != nil {
		return err
	}
	defer remote.Close()
	spec := proc.Spec{
		Model: f.model, Root: f.root, Stderr: stderr,
		Args:       append(append([]string(nil), f.serveArgs...), "-trace-fd", "4"),
		ExtraFiles: []*os.File{child},
	}
	srv, err := proc.Start(context.Background(), spec)
	child.Close() // the server has its own copy now
	if err != nil {
		return err
	}
	defer srv.Stop(5 * time.Second)

	out := newTracePrinter(stdout, f.json)
	if f.pseudocode {
		out.beside, _ = newBesidePrinter(out.w, f.model) // the flag was checked
	}
	events := make(chan trace.Event, 256)
	go func() {
		defer close(events)
		for {
			ev, err := remote.Next()
			if err != nil {
				return
			}
			events <- ev
		}
	}()
	// Tracing starts before the first connection, and the server says
	// when it has: only then can no step be missed.
	if err := remote.Send(trace.CmdStart); err != nil {
		return fmt.Errorf("start tracing: %w", err)
	}
	if !f.json {
		out.header(f)
	}
	if err := waitOn(events, out); err != nil {
		return err
	}

	cl := &client{addr: srv.Addr(), path: f.path}
	load := make(chan error, 1)
	go func() { load <- cl.drive(f) }()
	conns, closes := 0, 0
	var loadErr error
	loadDone := false
	var quiet <-chan time.Time
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				if crashed, _, why := srv.Crashed(); crashed {
					return errors.New("the server died: " + why)
				}
				return errors.New("the server closed its trace channel early")
			}
			out.print(ev)
			if isClose(ev) {
				closes++
			}
		case loadErr = <-load:
			loadDone, conns = true, int(cl.dials.Load())
			// The clients are done and have closed; the server's last
			// steps (reading EOF, closing) follow at once. Wait for them,
			// but not for ever.
			quiet = time.After(2 * time.Second)
		case <-quiet:
			closes = conns // give up waiting: some close did not come
		}
		if loadDone && closes >= conns {
			break
		}
	}
	out.flush()
	if loadErr != nil {
		return loadErr
	}
	fmt.Fprintf(stderr, "serverlab trace: %d request(s) on %d connection(s) answered; %d events, %d dropped\n",
		f.requests(), conns, out.count, out.dropped)
	return nil
}

// waitOn waits for the server's On event (printing nothing else before it).
func waitOn(events <-chan trace.Event, out *tracePrinter) error {
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return errors.New("trace channel closed before tracing started")
			}
			if ev.Kind == trace.On {
				out.start = ev.Time
				out.print(ev)
				return nil
			}
		case <-deadline:
			return errors.New("the server did not start tracing within 10s")
		}
	}
}

// requests is how many requests the run sends.
func (f *traceFlags) requests() int {
	if f.slow {
		return f.n + 1
	}
	return f.n
}

// isClose reports a server's close of a connection, in any model (for
// io_uring, the completion of its CLOSE request).
func isClose(ev trace.Event) bool {
	if ev.Kind == trace.Ring {
		return ev.Call == "complete" && ev.Conn != 0 && strings.HasPrefix(ev.Text, "CLOSE")
	}
	return ev.Kind == trace.Call && ev.Conn != 0 && (ev.Call == "close" || ev.Call == "conn.Close")
}

// client is the trace's load: a few requests, over connections it counts.
type client struct {
	addr, path string
	dials      atomic.Int64
}

func (cl *client) dial() (net.Conn, error) {
	c, err := net.DialTimeout("tcp4", cl.addr, 5*time.Second)
	if err == nil {
		cl.dials.Add(1)
		c.SetDeadline(time.Now().Add(20 * time.Second))
	}
	return c, err
}

// drive sends the requests: f.n of them over f.c keep-alive connections,
// the i-th on connection i mod c; with a slow client, that one connects
// first and sends its request a few bytes at a time, so that the trace shows
// what a slow client does to the others.
func (cl *client) drive(f *traceFlags) error {
	var wg sync.WaitGroup
	errs := make(chan error, f.n+1)
	if f.slow {
		started := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- cl.slow(started)
		}()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
		}
	}
	per := make([]int, f.c)
	for i := range f.n {
		per[i%f.c]++
	}
	for i := range f.c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f.close {
				for range per[i] {
					errs <- cl.fetch(1, false, true)
				}
				return
			}
			errs <- cl.fetch(per[i], f.pipeline, false)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// request is one GET for path, keep-alive or not.
func request(path string, closeAfter bool) string {
	conn := ""
	if closeAfter {
		conn = "Connection: close\r\n"
	}
	return "GET " + path + " HTTP/1.1\r\nHost: serverlab\r\n" + conn + "\r\n"
}

// fetch sends n requests on one connection, one at a time or pipelined, and
// reads every answer in full. A server that closes the connection after an
// answer (the blocking model's classic loop does) is simply connected to
// again for the requests left.
func (cl *client) fetch(n int, pipeline, closeAfter bool) error {
	for n > 0 {
		answered, err := cl.fetchSome(n, pipeline, closeAfter)
		if err != nil {
			return err
		}
		n -= answered
	}
	return nil
}

// fetchSome is fetch on one connection: it returns how many requests were
// answered before the server closed it, or all n.
func (cl *client) fetchSome(n int, pipeline, closeAfter bool) (int, error) {
	c, err := cl.dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if pipeline {
		if _, err := io.WriteString(c, strings.Repeat(request(cl.path, false), n)); err != nil {
			return 0, err
		}
	}
	for i := range n {
		if !pipeline {
			if _, err := io.WriteString(c, request(cl.path, closeAfter)); err != nil {
				return i, err
			}
		}
		closing, err := readResponse(r)
		if err != nil {
			return i, err
		}
		if closing {
			return i + 1, nil
		}
	}
	return n, nil
}

// slow connects, says so on started, and sends one request four bytes
// every 20 ms: about a fifth of a second for a whole head.
func (cl *client) slow(started chan<- struct{}) error {
	c, err := cl.dial()
	close(started)
	if err != nil {
		return err
	}
	defer c.Close()
	req := request(cl.path, false)
	for i := 0; i < len(req); i += 4 {
		if i > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := io.WriteString(c, req[i:min(i+4, len(req))]); err != nil {
			return err
		}
	}
	_, err = readResponse(bufio.NewReader(c))
	return err
}

// readResponse reads one response: its head, then Content-Length bytes.
// It reports whether the server said it will close the connection.
func readResponse(r *bufio.Reader) (closing bool, err error) {
	status, err := r.ReadString('\n')
	if err != nil {
		return false, fmt.Errorf("read response: %w", err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 ") {
		return false, fmt.Errorf("bad status line %q", status)
	}
	length := int64(0)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false, fmt.Errorf("read response head: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch {
		case strings.EqualFold(k, "Content-Length"):
			length, _ = strconv.ParseInt(v, 10, 64)
		case strings.EqualFold(k, "Connection") && strings.EqualFold(v, "close"):
			closing = true
		}
	}
	if _, err := io.CopyN(io.Discard, r, length); err != nil {
		return false, fmt.Errorf("read response body: %w", err)
	}
	return closing, nil
}

// tracePrinter prints events, readable or as JSON, and counts them.
type tracePrinter struct {
	w              *bufio.Writer
	json           bool
	enc            *json.Encoder
	start          time.Time
	count, dropped int64
	beside         *besidePrinter // -pseudocode
}

func newTracePrinter(w io.Writer, asJSON bool) *tracePrinter {
	bw := bufio.NewWriter(w)
	return &tracePrinter{w: bw, json: asJSON, enc: json.NewEncoder(bw)}
}

func (p *tracePrinter) header(f *traceFlags) {
	how := "one at a time"
	if f.pipeline {
		how = "pipelined"
	}
	extra := ""
	if f.slow {
		extra = ", and one slow client first"
	}
	fmt.Fprintf(p.w, "# serverlab trace: %s serving %d × GET %s over %d connection(s), %s%s\n",
		f.model, f.n, f.path, f.c, how, extra)
	if p.beside != nil {
		p.beside.header(f.model)
		return
	}
	fmt.Fprintf(p.w, "%-11s %-10s %-11s %-52s %s\n", "# time", "turn/tid", "conn", "step → result", "where")
}

func (p *tracePrinter) print(ev trace.Event) {
	p.count++
	if ev.Kind == trace.Drop {
		p.dropped += ev.N
	}
	switch {
	case p.json:
		p.enc.Encode(ev)
	case p.beside != nil:
		p.beside.print(ev, p.start)
	default:
		fmt.Fprintln(p.w, ev.Line(p.start))
	}
	p.w.Flush() // line by line: a reader watching it live sees each step
}

func (p *tracePrinter) flush() { p.w.Flush() }
