package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// A pkg is one package of the project as the site shows it.
type pkg struct {
	dir      string // slash path from the repository root: "internal/sock"
	name     string // from the package clause
	synopsis string // first paragraph of the package doc comment, Go doc text
	files    []*file
	// decls finds package-level names ("Session", "Session.Head",
	// "Request.Path") so that a doc comment's [Session.Head] can become a
	// link to the line that declares it.
	decls map[string]pos
	// methods are the decls that are methods ("conn.advance"), told
	// from struct fields, which share their Type.Name form; funcs are
	// the methods and the functions.
	methods, funcs map[string]bool
}

// A file is one Go source file of a package.
type file struct {
	name    string // base name: "parse.go"
	src     []byte
	imports map[string]string // local name -> import path
}

// A pos is a declaration's place: file base name and 1-based line.
type pos struct {
	file string
	line int
}

// loadPkg reads the non-test Go files of root/dir. A package that does
// not exist (yet) or has no such files gives nil, not an error: the site is
// made while the packages are still being written.
//
// Only the source text is needed. go/parser is used for names and the
// package doc, and when a file does not parse, its partial syntax tree is
// used as far as it goes: a page is still made from the text.
//
// only, when not empty, names the files to show: a student reads the load
// generator's two clients, not all of it. The package doc is still read
// from whichever file has it, but only the files shown give names to link
// to, since a link must lead to a page.
func loadPkg(root, dir string, only ...string) (*pkg, error) {
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", dir, err)
	}
	p := &pkg{dir: dir, name: filepath.Base(dir), decls: map[string]pos{}, methods: map[string]bool{}, funcs: map[string]bool{}}
	var docFile string
	fset := token.NewFileSet()
	for _, e := range entries { // os.ReadDir sorts by name
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		shown := len(only) == 0 || slices.Contains(only, name)
		path := filepath.Join(root, filepath.FromSlash(dir), name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		f := &file{name: name, src: src, imports: map[string]string{}}
		if shown {
			p.files = append(p.files, f)
		}

		syn, _ := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
		if syn == nil {
			continue
		}
		if syn.Name != nil && syn.Name.Name != "" && syn.Name.Name != "_" {
			p.name = syn.Name.Name
		}
		// The package doc is conventionally in doc.go when it is long;
		// otherwise any file's will do, and the first one in name order
		// keeps the choice stable.
		if syn.Doc != nil && (p.synopsis == "" || name == "doc.go" && docFile != "doc.go") {
			p.synopsis, docFile = firstParagraph(syn.Doc.Text()), name
		}
		if shown {
			collectImports(f, syn)
			collectDecls(p, fset, name, syn)
		}
	}
	if len(p.files) == 0 {
		return nil, nil
	}
	// doc.go, where a package introduces itself, is read first; the rest
	// keep name order.
	sort.SliceStable(p.files, func(i, j int) bool {
		return p.files[i].name == "doc.go" && p.files[j].name != "doc.go"
	})
	return p, nil
}

// firstParagraph returns the text up to the first blank line.
func firstParagraph(text string) string {
	text = strings.TrimSpace(text)
	if i := strings.Index(text, "\n\n"); i >= 0 {
		text = text[:i]
	}
	return text
}

func collectImports(f *file, a *ast.File) {
	for _, imp := range a.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "_" || name == "." {
			continue
		}
		f.imports[name] = path
	}
}

// collectDecls records where each package-level name, method and struct
// field is declared, under the names Go doc links use for them.
func collectDecls(pk *pkg, fset *token.FileSet, name string, a *ast.File) {
	add := func(key string, p token.Pos) {
		if _, dup := pk.decls[key]; !dup && p.IsValid() {
			pk.decls[key] = pos{name, fset.Position(p).Line}
		}
	}
	for _, d := range a.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil || len(d.Recv.List) == 0 {
				add(d.Name.Name, d.Pos())
				pk.funcs[d.Name.Name] = true
				continue
			}
			if recv := recvName(d.Recv.List[0].Type); recv != "" {
				add(recv+"."+d.Name.Name, d.Pos())
				pk.methods[recv+"."+d.Name.Name] = true
				pk.funcs[recv+"."+d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					add(s.Name.Name, s.Pos())
					st, ok := s.Type.(*ast.StructType)
					if !ok || st.Fields == nil {
						continue
					}
					for _, fl := range st.Fields.List {
						for _, n := range fl.Names {
							add(s.Name.Name+"."+n.Name, n.Pos())
						}
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						add(n.Name, n.Pos())
					}
				}
			}
		}
	}
}

// recvName finds T in a receiver written T, *T, T[K] or *T[K].
func recvName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

// modulePath reads the module line of root/go.mod, so that imports of the
// project's own packages can be told from the rest.
func modulePath(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("read module path: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("read module path: no module line in %s", filepath.Join(root, "go.mod"))
}

// A lesson is one page of docs/lessons, which the index links to.
type lesson struct {
	file  string // "02-crowd.md"
	title string // its first heading: "02 · crowd: a hundred clients"
}

// lessonsURL is where the lessons are from the site's folder: the site is
// docs/annotated, beside docs/lessons.
const lessonsURL = "../lessons/"

// loadLessons reads the title of each lesson in root/docs/lessons, in
// file-name order, which is reading order. No lessons folder gives none.
func loadLessons(root string) ([]lesson, error) {
	files, err := filepath.Glob(filepath.Join(root, "docs", "lessons", "[0-9][0-9]*-*.md"))
	if err != nil {
		return nil, err
	}
	var out []lesson
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read lesson: %w", err)
		}
		title := strings.TrimSuffix(filepath.Base(f), ".md")
		if first, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(first, "# ") {
			title = strings.TrimSpace(first[2:])
		}
		out = append(out, lesson{filepath.Base(f), title})
	}
	return out, nil
}
