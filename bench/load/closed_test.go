package load

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"serverlab/bench/internal/benchtest"
)

// The keep-alive clients' event loop (closed.go) against test servers that
// answer in exactly one odd way each: every answer a correct client must
// accept is accepted, and every wrong one is counted as the right kind of
// error, without the loop spinning on a broken server.

func TestClosedLoopAnswers(t *testing.T) {
	big := benchtest.OKResponse(1 << 20)
	cases := []struct {
		name    string
		respond func(string, net.Conn) bool
		kind    ErrorKind // the error expected; numKinds: none
	}{
		{"small", benchtest.Fixed(benchtest.OKResponse(100)), numKinds},
		{"1 MiB body over many reads", benchtest.Fixed(big), numKinds},
		{"head split across writes", func(_ string, c net.Conn) bool {
			r := benchtest.OKResponse(10)
			if _, err := c.Write(r[:20]); err != nil {
				return false
			}
			time.Sleep(2 * time.Millisecond)
			_, err := c.Write(r[20:])
			return err == nil
		}, numKinds},
		{"server closes after each answer", func(_ string, c net.Conn) bool {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
			return false
		}, numKinds},
		{"body runs to EOF", func(_ string, c net.Conn) bool {
			c.Write([]byte("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end"))
			return false
		}, numKinds},
		{"404", benchtest.Fixed([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")), ErrBadStatus},
		{"short body", func(_ string, c net.Conn) bool {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"))
			return false
		}, ErrShortBody},
		{"bytes after the body", benchtest.Fixed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")), ErrBadResponse},
		{"not HTTP", benchtest.Fixed([]byte("hello there\r\n\r\n")), ErrBadResponse},
		{"closed before answering", func(string, net.Conn) bool { return false }, ErrReset},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := benchtest.NewServer(t, tc.respond)
			s, ivs := runLoad(t, Target{Addr: srv.Addr(), Path: "/"}, Mix{Clients: 2}, 400*time.Millisecond)
			// Whatever the server does, two clients have at most two
			// requests out and two connections open: a gauge outside
			// 0..2 was counted up or down twice.
			for _, iv := range ivs {
				if iv.InFlight < 0 || iv.InFlight > 2 || iv.Conns < 0 || iv.Conns > 2 {
					t.Fatalf("at %v: %d in flight on %d connections; want 0 to 2 of each", iv.Elapsed, iv.InFlight, iv.Conns)
				}
			}
			if tc.kind == numKinds {
				if s.Requests < 5 || s.Errors.Total() != 0 {
					t.Fatalf("requests %d, errors %v; want several, none", s.Requests, s.Errors)
				}
				return
			}
			if s.Requests != 0 || s.Errors[tc.kind] == 0 || s.Errors.Total() != s.Errors[tc.kind] {
				t.Fatalf("requests %d, errors %v; want only %s errors", s.Requests, s.Errors, tc.kind)
			}
			// After each failure the next connection waits, 1 ms
			// doubling: two clients cannot fail more than a few
			// dozen times in 400 ms.
			if s.Errors.Total() > 60 {
				t.Errorf("%d errors in 400 ms: the loop does not back off", s.Errors.Total())
			}
		})
	}
}

func TestClosedLoopRefusedBacksOff(t *testing.T) {
	addr := benchtest.UnusedAddr(t)
	s, _ := runLoad(t, Target{Addr: addr, Path: "/"}, Mix{Clients: 3}, 400*time.Millisecond)
	if s.Errors[ErrRefused] == 0 || s.Errors.Total() > 60 || s.Requests != 0 {
		t.Errorf("errors %v, requests %d; want a few refused", s.Errors, s.Requests)
	}
}

func TestClosedLoopThinks(t *testing.T) {
	srv := benchtest.NewServer(t, benchtest.Fixed(benchtest.OKResponse(10)))
	s, _ := runLoad(t, Target{Addr: srv.Addr(), Path: "/"}, Mix{Clients: 1, Think: 50 * time.Millisecond}, 500*time.Millisecond)
	// One client thinking 50 ms after each answer: about ten requests.
	if s.Requests < 4 || s.Requests > 12 || s.Errors.Total() != 0 {
		t.Errorf("%d requests, errors %v; want about 10", s.Requests, s.Errors)
	}
}

func TestClosedLoopTimesOut(t *testing.T) {
	var answered atomic.Int64
	srv := benchtest.NewServer(t, func(path string, c net.Conn) bool {
		time.Sleep(time.Second) // far past the timeout below
		answered.Add(1)
		return false
	})
	l, err := Start(Target{Addr: srv.Addr(), Path: "/"}, Mix{Clients: 2}, Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(450 * time.Millisecond)
	s := l.Stop()
	if s.Errors[ErrTimeout] < 2 || s.Errors.Total() != s.Errors[ErrTimeout] || s.Requests != 0 {
		t.Errorf("errors %v, requests %d; want timeouts only", s.Errors, s.Requests)
	}
}

// TestClosedLoopNewPath changes the path while the clients run: the
// connections stay, and their next requests ask for the new path.
func TestClosedLoopNewPath(t *testing.T) {
	var second atomic.Int64
	srv := benchtest.NewServer(t, func(path string, c net.Conn) bool {
		if path == "/second" {
			second.Add(1)
		}
		_, err := c.Write(benchtest.OKResponse(len(path)))
		return err == nil
	})
	l, err := Start(Target{Addr: srv.Addr(), Path: "/first"}, Mix{Clients: 2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	time.Sleep(100 * time.Millisecond)
	m := l.Mix()
	m.Path = "/second"
	if err := l.Set(m); err != nil {
		t.Fatal(err)
	}
	if !benchtest.WaitFor(5*time.Second, func() bool { return second.Load() > 10 }) {
		t.Fatalf("%d requests for the new path", second.Load())
	}
	if s := l.Stop(); s.Errors.Total() != 0 {
		t.Errorf("errors %v", s.Errors)
	}
}
