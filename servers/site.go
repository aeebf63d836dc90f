package servers

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Site is a folder served as a web site: its file system, the open-file
// cache and the simulated disk. One Site is shared by every connection of a
// server (and by every loop of a multi-loop event loop, and by disk worker
// threads), so it is safe for concurrent use.
type Site struct {
	fs    FS
	delay time.Duration

	// The open-file cache, and in it the small-file cache (cache.go).
	mu        sync.Mutex
	files     map[string]*File // keyed by cleaned path
	lru       lruList          // the same entries, most recently used first
	bodies    bool             // small files' contents are kept in memory
	used      int64            // bytes of contents held
	bodyLimit int64            // at most this many (cacheBytes; tests lower it)

	// exchanges holds what idle sessions gave back (Session.Shrink).
	exchanges exchangePool
}

// SiteOptions tune a Site.
type SiteOptions struct {
	// DiskDelay is added before every read of file data, to simulate a
	// slow disk. Every model pays it in the same place: File.ReadAt. It
	// turns the small-file cache off, so that every body is read from the
	// "disk" and pays the delay.
	DiskDelay time.Duration
	// NoCache turns the small-file cache off: every body is read from its
	// file (serve -cache=false). Descriptors are still kept open.
	NoCache bool
}

// NewSite opens the folder root for serving, through openat2(2) beneath it.
func NewSite(root string, opt SiteOptions) (*Site, error) {
	d, err := openDisk(root)
	if err != nil {
		return nil, err
	}
	return NewSiteFS(d, opt), nil
}

// NewSiteFS serves the files of fsys. NewSite is this over the disk; the
// core's tests use it with a file system in memory, so that every rule of
// the protocol can be checked without a disk or a socket.
func NewSiteFS(fsys FS, opt SiteOptions) *Site {
	return &Site{fs: fsys, delay: opt.DiskDelay, files: make(map[string]*File),
		bodies: !opt.NoCache && opt.DiskDelay == 0, bodyLimit: cacheBytes}
}

// Caching reports whether small files' contents are kept in memory.
func (s *Site) Caching() bool { return s.bodies }

// DiskDelay is the simulated delay before each read of file data. A model
// that reads through File.ReadAt pays it there; one that submits its reads
// to the kernel itself (io_uring) must wait it out the same way, before
// each read, for the comparison to stay fair.
func (s *Site) DiskDelay() time.Duration { return s.delay }

// Close releases every cached file and, on disk, the root. Files still
// being sent stay open until the responses sending them end.
func (s *Site) Close() error {
	s.mu.Lock()
	for _, f := range s.files {
		s.forget(f)
	}
	s.mu.Unlock()
	if d, ok := s.fs.(*diskFS); ok {
		return d.close()
	}
	return nil
}

// File is an open file being served, or a folder (whose index is served).
// It is reference-counted: the cache holds one reference and each response
// being sent holds another, so a file evicted or replaced mid-send is
// closed only when its last sender is done (the Session releases its
// reference when the response ends).
type File struct {
	h            Handle // nil for a folder
	fd           int    // the descriptor under h, or -1
	dir          bool
	size         int64
	modTime      time.Time
	lastModified []byte // modTime in HTTP date format, made once
	contentType  string
	// okTail is the end of the head of a 200 answer with the whole file,
	// everything after the Date value, made once (appendOKTail) in its
	// two forms, [0] closing the connection and [1] keeping it open; data
	// is the whole contents when the small-file cache holds them. Neither
	// changes: a changed file is a new File.
	okTail [2][]byte
	data   []byte
	// whole is the entire 200 answer to a GET of all of data, when it
	// is small enough to travel in one buffer (foldLimit), in the same
	// two forms as okTail, for one second's Date (see wholeAnswer).
	whole    [2]atomic.Pointer[prebuilt]
	dev, ino uint64
	checked  atomic.Int64 // unix nanoseconds of the last validation
	refs     atomic.Int32
	site     *Site

	// The cache's bookkeeping, under site.mu: the key the file is cached
	// under, and its neighbours in the least-recently-used list.
	key        string
	prev, next *File
}

// Fd is the file's descriptor, for sendfile(2), pread(2) or an io_uring
// read, or -1 if its file system has none. It is shared by every sender of
// the file, which is safe because all of these take an explicit offset and
// never move the descriptor's own position.
func (f *File) Fd() int { return f.fd }

// Data is the whole file, in memory, when the small-file cache holds it, or
// nil. A model sends a body from it with no file-system call at all, the
// head and the body in one write. It is never modified: share it freely.
func (f *File) Data() []byte { return f.data }

// ReadAt reads file data at off, after the site's simulated disk delay. It
// is the "fetch the file from disk" step of lesson 00's loops, for every
// model that does not use sendfile, on whatever thread calls it. A file the
// small-file cache holds is read from memory (there is no delay then: a
// slow disk turns the cache off).
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.data != nil {
		if off >= int64(len(f.data)) {
			return 0, nil
		}
		return copy(p, f.data[off:]), nil
	}
	if d := f.site.delay; d > 0 {
		sleepThread(d)
	}
	return f.h.ReadAt(p, off)
}

