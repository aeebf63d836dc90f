package servers

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Site is a folder served as a web site: the root jail, the open-file cache
// and the simulated disk. One Site is shared by every connection of a server
// (and by every loop of a multi-loop event loop), so it is safe for
// concurrent use.
type Site struct {
	root   string
	rootFd int // an O_PATH descriptor: every open is resolved beneath it
	delay  time.Duration

	mu    sync.Mutex
	files map[string]*File // the open-file cache, keyed by cleaned path

	// bufs holds idle sessions' input buffers for reuse (Session.Shrink).
	bufs bufPool
}

// SiteOptions tune a Site.
type SiteOptions struct {
	// DiskDelay is added before every read of file data, to simulate a
	// slow disk. Every model pays it in the same place: File.ReadAt.
	DiskDelay time.Duration
}

// Open-file cache bounds. Opening, stat-ing and closing a file costs three
// system calls and an allocation for the path; the cache turns a request for
// a popular file into a map lookup and a reference count. In exchange it holds
// up to cacheMax descriptors open and may serve a file's old contents for up
// to cacheValid after it changes — the same trade nginx's open_file_cache
// makes.
const (
	cacheMax   = 1024
	cacheValid = time.Second
)

// NewSite opens root for serving.
func NewSite(root string, opt SiteOptions) (*Site, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("site root %s: %w", root, err)
	}
	fd, err := unix.Open(abs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open site root %s: %w", abs, err)
	}
	return &Site{root: abs, rootFd: fd, delay: opt.DiskDelay, files: make(map[string]*File)}, nil
}

// Root is the absolute path of the folder served.
func (s *Site) Root() string { return s.root }

// DiskDelay is the simulated delay before each read of file data.
func (s *Site) DiskDelay() time.Duration { return s.delay }

// Close releases the root and every cached file. Files still being sent stay
// open until their senders Release them.
func (s *Site) Close() error {
	s.mu.Lock()
	for k, f := range s.files {
		delete(s.files, k)
		f.Release()
	}
	s.mu.Unlock()
	return unix.Close(s.rootFd)
}

// File is an open regular file being served. It is reference-counted: the
// cache holds one reference and each response being sent holds another, so a
// file evicted or replaced mid-send is closed only when its last sender is done.
type File struct {
	fd           int
	size         int64
	modTime      time.Time
	lastModified []byte // modTime in HTTP date format, made once
	contentType  string
	dev, ino     uint64
	checked      atomic.Int64 // unix nanoseconds of the last validation
	refs         atomic.Int32
	site         *Site
}

// Fd is the file's descriptor, for sendfile(2) and pread(2). It is shared by
// every sender of the file, which is safe because both take an explicit
// offset and never move the descriptor's own position.
func (f *File) Fd() int { return f.fd }

// Size is the file's size when it was opened or last validated.
func (f *File) Size() int64 { return f.size }

// ModTime is the file's modification time.
func (f *File) ModTime() time.Time { return f.modTime }

// ReadAt reads file data at off, after the site's simulated disk delay. It is
// where the "fetch the file from disk" step of every model happens when it
// does not use sendfile.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.site.delay > 0 {
		time.Sleep(f.site.delay)
	}
	for {
		n, err := unix.Pread(f.fd, p, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read file: %w", err)
		}
		return n, nil
	}
}

// acquire takes a reference for a sender.
func (f *File) acquire() { f.refs.Add(1) }

// Release drops a reference; the last one closes the descriptor.
func (f *File) Release() {
	if f.refs.Add(-1) == 0 {
		unix.Close(f.fd)
	}
}

// open finds the file for a cleaned relative path ("" is the root), through
// the cache. The returned File carries a reference the caller must Release.
func (s *Site) open(rel []byte, now time.Time) (*File, error) {
	s.mu.Lock()
	f := s.files[string(rel)] // no allocation: the compiler special-cases this
	if f != nil && now.UnixNano()-f.checked.Load() < int64(cacheValid) {
		f.acquire()
		s.mu.Unlock()
		return f, nil
	}
	s.mu.Unlock()

	// A miss, or an entry too old to trust: open the path afresh.
	fresh, err := s.openFresh(string(rel), now)
	if err != nil {
		if f != nil && err.(*Error).Status == 503 {
			// Out of descriptors: we cannot check the file, but we
			// still hold it open. Serving a copy a few seconds old
			// beats refusing the connections we already have.
			f.acquire()
			return f, nil
		}
		if f != nil {
			s.evict(string(rel), f)
		}
		return nil, err
	}
	if f != nil && f.dev == fresh.dev && f.ino == fresh.ino &&
		f.size == fresh.size && f.modTime.Equal(fresh.modTime) {
		// Unchanged: keep the cached descriptor, drop the new one.
		fresh.Release()
		f.checked.Store(now.UnixNano())
		f.acquire()
		return f, nil
	}
	s.insert(string(rel), fresh)
	return fresh, nil
}

