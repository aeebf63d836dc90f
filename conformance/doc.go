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
// The suite is in these files:
//
//   - rows_test.go: the table of request/response rules (status codes, limits,
//     keep-alive, pipelining, HEAD, Range, If-Modified-Since, MIME types,
//     path traversal in every form we know of).
//   - client_rows_test.go: more rows of the same table, the ones clients
//     nobody here wrote (browsers, ab, curl, hostile bytes) found wanting:
//     folder redirects, absolute-form targets, chunked bodies, OPTIONS,
//     bytes refused at once, closes that end with EOF, ranges of any length.
//   - conformance_test.go: the runner, and the checks every response must
//     pass whatever the row (Server, Date, Content-Length, Content-Type,
//     Last-Modified, Connection, and never a byte of the secret).
//   - behaviours_test.go: what a row cannot express — a 64 MiB download
//     checked byte for byte, a slow reader, clients that reset or leave
//     mid-answer, 200 clients at once, Go's net/http client reusing its
//     connection, the server's own counters, and a graceful shutdown;
//     and, in clients_test.go, a second client answered while a first one
//     idles on a keep-alive connection.
//   - browser_test.go: headless Chromium loads the demo page from every
//     model, and the page's script says whether all of it arrived. It skips,
//     saying why, only where there is no Chromium that starts.
//   - variants_test.go: the servers it runs, each model and each flag that
//     changes how a model does I/O.
//   - site_test.go and helpers_test.go: the site every variant serves (with
//     a secret file outside its root that must never leak) and a deliberately
//     small, strict HTTP/1.1 response reader, so that the suite depends on no
//     HTTP library to judge the servers (net/http is used once, as a client
//     the servers must satisfy, not as a judge).
//
// After every test, no goroutine may be left running: a server that has
// shut down owns nothing any more.
//
// Run it with
//
//	go test -race ./conformance
//
// and a single model or rule with, for example,
//
//	go test ./conformance -run 'TestConformance/evloop-poll/pipelined'
package conformance
