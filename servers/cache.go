package servers

import "time"

// The open-file cache, and in it the small-file cache.
//
// Every file a site serves goes through one table, keyed by its cleaned
// path. An entry holds the open descriptor, what fstat said of the file,
// the header fields of its answer (made once), and, for a small file, its
// whole contents in memory. A request for a file whose entry was checked
// less than cacheValid ago costs no system call: no open, no stat, and for
// a small file no read either, so that an event loop answers it with one
// read of the request and one write of head and body together. That is the
// trade nginx's open_file_cache makes, and gnet-style servers that load
// every file at start-up make without the checks.
//
// Freshness. An older entry is checked again: the model opens the path
// afresh (openat2 beneath the root, so a file replaced by a symbolic link
// that leads outside is refused like any other), and if the file is still
// the same one — device, inode, size and modification time — the entry and
// its contents are kept; if it changed, the new file replaces them; if it
// vanished, the entry goes. So an edited file is served new within about a
// second, and a hot one costs one open and stat a second, not one a request.
//
// Bounds. At most cacheFiles entries (each holds a descriptor open) and
// cacheBytes bytes of contents; past either, the least recently used entry
// leaves. An entry of at most foldLimit bytes also keeps, once it has been
// asked for, its whole answer made in each of two forms (File.wholeAnswer):
// at most cacheFiles × 2 × (foldLimit + a head), under 10 MiB, outside the
// contents' count. A response still sending an entry that left keeps its File (and
// the contents) until it ends.
//
// Off (SiteOptions.NoCache, serve -cache=false, and whenever the disk is
// slowed by SiteOptions.DiskDelay): entries keep no contents, and every body
// is read from its file.
const (
	cacheFiles = 1024
	cacheBytes = 64 << 20
	smallFile  = 64 << 10
	cacheValid = time.Second
)

// readSmall reads the whole of a small file for the cache, or returns nil:
// for a file too big or empty, a folder, or one that could not be read
// whole (it shrank under us: the next check will see what it became).
func readSmall(h Handle, size int64) []byte {
	if h == nil || size <= 0 || size > smallFile {
		return nil
	}
	data := make([]byte, size)
	for n := 0; n < len(data); {
		m, err := h.ReadAt(data[n:], int64(n))
		if err != nil || m == 0 {
			return nil
		}
		n += m
	}
	return data
}

// insert puts f in the cache under f.key, replacing the entry it had, then
// lets the least recently used entries go until the table is within its
// bounds again. The cache's own reference to f is taken here.
func (s *Site) insert(f *File) {
	f.acquire()
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.files[f.key]; old != nil {
		s.forget(old)
	}
	if int64(len(f.data)) > s.bodyLimit {
		f.data = nil // larger than the whole budget: serve it from the file
	}
	s.files[f.key] = f
	s.lru.pushFront(f)
	s.used += int64(len(f.data))
	for (len(s.files) > cacheFiles || s.used > s.bodyLimit) && s.lru.tail != f {
		s.forget(s.lru.tail)
	}
}

// drop forgets old, if it is still its key's entry, and releases the
// caller's reference to it.
func (s *Site) drop(key string, old *File) {
	if old == nil {
		return
	}
	s.mu.Lock()
	if s.files[key] == old {
		s.forget(old)
	}
	s.mu.Unlock()
	old.release()
}

// forget takes f out of the table and releases the cache's reference. The
// caller holds s.mu.
func (s *Site) forget(f *File) {
	delete(s.files, f.key)
	s.lru.remove(f)
	s.used -= int64(len(f.data))
	f.release()
}

// cacheSize reports how many entries the cache holds and how many bytes of
// contents, for the tests of its bounds.
func (s *Site) cacheSize() (files int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files), s.used
}

// lruList is the cache's entries in order of use, most recent at the head,
// linked through the Files themselves so that a hit, which moves its entry
// to the front, allocates nothing. It is guarded by the site's mutex.
type lruList struct {
	head, tail *File
}

func (l *lruList) pushFront(f *File) {
	f.prev, f.next = nil, l.head
	if l.head != nil {
		l.head.prev = f
	} else {
		l.tail = f
	}
	l.head = f
}

func (l *lruList) remove(f *File) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

func (l *lruList) moveToFront(f *File) {
	if l.head != f {
		l.remove(f)
		l.pushFront(f)
	}
}
