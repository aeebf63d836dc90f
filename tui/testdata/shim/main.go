// Temporary development shim (removed before hand-off): serve + tui.
package main

import (
	"fmt"
	"os"

	"serverlab/tui"
)

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(runServe(os.Args[2:], os.Stdout, os.Stderr))
	case "tui":
		os.Exit(tui.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	fmt.Fprintln(os.Stderr, "unknown command")
	os.Exit(2)
}
