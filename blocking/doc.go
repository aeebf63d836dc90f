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
//     so that the freeze can be seen.
//   - A thread asleep in a system call can only be woken from outside by
//     something that changes the socket itself: shutdown(2), not close(2).
//     That is how Shutdown reaches a loop asleep in accept or read.
//
// The loop, the seed's first server in our words, with the function that
// does each step:
//
//	for ever:
//	    wait for a client to connect              acceptConn   accept(2)
//	    repeat:
//	        read the request head                 readRequest  read(2)
//	        find and open the file                servers.Session.Next
//	        send the status line and headers      writeHead    send(2)
//	        send the file                         writeBody    sendfile(2), or pread(2) + send(2)
//	    while the connection is kept alive
//	    close the connection                      closeConn    close(2)
//
// The only change from the seed is the inner "repeat": HTTP/1.1 keeps a
// connection open for the next request (RFC 9112 §9.3), so the loop stays
// with its client until one side says close.
//
// Parsing, the choice of file and the headers are not here: they live in the
// shared core, package servers, which all three models call in the same way.
// What is here is only how this model waits and moves bytes, which is all
// that makes the models different.
//
// The per-connection half of the loop, Conn, is exported because the
// threaded model's OS-thread variant runs exactly this code once per thread:
// Apache's worker model is the blocking loop, many times over. Listener is
// shared with it for the same reason.
package blocking
