package demosite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestWrite checks that the files on disk are exactly Bytes, which the
// other packages' tests compare server output with, and have their sizes.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	for name, size := range Sizes {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != size || !bytes.Equal(got, Bytes(name, size)) {
			t.Errorf("%s: %d bytes, not the expected %d", name, len(got), size)
		}
	}
	for _, name := range []string{"index.html", "docs/index.html", "logo.svg"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	if a, b := Bytes("x", 1<<10), Bytes("x", 1<<10); !bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 1<<10)) {
		t.Error("Bytes is not deterministic, or is all zeros")
	}
}

// TestTempSweepsOrphans checks that a folder left by a dead process is
// removed by the next Temp, and that a live process's folder is kept.
func TestTempSweepsOrphans(t *testing.T) {
	orphan := filepath.Join(os.TempDir(), tempPrefix+"999999999-x")
	live := filepath.Join(os.TempDir(), tempPrefix+"1-x") // PID 1 always exists
	for _, d := range []string{orphan, live} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	defer os.RemoveAll(live)
	dir, remove, err := Temp()
	if err != nil {
		t.Fatal(err)
	}
	remove()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("remove left %s", dir)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("orphan %s not swept", orphan)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live process's folder was swept: %v", err)
	}
}
