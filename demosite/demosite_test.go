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
