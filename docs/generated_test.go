package docs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"serverlab/docs/quote"
)

// TestGeneratedUpToDate makes every generated page again from the data in
// results/ (each lesson's quoted numbers, each results page, the results
// index, the README's figures) and fails on any that differs from the
// committed one: a number in prose that no longer matches the data is a
// failing test. make docs writes them.
func TestGeneratedUpToDate(t *testing.T) {
	stale, err := staleGenerated("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		t.Error(s)
	}
}

// TestNoTypedFigures fails on a measured quantity typed into the prose of
// a lesson, the README or the class plan instead of quoted from the data
// through a span (the rule is in package quote's documentation).
func TestNoTypedFigures(t *testing.T) {
	pages, err := quote.Glob("..", quote.Checked)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 10 {
		t.Fatalf("checked only %d pages: %v", len(pages), pages)
	}
	for _, p := range pages {
		src, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range quote.TypedFigures(src) {
			t.Errorf("%s:%d: %q is a measured figure typed by hand: quote it with <!-- m:KEY -->...<!-- /m --> (see docs/quote)", p, f.Line, f.Text)
		}
	}
}

// TestDriftIsCaught changes one number in one results file, in a copy of
// the docs, and checks that the pages quoting it are then reported stale:
// the check above can fail.
func TestDriftIsCaught(t *testing.T) {
	root := t.TempDir()
	copyTree(t, "..", root, []string{"README.md", "docs/README.md", "docs/teaching.md", "docs/lessons", "docs/results"})
	if stale, err := staleGenerated(root); err != nil || len(stale) > 0 {
		t.Fatalf("the copy is stale before any change (%v): %v", err, stale)
	}
	path := filepath.Join(root, "docs", "results", "crowd.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The first "rps" in the file is the first target's whole-run rate.
	i := bytes.Index(b, []byte(`"rps": `))
	if i < 0 {
		t.Fatal(`no "rps" in crowd.json`)
	}
	i += len(`"rps": `)
	b = append(b[:i:i], append([]byte("1"), b[i:]...)...) // 13249.4 becomes 113249.4
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	stale, err := staleGenerated(root)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(stale, "\n")
	for _, page := range []string{"docs/results/crowd.md", "docs/results/README.md"} {
		if !strings.Contains(joined, page+":") {
			t.Errorf("after changing crowd's first rate, %s is not reported stale; reported:\n%s", page, joined)
		}
	}
}

// staleGenerated lists the generated pages under root that differ from
// what the data makes, and the spans that cannot be filled.
func staleGenerated(root string) ([]string, error) {
	pages, problems, err := quote.Generate(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for name, ps := range problems {
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%s:%s", name, p))
		}
	}
	for name, want := range pages {
		have, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			out = append(out, fmt.Sprintf("%s: missing (make docs writes it): %v", name, err))
			continue
		}
		if line, h, w := firstDiff(have, want); line > 0 {
			out = append(out, fmt.Sprintf("%s:%d: stale, run make docs\n\thave: %s\n\twant: %s", name, line, h, w))
		}
	}
	sort.Strings(out)
	return out, nil
}

// firstDiff finds the first line where have and want differ (0: none).
func firstDiff(have, want []byte) (line int, h, w string) {
	if bytes.Equal(have, want) {
		return 0, "", ""
	}
	hl, wl := strings.Split(string(have), "\n"), strings.Split(string(want), "\n")
	for i := 0; ; i++ {
		var a, b string
		if i < len(hl) {
			a = hl[i]
		}
		if i < len(wl) {
			b = wl[i]
		}
		if a != b || i >= len(hl) || i >= len(wl) {
			return i + 1, a, b
		}
	}
}

// copyTree copies the named files and folders from src to dst.
func copyTree(t *testing.T, src, dst string, names []string) {
	t.Helper()
	for _, n := range names {
		from := filepath.Join(src, filepath.FromSlash(n))
		err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			to := filepath.Join(dst, rel)
			if info.IsDir() {
				return os.MkdirAll(to, 0o755)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return err
			}
			return os.WriteFile(to, b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
