// Package evloop is model 3: an event loop. One thread serves every
// connection, because it never waits for any one of them. Its sockets are
// non-blocking, so a read with nothing to read or a write with no room
// returns EAGAIN at once instead of sleeping; and the one place the thread
// does sleep is epoll_wait, which wakes it as soon as ANY socket can make
// progress.
//
// What a student should learn here:
//
//   - What the blocking server keeps on its thread's stack — which request,
//     how much of the file is sent — an event loop must keep in a struct per
//     connection, because the thread leaves a connection every time it would
//     have to wait. That struct, and its named states, are conn in conn.go.
//   - Readiness is not completion: "writable" means there is SOME room, and
//     a write may take only part of what it is given. Every partial write
//     remembers where it stopped, and the next writable report resumes there.
//   - The loop is only as fast as its slowest step. Sockets never block it;
//     a file's open or read does (see disk.go), and so would any slow
//     computation. The shared core names each file step instead of making
//     it, so the loop can hand those to disk workers.
//   - Fairness is the loop's job: a connection that is always ready (a fast
//     download, a client pipelining requests) gets a budget per turn, and a
//     client that sends faster than it reads is not read from until its
//     answers drain (backpressure).
//
// # One turn of the loop
//
// In the style of libuv's loop-iteration diagram:
//
//	       +--------------------------------+
//	       | timeout = the earliest timer   |  each connection's Session
//	       | (none: wait for ever)          |  deadline, in a heap
//	       +---------------+----------------+
//	                       |
//	       +---------------v----------------+
//	       | epoll_wait(timeout)            |  the ONLY place where
//	       | (or poll, with -poller poll)   |  the loop sleeps
//	       +---------------+----------------+
//	                       |  for each ready descriptor:
//	   +-------------------+--------------------+
//	   |                   |                    |
//	listener            a client             eventfd
//	acceptConn          advance(conn)        wakeUp
//	(up to 64 new       readable:            opens, reads back:
//	connections)          readRequest          fileReady -> advance
//	                    writable:            Shutdown:
//	                      writeHead,           drain, or stop
//	                      writeBody
//	   |                   |                    |
//	   +-------------------+--------------------+
//	                       |
//	       +---------------v----------------+
//	       | expireTimers                   |  Session.Expire: send a
//	       |                                |  408, or close
//	       +---------------+----------------+
//	                       |
//	    draining, and nothing left? --yes--> return
//	                       | no
//	                       +--> next turn
//
// # One connection
//
// Each connection moves through the states of lesson 00's third loop
// (advance in conn.go holds every transition):
//
//	                               +------ in memory -------+
//	                               |                        v
//	readingRequest -> openingFile -+-> fetchingFile -> writingHead -> writingBody -+-> readingRequest
//	                                        ^                              |       |   (keep-alive)
//	                                        +-------- next chunk ----------+       +-> closing
//
// The answer is in memory when the small-file cache holds its body, or
// when it has none (an error, a 304, HEAD).
//
// A step that cannot finish — EAGAIN on the socket, an open or a read
// handed to a disk worker — tells the poller what the connection waits
// for, sets the timer at the deadline its Session gives, and returns; the
// loop moves on.
//
// # A small file, and the system-call floor
//
// The shared core keeps small files in memory (the small-file cache, in
// servers/cache.go), so a request for one costs the loop exactly what an
// HTTP server cannot avoid: one read(2) of the request and one write(2)
// of the answer (a body up to 4 KiB travels in the head's buffer, and for
// all of a small file the core keeps that whole answer made, remade once a
// second; a bigger body goes beside the head in one writev(2)). No open,
// stat or pread; no epoll_ctl (the connection keeps waiting for what it
// waited for); no allocation per request (the connection's state is
// pooled); no timer-heap work (see timer.go). A
// client that pipelines — several requests in one read — gets all the
// answers that are in memory in ONE write: each is copied into the
// connection's held buffer and the next request taken, and the batch
// leaves with the last answer (writingHeld, when it goes alone). What that
// costs beside a C loop doing nothing else is in docs/results/peers.md,
// and system call by system call in docs/results/syscalls.md.
//
// # Level-triggered, and why
//
// epoll can report readiness two ways. Level-triggered (the default, used
// here): "this socket IS readable", on every wait, for as long as it is.
// Edge-triggered (EPOLLET): "this socket BECAME readable", once. Edge-
// triggered saves system calls — a socket is registered once for reading and
// writing and never changed — but it is unforgiving: after each report the
// code must read (or write) until EAGAIN, or remember by itself that the
// socket is still ready, because the kernel will not say so again. One
// forgotten case and a connection hangs for ever, silently. Level-triggered
// forgives: a step may read once, stop for fairness, or drop a report, and
// the next wait simply reports the socket again. Its price is an epoll_ctl
// whenever a connection switches between waiting to read and waiting to
// write — and this loop only switches when it really has to wait, so a
// request answered at once costs none. For a textbook, the version that is
// easy to get right wins.
//
// # Options
//
// Loops, Poller and DiskWorkers are the loop's own Options; sendfile is
// every model's (servers.Config.NoSendfile).
//
//   - Loops (-loops N): N loops, each with its own thread, epoll instance
//     and SO_REUSEPORT listening socket; the kernel spreads new connections
//     between them by a hash of their addresses. More than one helps only
//     with more than one core to run them.
//   - Poller (-poller poll): poll(2) instead of epoll, to measure what
//     scanning every descriptor on every wake costs (poller_poll.go).
//   - DiskWorkers (-disk-workers N): every open (openat2, fstat) and file
//     read (pread) handed to N worker threads that report back through the
//     loop's eventfd (disk.go); the loop's own thread then makes no
//     file-system call at all. (sendfile, a socket write that the kernel
//     fills from the page cache, stays on the loop; -sendfile=false hands
//     those bytes to the workers too.)
//   - Sendfile: bodies over 16 KiB that the small-file cache does not
//     hold go from the file to the socket inside the kernel with
//     sendfile(2), after a head sent with MSG_MORE so that it shares the
//     body's first packet (rawSendMore); smaller ones are read and sent
//     with the head in one writev(2). Without sendfile (or with a simulated slow disk, whose
//     delay lives in servers.File.ReadAt and which turns the cache off),
//     bodies are read in 64 KiB chunks. Only the cache reads a file whole.
//
// # The loop and the Go runtime
//
// A C event loop is its thread and nothing else runs there. A Go one is a
// goroutine, and the runtime around it has its own work: measured under
// load, an earlier version of this loop made about 0.3 futex(2) and 0.25
// nanosleep(2) calls per request besides its own, most of the time strace
// saw. Their stacks (strace -f -k) named the culprit: sysmon, the runtime's
// monitor thread. It wakes every 20 µs to 10 ms and does two things to a
// busy loop:
//
//   - It preempts a goroutine that has run 10 ms without a trip through
//     the scheduler, and the loop never made one: its goroutine was
//     locked to its thread (runtime.LockOSThread) and only ever entered
//     system calls. Finding it in a system call, sysmon took its P (the
//     right to run Go code) away and woke another thread to hold it
//     (handoffp, startm: a futex wake, and a futex wait when that thread
//     found nothing to do); the loop then had to get a P back.
//   - Each time it took a P, it went back to waking every 20 µs (the
//     nanosleeps), and at that pace it catches even short epoll_waits,
//     which with GOMAXPROCS=1 (a server pinned to one core) it also hands
//     off, since no other P is idle. The loop kept it busy for ever.
//
// So the loop is not locked to its thread, and it yields (runtime.Gosched,
// a microsecond or two on the same thread) every 4 ms: it is never
// preempted. Its reads and writes, which cannot block on non-blocking
// sockets, are raw system calls (rawio.go): the runtime does not prepare to
// hand its P away for them, which saves that bookkeeping on every call and
// leaves sysmon nothing to take while a write runs the receiver's TCP work.
// Locked, each yield would cost a hand-over between two threads. The stats
// channel and signal handling get their turn at each yield.
//
// What cannot be removed: sysmon still wakes, tens to a thousand times a
// second as the machine is loaded, polls the runtime's own netpoller every
// 10 ms when no thread does, and takes the P when epoll_wait sleeps through
// one of its ticks — the price of the loop sleeping in the kernel without
// its P, so that the rest of the program (the garbage collector included)
// can run meanwhile. A loop that held its P across a sleeping epoll_wait
// (a raw system call) would stop all of that cold; gnet makes only its
// non-blocking epoll_wait(0) that way. docs/results/syscalls.md counts what
// is left.
package evloop
