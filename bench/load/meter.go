package load

import (
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to a minute, with three
// significant digits: a 37.2 µs answer and a 1.23 s one are both kept to
// 0.1%, in about 130 KiB per histogram. HDR histograms keep that precision
// at every scale, which is what makes a p99.9 trustworthy; a plain average
// or a fixed-width histogram would blur exactly the tail we want to see.
const (
	histMin    = 1
	histMax    = int64(time.Minute / time.Microsecond)
	histDigits = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histDigits) }

// meter is where the clients of one load record what happened to each
// request. Clients call it from many goroutines; once per interval the
// load's sampler swaps the window it records into for a fresh one and
// reads the old one at leisure, so recording is a short critical section
// (two histogram increments and three additions) and never waits on the
// reader's arithmetic. HdrHistogram's own "interval recorder" works the
// same way.
type meter struct {
	mu  sync.Mutex
	cur *window

	// Gauges, read at the end of each interval.
	conns    atomic.Int64 // connections open
	inFlight atomic.Int64 // requests sent and not yet answered
}

// window is what the meter gathers over one interval.
type window struct {
	lat      *hdrhistogram.Histogram // from when each request was due
	raw      *hdrhistogram.Histogram // from when it was actually sent
	requests int64
	bytes    int64
	errors   Errors
}

func newWindow() *window { return &window{lat: newHist(), raw: newHist()} }

func (w *window) reset() {
	w.lat.Reset()
	w.raw.Reset()
	w.requests, w.bytes, w.errors = 0, 0, Errors{}
}

func newMeter() *meter { return &meter{cur: newWindow()} }

// record counts one correct answer of n bytes to a request that was due at
// due, went out at sent and was answered completely at end. A closed-loop
// client sends as soon as it is due, so for it due == sent; an open-loop
// client may send late, and the difference is the queueing that
// coordinated omission hides.
func (m *meter) record(due, sent, end time.Time, n int64) {
	lat, raw := micros(end.Sub(due)), micros(end.Sub(sent))
	m.mu.Lock()
	m.cur.lat.RecordValue(lat)
	m.cur.raw.RecordValue(raw)
	m.cur.requests++
	m.cur.bytes += n
	m.mu.Unlock()
}

// fail counts one failed request.
func (m *meter) fail(k ErrorKind) {
	m.mu.Lock()
	m.cur.errors[k]++
	m.mu.Unlock()
}

// received counts n bytes that are not part of a timed request, such as a
// slow reader's body: they count in bytes/s but not in requests/s.
func (m *meter) received(n int64) {
	m.mu.Lock()
	m.cur.bytes += n
	m.mu.Unlock()
}

// swap hands the window recorded so far to the caller and starts recording
// into fresh, which must be empty.
func (m *meter) swap(fresh *window) *window {
	m.mu.Lock()
	old := m.cur
	m.cur = fresh
	m.mu.Unlock()
	return old
}

// micros converts to whole microseconds, rounding up so that a 300 ns
// answer is not recorded as zero, and clamped to the histogram's range.
func micros(d time.Duration) int64 {
	us := int64((d + time.Microsecond - 1) / time.Microsecond)
	return max(histMin, min(us, histMax))
}

// Latency is a latency distribution read from an HDR histogram.
type Latency struct {
	P50, P90, P99, P999, Max time.Duration
	// Count is how many requests the distribution holds.
	Count int64
}

var quantiles = []float64{50, 90, 99, 99.9}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	v := h.ValueAtPercentiles(quantiles)
	us := func(x int64) time.Duration { return time.Duration(x) * time.Microsecond }
	return Latency{
		P50: us(v[50]), P90: us(v[90]), P99: us(v[99]), P999: us(v[99.9]),
		Max:   us(h.Max()),
		Count: h.TotalCount(),
	}
}
