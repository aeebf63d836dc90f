// Package servers is the one file-serving core that all three server models
// share. It does no socket I/O at all ("sans-I/O", as python-hyper/h11 calls
// it), and makes no file-system call unless a model asks it to (an
// OpenStep's Do, a File's ReadAt): a model reads bytes from a socket however
// it likes, hands them to a Session, and gets back either "need more bytes",
// a file to open (which the model opens its own way), or a response to send
// — an encoded head and, perhaps, a range of an open file.
//
// What a student should learn here: parsing HTTP/1.1, refusing bad input with
// the right status, keeping every path inside the root and choosing headers
// have NOTHING to do with how a server waits for its sockets. That is why the
// blocking, threaded and event-loop models in the sibling packages can differ
// in one thing only — how they wait and do I/O — and why this package can be
// tested, fuzzed and benchmarked without a single socket, and, through its
// FS seam, without a disk.
//
// The flow of one request, each step a call the model makes and the
// core answers:
//
//	socket bytes -> Session.ReadSpace/Received    (the model reads, until Session.Deadline)
//	             -> Session.Next                  (Parser.Parse: request line, headers, limits)
//	             -> Session.Open/Opened           (the root jail, the open-file cache; the
//	                                                model opens the file: OpenStep.Do, on any
//	                                                thread, or the system calls itself)
//	             -> 404/403/301/304/206/200       (the core decides, then AppendHead)
//	             -> Session.Head / Session.Body   (the model writes; Session.Wrote)
//	             -> Session.Sent                  (keep-alive, or close: Session.Linger)
//
// A model keeps no clock and counts nothing: when a wait must end is
// Session.Deadline, what follows is Session.Expire (a 408, or a silent
// close), and every connection, request, byte, error and timeout is
// counted in Stats by the Session, in the same place for every model.
//
// Rules quote RFC 9110 (HTTP semantics) and RFC 9112 (HTTP/1.1 syntax) by
// section so a reader can check each one against the standard.
package servers
