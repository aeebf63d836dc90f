package bench

import (
	"serverlab/bench/load"

	"slices"
	"time"
)

// Scenario is a named load, composed of the behaviours in a Mix, with what
// it is meant to show. The dashboard offers the same list, and the lessons
// quote the same texts, so a scenario means the same thing everywhere.
type Scenario struct {
	Name string
	// Title is a few words for menus: "100 keep-alive clients".
	Title string
	// About is a paragraph: what the load is and what it shows.
	About string
	// Watch is one or two sentences on what to look at while it runs,
	// for the dashboard's lesson line.
	Watch string
	// Mix is the load. A Ramp whose Over is 0 spans the whole run
	// (see ForDuration).
	Mix load.Mix
	// ServerArgs are serve flags the models are started with.
	ServerArgs []string
}

// ForDuration returns the scenario's mix for a run of length d: a ramp
// with no length of its own is stretched over d.
func (s Scenario) ForDuration(d time.Duration) load.Mix {
	m := s.Mix
	if r, ok := m.Rate.(load.Ramp); ok && r.Over == 0 {
		r.Over = d
		m.Rate = r
	}
	return m
}

// Each scenario has an ordinary kind of client and a slow kind, and the
// knobs that turn "more clients" and "more slow clients" turn whichever
// kind the scenario uses: the dashboard's keys and bench's -c and -rate
// follow the same rules, written here once.

// churns reports whether the scenario's ordinary clients open a connection
// per request (churn) rather than keeping one alive.
func (s Scenario) churns() bool { return s.Mix.Clients == 0 && s.Mix.Churn > 0 }

// readsSlowly reports whether its slow clients are slow readers rather
// than slow senders (slowloris).
func (s Scenario) readsSlowly() bool { return s.Mix.Slowloris == 0 && s.Mix.SlowReaders > 0 }

// rampTo moves a ramp's top to top, keeping its foot at most a tenth of
// it, so that a ramp turned down still starts below where it ends.
func rampTo(r load.Ramp, top float64) load.Ramp {
	r.From = min(r.From, top/10)
	r.To = top
	return r
}

// WithClients sets the scenario's main client count, as `bench -c` does:
// the keep-alive clients if it has any, else the churn clients; and the
// open loop's connections.
func (s Scenario) WithClients(n int) Scenario {
	switch {
	case s.churns():
		s.Mix.Churn = n
	case s.Mix.Clients > 0 || s.Mix.Rate == nil:
		s.Mix.Clients = n
	}
	if s.Mix.Rate != nil {
		s.Mix.OpenConns = n
	}
	return s
}

// WithRate sets the open-loop rate, as `bench -rate` does: the top of a
// ramp, or a constant rate (turning a closed-loop scenario into an open
// loop over its clients' count of connections).
func (s Scenario) WithRate(r float64) Scenario {
	switch old := s.Mix.Rate.(type) {
	case load.Ramp:
		s.Mix.Rate = rampTo(old, r)
	default:
		s.Mix.Rate = load.Constant(r)
		if s.Mix.OpenConns == 0 && s.Mix.Clients > 0 {
			s.Mix.OpenConns = s.Mix.Clients
		}
		s.Mix.Clients = 0
	}
	return s
}

// Knobs are the few numbers a teacher turns while a scenario runs (the
// dashboard's keys). Clients and Slow count the scenario's own kinds of
// ordinary and slow client; Rate is the open loop's requests/s, 0 for none,
// and with Ramp the top of a ramp rather than a steady rate.
type Knobs struct {
	Clients int
	Slow    int
	Idle    int
	Rate    float64
	Ramp    bool
}

// Knobs reads the scenario's mix as knobs.
func (s Scenario) Knobs() Knobs {
	m := s.Mix
	k := Knobs{Clients: m.Clients, Slow: m.Slowloris, Idle: m.Idle}
	if s.churns() {
		k.Clients = m.Churn
	}
	if s.readsSlowly() {
		k.Slow = m.SlowReaders
	}
	switch r := m.Rate.(type) {
	case load.Constant:
		k.Rate = float64(r)
	case load.Ramp:
		k.Rate, k.Ramp = r.To, true
	case load.Steps:
		if len(r) > 0 {
			k.Rate = r[len(r)-1].Rate
		}
	}
	return k
}

