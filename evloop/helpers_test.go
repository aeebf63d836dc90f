package evloop

import (
	"bufio"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"serverlab/demosite"
	"serverlab/internal/modeltest"
	"serverlab/servers"
)

// demoRoot is the demo site, written once for the whole test binary: its
// 16 MiB file is worth not rewriting for every test. Tests that change
// files make their own folder.
var demoRoot string

func TestMain(m *testing.M) { modeltest.Main(m, &demoRoot) }

// testServer is an evloop server running in the test, over a real socket.
type testServer struct {
	*server
	stats   *servers.Stats
	served  chan error // Serve's result
	started bool
}

type serverOpts struct {
	root  string        // default: the demo site
	delay time.Duration // simulated disk delay
	// noCache turns the small-file cache off: bodies come from the file.
	noCache bool
	cfg     func(*servers.Config)
	opt     Options // the loop's own knobs
	// noServe makes a server that is listening but not yet serving: the
	// test calls srv.start() itself.
	noServe bool
	// sendBuffer sets SO_SNDBUF on accepted sockets, to force partial writes.
	sendBuffer int
}

// startServer makes and starts a server, and registers its shutdown and
// the leak checks with t.Cleanup: every test that starts a server ends
// with its goroutines and descriptors back to where they were.
func startServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	checkLeaks(t)
	root := o.root
	if root == "" {
		root = demoRoot
	}
	site, err := servers.NewSite(root, servers.SiteOptions{DiskDelay: o.delay, NoCache: o.noCache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats()}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	s, err := New(cfg, o.opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{server: s.(*server), stats: cfg.Stats, served: make(chan error, 1)}
	if o.sendBuffer > 0 {
		ts.sendBuffer = o.sendBuffer
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if ts.started {
			if err := <-ts.served; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
	})
	if !o.noServe {
		ts.start()
	}
	return ts
}

func (ts *testServer) start() {
	ts.started = true
	go func() { ts.served <- ts.Serve() }()
	// Wait until Serve has claimed the server, so that a Shutdown from
	// the test can never race ahead of it.
	for {
		if ts.life.Serving() {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// checkLeaks records the goroutines and open descriptors now and, when the
// test ends, fails if more remain.
func checkLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	before := countFDs(t)
	t.Cleanup(func() {
		goleak.VerifyNone(t, ignore)
		// Descriptors close synchronously, but give a client's last
		// close a moment before we count.
		deadline := time.Now().Add(2 * time.Second)
		for {
			after := countFDs(t)
			if after <= before {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("descriptors leaked: %d open before, %d after", before, after)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitFor polls cond until it holds, or fails the test after a generous
// limit: for effects the server produces asynchronously.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	// A server bug should fail the test, not hang it.
	c.SetDeadline(time.Now().Add(time.Minute))
	t.Cleanup(func() { c.Close() })
	return c
}

func request(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"
}

// readResponse reads one response from br and returns it with its body.
func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}

// demoFiles are the demo site's files with their expected contents.
func demoFile(t *testing.T, name string) []byte {
	t.Helper()
	if size, ok := demosite.Sizes[name]; ok {
		return demosite.Bytes(name, size)
	}
	b, err := os.ReadFile(filepath.Join(demoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeBigFile writes size bytes of pseudo-random data to path and returns
// their sha256, without holding the whole file in memory.
func writeBigFile(t *testing.T, path string, size int) [32]byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	r := rand.New(rand.NewPCG(uint64(size), 7))
	block := make([]byte, 1<<20)
	for done := 0; done < size; done += len(block) {
		for i := 0; i+8 <= len(block); i += 8 {
			v := r.Uint64()
			for j := range 8 {
				block[i+j] = byte(v >> (8 * j))
			}
		}
		n := min(len(block), size-done)
		h.Write(block[:n])
		if _, err := f.Write(block[:n]); err != nil {
			t.Fatal(err)
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}
