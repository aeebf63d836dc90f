package servers

import "time"

// OpenStep is a file step: the core has decided which file a response needs
// and asks the model to open it. The model performs it its own way — at
// once on its own thread (Do), on a disk worker (Do, there), or by
// submitting the system calls to the kernel (Root, Adopt) — and hands the
// result to Session.Opened. Until then the session waits, and the model
// may serve other connections.
//
// A step is made only when the open-file cache cannot answer: a popular file
// costs no step and no system call at all.
type OpenStep struct {
	// Path is the file to open, relative to the site's root and cleaned:
	// "." is the root itself, and it never starts with "/" nor climbs
	// with "..". Opening it with OpenFlags and ResolveFlags beneath the
	// root keeps the jail even against symbolic links.
	Path string

	site *Site
	now  time.Time // when the step was made: the cache's clock
}

// OpenResult is the outcome of a file step, for Session.Opened: a file, a
// folder, or the refusal to answer with.
type OpenResult struct {
	file *File
	err  *Error
}

// Do performs the step on the calling thread, through the site's file
// system and its open-file cache (on disk: openat2 and fstat, and the close
// of a descriptor the cache turns out not to need). It is safe on any
// goroutine, so a disk worker may call it while the loop serves others.
func (o *OpenStep) Do() OpenResult {
	h, st, err := o.site.fs.Open(o.Path)
	return o.site.adopt(o.Path, h, st, err, o.now)
}

// Root is the descriptor of the site's root folder, for a model that
// submits the open itself (io_uring's IORING_OP_OPENAT2 with dirfd Root,
// Path, and an open_how of OpenFlags and ResolveFlags). ok is false when
// the site is not a folder on disk: then use Do.
func (o *OpenStep) Root() (dirfd int, ok bool) {
	d, ok := o.site.fs.(*diskFS)
	if !ok {
		return -1, false
	}
	return d.root, true
}

// Adopt is Do's second half, for a model that made the system calls
// itself: fd is what openat2 beneath Root returned, st what statx (or
// fstat) said of it, and err the errno if either failed (mapped to the
// status exactly as Do maps it). Adopt owns fd from then on: it closes it
// when the file is a folder, not a regular file, or already open in the
// cache. On EAGAIN or EINTR from openat2, submit the open again instead.
func (o *OpenStep) Adopt(fd int, st Stat, err error) OpenResult {
	if err != nil {
		refusal := openError(err)
		if fd >= 0 {
			// The open worked and the stat failed: Do answers that
			// with 403, and so does this.
			diskFile(fd).Close()
			refusal = errForbidden
		}
		return o.site.adopt(o.Path, nil, Stat{}, refusal, o.now)
	}
	return o.site.adopt(o.Path, diskFile(fd), st, nil, o.now)
}
