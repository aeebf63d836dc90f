// Package uring is model 4: the event loop written as the classic
// pseudocode of lesson 00 writes it — "start reading the request from the
// socket with userdata = conn", then, when the event FINISHED_READING_FROM_
// SOCKET comes, "conn = event.userdata" — on Linux's io_uring. It is
// completion-based: the loop asks the kernel for a whole operation (receive
// these bytes, read this file, send this response) and is told when it is
// DONE. evloop is readiness-based: epoll tells it a socket CAN be read, and
// it still does the read itself. The same loop, the two ways an operating
// system can say "your turn": a reactor (evloop) and a proactor (this).
//
// What a student should learn here:
//
//   - The loop's one system call, io_uring_enter, both hands the kernel
//     every request made since the last one and sleeps until one of them
//     completes. Fifty requests cost one call, not fifty.
//   - Requests and completions travel through two rings of memory shared
//     with the kernel; the only synchronisation is the order in which each
//     side reads and writes the rings' head and tail (ring.go).
//   - A connection's state is the request it has under way. Cancelling
//     that request (a limit expired, Shutdown) is how a connection is
//     interrupted, and its completion still comes back, late, perhaps
//     after the connection has gone: user data must never name memory that
//     may be reused (an index and a generation, loop.go).
//   - The completion model's memory trap: a receive that waits carries a
//     buffer, so ten thousand idle connections pin ten thousand buffers.
//     Provided buffers (bufring.go) cure it: the kernel picks a buffer from
//     a shared pool only when bytes arrive.
//   - A disk read is just another request. With a slow disk and no worker
//     thread, evloop stops for every read; here the reads wait in the
//     kernel, side by side, and the thread serves everyone else.
//
// # The two rings
//
//	               this thread                         the kernel
//	+------------------------------------+   +------------------------------+
//	| submission queue (SQ)   we write   |   |                              |
//	|  [RECV fd 9  ud=recv|g3|#5]        |   |  takes SQEs from the head,   |
//	|  [READ fd 12 ud=read|g7|#2]  tail->+-->|  starts each one: at once,   |
//	|  [SEND fd 7  ud=send|g1|#0]        |   |  on a poll of the socket, or |
//	+------------------------------------+   |  on a kernel worker          |
//	          io_uring_enter(submit, wait)   |                              |
//	+------------------------------------+   |  when one finishes, writes   |
//	| completion queue (CQ)   it writes  |<--+  a CQE at the tail:          |
//	|  [ud=recv|g3|#5 res=78  buffer 17] |   |  the user data, unchanged,   |
//	|  [ud=send|g1|#0 res=1311]          |   |  and the result              |
//	+------------------------------------+   +------------------------------+
//	 we read from the head: "ud" says which connection (#slot) and
//	 which request; g is the slot's generation (is it still that one?)
//
// # One turn of the loop
//
//	       +------------------------------------------+
//	       | armAlarm: the loop's one TIMEOUT request |  header, idle, write and
//	       | at the earliest connection deadline      |  linger limits, in a heap
//	       +--------------------+---------------------+
//	                            |
//	       +--------------------v---------------------+
//	       | io_uring_enter: submit every new request |  the ONLY place where
//	       | and sleep until one completes            |  the thread sleeps
//	       +--------------------+---------------------+
//	                            |  for each completion, by its user data:
//	   +-----------+------------+--------------+------------+
//	   |           |            |              |            |
//	accept      a connection's request       the alarm   the eventfd
//	acceptConn  complete(conn): what it      (limits     wakeUp
//	(multishot: means; advance: the next     below)      (Shutdown)
//	one request request it waits on
//	per client)
//	   |           |            |              |            |
//	   +-----------+------------+--------------+------------+
//	                            |
//	       +--------------------v---------------------+
//	       | retryStarved: receives that found no     |
//	       | buffer; expireTimers: cancel what is due |
//	       +--------------------+---------------------+
//	                            +--> next turn
//
// # One connection's life
//
// Each state is the request under way (complete and advance in conn.go hold
// every transition):
//
//	        accept
//	          |
//	          v          a whole request
//	  receivingRequest ---------------------> fetchingFile ---READ done---+
//	   |  ^   (RECV)                          ([TIMEOUT ->] READ)         |
//	   |  |                                         ^                     v
//	   |  +------ keep-alive: next request ---------|-------------- sendingResponse
//	   |                                            +--next chunk---  (SEND/SENDMSG,
//	   |                                                               short: the rest)
//	   | EOF, reset                                  not keep-alive,      |
//	   |                                             or shutting down     |
//	   |        lingering <-----------------------------------------------+
//	   |     (SHUTDOWN, then RECV until the client closes)
//	   v           |
//	closing <------+   a limit expired, or Shutdown: the request under way is
//	(CLOSE; then the    cancelled (ASYNC_CANCEL) and its completion, whatever
//	slot is free)       it says, leads here (or to the 408, then here)
//
// # Where this model differs from evloop, and why
//
//   - Limits. evloop passes its earliest deadline to epoll_wait as a
//     timeout. A ring waits for completions, so the clock is itself a
//     request: one IORING_OP_TIMEOUT for the whole loop, armed for the
//     earliest deadline (timer.go). An expired limit cancels the
//     connection's request under way; the cancelled completion then moves
//     it on, to a 408 or a silent close exactly as in the other models.
//   - Accepting. One multishot ACCEPT request stays armed and completes once
//     per client. Out of descriptors, io_uring's accept fails before it
//     even looks at the queue, so it is not armed again until a descriptor
//     is freed (or a pause passes): a readiness loop could wait for the
//     listener to be readable, a completion loop must not ask again.
//   - The simulated slow disk is a TIMEOUT linked before each READ, so the
//     kernel starts the read when the delay has passed, and the loop's
//     thread is free meanwhile. A real slow device differs in two ways.
//     Its delay is work, not a timer: twenty reads at once queue at the
//     device and the last waits longest, while twenty simulated delays all
//     end together. And the kernel must wait for it somehow: a read on a
//     file system that can wait for a page without a thread (ext4, xfs) is
//     asynchronous all the way down, but elsewhere io_uring hands the read
//     to one of its io-wq worker threads, which blocks in it — threads
//     again, only the kernel's. The simulation also charges every read,
//     where a real disk charges nothing for pages already in memory.
//   - Sending. There is no sendfile in io_uring: file data is READ into a
//     64 KiB chunk and sent from there, so a body costs a read and a send
//     per chunk, where evloop hands the kernel the file. A small body
//     that the core's small-file cache holds needs no READ: up to 4 KiB
//     it travels in the head itself (one SEND), and a bigger one goes
//     out from the cache beside the head, in one SENDMSG, as evloop's
//     writev.
//
// # Availability
//
// Where io_uring cannot be used (a kernel without it or without an
// operation used here, the kernel.io_uring_disabled sysctl, a seccomp
// profile that answers EPERM, as containers often have), New and
// Available say why in one line, and `serverlab serve -model uring` exits
// with status 2.
package uring
