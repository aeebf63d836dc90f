package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The modules' go.mod files must stay as `go mod tidy` leaves them: a
// requirement is direct exactly when the module's own code (tests
// included) imports it. Two checks, because tidy itself cannot always run
// offline: it reads the go.mod of every module in the graph, test-only
// dependencies of dependencies included, and a module cache filled by
// building and testing lacks some of them.

// modules are the project's Go modules: the root, and the gnet peer, which
// lives in a module of its own so that serverlab does not depend on gnet.
var modules = []string{".", "peers/gnet"}

// goCmd runs the go command in dir, offline (whatever it needs must
// already be in the module cache) and read-only: a test must never rewrite
// the go.mod it checks.
func goCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly", "GOWORK=off")
	return cmd
}

// TestDirectRequirements checks the "// indirect" marks offline: every
// module that provides a package the module imports is required directly,
// and nothing else is.
func TestDirectRequirements(t *testing.T) {
	for _, dir := range modules {
		t.Run(dir, func(t *testing.T) {
			imported, err := importedModules(dir)
			if err != nil {
				t.Skipf("cannot list %s's imports offline (build it first: its modules are not in the cache): %v", dir, err)
			}
			b, err := goCmd(dir, "mod", "edit", "-json").Output()
			if err != nil {
				t.Fatal(err)
			}
			var mod struct {
				Require []struct {
					Path     string
					Indirect bool
				}
			}
			if err := json.Unmarshal(b, &mod); err != nil {
				t.Fatal(err)
			}
			var direct, required []string
			for _, r := range mod.Require {
				required = append(required, r.Path)
				if !r.Indirect {
					direct = append(direct, r.Path)
				}
				if r.Indirect && slices.Contains(imported, r.Path) {
					t.Errorf("%s/go.mod marks %s indirect, but the module imports it: run go mod tidy", dir, r.Path)
				}
			}
			for _, m := range imported {
				if !slices.Contains(required, m) {
					t.Errorf("%s/go.mod does not require %s, but the module imports it: run go mod tidy", dir, m)
				}
			}
			for _, m := range direct {
				if !slices.Contains(imported, m) {
					t.Errorf("%s/go.mod requires %s directly, but nothing imports it: run go mod tidy", dir, m)
				}
			}
		})
	}
}

// importedModules lists the modules, other than dir's own, that provide
// packages dir's packages and tests import.
func importedModules(dir string) ([]string, error) {
	out, err := goCmd(dir, "list", "-test", "-f", `{{join .Imports "\n"}}`, "./...").Output()
	if err != nil {
		return nil, err
	}
	own, err := goCmd(dir, "list", "-m").Output()
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for line := range strings.Lines(string(out)) {
		// A test variant's imports read "path [pkg.test]".
		p, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		first, _, _ := strings.Cut(p, "/")
		// Standard-library paths have no dot in their first element.
		if p != "" && strings.Contains(first, ".") && !slices.Contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) == 0 {
		return nil, nil
	}
	out, err = goCmd(dir, append([]string{"list", "-f", "{{.Module.Path}}"}, pkgs...)...).Output()
	if err != nil {
		return nil, err
	}
	var mods []string
	for m := range strings.FieldsSeq(string(out)) {
		if m != strings.TrimSpace(string(own)) && !slices.Contains(mods, m) {
			mods = append(mods, m)
		}
	}
	return mods, nil
}

// TestGoModTidy runs `go mod tidy -diff` offline in each module. It skips,
// saying why, when the module cache lacks what tidy must read; then run
// `go mod tidy -diff` by hand, with the network, in each module.
func TestGoModTidy(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, dir := range modules {
		t.Run(dir, func(t *testing.T) {
			// -diff only prints what tidy would change.
			out, err := goCmd(dir, "mod", "tidy", "-diff").CombinedOutput()
			switch {
			case err == nil:
			case strings.Contains(string(out), "GOPROXY=off"):
				t.Skipf("go mod tidy needs modules this cache has not downloaded (test-only dependencies of dependencies), "+
					"and this test runs offline; check by hand with network: (cd %s && go mod tidy -diff)", dir)
			default:
				t.Errorf("%s is not tidy; run go mod tidy in it:\n%s", filepath.Join(dir, "go.mod"), out)
			}
		})
	}
}
