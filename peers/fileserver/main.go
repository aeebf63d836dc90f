// Command fileserver is a peer for the benchmarks: Go's own net/http
// FileServer over a folder, the baseline the threaded model is compared with.
// Run it with GOMAXPROCS=1 to compare it, like the models, on one core.
//
//	GOMAXPROCS=1 go run ./peers/fileserver -addr 127.0.0.1:8081 -root DIR
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "loopback address to listen on")
	root := flag.String("root", ".", "folder to serve")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fileserver: %v\n", err)
		os.Exit(1)
	}
	// The same one-line announcement as `serverlab serve`, so the same
	// tools can start it and find its port.
	fmt.Printf("net/http listening on http://%s (root %s)\n", ln.Addr(), *root)
	srv := &http.Server{Handler: http.FileServer(http.Dir(*root))}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintf(os.Stderr, "fileserver: %v\n", err)
		os.Exit(1)
	}
}
