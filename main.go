// Command serverlab compares ways to build a server — blocking,
// goroutine-per-connection, an epoll event loop, and the others package
// internal/model names — by running them, loading them and drawing what
// happens.
//
//	serverlab serve -model evloop [-addr 127.0.0.1:8080] [-root DIR]
//	serverlab bench -targets blocking,threaded,evloop -scenario crowd
//	serverlab tui
//
// Run `serverlab help` for the list, or `serverlab CMD -h` for one command.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"serverlab/bench"
	"serverlab/demosite"
	"serverlab/internal/model"
	"serverlab/tui"
)

// command is one subcommand: its name, a one-line summary, and its entry
// point, which gets the arguments after its name and returns the exit code.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run one server model on a loopback address", runServe},
		{"bench", "drive load at servers and compare them (headless)", bench.Main},
		{"tui", "the live dashboard: the servers side by side", tui.Main},
		{"trace", "every step one model takes to answer a few requests", runTrace},
		{"site", "write the built-in demo site into a folder (for nginx and friends)", runSite},
		{"help", "show this list", func([]string, io.Writer, io.Writer) int { return 0 }},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand. Exit codes: 0 success, 1 failure while
// running, 2 a usage error (bad command or flag), as the flag package does.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "serverlab: unknown command %q (try: serverlab help)\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "serverlab: compare server models (%s)\n", strings.Join(model.Names(), ", "))
	fmt.Fprintln(w, "\nusage: serverlab COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-6s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'serverlab COMMAND -h' for a command's flags.")
}

// runSite is `serverlab site DIR`: the demo site, written where another
// server (nginx, say) can serve the very same files.
func runSite(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprintln(stderr, "usage: serverlab site DIR")
		return 2
	}
	if err := demosite.Write(args[0]); err != nil {
		fmt.Fprintf(stderr, "serverlab site: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "demo site written to %s\n", args[0])
	return 0
}
