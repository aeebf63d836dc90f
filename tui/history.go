package tui

import "time"

// historyLen is how many intervals each target remembers: at the load
// generator's 250 ms, a little over four minutes, more than the widest
// chart can draw. Memory is fixed at historyLen samples per target.
const historyLen = 1024

// sample is one interval of one target, reduced to what the charts draw.
type sample struct {
	at              time.Time
	answered        bool // any response completed, so p50 and p99 mean something
	p50, p99        time.Duration
	uncorrectedP99  time.Duration
	rps, bps        float64 // requests and bytes per second
	conns, inFlight int
	hasServer       bool
	srvOpen         int64
	srvInFlight     int64
	hasProc         bool
	threads         int
	rss             int64
}

func sampleOf(f Frame) sample {
	s := sample{
		at: f.At, answered: f.Requests > 0,
		p50: f.P50, p99: f.P99, uncorrectedP99: f.UncorrectedP99,
		conns: f.Conns, inFlight: f.InFlight,
		hasServer: f.HasServer, srvOpen: f.ServerOpen, srvInFlight: f.ServerInFlight,
		hasProc: f.HasProc, threads: f.Threads, rss: f.RSS,
	}
	if f.Interval > 0 {
		s.rps = float64(f.Requests) / f.Interval.Seconds()
		s.bps = float64(f.Bytes) / f.Interval.Seconds()
	}
	return s
}

// history is a ring of the last historyLen samples. Pushing never
// allocates once the ring is full, so a dashboard left running all lesson
// long uses the same memory at the end as after five minutes.
type history struct {
	buf   []sample
	start int // index of the oldest sample once the ring is full
}

func (h *history) push(s sample) {
	if h.buf == nil {
		h.buf = make([]sample, 0, historyLen)
	}
	if len(h.buf) < historyLen {
		h.buf = append(h.buf, s)
		return
	}
	h.buf[h.start] = s
	h.start = (h.start + 1) % historyLen
}

func (h *history) len() int { return len(h.buf) }

// last returns the newest n samples (fewer if it has fewer), oldest first.
func (h *history) last(n int) []sample {
	n = min(n, len(h.buf))
	out := make([]sample, n)
	for i := range n {
		out[i] = h.buf[(h.start+len(h.buf)-n+i)%len(h.buf)]
	}
	return out
}

func (h *history) reset() { h.buf, h.start = h.buf[:0], 0 }

// target is everything the dashboard knows about one server.
type target struct {
	name   string
	status Status
	hist   history
	last   Frame // the newest frame, for the numbers panel
	seen   bool  // last holds a real frame

	// Totals since the scenario started or the charts were reset.
	errors     []ErrorCount
	maxLatency time.Duration
	fresh      int // samples pushed since then: the compare row looks no further back
}

func (t *target) add(f Frame) {
	t.hist.push(sampleOf(f))
	t.fresh++
	t.last, t.seen = f, true
	t.maxLatency = max(t.maxLatency, f.Max)
	for _, e := range f.Errors {
		t.addErrors(e)
	}
}

func (t *target) addErrors(e ErrorCount) {
	if e.N == 0 {
		return
	}
	for i := range t.errors {
		if t.errors[i].Kind == e.Kind {
			t.errors[i].N += e.N
			return
		}
	}
	t.errors = append(t.errors, e)
}

func (t *target) errorTotal() int64 {
	var n int64
	for _, e := range t.errors {
		n += e.N
	}
	return n
}

// resetTotals starts the totals afresh, as a new scenario does.
func (t *target) resetTotals() { t.errors, t.maxLatency, t.fresh = nil, 0, 0 }

// reset forgets everything but the name and the state: the "reset
// charts" key.
func (t *target) reset() {
	t.hist.reset()
	t.last, t.seen = Frame{}, false
	t.resetTotals()
}
