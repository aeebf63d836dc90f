// Package threaded is the second server model: one loop accepts, and every
// connection is served by its own goroutine, or, in a variant, by its own
// OS thread.
//
// What a student should learn here:
//
//   - The blocking loop's freeze is cured by giving every connection its
//     own flow of control. The code of one connection stays as simple as
//     the blocking model's, step after step, and a slow client now holds up
//     no one but itself.
//   - A goroutine is not an OS thread. Go's net package makes every socket
//     non-blocking and registers it with an epoll instance owned by the
//     runtime (the "netpoller"). A goroutine whose Read finds nothing to
//     read is parked, costing a few KiB of stack and no thread; when epoll
//     reports the socket readable, the scheduler runs it again. So this
//     straight-line code is an event loop underneath: the runtime is the
//     loop, and each goroutine's stack holds the state that the evloop
//     model keeps in an explicit state machine. Tens of thousands of idle
//     connections are cheap.
//   - Real threads are not. The OS-thread variant (Options.OSThreads, serve
//     -osthreads) runs the same per-connection loop on a thread per
//     connection, with blocking system calls, as Apache's worker does:
//     every connection holds a thread (watch Threads: in /proc/PID/status
//     climb), each with its own kernel stack and scheduling cost, up to a
//     hard limit. Go's runtime dies at 10,000 threads, so this variant
//     refuses connections past cfg.MaxConns, DefaultMaxOSThreads if unset,
//     instead of crashing.
//
// The loop, lesson 00's second (docs/lessons/00-three-loops.md), with the
// function that does each step:
//
//	for ever:
//	    wait for a client to connect             goServer.acceptConn  Accept
//	    start a flow of control to handle it     go c.Serve(...)
//
//	handle one connection (a goroutine each):    blocking.Conn.Serve, over a netSocket
//	    read the request head                    Read (parks in the netpoller)
//	    find and open the file                   servers.OpenStep.Do
//	    send the status line and headers         Write
//	    send the file                            SendFile: sendfile(2) via RawConn, or pread + Write
//	    the next request, or close               Close
//
// The per-connection half is not written again here: it is the blocking
// model's own Conn, which is the point. Only netsocket.go is this model's:
// how a goroutine's socket waits. The OS-thread variant is the same picture
// with blocking.Listener.Accept and blocking.Conn.ServeFd, one locked OS
// thread per connection.
//
// Protections: the read and write deadlines of net.Conn carry the header,
// idle and write timeouts that the shared core decides (the serve command
// gives this model defaults); past cfg.MaxConns a new connection is
// accepted and closed at once, and counted as refused; running out of
// descriptors makes the accept loop pause (5 ms doubling to 1 s, as
// net/http does) instead of spinning.
package threaded
