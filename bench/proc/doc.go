// Package proc runs the servers under test as child processes and reads
// what the kernel knows about them: it starts the project's models (or any
// command, such as nginx), pins them to CPUs, samples /proc, raises the
// open-file limit, and asks a model for its own counters over its control
// channel.
//
// What a student should learn here: a server under test runs as its own
// process, so that its threads, its memory, its CPU time and its file
// descriptors are its own in /proc, and so that the load generator's
// goroutines and garbage collector never share a runtime with it. And on
// a machine with few cores, the server and the load each get their own
// (see pin.go for why that takes more than one system call).
//
// # Files
//
//	server.go  Start (a model) and StartCommand (anything): start, wait
//	           until listening, notice a crash, stop gracefully
//	pin.go     CPU affinity of a child from birth, and of this process
//	sample.go  /proc/PID/stat and /proc/PID/fd of a process or a tree
//	rlimit.go  the open-file limit
//
// # Use
//
//	srv, err := proc.Start(ctx, proc.Spec{
//		Model: "threaded",                     // a name from package model
//		Args:  []string{"-disk-delay", "5ms"}, // any serve flags
//		CPUs:  serverCPUs,                     // from proc.DefaultPinning(); nil: unpinned
//	})
//	srv.Addr()              // "127.0.0.1:PORT" (a free port by default)
//	srv.Stats()             // servers.Snapshot over the control channel
//	srv.Done()              // closed when the process exits
//	srv.Crashed()           // exited by itself? when, and its last stderr line
//	srv.Stop(5*time.Second) // SIGTERM, grace, then SIGKILL
//
// Other servers: proc.StartCommand(ctx, argv, addr, cpus) runs any command
// (nginx with "daemon off;") and waits for addr to accept.
package proc
