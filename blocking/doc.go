// Package blocking is the first and simplest server model: one loop that
// serves one connection at a time, with system calls that wait.
//
// What a student should learn here:
//
//   - A server can be a single loop of six steps, and this one is. Each
//     step is a system call that blocks: the thread sleeps in the kernel
//     until the step can be done, and while it sleeps the server does
//     nothing else at all.
//   - So one slow client freezes everyone. A client that sends its request
//     a byte a second, or reads its response a byte a second, holds the
//     only thread for as long as it likes, and every other client waits in
//     the listen backlog. That is not a bug to fix here; it is the lesson,
//     and the reason the other two models exist.
//   - Timeouts limit the damage without curing it: SO_RCVTIMEO and
//     SO_SNDTIMEO make a blocking read or write give up after a while, so a
//     slow client is thrown out, but everyone else still waits until then.
//     They are off unless asked for (serverlab serve -header-timeout ...),
//     so that the freeze can be seen. How long each wait may last is the
//     shared core's decision (servers.Session.Deadline); this loop only
//     arms the socket with it.
//   - A thread asleep in a system call can only be woken from outside by
//     something that changes the socket itself: shutdown(2), not close(2).
//     That is how Shutdown reaches a loop asleep in accept or read.
//
// The loop, lesson 00's first (docs/lessons/00-three-loops.md), with the
// function that does each step:
//
//	for ever:
//	    wait for a client to connect              Listener.Accept  accept(2)
//	    read the request head                     readRequest      read(2)
//	    find and open the file                    fetchFile        openat2(2), fstat(2)
//	    send the status line and headers          writeHead        sendmsg(2)
//	    send the file                             writeBody        sendfile(2), or pread(2) + sendmsg(2)
//	    close the connection                      lingerClose, closeConn  close(2)
//
// By default that is the whole story: every answer says "Connection:
// close", and the loop closes the connection after it. A server that holds
// one connection at a time must not sit on an idle one while the next
// client waits — a browser keeps a spare connection open, and would freeze
// the loop for good. With Options.KeepAlive (serve -keepalive) the loop
// stays with its client for the next request instead (RFC 9112 §9.3),
// until one side says close: that is what the crowd lesson measures, and
// why one thread cannot hold connections open.
//
// Parsing, the choice of file, the headers, the timeouts and the lingering
// close are not here: they live in the shared core, package servers, which
// every model drives in the same way. What is here is only how this model
// waits and moves bytes, which is all that makes the models different.
//
// The per-connection half of the loop, Conn, is exported because the
// threaded model runs exactly this code once per connection, over its own
// Socket: Apache's worker model is the blocking loop, many times over.
// Listener is shared with it for the same reason.
package blocking
