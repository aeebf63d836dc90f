package evloop

import (
	"sync"

	"golang.org/x/sys/unix"

	"serverlab/servers"
)

// A socket can say "not ready, try later" (EAGAIN); a disk cannot. A read
// from a regular file always blocks until the data is there, and epoll
// cannot wait for it (epoll_ctl refuses a regular file with EPERM; poll(2)
// reports one as always ready, which is no better). So a loop
// that reads files itself stops serving EVERY connection while one read
// waits for the disk: with -disk-delay 50ms and -disk-workers 0, the whole
// server freezes 50 ms per chunk read. That is the slow-disk lesson.
//
// The cure, which libuv and nginx's thread pools use, is to hand the file
// system's calls — the open (openat2, fstat) and every read (pread) — to a
// few worker threads and let them report back, so that the loop's own
// thread makes none at all. It is bubbletea's Cmd picture: "an I/O
// operation that returns a message". The shared core makes this possible:
// it names each file step (servers.OpenStep) instead of making it.
//
//	  loop                                      disk workers (N)
//	  ----                                      ----------------
//	  openFile(c) / startFile(c)
//	    diskJob{c, open step} ---jobs--->       op.Do()            (openat2, fstat)
//	    diskJob{c, file, buf, off} ---jobs--->  ReadAt(buf, off)   (pread; blocks here,
//	    c waits; the loop serves others            not in the loop)
//	                                               |
//	  wakeUp  <--- eventfd ---- done queue <-------+  the job, with its result
//	    fileReady(c): advance c to fetchingFile / writingHead / writingBody
//
// The eventfd is a descriptor holding a counter: a worker adds 1 to it, which
// makes it readable, so the loop's ordinary wait wakes up for it like for
// any socket.

// diskJob is one open or one read of file data: the request going out,
// and its result coming back. It travels by value, so a job costs no
// allocation.
type diskJob struct {
	loop *loop
	conn *conn

	open   *servers.OpenStep // an open, or else a read:
	opened servers.OpenResult

	file *servers.File
	buf  []byte
	off  int64
	n    int
	err  error
}

// jobQueue is how many reads may wait for a worker. When it is full, the
// loop waits to hand over the next one: backpressure from a slow disk,
// rather than an unbounded queue.
const jobQueue = 1024

// diskPool is the worker threads shared by every loop of a server.
type diskPool struct {
	jobs chan diskJob
	wg   sync.WaitGroup
}

func startDiskPool(workers int) *diskPool {
	p := &diskPool{jobs: make(chan diskJob, jobQueue)}
	for range workers {
		p.wg.Go(p.work)
	}
	return p
}

func (p *diskPool) work() {
	for j := range p.jobs {
		if j.open != nil {
			j.opened = j.open.Do()
		} else {
			// ReadAt is where the simulated disk delay lives.
			j.n, j.err = j.file.ReadAt(j.buf, j.off)
		}
		j.loop.complete(j)
	}
}

// stop ends the workers once every loop has exited (and so no job is
// outstanding).
func (p *diskPool) stop() {
	close(p.jobs)
	p.wg.Wait()
}

// submitOpen hands the file step the Session named for c to a worker.
func (l *loop) submitOpen(c *conn, op *servers.OpenStep) state {
	return l.submit(c, diskJob{loop: l, conn: c, open: op})
}

// submitRead hands the next chunk of c's file to a worker.
func (l *loop) submitRead(c *conn, want int) state {
	o := c.out
	return l.submit(c, diskJob{loop: l, conn: c, file: o.file, buf: o.buf[:want], off: o.off})
}

// submit queues j. c watches nothing until the job is back: its socket has
// nothing to say that cannot wait, and a hang-up reported meanwhile would
// only wake the loop again and again for a connection it cannot act on
// yet. Nor does it keep a timer: the disk, not the client, is what c waits
// for, and a client's limit must not run out while a queue of reads ahead
// of its own is served.
func (l *loop) submit(c *conn, j diskJob) state {
	l.traceJob(c, &j, "handed to a disk worker:")
	c.diskBusy = true
	l.pending++
	l.inflight.Add(1)
	l.srv.disk.jobs <- j
	c.timer.Stop()
	if !l.watch(c, 0) {
		return closed
	}
	return c.state
}

// complete is called by a worker (not the loop's thread) with a finished job.
func (l *loop) complete(j diskJob) {
	l.mu.Lock()
	l.done = append(l.done, j)
	if len(l.done) == 1 {
		// The loop takes the whole queue on each wake, so only the job
		// that finds the queue empty needs to wake it.
		l.signal()
	}
	l.mu.Unlock()
	l.inflight.Done()
}

// signal makes the loop's eventfd readable. The caller holds l.mu: the loop
// closes the eventfd under the same lock, so a late signal can never write
// to a closed descriptor — or worse, to a new one that reused its number.
func (l *loop) signal() {
	if l.closed {
		return
	}
	// Any non-zero amount added to the counter makes it readable.
	one := [8]byte{1}
	unix.Write(l.wakeFd, one[:])
}

// takeDone swaps the queue of finished jobs for an empty one.
func (l *loop) takeDone() []diskJob {
	l.mu.Lock()
	defer l.mu.Unlock()
	jobs := l.done
	l.done = l.doneSpare[:0]
	return jobs
}

// fileReady is lesson 00's FILE_OPENED or FILE_READ: a worker's open or
// read for c is back, and c can move on.
func (l *loop) fileReady(j *diskJob) {
	c := j.conn
	l.settle(j)
	if c.doomed {
		l.closeConn(c)
		return
	}
	l.advance(c)
}

// settle records a finished job's result in its connection.
func (l *loop) settle(j *diskJob) {
	c := j.conn
	l.traceJob(c, j, "back from the disk worker:")
	c.diskBusy = false
	l.pending--
	switch {
	case j.open != nil:
		c.sess.Opened(j.opened) // the Session decides; openFile takes it on
	case j.err != nil || j.n == 0:
		c.out.fileShort = true // startFile will end the connection
	default:
		c.out.ready = c.out.buf[:j.n]
		c.out.off += int64(j.n)
		c.sess.Fetched(l.now) // the write limit counts from here
	}
}
