package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// repoRoot is where go.mod is, seen from this package's folder (go test
// runs in the package's folder).
const repoRoot = "../.."

// snapshot is a copy of the packages' source taken when the tests start,
// and snapshotSite the site built from it. The packages are edited by
// other people while these tests run, so tests that compare a page with
// its source, or one build with another, use the copy. Both are set once,
// in TestMain, and only read afterwards.
var (
	snapshot     string
	snapshotSite map[string][]byte
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "annotate-snapshot")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	snapshot = dir
	if err := copySource(repoRoot, dir, strings.Split(defaultPkgs, ",")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	snapshotSite, err = build(dir, strings.Split(defaultPkgs, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// copySource copies go.mod, the lessons (the index lists them) and the
// .go files of dirs from root to dst.
func copySource(root, dst string, dirs []string) error {
	names := []string{"go.mod"}
	lessons, err := filepath.Glob(filepath.Join(root, "docs", "lessons", "*.md"))
	if err != nil {
		return err
	}
	for _, f := range lessons {
		r, err := filepath.Rel(root, f)
		if err != nil {
			return err
		}
		names = append(names, r)
	}
	for _, d := range dirs {
		pattern := filepath.Join(root, d, "*.go")
		if strings.HasSuffix(d, ".go") {
			// One file of a package, and the doc.go its index entry
			// is introduced by.
			pattern = filepath.Join(root, d)
			names = append(names, filepath.Join(filepath.Dir(d), "doc.go"))
		}
		found, err := filepath.Glob(pattern)
		if err != nil {
			return err
		}
		for _, f := range found {
			r, err := filepath.Rel(root, f)
			if err != nil {
				return err
			}
			names = append(names, r)
		}
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue // deleted by its author a moment ago
		}
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
	}
	return nil
}

// TestPagesUpToDate regenerates the site and compares it byte for byte
// with the committed docs/annotated: the pages must never be edited by
// hand, nor left behind when the source changes.
func TestPagesUpToDate(t *testing.T) {
	tmp := t.TempDir()
	want, err := build(repoRoot, strings.Split(defaultPkgs, ","))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := write(tmp, want); err != nil {
		t.Fatal(err)
	}
	fresh := readTree(t, tmp)
	committed := readTree(t, filepath.Join(repoRoot, "docs", "annotated"))

	var problems []string
	for _, name := range sortedKeys(fresh) {
		old, ok := committed[name]
		switch {
		case !ok:
			problems = append(problems, "missing: "+name)
		case !bytes.Equal(old, fresh[name]):
			problems = append(problems, "stale:   "+name)
		}
	}
	for _, name := range sortedKeys(committed) {
		if _, ok := fresh[name]; !ok {
			problems = append(problems, "extra:   "+name)
		}
	}
	if len(problems) > 0 {
		t.Errorf("docs/annotated does not match the source; run make docs (go run ./docs/annotate -out docs/annotated) from the repository root:\n  %s",
			strings.Join(problems, "\n  "))
	}
}

// TestDeterministic builds the site twice from one snapshot of the
// source: any map-order or clock leak would make the staleness test flaky.
func TestDeterministic(t *testing.T) {
	again, err := build(snapshot, strings.Split(defaultPkgs, ","))
	if err != nil {
		t.Fatal(err)
	}
	if len(snapshotSite) < 3 || len(snapshotSite) != len(again) {
		t.Fatalf("two builds made %d and %d files", len(snapshotSite), len(again))
	}
	for name, page := range snapshotSite {
		if !bytes.Equal(page, again[name]) {
			t.Errorf("%s differs between two builds", name)
		}
	}
}

func TestSections(t *testing.T) {
	type sec struct {
		doc      string
		inner    bool
		from, to int
	}
	tests := []struct {
		name string
		src  string
		want []sec
	}{
		{
			name: "package doc, then a declaration's doc",
			src:  "// Package p teaches.\npackage p\n\n// F does it.\nfunc F() {}\n",
			want: []sec{
				{"Package p teaches.", false, 2, 4},
				{"F does it.", false, 5, 6},
			},
		},
		{
			name: "code before the first comment gets a section of its own",
			src:  "package p\n\n// X is one.\nconst X = 1\n",
			want: []sec{
				{"", false, 1, 3},
				{"X is one.", false, 4, 5},
			},
		},
		{
			name: "a comment inside a body starts an inner section",
			src:  "package p\n\n// F does it.\nfunc F() {\n\tx := 1\n\t// Why x:\n\t// because.\n\t_ = x\n}\n",
			want: []sec{
				{"", false, 1, 3},
				{"F does it.", false, 4, 6},
				{"Why x:\nbecause.", true, 8, 10},
			},
		},
		{
			name: "a comment after code on its line stays in the code",
			src:  "package p\n\nvar x = 1 // trailing\n",
			want: []sec{{"", false, 1, 4}},
		},
		{
			name: "directives stay in the code",
			src:  "//go:build linux\n\n// Package p.\npackage p\n\n// F is fast.\n//\n//go:noinline\nfunc F() {}\n",
			want: []sec{
				{"", false, 1, 3},
				{"Package p.", false, 4, 6},
				{"F is fast.", false, 8, 10},
			},
		},
		{
			name: "slashes inside a raw string are code",
			src:  "package p\n\nconst s = `\n// not a comment\n`\n",
			want: []sec{{"", false, 1, 6}},
		},
		{
			name: "comment blocks a blank line apart make one commentary",
			src:  "package p\n\n// One.\n\n// Two.\nvar x int\n",
			want: []sec{
				{"", false, 1, 3},
				{"One.\n\nTwo.", false, 6, 7},
			},
		},
		{
			name: "a block comment on its own lines is commentary",
			src:  "package p\n\n/*\n * Block\n * text.\n */\nvar x int\n",
			want: []sec{
				{"", false, 1, 3},
				{"Block\ntext.", false, 7, 8},
			},
		},
		{
			name: "a Go doc code block keeps its indentation",
			src:  "package p\n\n// Use:\n//\n//\tF()\nfunc F() {}\n",
			want: []sec{
				{"", false, 1, 3},
				{"Use:\n\n\tF()", false, 6, 7},
			},
		},
		{
			name: "a comment at the end of the file has no code",
			src:  "package p\n\n// The end.\n",
			want: []sec{
				{"", false, 1, 3},
				{"The end.", false, 4, 4},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []sec
			for _, s := range sections([]byte(tt.src)) {
				got = append(got, sec{s.doc, s.inner, s.from, s.to})
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("sections:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestEveryLineHasAnchor checks the promise the lessons rely on: every
// line of every file, code, comment or blank, has exactly one #L anchor.
func TestEveryLineHasAnchor(t *testing.T) {
	id := regexp.MustCompile(`id="L(\d+)"`)
	pages := 0
	for name, page := range snapshotSite {
		src, ok := sourceOf(name)
		if !ok {
			continue
		}
		pages++
		b, err := os.ReadFile(filepath.Join(snapshot, src))
		if err != nil {
			t.Fatal(err)
		}
		n := len(splitLines(b))
		seen := map[string]int{}
		for _, m := range id.FindAllSubmatch(page, -1) {
			seen[string(m[1])]++
		}
		for l := 1; l <= n; l++ {
			if c := seen[fmt.Sprint(l)]; c != 1 {
				t.Errorf("%s: line %d has %d anchors, want 1", name, l, c)
			}
		}
		if len(seen) != n {
			t.Errorf("%s: %d anchors for %d lines", name, len(seen), n)
		}
	}
	if pages == 0 {
		t.Fatal("no source pages were generated")
	}
}

// sourceOf maps "servers/parse.go.html" back to "servers/parse.go".
func sourceOf(page string) (string, bool) {
	src, ok := strings.CutSuffix(page, ".html")
	return src, ok && strings.HasSuffix(src, ".go")
}

// TestPageContent builds a small package and checks what a reader sees:
// commentary rendered as Markdown beside the code, doc links resolved to
// declaration lines, text that looks like HTML shown rather than lost, and
// code highlighted with its quotes escaped.
func TestPageContent(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "go.mod", "module example.org/lab\n\ngo 1.26\n")
	writeFile(t, root, "core/core.go", strings.ReplaceAll(`// Package core is the core.
//
// More about it.
package core

// Session is a connection's state; see [Session.Next] and [Limit].
type Session struct{}

// Next reads *one* request. It prints "serverlab <model> listening".
func (s *Session) Next() bool { return false }

// Limit caps it.
const Limit = 10

// advance moves it on; §Next§ reads, §advance()§ moves, §Session.open§ is
// a field and [§Limit§](#L13) is linked already:
//
//	§Next§ in a code block stays as it is
func (s *Session) advance() {}
`, "§", "`"))
	writeFile(t, root, "docs/lessons/01-first.md", "# 01 · first: a lesson\n\nText.\n")
	writeFile(t, root, "model/model.go", `package model

import (
	"net"

	"example.org/lab/core"
)

// Serve drives a [core.Session] over a [net.Conn]; [Missing] is no link.
func Serve(c net.Conn) string { return "<a href=\"x\">" }
`)
	writeFile(t, root, "model/model_test.go", "package model\n")
	site, err := build(root, []string{"core", "model", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(site); fmt.Sprint(got) != "[core/core.go.html index.html model/model.go.html style.css]" {
		t.Fatalf("files: %v", got)
	}
	core, model, index := string(site["core/core.go.html"]), string(site["model/model.go.html"]), string(site["index.html"])
	for _, want := range []string{
		`<a href="#L10">Session.Next</a>`,
		`<span class="src-anchor" id="Session.Next"></span><span class="src-line" id="L10">`,
		`<span class="src-anchor" id="Limit"></span><span class="src-line" id="L13">`,
		`<a href="#L13">Limit</a>`,
		`<em>one</em>`,
		`&quot;serverlab &lt;model&gt; listening&quot;`,
		`<span class="src-line" id="L7">`,
		`<span class="src-anchor" id="L5">`,
		`<a href="../index.html#pkg-core">core</a>`,
		`<a rel="next" href="../model/model.go.html">`,
		"<a href=\"#L10\"><code>Next</code></a> reads, <a href=\"#L19\"><code>advance()</code></a> moves",
		"<code>Session.open</code> is",
		"<a href=\"#L13\"><code>Limit</code></a> is linked already",
		"`Next` in a code block",
	} {
		if !strings.Contains(core, want) {
			t.Errorf("core page lacks %s", want)
		}
	}
	for _, want := range []string{
		`<a href="../core/core.go.html#L7">core.Session</a>`,
		`<a href="https://pkg.go.dev/net#Conn">net.Conn</a>`,
		`[Missing]`,
		`<span class="s">&#34;&lt;a href=\&#34;x\&#34;&gt;&#34;</span>`,
		`<a rel="prev" href="../core/core.go.html">`,
	} {
		if !strings.Contains(model, want) {
			t.Errorf("model page lacks %s", want)
		}
	}
	for _, want := range []string{
		`<section class="pkg" id="pkg-core">`,
		`<p>Package core is the core.</p>`,
		`<a href="model/model.go.html">model.go</a> <span class="count">10 lines</span>`,
		`<li><a href="../lessons/01-first.md">01 · first: a lesson</a></li>`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("index lacks %s", want)
		}
	}
	if strings.Contains(index, "More about it") {
		t.Error("index shows more than the package doc's first paragraph")
	}

	// One file of a package: its page, the package's doc in the index,
	// and no link to a file that has no page.
	writeFile(t, root, "core/extra.go", "package core\n\n// Extra is elsewhere; see [Session].\nfunc Extra() {}\n")
	site, err = build(root, []string{"core/extra.go"})
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(site); fmt.Sprint(got) != "[core/extra.go.html index.html style.css]" {
		t.Errorf("one file of core: pages %v", got)
	}
	if !strings.Contains(string(site["index.html"]), "<p>Package core is the core.</p>") {
		t.Error("one file of core: the index lacks the package's doc")
	}
	if strings.Contains(string(site["core/extra.go.html"]), "core.go.html") {
		t.Error("one file of core: a link leads to core.go, which has no page")
	}
}

func TestWrite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "site")
	site := map[string][]byte{
		"index.html":     []byte(`<meta name="generator" content="` + generator + `">`),
		"style.css":      []byte("body{}"),
		"gone/a.go.html": []byte("a"),
	}
	if _, _, err := write(out, site); err != nil {
		t.Fatal(err)
	}
	delete(site, "gone/a.go.html")
	site["p/b.go.html"] = []byte("b")
	changed, removed, err := write(out, site)
	if err != nil {
		t.Fatal(err)
	}
	if changed != 1 || removed != 1 {
		t.Errorf("second write: %d written, %d removed; want 1 and 1", changed, removed)
	}
	if got := fmt.Sprint(sortedKeys(readTree(t, out))); got != "[index.html p/b.go.html style.css]" {
		t.Errorf("folder holds %s", got)
	}
	if _, err := os.Stat(filepath.Join(out, "gone")); !os.IsNotExist(err) {
		t.Errorf("empty folder of a removed package is still there (stat: %v)", err)
	}

	foreign := t.TempDir()
	writeFile(t, foreign, "notes.html", "mine")
	if _, _, err := write(foreign, site); err == nil {
		t.Error("wrote into a folder annotate did not make")
	}
	if b, err := os.ReadFile(filepath.Join(foreign, "notes.html")); err != nil || string(b) != "mine" {
		t.Errorf("foreign file touched: %q, %v", b, err)
	}
}

func writeFile(t *testing.T, root, name, text string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readTree reads every file under dir, keyed by slash path; a missing
// folder reads as empty.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if os.IsNotExist(err) {
			return filepath.SkipDir
		}
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r, err := filepath.Rel(dir, p)
		files[filepath.ToSlash(r)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
