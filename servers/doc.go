// Package servers is the one file-serving core that all three server models
// share. It does no socket I/O at all ("sans-I/O", as python-hyper/h11 calls
// it): a model reads bytes from a socket however it likes, hands them to a
// Session, and gets back either "need more bytes" or a response to send — an
// encoded head and, perhaps, a range of an open file.
//
// What a student should learn here: parsing HTTP/1.1, refusing bad input with
// the right status, keeping every path inside the root and choosing headers
// have NOTHING to do with how a server waits for its sockets. That is why the
// blocking, threaded and event-loop models in the sibling packages can differ
// in one thing only — how they wait and do I/O — and why this package can be
// tested, fuzzed and benchmarked without a single socket.
//
// The flow of one request:
//
//	socket bytes -> Session.ReadSpace/Received   (the model reads)
//	             -> Parser.Parse                  (request line, headers, limits)
//	             -> Site.Resolve                  (root jail, file, status, range)
//	             -> AppendHead                    (status line and headers)
//	             -> Session.Head / Session.Body   (the model writes)
//	             -> Session.Done                  (stats, keep-alive or close)
//
// Rules quote RFC 9110 (HTTP semantics) and RFC 9112 (HTTP/1.1 syntax) by
// section so a reader can check each one against the standard.
package servers
