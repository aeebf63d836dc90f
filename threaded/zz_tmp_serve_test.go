package threaded

import (
	"fmt"
	"os"
	"testing"
	"time"

	"serverlab/blocking"
	"serverlab/servers"
)

func TestZZTmpServe(t *testing.T) {
	model := os.Getenv("TMP_SERVE")
	if model == "" {
		t.Skip()
	}
	site, _ := servers.NewSite(siteDir, servers.SiteOptions{})
	cfg := servers.Config{Addr: "127.0.0.1:0", Site: site, Stats: servers.NewStats()}
	cfg.HeaderTimeout, cfg.IdleTimeout, cfg.WriteTimeout = 10*time.Second, 60*time.Second, 30*time.Second
	var srv servers.Server
	var err error
	switch model {
	case "blocking":
		srv, err = blocking.New(cfg)
	case "osthreads":
		cfg.OSThreads = true
		srv, err = New(cfg)
	default:
		srv, err = New(cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("/tmp/sl/addr", []byte(srv.Addr()), 0o644)
	fmt.Println("listening", srv.Addr())
	go srv.Serve()
	time.Sleep(9 * time.Second)
}
