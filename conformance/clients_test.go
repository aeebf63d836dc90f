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
