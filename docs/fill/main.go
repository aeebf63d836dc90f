// Fill makes the docs' generated text from the benchmark data: every
// span that quotes a measured number (see package quote), each scenario's
// figures and results page, and the results index. Run it from the repository root
// (make docs does):
//
//	go run ./docs/fill
//
// A page is written only when its bytes change; a span that cannot be
// filled (a key naming nothing) is an error, and nothing is written.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"serverlab/docs/quote"
)

func main() {
	root := flag.String("root", ".", "repository root (where go.mod is)")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	pages, problems, err := quote.Generate(root)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		var names []string
		for n := range problems {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			for _, p := range problems[n] {
				fmt.Fprintf(os.Stderr, "%s:%s\n", n, p)
			}
		}
		return fmt.Errorf("%d pages have spans that cannot be filled; nothing written", len(problems))
	}
	var names []string
	for n := range pages {
		names = append(names, n)
	}
	sort.Strings(names)
	written := 0
	for _, n := range names {
		path := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("make folder: %w", err)
		}
		changed, err := quote.WriteIfChanged(path, pages[n])
		if err != nil {
			return err
		}
		if changed {
			written++
			fmt.Println("fill: wrote", n)
		}
	}
	fmt.Printf("fill: %d pages, %d written\n", len(pages), written)
	return nil
}