// insert puts f in the cache, replacing an old entry and evicting an
// arbitrary one when full (Go's map iteration order is random, which makes
// this random eviction: cheap, and fair enough for a teaching server).
func (s *Site) insert(key string, f *File) {
	f.acquire() // the cache's own reference
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.files[key]; old != nil {
		old.Release()
	} else if len(s.files) >= cacheMax {
		for k, victim := range s.files {
			delete(s.files, k)
			victim.Release()
			break
		}
	}
	s.files[key] = f
}

func (s *Site) evict(key string, f *File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files[key] == f {
		delete(s.files, key)
		f.Release()
	}
}

// openFresh opens rel beneath the root. openat2(2) with RESOLVE_BENEATH makes
// the KERNEL enforce the jail: any "..", absolute symlink or relative symlink
// that would lead outside the root fails with EXDEV, even if the tree changes
// between our check and our use (the race that defeats checking a path in
// user space and then opening it).
func (s *Site) openFresh(rel string, now time.Time) (*File, error) {
	fd, err := s.openBeneath(rel)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, errForbidden
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		// A directory serves its index.html (or 404: no listings here).
		unix.Close(fd)
		idx := "index.html"
		if rel != "" {
			idx = rel + "/index.html"
		}
		if fd, err = s.openBeneath(idx); err != nil {
			return nil, err
		}
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, errForbidden
		}
		rel = idx
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		// Devices, sockets and FIFOs are not files to serve.
		unix.Close(fd)
		return nil, errForbidden
	}
	f := &File{
		fd:          fd,
		size:        st.Size,
		modTime:     time.Unix(st.Mtim.Unix()).UTC(),
		contentType: contentTypeOf(rel),
		dev:         st.Dev,
		ino:         st.Ino,
		site:        s,
	}
	f.lastModified = f.modTime.AppendFormat(nil, TimeFormat)
	f.checked.Store(now.UnixNano())
	f.refs.Store(1)
	return f, nil
}

func (s *Site) openBeneath(rel string) (int, error) {
	if rel == "" {
		rel = "."
	}
	how := unix.OpenHow{
		// O_NONBLOCK: opening a FIFO for reading would otherwise wait
		// for a writer and hang the caller; it changes nothing for
		// regular files.
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(s.rootFd, rel, &how)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue // openat2 may ask to be retried under rename races
		case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ENAMETOOLONG):
			return -1, errNotFound
		case errors.Is(err, unix.EXDEV), errors.Is(err, unix.ELOOP),
			errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM),
			errors.Is(err, unix.ENXIO), errors.Is(err, unix.ENODEV):
			// EXDEV: the path would leave the root. ENXIO and ENODEV:
			// a socket or a device file, which is not a file to serve.
			return -1, errForbidden
		case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
			return -1, &Error{503, "out of file descriptors"}
		default:
			return -1, errInternal
		}
	}
}

// cleanPath percent-decodes an origin-form path into dst and removes "." and
// ".." segments in place, returning the path relative to the root without a
// leading slash ("" for the root itself). It never allocates when dst has
// room.
//
// Refused (400): a malformed %-escape, a decoded NUL or backslash (Windows
// path separators have no business in a URL path and have a long history of
// slipping past filters), and any ".." that would climb above the root.
func cleanPath(dst, p []byte) ([]byte, error) {
	dst = dst[:0]
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return dst, errBadPath
			}
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
		}
		if c == 0 || c == '\\' {
			return dst, errBadPath
		}
		dst = append(dst, c)
	}
	// Now remove dot segments (RFC 3986 §5.2.4), writing over dst itself.
	out := dst[:0]
	for seg := range splitSegments(dst) {
		switch string(seg) {
		case "", ".":
			continue
		case "..":
			j := len(out) - 1
			if j < 0 {
				return dst, errPathEscapes
			}
			for j >= 0 && out[j] != '/' {
				j--
			}
			if j < 0 {
				j = 0
			}
			out = out[:j]
			continue
		}
		if len(out) > 0 {
			out = append(out, '/')
		}
		out = append(out, seg...)
	}
	return out, nil
}

// splitSegments yields the '/'-separated segments of p. The writes in
// cleanPath never overtake the reads here, because the output is never
// longer than what has been read.
func splitSegments(p []byte) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		start := 0
		for i := 0; i <= len(p); i++ {
			if i == len(p) || p[i] == '/' {
				if !yield(p[start:i]) {
					return
				}
				start = i + 1
			}
		}
	}
}

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// bufPool is a bounded free list of input buffers. It is not a sync.Pool
// because a sync.Pool is emptied by every garbage collection (and, under the
// race detector, drops items at random), which would put allocations back
// on the keep-alive path; and it is bounded so that a burst of busy
// connections does not leave memory parked here for ever.
type bufPool struct {
	mu   sync.Mutex
	free []*[ReadBufferSize]byte
}

// bufPoolMax is how many idle buffers are kept: 8 MiB at most.
const bufPoolMax = 256

func (p *bufPool) get() *[ReadBufferSize]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return new([ReadBufferSize]byte)
}

func (p *bufPool) put(b *[ReadBufferSize]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < bufPoolMax {
		p.free = append(p.free, b)
	}
}
