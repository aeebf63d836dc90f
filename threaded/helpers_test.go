package threaded

import (
	"net/http"
	"testing"

	"serverlab/internal/modeltest"
	"serverlab/servers"
)

// siteDir is the demo site every test serves, written once for the package.
var siteDir string

func TestMain(m *testing.M) { modeltest.Main(m, &siteDir) }

// The shared test bench (internal/modeltest), under short local names.
type (
	harness = modeltest.Harness
	client  = modeltest.Client
)

var (
	eventually = modeltest.Eventually
	dial       = modeltest.Dial
	get        = modeltest.Get
	rawSocket  = modeltest.RawSocket
	connectRaw = modeltest.ConnectRaw
	readRaw    = modeltest.ReadRaw
	cpuTime    = modeltest.CPUTime
	newReader  = modeltest.NewReader
)

// variants are the two ways this model can run; most tests run on both.
var variants = []struct {
	name      string
	osThreads bool
}{{"goroutines", false}, {"osthreads", true}}

// forEachVariant runs test once per variant, as subtests.
func forEachVariant(t *testing.T, test func(t *testing.T, osThreads bool)) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) { test(t, v.osThreads) })
	}
}

// start runs a threaded server (goroutines) over the demo site; edit
// adjusts its Config. The server is shut down when the test ends, and must
// have stopped cleanly.
func start(t *testing.T, edit func(*servers.Config)) *harness {
	t.Helper()
	return startSite(t, false, servers.SiteOptions{}, edit)
}

// startSite is start with a choice of variant and site options (a slow disk).
func startSite(t *testing.T, osThreads bool, opt servers.SiteOptions, edit func(*servers.Config)) *harness {
	t.Helper()
	newServer := func(cfg servers.Config) (servers.Server, error) { return New(cfg, Options{OSThreads: osThreads}) }
	return modeltest.Start(t, newServer, siteDir, opt, edit)
}

// want is the exact content of a demo file.
func want(t *testing.T, name string) []byte { return modeltest.Want(t, siteDir, name) }

func checkBody(t *testing.T, name string, resp *http.Response, body []byte) {
	t.Helper()
	modeltest.CheckBody(t, siteDir, name, resp, body)
}
