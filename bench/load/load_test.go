package load

import (
	"context"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"serverlab/bench/internal/benchtest"
	"serverlab/bench/proc"
)

// The behaviours, each against a real model (the threaded one: it serves
// everyone at once, so only the behaviour under test shapes the numbers).

func TestClosedLoop(t *testing.T) {
	srv := benchtest.StartModel(t, "threaded")
	s, ivs := runLoad(t, TargetOf(srv), Mix{Clients: 4}, 700*time.Millisecond)
	if s.Requests < 20 || s.Errors.Total() != 0 {
		t.Fatalf("requests %d, errors %v; want many, none", s.Requests, s.Errors)
	}
	if s.PeakConns != 4 {
		t.Errorf("peak conns %d, want 4", s.PeakConns)
	}
	// A closed loop sends each request the moment it is due, so the
	// corrected and uncorrected latencies are the very same samples.
	if s.Latency != s.Uncorrected || s.Latency.P50 <= 0 || s.Latency.Max < s.Latency.P99 {
		t.Errorf("latency %+v, uncorrected %+v", s.Latency, s.Uncorrected)
	}
	// Every answer is a head plus the 1 KiB body.
	if s.Bytes < s.Requests*1024 || s.Bytes > s.Requests*1500 {
		t.Errorf("%d bytes for %d requests of /1k.bin", s.Bytes, s.Requests)
	}
	last := ivs[len(ivs)-1]
	if last.Proc == nil || last.Proc.RSS <= 0 || last.Proc.Threads < 1 || last.Proc.PID != srv.PID() {
		t.Errorf("no /proc sample of the server: %+v", last.Proc)
	}
	if last.Server == nil || last.Server.Requests < s.Requests || last.Server.Model != "threaded" {
		t.Errorf("server stats %+v, want at least %d requests", last.Server, s.Requests)
	}
	if s.PeakRSS <= 0 || s.PeakThreads < 1 || s.PeakServerOpen < 4 {
		t.Errorf("server peaks not recorded: %+v", s)
	}
}

func TestChurnOpensAConnectionPerRequest(t *testing.T) {
	srv := benchtest.StartModel(t, "threaded")
	before, err := srv.Stats()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := runLoad(t, TargetOf(srv), Mix{Churn: 2}, 500*time.Millisecond)
	after, err := srv.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests < 10 || s.Errors.Total() != 0 {
		t.Fatalf("requests %d, errors %v", s.Requests, s.Errors)
	}
	if accepted := after.Accepted - before.Accepted; accepted < s.Requests {
		t.Errorf("server accepted %d connections for %d requests; churn must connect for each", accepted, s.Requests)
	}
}

func TestOpenLoopKeepsToTheRate(t *testing.T) {
	srv := benchtest.StartModel(t, "threaded")
	const rate = 400
	s, ivs := runLoad(t, TargetOf(srv), Mix{Rate: Constant(rate), OpenConns: 8}, time.Second)
	if s.Errors.Total() != 0 {
		t.Fatalf("errors %v", s.Errors)
	}
	// A server this idle keeps up easily, so the count is the schedule's.
	if want := rate * s.Active.Seconds(); float64(s.Requests) < 0.6*want || float64(s.Requests) > 1.2*want {
		t.Errorf("%d requests in %v at %d/s; want about %.0f", s.Requests, s.Active, rate, want)
	}
	if ivs[0].TargetRate != rate {
		t.Errorf("interval target rate %g, want %d", ivs[0].TargetRate, rate)
	}
	if s.Latency.P50 <= 0 || s.Uncorrected.P50 <= 0 || s.Uncorrected.P50 > s.Latency.P50 {
		t.Errorf("latency %+v, uncorrected %+v: a request cannot be answered before it was due", s.Latency, s.Uncorrected)
	}
}

func TestSlowReaderKeepsItsPace(t *testing.T) {
	srv := benchtest.StartModel(t, "threaded")
	const rate = 256 << 10
	s, _ := runLoad(t, TargetOf(srv), Mix{SlowReaders: 1, SlowReadRate: rate}, 1200*time.Millisecond)
	if s.Errors.Total() != 0 || s.Requests != 0 {
		t.Fatalf("errors %v, timed requests %d; a slow reader is untimed", s.Errors, s.Requests)
	}
	if s.BytesPerSec < 0.4*rate || s.BytesPerSec > 1.3*rate {
		t.Errorf("read %.0f bytes/s; want about %d", s.BytesPerSec, rate)
	}
	if s.PeakInFlight != 1 || s.PeakConns != 1 {
		t.Errorf("in flight %d, conns %d; want 1 and 1", s.PeakInFlight, s.PeakConns)
	}
}

