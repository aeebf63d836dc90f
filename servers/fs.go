package servers

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// FS is where a Site's files come from: a folder on disk (NewSite), or, in
// the core's own tests, a map in memory. It is the one seam between the
// protocol and the file system, and it is small on purpose: the core decides
// WHICH file (beneath the root, after cleaning the path), the FS only opens
// it and says what it is.
type FS interface {
	// Open opens rel beneath the root and reports what it found. rel is
	// relative and clean ("." is the root itself; never "..", never a
	// leading slash), and the FS must still refuse to leave the root, even
	// through a symbolic link. err is an *Error carrying the status to
	// answer with (404, 403, 503, 500).
	Open(rel string) (Handle, Stat, error)
}

// Handle is a file an FS has opened.
type Handle interface {
	// ReadAt reads at an explicit offset, never moving a shared position:
	// one Handle serves every connection that sends the file.
	ReadAt(p []byte, off int64) (int, error)
	Close() error
}

// Stat is what the core needs to know of an opened file.
type Stat struct {
	// Mode holds the file type bits (Mode & unix.S_IFMT is S_IFREG for a
	// regular file, S_IFDIR for a folder).
	Mode    uint32
	Size    int64
	ModTime time.Time
	// Dev and Ino are the file's identity, for the open-file cache's
	// question "is this still the file I have open?".
	Dev, Ino uint64
}

// StatFromStat converts fstat(2)'s answer.
func StatFromStat(st *unix.Stat_t) Stat {
	return Stat{
		Mode:    st.Mode,
		Size:    st.Size,
		ModTime: time.Unix(st.Mtim.Unix()).UTC(),
		Dev:     st.Dev,
		Ino:     st.Ino,
	}
}

// StatFromStatx converts statx(2)'s answer, for a model that asks the
// kernel itself (an io_uring IORING_OP_STATX on the opened descriptor).
func StatFromStatx(x *unix.Statx_t) Stat {
	return Stat{
		Mode:    uint32(x.Mode),
		Size:    int64(x.Size),
		ModTime: time.Unix(x.Mtime.Sec, int64(x.Mtime.Nsec)).UTC(),
		Dev:     unix.Mkdev(x.Dev_major, x.Dev_minor),
		Ino:     x.Ino,
	}
}

// How every file of a site on disk is opened: openat2(2) beneath the root's
// descriptor with these flags. A model that submits the open itself (io_uring's
// IORING_OP_OPENAT2) must use exactly these, so the jail stays as strict.
//
// RESOLVE_BENEATH makes the KERNEL enforce the jail: any "..", absolute
// symbolic link or relative one that would lead outside the root fails with
// EXDEV, even if the tree changes between our check and our use (the race
// that defeats checking a path in user space and then opening it).
// RESOLVE_NO_MAGICLINKS refuses /proc-style links that point anywhere.
// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
// and hang the caller; it changes nothing for regular files.
const (
	OpenFlags    = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK
	ResolveFlags = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS
)

// errNoDescriptors is the answer when the process has no descriptor left
// to open the file with: the server's trouble, and a passing one.
var errNoDescriptors = &Error{503, "out of file descriptors"}

// diskFS is a folder on disk. Its root is an O_PATH descriptor: every open
// is resolved beneath it, so renaming or replacing the folder's path while
// serving changes nothing.
type diskFS struct {
	root int
}

func openDisk(root string) (*diskFS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("site root %s: %w", root, err)
	}
	fd, err := unix.Open(abs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open site root %s: %w", abs, err)
	}
	return &diskFS{root: fd}, nil
}

// Open is openat2 beneath the root, then fstat.
func (d *diskFS) Open(rel string) (Handle, Stat, error) {
	how := unix.OpenHow{Flags: OpenFlags, Resolve: ResolveFlags}
	for {
		fd, err := unix.Openat2(d.root, rel, &how)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue // openat2 may ask to be retried under rename races
		}
		if err != nil {
			return nil, Stat{}, openError(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, Stat{}, errForbidden
		}
		return diskFile(fd), StatFromStat(&st), nil
	}
}

func (d *diskFS) close() error { return unix.Close(d.root) }

// openError maps an errno from openat2 (or its io_uring twin) to the answer.
func openError(err error) *Error {
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ENAMETOOLONG):
		return errNotFound
	case errors.Is(err, unix.EXDEV), errors.Is(err, unix.ELOOP),
		errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM),
		errors.Is(err, unix.ENXIO), errors.Is(err, unix.ENODEV):
		// EXDEV: the path would leave the root. ENXIO and ENODEV: a
		// socket or a device file, which is not a file to serve.
		return errForbidden
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
		return errNoDescriptors
	}
	return errInternal
}

// diskFile is an open file on disk: just its descriptor.
type diskFile int

// ReadAt is pread(2), which takes its offset explicitly and leaves the
// descriptor's own position alone.
func (f diskFile) ReadAt(p []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(int(f), p, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read file: %w", err)
		}
		return n, nil
	}
}

func (f diskFile) Close() error { return unix.Close(int(f)) }

// Fd is the descriptor, for sendfile(2).
func (f diskFile) Fd() int { return int(f) }
