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

// start runs a blocking server over the demo site; edit adjusts its Config.
func start(t *testing.T, edit func(*servers.Config)) *harness {
	t.Helper()
	return startSite(t, servers.SiteOptions{}, edit)
}

// startSite is start with a choice of site options (a slow disk).
func startSite(t *testing.T, opt servers.SiteOptions, edit func(*servers.Config)) *harness {
	t.Helper()
	return modeltest.Start(t, New, siteDir, opt, edit)
}

// want is the exact content of a demo file.
func want(t *testing.T, name string) []byte { return modeltest.Want(t, siteDir, name) }

func checkBody(t *testing.T, name string, resp *http.Response, body []byte) {
	t.Helper()
	modeltest.CheckBody(t, siteDir, name, resp, body)
}