// TestSlowlorisFreezesTheBlockingServer is the slow-client lesson: while
// the slow client dribbles its request, the blocking server serves nobody,
// and the ordinary client's worst latency is about as long as the dribble.
func TestSlowlorisFreezesTheBlockingServer(t *testing.T) {
	srv := benchtest.StartModel(t, "blocking")
	// About 90 bytes at 10 ms: the server is held for about 0.9 s, and
	// longer on a busy machine, where each 10 ms pause oversleeps. So the
	// load runs until the freeze has shown (or a generous limit), not for
	// a fixed time; and the ordinary client's timeout is well above the
	// freeze: a wait for the slowloris is the lesson, not a failure.
	mix := Mix{Churn: 1, Slowloris: 1, SlowPace: 10 * time.Millisecond, SlowStart: 300 * time.Millisecond}
	l, err := Start(TargetOf(srv), mix, Options{Interval: 100 * time.Millisecond, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	frozen := func() bool {
		s := l.Summary()
		return s.Latency.Max >= 500*time.Millisecond && s.Bytes > s.Requests*1024
	}
	benchtest.WaitFor(20*time.Second, frozen)
	s := l.Stop()
	if s.Requests < 2 || s.Errors.Total() != 0 {
		t.Fatalf("%d requests, errors %v", s.Requests, s.Errors)
	}
	if s.Latency.Max < 500*time.Millisecond {
		t.Errorf("worst latency %v beside a slowloris; the blocking server should have frozen for most of a second", s.Latency.Max)
	}
	if s.Bytes <= s.Requests*1024 {
		t.Errorf("the slowloris received nothing (%d bytes for %d timed requests)", s.Bytes, s.Requests)
	}
}

func TestIdleConnectionsAreHeld(t *testing.T) {
	srv := benchtest.StartModel(t, "threaded")
	l, err := Start(TargetOf(srv), Mix{Idle: 200}, Options{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	serverOpen := func(n int64) func() bool {
		return func() bool {
			st, err := srv.Stats()
			return err == nil && st.Open == n && l.meter.conns.Load() == n
		}
	}
	if !benchtest.WaitFor(10*time.Second, serverOpen(200)) {
		st, _ := srv.Stats()
		t.Fatalf("client holds %d, server has %d open; want 200 both", l.meter.conns.Load(), st.Open)
	}
	// Each was accepted for real: it made one request.
	if st, _ := srv.Stats(); st.Requests < 200 {
		t.Errorf("server answered %d requests for 200 idle connections", st.Requests)
	}
	time.Sleep(150 * time.Millisecond) // for an interval to sample the peak
	m := l.Mix()
	m.Idle = 50
	l.Set(m)
	if !benchtest.WaitFor(5*time.Second, serverOpen(50)) {
		t.Fatalf("after shrinking to 50: client holds %d", l.meter.conns.Load())
	}
	s := l.Stop()
	if s.Errors.Total() != 0 || s.PeakConns != 200 {
		t.Errorf("errors %v, peak conns %d", s.Errors, s.PeakConns)
	}
	if l.meter.conns.Load() != 0 {
		t.Errorf("%d connections still open after Stop", l.meter.conns.Load())
	}
}

// TestIdleConnectionsClosedByServer checks that the pool notices a server
// closing idle connections (its idle timeout), counts it and replaces them.
func TestIdleConnectionsClosedByServer(t *testing.T) {
	srv := benchtest.StartModel(t, "threaded", "-idle-timeout", "150ms")
	s, _ := runLoad(t, TargetOf(srv), Mix{Idle: 20}, 1200*time.Millisecond)
	if s.Errors[ErrReset] < 20 {
		t.Errorf("errors %v; want at least 20 resets (each connection closed by the server's idle timeout)", s.Errors)
	}
	st, err := srv.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Accepted < 40 || st.Timeouts < 20 {
		t.Errorf("server accepted %d and timed out %d; the pool should have replaced the closed ones", st.Accepted, st.Timeouts)
	}
}

func TestLiveKnobs(t *testing.T) {
	srv := benchtest.StartModel(t, "threaded")
	var mu sync.Mutex
	var got []Interval
	l, err := Start(TargetOf(srv), Mix{Clients: 2}, Options{
		Interval: 50 * time.Millisecond,
		OnInterval: func(iv Interval) {
			mu.Lock()
			got = append(got, iv)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	conns := func(n int64) func() bool { return func() bool { return l.meter.conns.Load() == n } }
	if !benchtest.WaitFor(5*time.Second, conns(2)) {
		t.Fatalf("%d conns, want 2", l.meter.conns.Load())
	}
	m := l.Mix()
	m.Clients = 6
	m.Churn = 1
	if err := l.Set(m); err != nil {
		t.Fatal(err)
	}
	if !benchtest.WaitFor(5*time.Second, func() bool { return l.meter.conns.Load() >= 6 }) {
		t.Fatalf("%d conns after Set(6 clients), want 6 or 7", l.meter.conns.Load())
	}
	l.Pause()
	if !l.Paused() || !benchtest.WaitFor(5*time.Second, conns(0)) {
		t.Fatalf("paused: %v, %d conns", l.Paused(), l.meter.conns.Load())
	}
	// The intervals that begin once every client has gone are marked
	// paused and hold nothing. Wait for one by its start, not by the
	// clock: a busy machine can hold the sampler back past any sleep.
	quiet := time.Now()
	var iv Interval
	if !benchtest.WaitFor(5*time.Second, func() bool { iv, _ = l.last(); return iv.Start.After(quiet) }) {
		t.Fatalf("no interval began within 5s of the pause; the last: %+v", iv)
	}
	if !iv.Paused || iv.Requests != 0 {
		t.Errorf("latest interval while paused: %+v", iv)
	}
	l.resetTotals()
	if s := l.Summary(); s.Requests != 0 {
		t.Errorf("%d requests after ResetTotals", s.Requests)
	}
	l.Resume()
	if !benchtest.WaitFor(5*time.Second, func() bool { return l.meter.conns.Load() >= 6 }) {
		t.Fatalf("%d conns after Resume, want 6 or 7", l.meter.conns.Load())
	}
	if err := l.Set(Mix{Clients: -1}); err == nil {
		t.Error("Set accepted a negative count")
	}
	if !benchtest.WaitFor(5*time.Second, func() bool { return l.Summary().Requests > 0 }) {
		t.Errorf("no request answered within 5s of Resume")
	}
	s := l.Stop()
	if s.Requests == 0 || s.Errors.Total() != 0 {
		t.Errorf("after resume: %v", s)
	}
	// Every interval reached OnInterval, in order and without a gap: at
	// least the one the pause fell in, the one begun after it, and the
	// last, taken by Stop.
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 3 {
		t.Errorf("only %d intervals delivered", len(got))
	}
	for i := 1; i < len(got); i++ {
		if !got[i].Start.Equal(got[i-1].End) {
			t.Errorf("interval %d starts at %v, the one before ended at %v", i, got[i].Start, got[i-1].End)
		}
	}
	if again := l.Stop(); again != s {
		t.Error("a second Stop returned another summary")
	}
}

// TestStallClosedVersusOpen is the lesson of coordinated omission, on a
// test server that freezes once for one second. The closed loop waits with
// the server, so only its few requests in flight see the stall and its p90
// stays small; the open loop keeps requests falling due during the freeze,
// and counted from when they were due, a good share of them waited most of
// that second. Its uncorrected latency, counted from when each was sent,
// hides the stall as the closed loop does.
func TestStallClosedVersusOpen(t *testing.T) {
	run := func(mix Mix) Summary {
		var frozen atomic.Bool
		start := time.Now()
		resp := benchtest.OKResponse(64)
		srv := benchtest.NewServer(t, func(_ string, c net.Conn) bool {
			if time.Since(start) > 500*time.Millisecond && frozen.CompareAndSwap(false, true) {
				time.Sleep(time.Second)
			}
			_, err := c.Write(resp)
			return err == nil
		})
		// One connection, so that the stall holds every request up.
		s, _ := runLoad(t, Target{Addr: srv.Addr(), Path: "/"}, mix, 2500*time.Millisecond)
		if !frozen.Load() || s.Errors.Total() != 0 {
			t.Fatalf("stall not reached or errors: %v", s.Errors)
		}
		return s
	}
	closed := run(Mix{Clients: 1})
	open := run(Mix{Rate: Constant(500), OpenConns: 1})

	t.Logf("closed: p90 %v max %v (%d requests)", closed.Latency.P90, closed.Latency.Max, closed.Requests)
	t.Logf("open:   p90 %v max %v, uncorrected p90 %v (%d requests)", open.Latency.P90, open.Latency.Max, open.Uncorrected.P90, open.Requests)
	if closed.Latency.Max < 900*time.Millisecond || open.Latency.Max < 900*time.Millisecond {
		t.Errorf("both loops should see the 1 s stall at least once (max %v, %v)", closed.Latency.Max, open.Latency.Max)
	}
	if closed.Latency.P90 > 100*time.Millisecond {
		t.Errorf("closed-loop p90 %v: the closed loop should hide the stall", closed.Latency.P90)
	}
	// About 500 of some 1,250 requests fell due during the second of
	// stall, so the corrected p90 is most of a second.
	if open.Latency.P90 < 300*time.Millisecond {
		t.Errorf("open-loop p90 %v: the open loop should show the stall", open.Latency.P90)
	}
	if open.Uncorrected.P90 > 100*time.Millisecond {
		t.Errorf("open-loop uncorrected p90 %v: measured from sending, the stall should hide", open.Uncorrected.P90)
	}
	if open.PeakBacklog < 100 {
		t.Errorf("peak backlog %d; some 500 requests fell due during the stall", open.PeakBacklog)
	}
}

func TestSendToNeverBlocks(t *testing.T) {
	ch := make(chan Interval, 1)
	send := sendTo(ch)
	send(Interval{Requests: 1})
	send(Interval{Requests: 2}) // full: dropped, not waited for
	if iv := <-ch; iv.Requests != 1 {
		t.Errorf("got interval %d, want the first", iv.Requests)
	}
	select {
	case iv := <-ch:
		t.Errorf("a second interval %d was queued in a full channel", iv.Requests)
	default:
	}
}

// TestStopLeavesNothing runs every behaviour at once and checks that Stop
// leaves no goroutine and no socket behind.
func TestStopLeavesNothing(t *testing.T) {
	srv := benchtest.StartModel(t, "threaded")
	opts := goleak.IgnoreCurrent()
	fds := openFDs(t)
	mix := Mix{Clients: 2, Churn: 1, Rate: Constant(200), OpenConns: 2, Slowloris: 1,
		SlowReaders: 1, SlowReadRate: 64 << 10, Idle: 20}
	s, _ := runLoad(t, TargetOf(srv), mix, 600*time.Millisecond)
	if s.Requests == 0 || s.Errors.Total() != 0 || s.PeakConns < 20 {
		t.Errorf("summary %v, peak conns %d", s, s.PeakConns)
	}
	goleak.VerifyNone(t, opts)
	if after := openFDs(t); after > fds {
		t.Errorf("%d descriptors open after Stop, %d before", after, fds)
	}
}

// openFDs is how many descriptors this process has open, from /proc.
func openFDs(t *testing.T) int {
	t.Helper()
	s, err := proc.SampleOf(os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	return s.FDs
}

// TestTargetOfCommand loads a server started by command line, as one
// would nginx: it is sampled from /proc, with its children, and has no
// stats channel.
func TestTargetOfCommand(t *testing.T) {
	addr := benchtest.UnusedAddr(t)
	s, err := proc.StartCommand(context.Background(), []string{benchtest.Binary(t), "serve", "-model", "threaded", "-addr", addr}, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(5 * time.Second)
	tg := TargetOf(s)
	if tg.Addr != addr || !tg.Tree || tg.Stats != nil || tg.PID != s.PID() {
		t.Errorf("target %+v", tg)
	}
	sum, ivs := runLoad(t, tg, Mix{Clients: 2}, 300*time.Millisecond)
	if sum.Requests == 0 || ivs[len(ivs)-1].Proc == nil || ivs[len(ivs)-1].Server != nil {
		t.Errorf("summary %v; last interval proc %v server %v", sum, ivs[len(ivs)-1].Proc, ivs[len(ivs)-1].Server)
	}
}
