// Package conformance is the one test suite that every server model must
// pass. It holds no server code: its tests start each model in-process
// (blocking.New, threaded.New, evloop.New, and evloop again under each of its
// flags) on a fresh site on 127.0.0.1, and talk to it over real sockets with
// raw bytes, exactly as a browser, curl or an attacker would.
//
// What a student should learn here: the three models look nothing alike
// inside — one blocking loop, a goroutine per connection, an event loop —
// yet from the outside they must be indistinguishable. One table states the
// HTTP rules (request bytes in; status, headers, body and "is the connection
// still open?" out) and every model is run through every row. A row that
// fails for one model and passes for the others points straight at that
// model's I/O code, because parsing, paths and headers all come from the
// shared core in package servers.
//
// The suite has three parts:
//
//   - rows_test.go: the table of request/response rules (status codes, limits,
//     keep-alive, pipelining, HEAD, Range, If-Modified-Since, MIME types,
//     path traversal in every form we know of).
//   - conformance_test.go: the runner, and the behaviours a table row cannot
//     express — a 64 MiB download checked byte for byte, clients that reset
//     mid-body, 200 clients at once, Go's net/http client reusing its
//     connection, and a graceful shutdown.
//   - site_test.go and helpers_test.go: the site every variant serves (with
//     a secret file outside its root that must never leak) and a deliberately
//     small HTTP/1.1 response reader, so that the test does not trust the
//     very library whose behaviour it checks.
//
// Run it with
//
//	go test -race ./conformance
//
// and a single model or rule with, for example,
//
//	go test ./conformance -run 'TestConformance/evloop-poll/pipelining'
package conformance