// Turned is the scenario's mix, for a run of length d (see ForDuration),
// with the knobs turned to k. Unlike -rate, a rate turned up on a
// closed-loop scenario adds an open loop beside its clients: on the
// dashboard the two knobs are separate. The scenario's own knobs give back
// its own mix.
func (s Scenario) Turned(k Knobs, d time.Duration) load.Mix {
	m := s.ForDuration(d)
	if s.churns() {
		m.Churn = k.Clients
	} else {
		m.Clients = k.Clients
	}
	if s.readsSlowly() {
		m.SlowReaders = k.Slow
	} else {
		m.Slowloris = k.Slow
	}
	m.Idle = k.Idle
	if r, ok := m.Rate.(load.Ramp); ok && k.Rate > 0 {
		m.Rate = rampTo(r, k.Rate)
	} else if k.Rate > 0 {
		m.Rate = load.Constant(k.Rate)
	} else {
		m.Rate = nil
	}
	return m
}

// slowStart is when slow clients and readers join in the scenarios: late
// enough that a figure shows the time before them, early enough that most
// of a 10-second run shows their effect.
const slowStart = 2 * time.Second

// scenarios is the fixed list; Scenarios returns copies, so nobody can
// change it.
var scenarios = []Scenario{
	{
		Name:  "baseline",
		Title: "one keep-alive client",
		About: "One client, one keep-alive connection, one request at a time for a 1 KiB file. " +
			"Nothing waits for anything but the server itself, so this is the best latency each model can give " +
			"and the fixed cost of one request: parsing, a file lookup, two writes. " +
			"The three models should be close; where they differ, it is the cost of their machinery (a goroutine switch, an epoll_wait) and not of their design.",
		Watch: "All three should be close: with one client there is nothing to wait for but the work itself.",
		Mix:   load.Mix{Clients: 1},
	},
	{
		Name:  "crowd",
		Title: "100 keep-alive clients",
		About: "A hundred clients on keep-alive connections, each sending its next request as soon as the last is answered. " +
			"The blocking server answers one request and closes its connection, as the classic loop does, so every request costs it a new connection and the hundred take turns in its accept queue " +
			"(started with -keepalive, it would serve one connection until it closes, and ninety-nine clients would wait until they time out: lesson 02, exercise 2). " +
			"The goroutine-per-connection and event-loop servers keep all hundred connections open and share the core among them; " +
			"their latency is the time a request waits its turn.",
		Watch: "The blocking server serves one connection at a time and a new one for every request; the other two keep all hundred open and share the CPU among them.",
		Mix:   load.Mix{Clients: 100},
	},
	{
		Name:  "slow-client",
		Title: "one slowloris beside 20 clients",
		About: "Twenty ordinary clients, each opening a connection per request, and after two seconds one slow client that sends each request a byte every 10 ms, about a second per request, then reconnects and does it again. " +
			"Everyone reconnects so that even a one-at-a-time server takes turns among them, and only the slow client can hold it up. " +
			"The blocking server waits for the slow request's last byte, and for that second nobody else is served; " +
			"the threaded server parks one goroutine, and the event loop keeps one small buffer and goes on with the other sockets.",
		Watch: "When the slow client arrives, the blocking server's latency jumps to about a second each time its turn comes; the other two do not notice.",
		Mix:   load.Mix{Churn: 20, Slowloris: 1, SlowStart: slowStart},
	},
	{
		Name:  "c10k",
		Title: "10,000 idle connections beside 20 clients",
		About: "Ten thousand connections that make one request each and then sit idle, beside twenty active keep-alive clients: the C10K problem. " +
			"Idle connections cost no CPU, but each costs a server what it keeps per connection: " +
			"a thread with its stack (the OS-thread variant), a goroutine with its stack and buffers (threaded), or an entry in an epoll set and a small struct (evloop). " +
			"The blocking server holds one connection at a time and closes it after each answer, so the ten thousand cannot stay open on it at all. " +
			"Watch the server's memory and threads against connections open, and whether the active clients' latency holds.",
		Watch: "Memory grows with connections for the threaded server (and threads, with -osthreads); the event loop's stays low. The blocking server holds one connection at a time, so the idle ten thousand cannot stay open on it.",
		Mix:   load.Mix{Clients: 20, Idle: 10000},
	},
	{
		Name:  "big-files",
		Title: "8 clients fetching 1 MiB",
		About: "Eight keep-alive clients fetching a 1 MiB file over and over. " +
			"Now the work is moving bytes, not parsing requests: the server's cost is in its writes, and sendfile(2), which copies from the page cache to the socket inside the kernel, pays off. " +
			"Compare bytes per second; the models should be close, since all three lean on the same kernel machinery once a response is under way.",
		Watch: "Throughput in bytes/s: all three models move data with the same kernel calls, so they should be close.",
		Mix:   load.Mix{Clients: 8, Path: "/1m.bin"},
	},
	{
		Name:  "slow-reader",
		Title: "a slow reader beside 20 clients",
		About: "Twenty ordinary clients, each opening a connection per request, and after two seconds one client that downloads a 16 MiB file at 4 MiB/s through a small receive window, over and over. " +
			"The server's writes to the slow reader fill the socket buffers (Linux grows a TCP send buffer by itself up to the last number of net.ipv4.tcp_wmem, 4 MiB by default, which is why the file must be bigger than that) and then must wait. " +
			"The blocking server waits inside sendfile(2) and serves nobody else until the reader has nearly the whole file, about three seconds each time; " +
			"the threaded server parks the reader's goroutine, and the event loop simply stops writing to that socket until epoll says it can take more.",
		Watch: "The blocking server stalls for seconds whenever it serves the slow reader; the other two keep serving everyone else.",
		Mix:   load.Mix{Churn: 20, SlowReaders: 1, SlowReadPath: "/16m.bin", SlowReadRate: 4 << 20, SlowStart: slowStart},
	},
	{
		Name:  "churn",
		Title: "20 clients, a new connection per request",
		About: "Twenty clients that open a new connection for every request and ask the server to close it after the answer. " +
			"Each request now pays for a TCP handshake, an accept, and the set-up and tear-down of the server's per-connection state: " +
			"a goroutine, a thread (with -osthreads, the most expensive), or a registration in epoll. " +
			"Compare with crowd and baseline to see what keep-alive saves.",
		Watch: "Throughput falls compared with keep-alive for every model; the costlier a model's per-connection set-up, the more.",
		Mix:   load.Mix{Churn: 20},
	},
	{
		Name:  "overload",
		Title: "open loop ramping past capacity",
		About: "Requests arrive on a schedule, not when the last answer comes: from 1,000 per second rising steadily to 60,000 over the run, on 100 connections. " +
			"While the server keeps up, latency stays flat; past its capacity, requests queue and latency measured from when each was due climbs without bound, " +
			"while the uncorrected latency, measured from when it could finally be sent, hardly moves. " +
			"That gap is coordinated omission, the error a closed-loop benchmark makes; the point where the curve bends is the server's capacity.",
		Watch: "Latency is flat until the rate passes what the server can do, then climbs steeply; the uncorrected latency hides it.",
		Mix:   load.Mix{Rate: load.Ramp{From: 1000, To: 60000}, OpenConns: 100},
	},
	{
		Name:  "slow-disk",
		Title: "20 clients, 5 ms per disk read",
		About: "Twenty keep-alive clients, with every model started with a simulated 5 ms delay on every read of file data (serve -disk-delay 5ms), as if the files were on a slow disk. " +
			"The threaded server overlaps the waits, one goroutine each; an event loop that reads files itself is blocked for every read, so it serves one request at a time like the blocking server, " +
			"unless reads are handed to worker threads (serve -disk-workers 4), which is why real event loops have thread pools for files.",
		Watch:      "The event loop without disk workers drops to the blocking server's pace; the threaded server overlaps the disk waits.",
		Mix:        load.Mix{Clients: 20},
		ServerArgs: []string{"-disk-delay", "5ms"},
	},
}

// Scenarios lists the named scenarios, in the order menus show them.
func Scenarios() []Scenario {
	out := slices.Clone(scenarios)
	for i := range out {
		out[i].ServerArgs = slices.Clone(out[i].ServerArgs)
	}
	return out
}

// ScenarioNames lists the scenarios' names, in menu order, for help texts
// and error messages.
func ScenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.Name
	}
	return names
}

// ScenarioByName finds a scenario by its name.
func ScenarioByName(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}
