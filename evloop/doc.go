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
//	readingRequest -> openingFile -> fetchingFile -> writingHead -> writingBody -+-> readingRequest
//	                                      ^                             |        |   (keep-alive)
//	                                      +-------- next chunk ---------+        +-> closing
//
// A step that cannot finish — EAGAIN on the socket, an open or a read
// handed to a disk worker — tells the poller what the connection waits
// for, sets the timer at the deadline its Session gives, and returns; the
// loop moves on.
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
//   - Sendfile: bodies over 16 KiB go from the file to the socket inside
//     the kernel with sendfile(2); smaller ones are read and sent with the
//     head in one writev(2). Without sendfile (or with a simulated slow disk,
//     whose delay lives in servers.File.ReadAt), bodies are read in 64 KiB
//     chunks. Either way no file is ever read whole into memory.
package evloop
