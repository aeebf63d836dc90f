package blocking

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
)

// start runs a blocking server over the demo site, as it runs by default:
// it closes each connection after its answer. edit adjusts its Config.
func start(t *testing.T, edit func(*servers.Config)) *harness {
	t.Helper()
	return startWith(t, Options{}, servers.SiteOptions{}, edit)
}

// startKeepAlive runs one that keeps connections alive (serve -keepalive).
func startKeepAlive(t *testing.T, edit func(*servers.Config)) *harness {
	t.Helper()
	return startWith(t, Options{KeepAlive: true}, servers.SiteOptions{}, edit)
}

// startWith is start with a choice of model and site options (a slow disk).
func startWith(t *testing.T, o Options, opt servers.SiteOptions, edit func(*servers.Config)) *harness {
	t.Helper()
	return modeltest.Start(t, func(cfg servers.Config) (servers.Server, error) { return New(cfg, o) }, siteDir, opt, edit)
}

// want is the exact content of a demo file.
func want(t *testing.T, name string) []byte { return modeltest.Want(t, siteDir, name) }

func checkBody(t *testing.T, name string, resp *http.Response, body []byte) {
	t.Helper()
	modeltest.CheckBody(t, siteDir, name, resp, body)
}
