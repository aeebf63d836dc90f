// Package demosite writes the built-in demo web site that every command
// serves when it is given no -root, so that the first run needs no set-up.
// Its files have known sizes, which the load scenarios and lessons name.
package demosite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Sizes of the binary files, by name. Their bytes are pseudo-random from a
// fixed seed, so every machine gets the same files and the same checksums.
var Sizes = map[string]int{
	"1k.bin":    1 << 10,
	"64k.bin":   64 << 10,
	"1m.bin":    1 << 20,
	"16m.bin":   16 << 20,
	"empty.txt": 0,
}

// texts are the small files of other types, to show Content-Type at work.
var texts = map[string]string{
	"index.html": `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>serverlab demo site</title>
<link rel="stylesheet" href="style.css"></head>
<body>
<h1><img id="logo" src="logo.svg" alt="" width="32" height="32"> serverlab demo site</h1>
<p>This page was served by one of serverlab's server models.
Try the files below with curl -v to see the headers each one gets.</p>
<p id="status">Loading the page's sub-resources&hellip;</p>
<ul>
<li><a href="1k.bin">1k.bin</a> (1 KiB), <a href="64k.bin">64k.bin</a> (64 KiB),
<a href="1m.bin">1m.bin</a> (1 MiB), <a href="16m.bin">16m.bin</a> (16 MiB)</li>
<li><a href="hello.txt">hello.txt</a>, <a href="data.json">data.json</a>,
<a href="app.js">app.js</a>, <a href="logo.svg">logo.svg</a></li>
<li><a href="docs/">docs/</a>, a folder served by its index.html</li>
</ul>
<script src="app.js"></script>
</body>
</html>
`,
	// The style sheet sets a custom property that app.js reads back: the
	// proof that it arrived and applied.
	"style.css": "body { font-family: sans-serif; max-width: 40em; margin: 2em auto; }\n" +
		":root { --demo-style: loaded; }\n",
	// app.js checks that every sub-resource of the page arrived — the
	// style sheet, the logo, data.json (fetched) and itself — and marks
	// the page loaded only then, with the time it took. A headless
	// browser in the tests reads the mark; a student sees the sentence.
	"app.js": `window.addEventListener('load', async () => {
  const got = ['app.js'];
  const css = getComputedStyle(document.documentElement).getPropertyValue('--demo-style');
  if (css.trim() === 'loaded') got.push('style.css');
  if (document.getElementById('logo').naturalWidth > 0) got.push('logo.svg');
  try {
    const data = await (await fetch('data.json')).json();
    if (data.models.length > 0) got.push('data.json');
  } catch (e) {}
  const ms = Math.round(performance.now());
  document.body.dataset.loaded = got.sort().join(' ');
  document.body.dataset.ms = ms;
  document.getElementById('status').textContent =
    got.length === 4 ? 'All four sub-resources arrived, in ' + ms + ' ms.'
                     : 'Only ' + got.join(', ') + ' arrived.';
});
`,
	"data.json":       "{\"models\": [\"blocking\", \"threaded\", \"evloop\"]}\n",
	"hello.txt":       "Hello from serverlab.\n",
	"logo.svg":        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><circle cx=\"32\" cy=\"32\" r=\"28\" fill=\"teal\"/></svg>\n",
	"docs/index.html": "<!doctype html>\n<title>docs</title>\n<p>A folder's index.html.</p>\n",
}

// Write creates the demo site in dir.
func Write(dir string) error {
	for name, body := range texts {
		if err := writeFile(filepath.Join(dir, name), []byte(body)); err != nil {
			return err
		}
	}
	for name, size := range Sizes {
		if err := writeStream(filepath.Join(dir, name), size); err != nil {
			return err
		}
	}
	return nil
}

func writeStream(path string, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("demo site: %w", err)
	}
	if err := stream(f, size); err != nil {
		f.Close()
		return fmt.Errorf("demo site: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("demo site: %w", err)
	}
	return nil
}

// Bytes returns the deterministic contents of a binary demo file, for tests
// that compare what a server sent with what it should have.
func Bytes(name string, size int) []byte {
	var b bytes.Buffer
	b.Grow(size)
	stream(&b, size) // a bytes.Buffer never fails to write
	return b.Bytes()
}

// stream writes the pseudo-random contents of a file of the given size in
// 64 KiB pieces, so that writing the demo site never holds a whole file in
// memory: a server's resident memory at start-up is then its own, and not
// 16 MiB of test data, which would blur every memory comparison.
func stream(w io.Writer, size int) error {
	r := rand.New(rand.NewPCG(uint64(size), 0x5e7e71ab))
	buf := make([]byte, 64<<10)
	for size > 0 {
		n := min(size, len(buf))
		for i := 0; i < n; i += 8 {
			v := r.Uint64()
			for j := 0; j < 8 && i+j < n; j++ {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// Temp writes the demo site into a new temporary folder and returns it with
// a function that removes it. The folder's name carries this process's ID,
// so that folders left behind by servers that were killed (SIGKILL gives no
// chance to clean up) can be recognised and swept away by the next one.
func Temp() (dir string, remove func(), err error) {
	sweep()
	dir, err = os.MkdirTemp("", fmt.Sprintf("%s%d-", tempPrefix, os.Getpid()))
	if err != nil {
		return "", nil, fmt.Errorf("demo site: %w", err)
	}
	if err := Write(dir); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

const tempPrefix = "serverlab-site-"

// sweep removes demo-site folders whose process no longer exists.
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(d), tempPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			continue // not a name we made
		}
		// Signal 0 checks that a process exists without touching it.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("demo site: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("demo site: %w", err)
	}
	return nil
}
