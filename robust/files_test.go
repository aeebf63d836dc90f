package robust

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"serverlab/servers"
)

// fileChange is something that happens to a file while it is being sent.
type fileChange struct {
	name   string
	change func(path string) error
	// whole: the client must still get every old byte. A descriptor open
	// on a file keeps its inode alive, so deleting the name, or renaming
	// another file over it, leaves the old contents readable to whoever
	// has it open. Truncation is different: it cuts the inode itself, and
	// the promised Content-Length can no longer be kept.
	whole bool
}

var fileChanges = []fileChange{
	{"truncated to 1 KiB", func(path string) error { return os.Truncate(path, 1<<10) }, false},
	{"deleted", os.Remove, true},
	{"replaced by rename", func(path string) error {
		if err := os.WriteFile(path+".new", []byte("new contents\n"), 0o644); err != nil {
			return err
		}
		return os.Rename(path+".new", path)
	}, true},
}

// TestFileChangesMidSend changes a 16 MiB file while a slow-reading client
// is part-way through it, with each model sending it both with sendfile(2)
// and by copying through user space, whose ends-of-file look different: a
// sendfile that returns 0, a pread that returns 0.
func TestFileChangesMidSend(t *testing.T) {
	old := demoFile(t, "/16m.bin")
	for _, m := range models {
		for _, sendfile := range []bool{true, false} {
			var probe servers.Config
			if m.tune != nil {
				m.tune(&probe)
			}
			if sendfile && probe.NoSendfile {
				continue // this variant exists to copy; sendfile is covered by the others
			}
			mode := "copy"
			if sendfile {
				mode = "sendfile"
			}
			t.Run(m.name+"/"+mode, func(t *testing.T) {
				for _, fc := range fileChanges {
					t.Run(fc.name, func(t *testing.T) { testFileChange(t, m, !sendfile, fc, old) })
				}
			})
		}
	}
}

func testFileChange(t *testing.T, m model, noSendfile bool, fc fileChange, old []byte) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), demoFile(t, "/hello.txt"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, m, serverOpts{
		root:   dir,
		limits: limits(quick.HeaderTimeout, time.Minute, 10*time.Second), // the client may take a while to read what the server has already written
		cfg: func(c *servers.Config) {
			if noSendfile {
				c.NoSendfile = true
			}
		},
		warm: []string{"/big.bin"},
	})

	c := ts.dial(t)
	c.SetReadBuffer(64 << 10) // at most a few MiB can be in flight when the file changes
	io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: robust\r\n\r\n")
	br := bufio.NewReader(c)
	if h, err := readHead(br); err != nil || h.status != 200 || h.length != size16m {
		t.Fatalf("head: %+v, %v", h, err)
	}
	var got bytes.Buffer
	got.Grow(size16m)
	if _, err := io.CopyN(&got, br, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := fc.change(path); err != nil {
		t.Fatal(err)
	}

	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if fc.whole {
		if _, err := io.CopyN(&got, br, size16m-1<<20); err != nil {
			t.Fatalf("after %d of %d bytes: %v", got.Len(), size16m, err)
		}
		if !bytes.Equal(got.Bytes(), old) {
			t.Fatal("the body is not the file's old contents")
		}
		if m.closes {
			// The connection is fine: it ends cleanly after its answer.
			if n, err := br.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("after the answer: read %d, %v; want EOF", n, err)
			}
		} else {
			// The connection is fine: it serves its next request.
			io.WriteString(c, getHello)
			if h, _, err := readFull(br); err != nil || h.status != 200 {
				t.Fatalf("next request on the connection: status %d, %v", h.status, err)
			}
		}
	} else {
		_, err := io.Copy(&got, br)
		if err != nil && !ended(err) {
			t.Fatalf("after %d bytes: %v; want the connection closed, not a hang", got.Len(), err)
		}
		if got.Len() >= size16m {
			t.Fatalf("got all %d bytes of a file truncated mid-send", got.Len())
		}
		if diff := firstDiff(got.Bytes(), old); diff >= 0 {
			if noSendfile {
				// Copied through user space, what was written to the
				// socket is a snapshot: fewer bytes than promised,
				// never wrong ones.
				t.Fatalf("%d bytes received, and they differ from the file's from byte %d", got.Len(), diff)
			}
			// sendfile(2) is zero-copy: the socket holds references to
			// page-cache pages, not copies, and on loopback the receiver
			// copies from those pages only when it reads. Truncation
			// zeroes the pages it cuts, so bytes "sent" but not yet read
			// can change under the client. No server can prevent that
			// with sendfile; it is the price of zero copy.
			t.Logf("%s: %d of the bytes in flight read differently after the truncation, from byte %d (the client had read %d)",
				m.name, got.Len()-diff, diff, 1<<20)
		}
		eventually(t, "the cut-short response to be counted", func() bool {
			s := ts.snap()
			return s.Errors == 1 && s.Open == 0
		})
	}
	// The server goes on. (The client closes first, or the blocking
	// model would still be serving it, and the next client would wait.)
	c.Close()
	ts.get(t, "/hello.txt")
	ts.settled(t)
}

// firstDiff is the index of the first byte of got that differs from want,
// or -1 if got is a prefix of want.
func firstDiff(got, want []byte) int {
	for i := range got {
		if i >= len(want) || got[i] != want[i] {
			return i
		}
	}
	return -1
}
