package conformance

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"serverlab/demosite"
)

// siteModTime is the modification time of every file of the test site. It
// is fixed so that rows can spell out Last-Modified and If-Modified-Since
// dates literally.
var siteModTime = time.Date(2024, time.January, 2, 3, 4, 5, 0, time.UTC)

// lastModified is siteModTime as an IMF-fixdate (RFC 9110 §5.6.7).
const lastModified = "Tue, 02 Jan 2024 03:04:05 GMT"

// secretText is the content of the files placed just outside each site's
// root. No response body may ever contain it.
const secretText = "serverlab conformance SECRET: this file lies outside the root"

// The 64 MiB file. Its bytes are made once per test run, by TestMain, and
// only read afterwards; every variant's site gets a hard link to the same
// file, so ten variants cost one 64 MiB write, not ten.
const (
	bigName = "big.bin"
	bigSize = 64 << 20
)

var (
	bigData []byte   // the file's bytes, read-only after TestMain
	bigSum  [32]byte // their SHA-256
	bigPath string   // where TestMain wrote them
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "conformance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bigData = demosite.Bytes(bigName, bigSize)
	bigSum = sha256.Sum256(bigData)
	bigPath = filepath.Join(dir, bigName)
	if err := os.WriteFile(bigPath, bigData, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code == 0 {
		// Shutdown must close everything: a goroutine still running
		// after every server has stopped (a disk worker, a connection's
		// handler, a timer) is a leak the model has to fix.
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goroutines left behind after every server shut down: %v\n", err)
			return 1
		}
	}
	return code
}

// mimeTypes is the Content-Type expected for each extension the foundation
// issue lists. It is the suite's own copy of the table, not the core's, so
// that a change to servers/mime.go shows up here as a failure to look at.
var mimeTypes = map[string]string{
	"html":  "text/html; charset=utf-8",
	"css":   "text/css; charset=utf-8",
	"js":    "text/javascript; charset=utf-8",
	"json":  "application/json",
	"txt":   "text/plain; charset=utf-8",
	"png":   "image/png",
	"jpg":   "image/jpeg",
	"gif":   "image/gif",
	"svg":   "image/svg+xml",
	"ico":   "image/x-icon",
	"wasm":  "application/wasm",
	"pdf":   "application/pdf",
	"mp4":   "video/mp4",
	"woff2": "font/woff2",
}

// octetStream is the type of a file whose extension is not in the table.
const octetStream = "application/octet-stream"

// mimeOf is the Content-Type expected for a file name.
func mimeOf(name string) string {
	base := filepath.Base(name)
	dot := strings.LastIndexByte(base, '.')
	if dot < 0 {
		return octetStream
	}
	if t, ok := mimeTypes[strings.ToLower(base[dot+1:])]; ok {
		return t
	}
	return octetStream
}

// buildSite writes a fresh site for one variant and returns its root:
//
//	base/
//	  secret.txt                  the secret, one level above the root
//	  outside/secret.txt          the secret again, for symlinks to aim at
//	  site/                       the root: the demo site, plus
//	    big.bin                   64 MiB of deterministic bytes
//	    range.txt                 "0123456789abcdefghij", for Range rows
//	    mime/file.EXT             one file per extension of mimeTypes
//	    noindex/file.txt          a folder without index.html
//	    with space.txt            a name that must be percent-encoded
//	    link.txt -> hello.txt     symlinks that stay inside the root
//	    linkdir -> docs
//	    escape.txt -> ../secret.txt                    symlinks that leave it
//	    escape-abs.txt -> /.../base/outside/secret.txt
//	    escape-dir -> ../outside
//	    loop.txt -> loop.txt      a symlink loop
//	    fifo                      a named pipe: opening it must not hang
//	    socket                    a unix socket: opening it fails (ENXIO)
//	    unreadable.txt            mode 000
func buildSite(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "site")
	if err := demosite.Write(root); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"../secret.txt":         secretText,
		"../outside/secret.txt": secretText,
		"range.txt":             "0123456789abcdefghij",
		"noindex/file.txt":      "a folder without an index\n",
		"with space.txt":        "a name with a space\n",
		"unreadable.txt":        "you should not be able to read this\n",
		"mime/UPPER.PNG":        "upper-case extension\n",
		"mime/noext":            "no extension\n",
		"mime/file.unknownext":  "unknown extension\n",
	}
	for ext := range mimeTypes {
		files["mime/file."+ext] = "a ." + ext + " file\n"
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(bigPath, filepath.Join(root, bigName)); err != nil {
		// Another file system under the temp folder: pay for a copy.
		if err := os.WriteFile(filepath.Join(root, bigName), bigData, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"link.txt":       "hello.txt",
		"linkdir":        "docs",
		"escape.txt":     "../secret.txt",
		"escape-abs.txt": filepath.Join(base, "outside", "secret.txt"),
		"escape-dir":     "../outside",
		"loop.txt":       "loop.txt",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	if err := bindUnixSocket(filepath.Join(root, "socket")); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !(d.Type().IsRegular() || d.IsDir()) {
			return err
		}
		return os.Chtimes(p, siteModTime, siteModTime)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "unreadable.txt"), 0); err != nil {
		t.Fatal(err)
	}
	return root
}

// unreadableSkipReason says why the "unreadable file" row cannot run here,
// or "" if it can. Mode 000 stops only processes without CAP_DAC_OVERRIDE:
// run as root (as CI runs), this test process can still open the file, and
// so can the server inside it, so the row could not fail for the right
// reason. There is no other way for root to make a file unreadable to
// itself; the FIFO and escaping-symlink rows cover 403 meanwhile.
func unreadableSkipReason(root string) string {
	f, err := os.Open(filepath.Join(root, "unreadable.txt"))
	if err != nil {
		return ""
	}
	f.Close()
	return "mode 000 does not stop this process (root or CAP_DAC_OVERRIDE), so it would not stop the server in it either"
}

// bindUnixSocket leaves a unix socket file at path. The socket itself is
// closed at once: only the file in the tree matters, and open(2) of it
// fails with ENXIO, an errno the server must turn into a refusal too.
func bindUnixSocket(path string) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("bind %s: %w", path, err)
	}
	return nil
}
