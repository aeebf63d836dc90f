package conformance

import (
	"testing"
	"time"
)

// secondClientWait bounds how long a second client may wait while a first
// one holds a keep-alive connection open and idle. A server that serves one
// connection at a time and keeps it open makes the second client wait for
// ever (no variant's idle timeout is under a minute, and blocking has
// none); one that does not answers in milliseconds. The bound sits far from
// both, so that only the first kind fails, however loaded the machine.
const secondClientWait = 5 * time.Second

// testSecondClient is what a browser does to every server: its first
// connection, done with its request, stays open for the next one, while a
// second connection asks for another resource. The second must be answered
// while the first idles.
func (s *testServer) testSecondClient(t *testing.T) {
	if s.serial && !s.closes {
		s.testSecondClientWaits(t)
		return
	}
	first := s.dial(t)
	defer first.Close()
	s.expectServes(t, first, "the first client")
	// The first client now idles: it neither sends nor closes.
	second := s.dial(t)
	defer second.Close()
	begin := time.Now()
	answered := make(chan error, 1)
	go func() {
		if err := second.send([]byte(probe), 0, false); err != nil {
			answered <- err
			return
		}
		r, err := second.read(false)
		if err == nil {
			for _, p := range s.check(ok("hello.txt"), r) {
				t.Errorf("the second client: %s", p)
			}
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("the second client: %v", err)
		}
		t.Logf("the second client was answered in %v", time.Since(begin).Round(time.Microsecond))
	case <-time.After(secondClientWait):
		t.Errorf("the second client was not answered within %v while the first idled on a keep-alive connection", secondClientWait)
		first.Close() // let the server go, so that the test can end
		<-answered
	}
}

// serialWait is how long a second client is watched NOT being answered by
// a one-at-a-time server that keeps its first client's connection open.
// Load can only make an answer later, so a short wait is enough.
const serialWait = 300 * time.Millisecond

// testSecondClientWaits is the same browser against the blocking model with
// -keepalive: the lesson of the crowd scenario. The second client waits as
// long as the first holds its idle connection, and is answered as soon as
// the first leaves.
func (s *testServer) testSecondClientWaits(t *testing.T) {
	first := s.dial(t)
	defer first.Close()
	s.expectServes(t, first, "the first client")
	second := s.dial(t)
	defer second.Close()
	answered := make(chan error, 1)
	go func() {
		if err := second.send([]byte(probe), 0, false); err != nil {
			answered <- err
			return
		}
		r, err := second.read(false)
		if err == nil {
			for _, p := range s.check(ok("hello.txt"), r) {
				t.Errorf("the second client: %s", p)
			}
		}
		answered <- err
	}()
	select {
	case err := <-answered:
		t.Fatalf("the second client was answered (err %v) while the first held its keep-alive connection: this server is not one at a time", err)
	case <-time.After(serialWait):
	}
	first.Close() // the first client leaves: now the server can turn to the second
	select {
	case err := <-answered:
		if err != nil {
			t.Fatalf("the second client, after the first left: %v", err)
		}
	case <-time.After(secondClientWait):
		t.Errorf("the second client was not answered within %v of the first leaving", secondClientWait)
	}
}