// sleepThread waits d inside the kernel, holding the calling thread, as a
// read from a slow disk does. time.Sleep would only park a goroutine and
// free its thread, which is not what a disk does: with nanosleep(2) a
// thread-per-connection server really runs out of threads to serve with,
// and Go's runtime really starts new ones, as under real disk latency.
func sleepThread(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	var left unix.Timespec
	for unix.Nanosleep(&ts, &left) == unix.EINTR {
		ts = left // a signal cut the sleep short: sleep the rest
	}
}

// prebuilt is a whole answer, head and body, as of the second sec. Its bytes
// are never modified once stored: every sender of the file shares them.
type prebuilt struct {
	sec int64
	b   []byte
}

// wholeAnswer returns the whole 200 answer with all of f's data, for the
// second sec, whose Date value is date: the one stored, or, once a second
// (or the first time), a new one made and stored. Two senders that make it
// at the same moment each store a correct one; the later one stays.
func (f *File) wholeAnswer(keepAlive bool, sec int64, date []byte) []byte {
	p := &f.whole[boolInt(keepAlive)]
	if a := p.Load(); a != nil && a.sec == sec {
		return a.b
	}
	b := make([]byte, 0, len(okHead)+len(date)+len(f.okTail[boolInt(keepAlive)])+len(f.data))
	b = append(appendOKHead(b, f, keepAlive, date), f.data...)
	p.Store(&prebuilt{sec: sec, b: b})
	return b
}

// acquire takes a reference for a sender.
func (f *File) acquire() { f.refs.Add(1) }

// release drops a reference; the last one closes the file.
func (f *File) release() {
	if f.refs.Add(-1) == 0 && f.h != nil {
		f.h.Close()
	}
}

// same reports whether a fresh open found the very file f already holds.
func (f *File) same(st Stat) bool {
	return f.dir == isDir(st) && f.dev == st.Dev && f.ino == st.Ino &&
		f.size == st.Size && f.modTime.Equal(st.ModTime)
}

func isDir(st Stat) bool { return st.Mode&unix.S_IFMT == unix.S_IFDIR }

// cached returns the cache's entry for key, with a reference for the
// caller, if it is recent enough to trust without asking the file system.
// It makes no system call: it is what the core does on the thread of the
// model's loop before it asks the model for a file step.
func (s *Site) cached(key []byte, now time.Time) *File {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[string(key)] // no allocation: the compiler special-cases this
	if f == nil || now.UnixNano()-f.checked.Load() >= int64(cacheValid) {
		return nil
	}
	s.lru.moveToFront(f)
	f.acquire()
	return f
}

// adopt turns the result of opening key (h and st, or err) into the file
// to serve, through the cache: a file unchanged since it was cached keeps
// its old descriptor, a changed one replaces it, a vanished one leaves.
// It runs wherever the model performed the open, a disk worker included,
// and any close it makes is made there too.
func (s *Site) adopt(key string, h Handle, st Stat, err error, now time.Time) OpenResult {
	old := s.entry(key)
	if err != nil {
		e, ok := err.(*Error)
		if !ok {
			e = errInternal
		}
		if old != nil && e == errNoDescriptors {
			// We cannot check the file, but we still hold it open.
			// Serving a copy a few seconds old beats refusing the
			// connections we already have.
			return OpenResult{file: old}
		}
		s.drop(key, old)
		return OpenResult{err: e}
	}
	kind := st.Mode & unix.S_IFMT
	if kind != unix.S_IFREG {
		if h != nil {
			h.Close() // a folder is looked into, never read
			h = nil
		}
		if kind != unix.S_IFDIR {
			// Devices, sockets and FIFOs are not files to serve.
			s.drop(key, old)
			return OpenResult{err: errForbidden}
		}
	}
	if old != nil && old.same(st) {
		// Unchanged: keep the cached descriptor (and contents), drop
		// the new one.
		if h != nil {
			h.Close()
		}
		old.checked.Store(now.UnixNano())
		return OpenResult{file: old}
	}
	if old != nil {
		old.release() // ours; insert drops the cache's
	}
	f := &File{h: h, fd: -1, dir: h == nil, size: st.Size, modTime: st.ModTime,
		contentType: contentTypeOf(key), dev: st.Dev, ino: st.Ino, site: s, key: key}
	if d, ok := h.(interface{ Fd() int }); ok {
		f.fd = d.Fd()
	}
	f.lastModified = f.modTime.AppendFormat(nil, TimeFormat)
	if !f.dir {
		f.okTail[0] = appendOKTail(nil, f, false)
		f.okTail[1] = appendOKTail(nil, f, true)
		if s.bodies {
			f.data = readSmall(h, f.size)
		}
	}
	f.checked.Store(now.UnixNano())
	f.refs.Store(1)
	s.insert(f)
	return OpenResult{file: f}
}

// entry returns the cache's entry for key however old, with a reference.
func (s *Site) entry(key string) *File {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[key]
	if f != nil {
		f.acquire()
	}
	return f
}
