// Annotate writes serverlab's annotated-source site: one HTML page per Go
// file of the core and the three models, in the side-by-side style of
// docco, each file's comments rendered as Markdown on the left and its code
// highlighted on the right, plus an index page.
//
// Run it from the repository root (make docs does):
//
//	go run ./docs/annotate -out docs/annotated
//
// The pages are made only from source text, never by hand, and the same
// source always gives the same bytes; annotate_test.go regenerates them and
// fails when the committed ones are stale.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// defaultPkgs are the packages a student reads, in reading order: the
// shared core, the four models, the timer heap and the shutdown phases
// the two event loops share, the socket helper three of them use, the
// trace every model reports its steps to, and the load generator's two
// kinds of client, from which the lessons teach coordinated omission.
// An entry ending in .go is one file of a package.
const defaultPkgs = "servers,blocking,threaded,evloop,uring,internal/timers,internal/shutdown,internal/sock,trace,bench/load/closed.go,bench/load/open.go,bench/load/schedule.go"

func main() {
	out := flag.String("out", "docs/annotated", "folder to write the site into")
	root := flag.String("root", ".", "repository root (where go.mod is)")
	pkgs := flag.String("pkgs", defaultPkgs, "comma-separated package folders, in reading order")
	flag.Parse()
	if err := run(*root, *out, strings.Split(*pkgs, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "annotate:", err)
		os.Exit(1)
	}
}

func run(root, out string, dirs []string) error {
	site, err := build(root, dirs)
	if err != nil {
		return err
	}
	changed, removed, err := write(out, site)
	if err != nil {
		return err
	}
	fmt.Printf("annotate: %d pages in %s (%d written, %d stale removed)\n", len(site), out, changed, removed)
	return nil
}

// write makes the folder out hold exactly the site: it writes the files
// whose bytes differ (so an unchanged page keeps its modification time, and
// make sees nothing to do) and deletes pages left from files that no
// longer exist. Before deleting anything it checks that out is this
// program's folder, so a mistyped -out cannot empty somebody else's.
func write(out string, site map[string][]byte) (changed, removed int, err error) {
	if err := checkOwned(out); err != nil {
		return 0, 0, err
	}
	names := make([]string, 0, len(site))
	for name := range site {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(out, filepath.FromSlash(name))
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, site[name]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return changed, removed, fmt.Errorf("make folder for %s: %w", path, err)
		}
		if err := os.WriteFile(path, site[name], 0o644); err != nil {
			return changed, removed, fmt.Errorf("write page: %w", err)
		}
		changed++
	}

	var stale, dirs []string
	err = filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(out, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
			return nil
		}
		ext := filepath.Ext(path)
		if _, ok := site[filepath.ToSlash(rel)]; !ok && (ext == ".html" || ext == ".css") {
			stale = append(stale, path)
		}
		return nil
	})
	if err != nil {
		return changed, removed, fmt.Errorf("look for stale pages in %s: %w", out, err)
	}
	for _, path := range stale {
		if err := os.Remove(path); err != nil {
			return changed, removed, fmt.Errorf("remove stale page: %w", err)
		}
		removed++
	}
	// Folders of packages that are gone, deepest first; a folder that
	// still holds something is left alone (Remove fails on it).
	for i := len(dirs) - 1; i > 0; i-- {
		if entries, err := os.ReadDir(dirs[i]); err == nil && len(entries) == 0 {
			if err := os.Remove(dirs[i]); err != nil {
				return changed, removed, fmt.Errorf("remove empty folder: %w", err)
			}
		}
	}
	return changed, removed, nil
}

// checkOwned accepts an output folder that does not exist, is empty, or
// has an index.html made by this program.
func checkOwned(out string) error {
	entries, err := os.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read output folder: %w", err)
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil || !bytes.Contains(index, []byte(`<meta name="generator" content="`+generator+`">`)) {
		return fmt.Errorf("%s is not empty and was not made by docs/annotate: refusing to write into it", out)
	}
	return nil
}
