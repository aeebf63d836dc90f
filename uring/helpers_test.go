package uring

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"serverlab/internal/modeltest"
	"serverlab/servers"
)

// demoRoot is the demo site, written once for the test binary.
var demoRoot string

func TestMain(m *testing.M) { modeltest.Main(m, &demoRoot) }

// testServer is a uring server running in the test, with its internals
// at hand: the loop's counts may be read once Serve has returned.
type testServer struct {
	*modeltest.Harness
	srv *server
}

type serverOpts struct {
	root  string        // default: the demo site
	delay time.Duration // simulated disk delay
	cfg   func(*servers.Config)
	opt   Options
	tun   tuning
}

// startServer runs a uring server for the test, or skips it with the
// reason io_uring cannot be used here.
func startServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
	root := o.root
	if root == "" {
		root = demoRoot
	}
	ts := &testServer{}
	h := modeltest.Start(t, func(cfg servers.Config) (servers.Server, error) {
		s, err := newServer(cfg, o.opt, o.tun)
		ts.srv = s
		return s, err
	}, root, servers.SiteOptions{DiskDelay: o.delay}, o.cfg)
	ts.Harness = h
	return ts
}

// stop shuts the server down and waits for Serve: after it, the loop's
// fields may be read.
func (ts *testServer) stop() *loop {
	ts.T.Helper()
	ts.Srv.Shutdown(ts.T.Context())
	ts.WaitServe()
	return ts.srv.loop
}

// writeBigFile writes size bytes of pseudo-random data to path and returns
// their sha256.
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
			binary.LittleEndian.PutUint64(block[i:], r.Uint64())
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
