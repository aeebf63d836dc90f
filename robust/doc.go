// Package robust holds no server code. It is the proof, as tests, that the
// three server models survive what real clients and real machines do to
// them: resets, half-closes, clients that vanish or never read, files that
// change under a download, signals, a parent process that dies, a process
// out of file descriptors, and bytes that are not HTTP at all.
//
// What a student should learn here:
//
//   - A fault is a table row. Each row of faults_test.go is one thing a
//     client can do wrong, written once and run against every model, so
//     the models' differences show up as the rows where their results
//     differ. The blocking model is weak by design (one slow client holds
//     the only thread); where a row meets that weakness, the test says so
//     and checks that the model's timeout is what frees it, instead of
//     pretending the weakness is not there.
//   - Surviving is more than not crashing. Every row ends with a leak
//     check: the server's connections counted closed, the process's open
//     descriptors (/proc/self/fd) and goroutines back where they were.
//     goleak lists goroutines by their stacks, but it ignores those asleep
//     in a system call, which is exactly where a leaked blocking-model
//     goroutine would be; so the goroutine count is checked as well.
//   - Some faults need a whole process. SIGTERM under load, a broken
//     control channel and running out of descriptors (a serve child
//     started under `prlimit --nofile=64:64`) are tested through the real
//     `serverlab serve` binary, built once with the race detector; the
//     child's /proc/PID files give its descriptors and CPU time.
//   - Fuzzing does not stop at the parser. livefuzz_test.go sends mutated
//     request bytes, grown from the parser's fuzz corpus, to live servers
//     over real sockets: whatever arrives, the server answers with
//     well-formed HTTP or closes, and goes on serving the next client.
//
// Waiting in these tests is always polling for a condition with a
// generous limit, never a fixed sleep that guesses how fast the machine is;
// the one exception measures CPU time over a deliberately quiet second.
//
// Run them with:
//
//	go test -race ./robust/
package robust
