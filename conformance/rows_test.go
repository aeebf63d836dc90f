package conformance

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// row is one rule of the protocol, as the client sees it: the raw bytes it
// sends, the responses it must get back in order, and what must become of
// the connection afterwards.
type row struct {
	name string
	send string
	// chunk, when not 0, sends the bytes in pieces of this size with a
	// pause between them (1: one byte at a time), so the server must
	// assemble a request from several reads.
	chunk int
	// halfClose shuts down the client's sending side after the request
	// (shutdown(SHUT_WR)), as `nc -N` and some proxies do: the server reads
	// EOF but must still answer what it received.
	halfClose bool
	want      []reply
	end       ending
	// needsUnreadable marks the row that needs a file this process
	// cannot read (see unreadableSkipReason).
	needsUnreadable bool
}

// ending is what must become of the connection after a row's responses.
type ending int

const (
	// open: the connection serves one more request (the proof that the
	// server kept it, and sent nothing more than it announced), and the
	// last response said "Connection: keep-alive".
	open ending = iota + 1
	// closed: the server closes the connection, sending nothing more, and
	// the last response said "Connection: close".
	closed
	// asSaid: either, as long as the server did what its Connection header
	// announced. For rows that accept more than one status.
	asSaid
)

// reply is one expected response.
type reply struct {
	// status is the expected status code, or refused.
	status int
	// file names the file (relative to the root) a 200, 206 or 304 is
	// about: the body, Content-Length and Content-Type must be its own.
	file string
	// from and to are a 206's byte range of file, inclusive, as in
	// Content-Range.
	from, to int64
	// head marks the answer to a HEAD request: the headers of a GET, no
	// body (RFC 9110 §9.3.2).
	head bool
	// header lists fields that must have exactly these values; an empty
	// value means the field must be absent.
	header map[string]string
}

// refused is the status of a reply that may be any refusal (400, 403 or
// 404): the traversal rows care that nothing leaks, not how it is refused.
const refused = -1

func ok(file string) reply          { return reply{status: 200, file: file} }
func notModified(file string) reply { return reply{status: 304, file: file} }
func status(code int) reply         { return reply{status: code} }
func part(file string, from, to int64) reply {
	return reply{status: 206, file: file, from: from, to: to}
}

// asHead marks a reply as the answer to HEAD.
func (r reply) asHead() reply { r.head = true; return r }

