package quote

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Quoting are the pages whose spans are filled, as globs from the
// repository root.
var Quoting = []string{"README.md", "docs/README.md", "docs/teaching.md", "docs/lessons/*.md"}

// Checked are the pages whose prose may not type a measured figure (see
// the package doc). Lesson 00 reads code, not runs, and quotes the code's
// constants, so it is not among them.
var Checked = []string{"README.md", "docs/teaching.md", "docs/lessons/0[1-9]-*.md", "docs/lessons/1[0-9]-*.md"}

// Generate makes every generated page from the data under
// root/docs/results: each quoting page with its spans filled, each
// scenario's figures (drawn by bench's report package from the saved
// run) and results page, and the results index. It returns the pages by
// slash path from root, and every problem found, by page.
func Generate(root string) (pages map[string][]byte, problems map[string][]Problem, err error) {
	d, err := Load(filepath.Join(root, "docs", "results"))
	if err != nil {
		return nil, nil, err
	}
	d.ScreensDir = filepath.Join(root, "docs", "lessons", "screens")
	lessons, err := Lessons(filepath.Join(root, "docs", "lessons"))
	if err != nil {
		return nil, nil, err
	}
	pages, problems = map[string][]byte{}, map[string][]Problem{}
	files, err := Glob(root, Quoting)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			return nil, nil, fmt.Errorf("read page: %w", err)
		}
		out, p := d.Fill(src)
		pages[f] = out
		if len(p) > 0 {
			problems[f] = p
		}
	}
	for _, name := range d.Scenarios(lessons) {
		// The figures first: the results page lists what is in the
		// scenario's folder.
		rep, err := d.Report(name)
		if err != nil {
			return nil, nil, err
		}
		figs, names, err := rep.Figures()
		if err != nil {
			return nil, nil, fmt.Errorf("results %s: %w", name, err)
		}
		for _, f := range names {
			pages["docs/results/"+name+"/"+f] = figs[f]
		}
		b, err := d.ResultsPage(name, lessons, names)
		if err != nil {
			return nil, nil, err
		}
		pages["docs/results/"+name+".md"] = b
	}
	pages["docs/results/README.md"] = d.Index(lessons)
	return pages, problems, nil
}

// Glob expands patterns from root into sorted slash paths.
func Glob(root string, patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			rel, err := filepath.Rel(root, f)
			if err != nil {
				return nil, err
			}
			out = append(out, filepath.ToSlash(rel))
		}
	}
	sort.Strings(out)
	return out, nil
}
