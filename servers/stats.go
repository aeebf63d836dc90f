package servers

import (
	"sync/atomic"
	"time"
)

// Stats are the server-side counters every model updates in the same places,
// so that the dashboard compares like with like. They are atomics because the
// threaded model updates them from many goroutines at once; for the
// single-threaded models an uncontended atomic add costs a few nanoseconds.
type Stats struct {
	start     time.Time
	accepted  atomic.Int64
	open      atomic.Int64
	inFlight  atomic.Int64
	requests  atomic.Int64
	byClass   [6]atomic.Int64 // index 1..5: 1xx..5xx
	bytesSent atomic.Int64
	errors    atomic.Int64
	refused   atomic.Int64
	timeouts  atomic.Int64
}

// NewStats starts the counters at zero, now.
func NewStats() *Stats { return &Stats{start: time.Now()} }

// The counting below is done by Session, in one place for every model, so
// that the dashboard compares like with like. A model counts only what
// happens before a connection has a Session: a connection refused.

// ConnRefused counts a connection turned away because of -max-conns.
func (s *Stats) ConnRefused() { s.refused.Add(1) }

func (s *Stats) connAccepted() {
	s.accepted.Add(1)
	s.open.Add(1)
}

func (s *Stats) connClosed() { s.open.Add(-1) }

// timeout counts a connection closed by a header, idle or write timeout.
func (s *Stats) timeout() { s.timeouts.Add(1) }

// failed counts a failure that is the server's or the network's, not a
// status sent to the client: a reset, a failed write, a file that shrank
// mid-send.
func (s *Stats) failed() { s.errors.Add(1) }

// sent counts bytes written to clients.
func (s *Stats) sent(n int64) { s.bytesSent.Add(n) }

func (s *Stats) requestStarted() {
	s.requests.Add(1)
	s.inFlight.Add(1)
}

// answered counts the status class of the answer decided for a request.
func (s *Stats) answered(status int) {
	if c := status / 100; c >= 1 && c <= 5 {
		s.byClass[c].Add(1)
	}
}

func (s *Stats) requestDone() { s.inFlight.Add(-1) }

// Snapshot is a copy of the counters at one moment, as the dashboard and
// `serverlab bench` read them from a server process (as one JSON line).
type Snapshot struct {
	Model     string `json:"model"`
	UptimeNs  int64  `json:"uptime_ns"`
	Accepted  int64  `json:"accepted"`
	Open      int64  `json:"open"`
	InFlight  int64  `json:"in_flight"`
	Requests  int64  `json:"requests"`
	Status1xx int64  `json:"status_1xx"`
	Status2xx int64  `json:"status_2xx"`
	Status3xx int64  `json:"status_3xx"`
	Status4xx int64  `json:"status_4xx"`
	Status5xx int64  `json:"status_5xx"`
	BytesSent int64  `json:"bytes_sent"`
	Errors    int64  `json:"errors"`
	Refused   int64  `json:"refused"`
	Timeouts  int64  `json:"timeouts"`
}

// Snapshot reads every counter. The counters are read one by one, not
// under a lock, so a snapshot taken under load may be off by a request or
// two between fields; for a dashboard that is the right trade.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{
		UptimeNs:  int64(time.Since(s.start)),
		Accepted:  s.accepted.Load(),
		Open:      s.open.Load(),
		InFlight:  s.inFlight.Load(),
		Requests:  s.requests.Load(),
		Status1xx: s.byClass[1].Load(),
		Status2xx: s.byClass[2].Load(),
		Status3xx: s.byClass[3].Load(),
		Status4xx: s.byClass[4].Load(),
		Status5xx: s.byClass[5].Load(),
		BytesSent: s.bytesSent.Load(),
		Errors:    s.errors.Load(),
		Refused:   s.refused.Load(),
		Timeouts:  s.timeouts.Load(),
	}
}
