package servers

import (
	"path"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// memFS is a file system in memory, for the core's tests: the protocol's
// every rule runs against it without a disk, a descriptor or a socket. It
// counts the opens asked of it, so that a test can watch the open-file
// cache at work.
type memFS struct {
	mu    sync.Mutex
	files map[string]*memEntry // by clean relative path; "." is the root
	opens int
	ino   uint64
}

type memEntry struct {
	data  []byte
	mode  uint32
	mtime time.Time
	ino   uint64
}

// newMemFS makes a file system holding files (name to contents), with
// every folder on their way.
func newMemFS(files map[string]string) *memFS {
	m := &memFS{files: map[string]*memEntry{}}
	m.add(".", unix.S_IFDIR, "")
	for name, body := range files {
		m.write(name, body)
	}
	return m
}

// write creates or replaces a file: a replaced file is a new one (a new
// inode), as when an editor saves by renaming.
func (m *memFS) write(name, body string) {
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		m.add(dir, unix.S_IFDIR, "")
	}
	m.add(name, unix.S_IFREG, body)
}

// add puts an entry of any type in, a FIFO say.
func (m *memFS) add(name string, mode uint32, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ino++
	m.files[name] = &memEntry{data: []byte(body), mode: mode,
		mtime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ino: m.ino}
}

func (m *memFS) remove(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
}

func (m *memFS) openCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.opens
}

// Open finds rel. Like openat2 beneath a root it can be asked only for
// clean relative paths, which the core guarantees; a test of the jail
// itself runs against the disk (TestResolve, FuzzResolve).
func (m *memFS) Open(rel string) (Handle, Stat, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.opens++
	e := m.files[rel]
	if e == nil {
		return nil, Stat{}, errNotFound
	}
	st := Stat{Mode: e.mode, Size: int64(len(e.data)), ModTime: e.mtime, Dev: 1, Ino: e.ino}
	return memHandle(e.data), st, nil
}

// memHandle is an open file in memory.
type memHandle []byte

// ReadAt returns 0 and no error at the end, as pread(2) does.
func (h memHandle) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(h)) {
		return 0, nil
	}
	return copy(p, h[off:]), nil
}

func (h memHandle) Close() error { return nil }