// with adds header fields ("name", "value", ...) that must match exactly.
func (r reply) with(kv ...string) reply {
	h := make(map[string]string, len(r.header)+len(kv)/2)
	for k, v := range r.header {
		h[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	r.header = h
	return r
}

// one is a row that gets a single reply.
func one(name, send string, want reply, end ending) row {
	return row{name: name, send: send, want: []reply{want}, end: end}
}

// rows is the specification: every rule of the foundation issue, grouped
// as the issue states them. Each is run against every variant.
func rows() []row {
	var rs []row
	add := func(r ...row) { rs = append(rs, r...) }

	// Serving files: the resolver's happy paths.
	add(
		one("GET a file", getReq("/hello.txt"), ok("hello.txt"), open),
		one("GET / serves index.html", getReq("/"), ok("index.html"), open),
		one("a folder/ serves its index.html", getReq("/docs/"), ok("docs/index.html"), open),
		one("a folder without the slash is sent to it", getReq("/docs"),
			status(301).with("Location", "/docs/", "Content-Length", "0"), open),
		one("a folder without the slash is sent to it, query kept", getReq("/docs?a=1&b=%2F"),
			status(301).with("Location", "/docs/?a=1&b=%2F"), open),
		one("a folder without index.html is 404", getReq("/noindex/"), status(404), open),
		one("a missing file is 404 and keeps the connection", getReq("/no-such-file.txt"), status(404), open),
		one("the secret is not in the root", getReq("/secret.txt"), status(404), open),
		one("a path through a file is 404", getReq("/hello.txt/more"), status(404), open),
		one("an empty file", getReq("/empty.txt"), ok("empty.txt").with("Content-Length", "0"), open),
		one("a 1 MiB file", getReq("/1m.bin"), ok("1m.bin"), open),
		one("the query string is ignored", getReq("/hello.txt?x=1&p=../../secret.txt"), ok("hello.txt"), open),
		one("percent-encoding is decoded", getReq("/hello%2Etxt"), ok("hello.txt"), open),
		one("an encoded space", getReq("/with%20space.txt"), ok("with space.txt"), open),
		one("dot segments are removed", getReq("/docs/./../hello.txt"), ok("hello.txt"), open),
		one("repeated slashes are folded", getReq("//docs//index.html"), ok("docs/index.html"), open),
		one("a name too long for the file system is 404", getReq("/"+strings.Repeat("n", 300)), status(404), open),
		one("a path too long for the file system is 404", getReq(strings.Repeat("/n", 3000)), status(404), open),
		one("a symlink inside the root is followed", getReq("/link.txt"), ok("link.txt"), open),
		one("a symlinked folder inside the root", getReq("/linkdir/index.html"), ok("linkdir/index.html"), open),
		one("bare LF line ends are accepted", "GET /hello.txt HTTP/1.1\nHost: test\n\n", ok("hello.txt"), open),
		one("an empty line before the request is ignored", "\r\n"+getReq("/hello.txt"), ok("hello.txt"), open),
		one("field names are case-insensitive", "GET /hello.txt HTTP/1.1\r\nhOsT: test\r\nCONNECTION: CLOSE\r\n\r\n", ok("hello.txt"), closed),
	)

	// Request-line and header errors: 400, and the connection closes
	// because the server no longer knows where the next request starts.
	bad := func(name, send string) row { return one(name, send, status(400), closed) }
	add(
		bad("no spaces in the request line", "GARBAGE\r\n\r\n"),
		bad("missing HTTP version", "GET /hello.txt\r\nHost: test\r\n\r\n"),
		bad("malformed HTTP version", "GET /hello.txt HTTP/1\r\nHost: test\r\n\r\n"),
		bad("lower-case HTTP version", "GET /hello.txt http/1.1\r\nHost: test\r\n\r\n"),
		bad("letters in the version", "GET /hello.txt HTTP/1.x\r\nHost: test\r\n\r\n"),
		bad("words after the version", "GET /hello.txt HTTP/1.1 extra\r\nHost: test\r\n\r\n"),
		bad("two spaces after the method", "GET  /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n"),
		bad("empty method", " /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n"),
		bad("target without a leading slash", "GET hello.txt HTTP/1.1\r\nHost: test\r\n\r\n"),
		bad("control byte in the target", "GET /hel\x01lo.txt HTTP/1.1\r\nHost: test\r\n\r\n"),
		bad("non-ASCII byte in the target", "GET /h\xc3\xa9llo.txt HTTP/1.1\r\nHost: test\r\n\r\n"),
		bad("malformed percent-escape", getReq("/hello%zz.txt")),
		bad("truncated percent-escape", getReq("/hello.txt%2")),
		bad("header line without a colon", getReq("/hello.txt", "X-No-Colon")),
		bad("space before the colon", getReq("/hello.txt", "X-Space : v")),
		bad("tab before the colon", getReq("/hello.txt", "X-Tab\t: v")),
		bad("bad character in a field name", getReq("/hello.txt", "X(Bad): v")),
		bad("empty field name", getReq("/hello.txt", ": v")),
		bad("obs-fold continuation line", getReq("/hello.txt", "X-Folded: a", "  b")),
		bad("control byte in a field value", getReq("/hello.txt", "X-Ctl: a\x01b")),
		bad("HTTP/1.1 without Host", "GET /hello.txt HTTP/1.1\r\n\r\n"),
		bad("two Host fields", getReq("/hello.txt", "Host: other")),
	)

	// Limits: 414 and 431, each with the largest request still served.
	line8k := requestLine(8 << 10)
	add(
		one("a request line of exactly 8 KiB is served", line8k+"\r\nHost: test\r\n\r\n", ok("hello.txt"), open),
		row{
			name:  "a request line of exactly 8 KiB, then its headers in a second write",
			send:  line8k + "\r\nHost: test\r\n\r\n",
			chunk: len(line8k) + 2,
			want:  []reply{ok("hello.txt")},
			end:   open,
		},
		one("a request line over 8 KiB is 414", requestLine(8<<10+1)+"\r\nHost: test\r\n\r\n", status(414), closed),
		one("an endless request line is 414 before it ends", "GET /"+strings.Repeat("x", 9000), status(414), closed),
		one("a header section of exactly 16 KiB is served", "GET /hello.txt HTTP/1.1\r\n"+paddedHeaders(16<<10)+"\r\n", ok("hello.txt"), open),
		one("a header section over 16 KiB is 431", "GET /hello.txt HTTP/1.1\r\n"+paddedHeaders(16<<10+1)+"\r\n", status(431), closed),
		one("an endless header section is 431 before it ends", "GET /hello.txt HTTP/1.1\r\nHost: test\r\nX-Pad: "+strings.Repeat("p", 17000), status(431), closed),
		one("100 header fields are served", "GET /hello.txt HTTP/1.1\r\nHost: test\r\n"+fields(99)+"\r\n", ok("hello.txt"), open),
		one("101 header fields is 431", "GET /hello.txt HTTP/1.1\r\nHost: test\r\n"+fields(100)+"\r\n", status(431), closed),
	)

	// Versions other than 1.0 and 1.1: 505.
	add(
		one("HTTP/2.0 is 505", "GET /hello.txt HTTP/2.0\r\nHost: test\r\n\r\n", status(505), closed),
		one("HTTP/1.2 is served as HTTP/1.1", "GET /hello.txt HTTP/1.2\r\nHost: test\r\n\r\n", ok("hello.txt"), open),
		one("HTTP/0.9 is 505", "GET /hello.txt HTTP/0.9\r\nHost: test\r\n\r\n", status(505), closed),
		one("the HTTP/2 preface is 505", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status(505), closed),
	)

	// Methods: GET, HEAD and OPTIONS are served; other known ones 405,
	// the rest 501.
	notAllowed := status(405).with("Allow", allowed)
	add(
		one("POST is 405", "POST /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc", notAllowed, closed),
		one("PUT is 405", "PUT /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc", notAllowed, closed),
		one("DELETE is 405", "DELETE /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", notAllowed, closed),
		one("an unknown method is 501", "BREW /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", status(501), closed),
		one("methods are case-sensitive", "get /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", status(501), closed),
		one("HEAD sends GET's headers and no body", headReq("/hello.txt"), ok("hello.txt").asHead(), open),
		one("HEAD of the 64 MiB file sends no body", headReq("/"+bigName), ok(bigName).asHead(), open),
		one("HEAD of a missing file is 404 without a body", headReq("/no-such-file.txt"), status(404).asHead(), open),
	)

	// Request bodies: a Content-Length body is skipped (chunked bodies have
	// rows of their own, with the other findings of real clients); anything
	// that cannot be framed is refused. The large body is made of requests, so
	// that a server that does not skip it exactly serves them and is caught.
	smuggled := strings.Repeat(getReq("/secret.txt"), 100<<10/len(getReq("/secret.txt")))
	add(
		row{
			name: "a Content-Length body is discarded and the next request served",
			send: "GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello" + getReq("/data.json"),
			want: []reply{ok("hello.txt"), ok("data.json")},
			end:  open,
		},
		row{
			name: "a 100 KiB body is discarded across many reads",
			send: "GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: " + strconv.Itoa(len(smuggled)) + "\r\n\r\n" + smuggled + getReq("/data.json"),
			want: []reply{ok("hello.txt"), ok("data.json")},
			end:  open,
		},
		row{
			name:  "a body arriving in pieces is discarded",
			send:  "GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 8000\r\n\r\n" + smuggled[:8000] + getReq("/data.json"),
			chunk: 1000,
			want:  []reply{ok("hello.txt"), ok("data.json")},
			end:   open,
		},
		one("Content-Length: 0", getReq("/hello.txt", "Content-Length: 0"), ok("hello.txt"), open),
		one("a repeated identical Content-Length", getReq("/hello.txt", "Content-Length: 3", "Content-Length: 3")+"abc", ok("hello.txt"), open),
		bad("conflicting Content-Length", getReq("/hello.txt", "Content-Length: 3", "Content-Length: 4")+"abcd"),
		bad("non-numeric Content-Length", getReq("/hello.txt", "Content-Length: 3x")+"abc"),
		bad("negative Content-Length", getReq("/hello.txt", "Content-Length: -1")),
		bad("Transfer-Encoding with Content-Length", getReq("/hello.txt", "Transfer-Encoding: chunked", "Content-Length: 10")+"5\r\nhello\r\n0\r\n\r\n"),
	)

	// Keep-alive (RFC 9112 §9.3): HTTP/1.1 persists unless told to close,
	// HTTP/1.0 closes unless told to persist; the response says which.
	add(
		one("HTTP/1.1 stays open by default", getReq("/hello.txt"), ok("hello.txt").with("Connection", "keep-alive"), open),
		one("HTTP/1.1 with Connection: close closes", getReq("/hello.txt", "Connection: close"), ok("hello.txt").with("Connection", "close"), closed),
		one("Connection: close among other options", getReq("/hello.txt", "Connection: TE, close"), ok("hello.txt"), closed),
		one("HTTP/1.0 closes by default", "GET /hello.txt HTTP/1.0\r\nHost: test\r\n\r\n", ok("hello.txt").with("Connection", "close"), closed),
		one("HTTP/1.0 with Connection: keep-alive stays open", "GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ok("hello.txt").with("Connection", "keep-alive"), open),
		one("HTTP/1.0 without Host is served", "GET /hello.txt HTTP/1.0\r\n\r\n", ok("hello.txt"), closed),
	)

	// Pipelining: every request already received is answered, in order.
	pipeline := []string{
		getReq("/hello.txt"),
		getReq("/data.json"),
		headReq("/style.css"),
		getReq("/no-such-file.txt"),
		getReq("/range.txt", "Range: bytes=0-4"),
		getReq("/app.js"),
		getReq("/hello.txt", "If-Modified-Since: "+lastModified),
		getReq("/logo.svg"),
		getReq("/1k.bin"),
		getReq("/index.html", "Connection: close"),
	}
	add(
		row{
			name: "10 pipelined requests in one write are answered in order",
			send: strings.Join(pipeline, ""),
			want: []reply{
				ok("hello.txt"), ok("data.json"), ok("style.css").asHead(), status(404),
				part("range.txt", 0, 4), ok("app.js"), notModified("hello.txt"),
				ok("logo.svg"), ok("1k.bin"), ok("index.html"),
			},
			end: closed,
		},
		row{
			name: "pipelined 1 MiB responses, each finished before the next starts",
			send: strings.Repeat(getReq("/1m.bin"), 4) + getReq("/hello.txt"),
			want: []reply{ok("1m.bin"), ok("1m.bin"), ok("1m.bin"), ok("1m.bin"), ok("hello.txt")},
			end:  open,
		},
		row{
			// The requests outgrow the session's input buffer, so the
			// server must stop reading, answer, and read on: all of them
			// are answered, and none is lost at a buffer boundary.
			name: "1000 pipelined requests, more than the input buffer holds",
			send: strings.Repeat(getReq("/hello.txt"), 1000),
			want: slices.Repeat([]reply{ok("hello.txt")}, 1000),
			end:  open,
		},
		row{name: "a request sent one byte at a time", send: getReq("/hello.txt"), chunk: 1, want: []reply{ok("hello.txt")}, end: open},
		row{name: "a request in 7-byte pieces", send: getReq("/data.json"), chunk: 7, want: []reply{ok("data.json")}, end: open},
		row{
			name:  "two pipelined requests one byte at a time",
			send:  getReq("/hello.txt") + getReq("/data.json"),
			chunk: 1,
			want:  []reply{ok("hello.txt"), ok("data.json")},
			end:   open,
		},
		row{
			name: "nothing after an error is answered",
			send: getReq("/hello.txt") + "BAD\r\n\r\n" + getReq("/data.json"),
			want: []reply{ok("hello.txt"), status(400)},
			end:  closed,
		},
		row{
			name: "nothing after Connection: close is answered",
			send: getReq("/hello.txt", "Connection: close") + getReq("/data.json"),
			want: []reply{ok("hello.txt")},
			end:  closed,
		},
		row{
			name:      "a request then shutdown(SHUT_WR) is answered",
			send:      getReq("/hello.txt"),
			halfClose: true,
			want:      []reply{ok("hello.txt")},
			end:       closed,
		},
		row{
			name:      "three pipelined requests then shutdown(SHUT_WR) are all answered",
			send:      getReq("/hello.txt") + getReq("/data.json") + getReq("/1k.bin"),
			halfClose: true,
			want:      []reply{ok("hello.txt"), ok("data.json"), ok("1k.bin")},
			end:       closed,
		},
	)

	// Range (RFC 9110 §14): one range is 206, an unsatisfiable one 416,
	// anything else is ignored and the whole file sent.
	rangeOf := func(spec string) string { return getReq("/range.txt", "Range: "+spec) }
	add(
		one("bytes=0-4 is 206", rangeOf("bytes=0-4"), part("range.txt", 0, 4).with("Content-Range", "bytes 0-4/20"), open),
		one("bytes=10- is the rest", rangeOf("bytes=10-"), part("range.txt", 10, 19).with("Content-Range", "bytes 10-19/20"), open),
		one("bytes=-5 is the last five", rangeOf("bytes=-5"), part("range.txt", 15, 19).with("Content-Range", "bytes 15-19/20"), open),
		one("a range past the end is clipped", rangeOf("bytes=15-100"), part("range.txt", 15, 19).with("Content-Range", "bytes 15-19/20"), open),
		one("a one-byte range", rangeOf("bytes=7-7"), part("range.txt", 7, 7).with("Content-Range", "bytes 7-7/20"), open),
		one("a suffix longer than the file is the whole file", rangeOf("bytes=-100"), part("range.txt", 0, 19), open),
		one("a range deep in the 64 MiB file", getReq("/"+bigName, "Range: bytes=60000000-60000099"), part(bigName, 60000000, 60000099), open),
		one("a range starting at the end is 416", rangeOf("bytes=20-30"), status(416).with("Content-Range", "bytes */20", "Content-Length", "0"), open),
		one("a range starting past the end is 416", rangeOf("bytes=1000-"), status(416).with("Content-Range", "bytes */20"), open),
		one("an empty suffix is 416", rangeOf("bytes=-0"), status(416).with("Content-Range", "bytes */20"), open),
		one("several ranges are ignored", rangeOf("bytes=0-1,5-6"), ok("range.txt"), open),
		one("another unit is ignored", rangeOf("items=0-1"), ok("range.txt"), open),
		one("a reversed range is ignored", rangeOf("bytes=5-2"), ok("range.txt"), open),
		one("HEAD with a range is 206 without a body", headReq("/range.txt", "Range: bytes=0-4"), part("range.txt", 0, 4).asHead(), open),
	)

	// If-Modified-Since (RFC 9110 §13.1.3): 304 unless the file is newer
	// than the date; the three date formats of RFC 9110 §5.6.7 all count.
	ims := func(date string) string { return getReq("/hello.txt", "If-Modified-Since: "+date) }
	add(
		one("If-Modified-Since equal to Last-Modified is 304", ims(lastModified), notModified("hello.txt"), open),
		one("If-Modified-Since after Last-Modified is 304", ims("Wed, 03 Jan 2024 00:00:00 GMT"), notModified("hello.txt"), open),
		one("If-Modified-Since before Last-Modified is 200", ims("Mon, 01 Jan 2024 00:00:00 GMT"), ok("hello.txt"), open),
		one("If-Modified-Since one second before is 200", ims("Tue, 02 Jan 2024 03:04:04 GMT"), ok("hello.txt"), open),
		one("If-Modified-Since in RFC 850 form", ims("Tuesday, 02-Jan-24 03:04:05 GMT"), notModified("hello.txt"), open),
		one("If-Modified-Since in asctime form", ims("Tue Jan  2 03:04:05 2024"), notModified("hello.txt"), open),
		one("an invalid If-Modified-Since is ignored", ims("yesterday"), ok("hello.txt"), open),
		one("HEAD with If-Modified-Since is 304", headReq("/hello.txt", "If-Modified-Since: "+lastModified), notModified("hello.txt").asHead(), open),
		one("If-Modified-Since wins over Range", getReq("/range.txt", "If-Modified-Since: "+lastModified, "Range: bytes=0-4"), notModified("range.txt"), open),
	)

	// Content-Type from the built-in table, whatever the machine's
	// /etc/mime.types says.
	for _, ext := range slices.Sorted(maps.Keys(mimeTypes)) {
		f := "mime/file." + ext
		add(one("Content-Type of ."+ext, getReq("/"+f), ok(f).with("Content-Type", mimeTypes[ext]), open))
	}
	add(
		one("an upper-case extension", getReq("/mime/UPPER.PNG"), ok("mime/UPPER.PNG").with("Content-Type", "image/png"), open),
		one("an unknown extension is octet-stream", getReq("/mime/file.unknownext"), ok("mime/file.unknownext").with("Content-Type", octetStream), open),
		one("no extension is octet-stream", getReq("/mime/noext"), ok("mime/noext").with("Content-Type", octetStream), open),
	)

	// 403: things in the root that exist but are not files to serve.
	add(
		one("a FIFO is 403, and opening it does not hang", getReq("/fifo"), status(403), open),
		one("a unix socket is 403", getReq("/socket"), status(403), open),
		one("a symlink loop is 403", getReq("/loop.txt"), status(403), open),
		row{name: "an unreadable file is 403", send: getReq("/unreadable.txt"), want: []reply{status(403)}, end: open, needsUnreadable: true},
	)

	// Traversal: no form of climbing out of the root returns a byte of
	// what lies outside. Each target aims at base/secret.txt (or
	// base/outside/secret.txt) from the root base/site.
	for _, target := range []string{
		"/../secret.txt",
		"/..",
		"/./../secret.txt",
		"//../secret.txt",
		"/docs/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E/secret.txt",
		"/.%2e/secret.txt",
		"/%2E%2E%2Fsecret.txt",
		"/..%2fsecret.txt",
		"/docs/..%2F..%2Fsecret.txt",
		"/..\\secret.txt",
		"/..%5csecret.txt",
		"/..%5Csecret.txt",
		"/docs%5c..%5c..%5csecret.txt",
		"/hello.txt%00",
		"/..%00/secret.txt",
		"/%00../secret.txt",
		"/%252e%252e/secret.txt",
		"/%252e%252e%252fsecret.txt",
		"/%c0%ae%c0%ae/secret.txt",
		"/escape.txt",
		"/escape-abs.txt",
		"/escape-dir/secret.txt",
		"/escape-dir/",
		"/linkdir/../../secret.txt",
		"http://test/../secret.txt",
		"http://test/%2e%2e/secret.txt",
		"http://test/docs/../../secret.txt",
		"HTTP://test/..%2Fsecret.txt",
		"../secret.txt",
	} {
		add(one("traversal "+target, getReq(target), status(refused), asSaid))
	}
	add(clientRows()...)
	return rs
}
