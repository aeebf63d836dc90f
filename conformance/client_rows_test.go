package conformance

import (
	"strconv"
	"strings"
)

// allowed is the Allow header every model must send with 204 and 405: the
// suite's own copy, so that a change in the core shows up here as a failure
// to look at.
const allowed = "GET, HEAD, OPTIONS"

// clientRows are the rules that clients nobody here wrote found wanting —
// headless Chromium, ab, Node's pooled agent, curl, wget, and raw hostile
// bytes — each with the RFC section it comes from. They are part of the one
// table: rows() adds them, and every variant runs them.
func clientRows() []row {
	var rs []row
	add := func(r ...row) { rs = append(rs, r...) }

	// A folder asked for without its slash is sent to its name with one
	// (RFC 9110 §15.4.2), so that its index's relative links resolve
	// inside it (the plain case and its query are with the other
	// file-serving rows).
	moved := func(to string) reply { return status(301).with("Location", to) }
	add(
		one("HEAD of a folder without its slash is 301", headReq("/docs"), moved("/docs/").asHead(), open),
		one("a symlinked folder without its slash is 301", getReq("/linkdir"), moved("/linkdir/"), open),
		one("a folder without index.html and without its slash is 301", getReq("/noindex"), moved("/noindex/"), open),
		// The Location must stay a path: "//docs/" is a reference to the
		// host "docs" (RFC 3986 §4.2), which check refuses.
		one("a folder asked for with two slashes is sent to a path, not a host", getReq("//docs"), status(301), open),
		row{
			name: "the redirect, then its target, on one connection",
			send: getReq("/docs") + getReq("/docs/"),
			want: []reply{moved("/docs/"), ok("docs/index.html")},
			end:  open,
		},
	)

	// The absolute form (RFC 9112 §3.2.2: a server MUST accept it). There
	// is one site, so the host is not looked at; the path is served
	// through the same root jail (the traversal rows try it too).
	abs := func(target string) string { return getReq(target) }
	add(
		one("an absolute-form target is served by its path", abs("http://127.0.0.1:8080/1k.bin"), ok("1k.bin"), open),
		one("absolute form: the Host field is ignored", abs("http://other.example/hello.txt"), ok("hello.txt"), open),
		one("absolute form with a port and a query", abs("http://test:80/hello.txt?x=1"), ok("hello.txt"), open),
		one("absolute form, upper-case scheme and host", abs("HTTP://TEST/hello.txt"), ok("hello.txt"), open),
		one("absolute form, an IPv6 host", abs("http://[::1]:8080/hello.txt"), ok("hello.txt"), open),
		one("absolute form without a path is the root", abs("http://test"), ok("index.html"), open),
		one("absolute form of a folder without its slash is 301", abs("http://test/docs"), moved("/docs/"), open),
		one("HEAD in absolute form", headReq("http://test/hello.txt"), ok("hello.txt").asHead(), open),
		one("absolute form in HTTP/1.0", "GET http://test/hello.txt HTTP/1.0\r\n\r\n", ok("hello.txt"), closed),
		one("an https target is 400", abs("https://test/hello.txt"), status(400), closed),
		one("another scheme is 400", abs("ftp://test/hello.txt"), status(400), closed),
		one("an http target without a host is 400", abs("http:///hello.txt"), status(400), closed),
		one("userinfo in the target is 400", abs("http://user:pass@test/hello.txt"), status(400), closed),
		one("an invalid Host field is 400", "GET /hello.txt HTTP/1.1\r\nHost: a b\r\n\r\n", status(400), closed),
		one("an empty Host field is valid", "GET /hello.txt HTTP/1.1\r\nHost:\r\n\r\n", ok("hello.txt"), open),
	)

	// Chunked request bodies (RFC 9112 §7.1: an HTTP/1.1 recipient MUST be
	// able to parse chunked). Each is read whole before its request is
	// answered, and thrown away. The next request follows on the same
	// connection, so a body framed wrongly shows as a wrong answer.
	chunked := func(body string, headers ...string) string {
		return getReq("/hello.txt", append([]string{"Transfer-Encoding: chunked"}, headers...)...) + body
	}
	next := getReq("/data.json")
	smuggled := getReq("/1k.bin")
	add(
		row{
			name: "a chunked body is discarded and the next request served",
			send: chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n") + next,
			want: []reply{ok("hello.txt"), ok("data.json")},
			end:  open,
		},
		row{
			name: "chunk extensions are tolerated",
			send: chunked("5;name=value;q=\"a b\"\r\nhello\r\n0;last\r\n\r\n") + next,
			want: []reply{ok("hello.txt"), ok("data.json")},
			end:  open,
		},
		row{
			name: "trailer fields are tolerated",
			send: chunked("5\r\nhello\r\n0\r\nX-Checksum: 1234\r\nX-Other: v\r\n\r\n") + next,
			want: []reply{ok("hello.txt"), ok("data.json")},
			end:  open,
		},
		row{
			name:  "a chunked body one byte at a time",
			send:  chunked("5\r\nhello\r\n0\r\nX-T: v\r\n\r\n") + next,
			chunk: 1,
			want:  []reply{ok("hello.txt"), ok("data.json")},
			end:   open,
		},
		row{
			name: "a request inside a chunk is data, not a request",
			send: chunked(strconv.FormatInt(int64(len(smuggled)), 16)+"\r\n"+smuggled+"\r\n0\r\n\r\n") + next,
			want: []reply{ok("hello.txt"), ok("data.json")},
			end:  open,
		},
		row{
			name: "a chunked body of 4 KiB, the most allowed, is discarded",
			send: chunked(chunkedBody(4<<10)) + next,
			want: []reply{ok("hello.txt"), ok("data.json")},
			end:  open,
		},
		one("a chunked body over 4 KiB is 413", chunked(chunkedBody(4<<10+1)), status(413), closed),
		// The client sends only the size line: the server must not wait
		// for data it would refuse anyway.
		one("a chunk size over 4 KiB is 413 before its data", chunked("10000\r\n"), status(413), closed),
		one("a chunked OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", status(204), open),
		one("a chunked POST is 405", "POST /hello.txt HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", status(405).with("Allow", allowed), closed),
		one("a chunk size that is not hex is 400", chunked("5g\r\nhello\r\n0\r\n\r\n"), status(400), closed),
		one("chunk data longer than its size is 400", chunked("5\r\nhello!\r\n0\r\n\r\n"), status(400), closed),
		one("a bare LF in the chunk framing is 400", chunked("5\nhello\r\n0\r\n\r\n"), status(400), closed),
		one("a control byte in a chunk extension is 400", chunked("5;a\x01\r\nhello\r\n0\r\n\r\n"), status(400), closed),
		one("a folded trailer is 400", chunked("0\r\nX-T: a\r\n b\r\n\r\n"), status(400), closed),
		// RFC 9110 §10.1.1: a client that expects "100 Continue" waits
		// before it sends its body (curl, a second), so the server must
		// answer at once; it reads no body, and closes after the answer.
		one("a chunked body behind Expect: 100-continue is answered at once",
			chunked("", "Expect: 100-continue"), ok("hello.txt").with("Connection", "close"), closed),
		one("a Content-Length body behind Expect: 100-continue is answered at once",
			getReq("/hello.txt", "Content-Length: 1000", "Expect: 100-continue"), ok("hello.txt").with("Connection", "close"), closed),
		one("a body sent anyway behind Expect: 100-continue is thrown away",
			chunked("5\r\nhello\r\n0\r\n\r\n", "Expect: 100-continue")+next, ok("hello.txt"), closed),
		// The transfer codings (RFC 9112 §6.1, §6.3).
		one("gzip, chunked is 501", getReq("/hello.txt", "Transfer-Encoding: gzip, chunked")+"0\r\n\r\n", status(501), closed),
		one("gzip and chunked on two lines is 501", getReq("/hello.txt", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked")+"0\r\n\r\n", status(501), closed),
		one("gzip alone is 400: chunked must be the final coding", getReq("/hello.txt", "Transfer-Encoding: gzip")+"0\r\n\r\n", status(400), closed),
		one("chunked, gzip is 400", getReq("/hello.txt", "Transfer-Encoding: chunked, gzip")+"0\r\n\r\n", status(400), closed),
		one("chunked twice is 400", getReq("/hello.txt", "Transfer-Encoding: chunked, chunked")+"0\r\n\r\n", status(400), closed),
		one("Content-Length then Transfer-Encoding is 400", getReq("/hello.txt", "Content-Length: 5", "Transfer-Encoding: chunked")+"0\r\n\r\n", status(400), closed),
		one("Transfer-Encoding in HTTP/1.0 is 400", "GET /hello.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status(400), closed),
	)

	// OPTIONS (RFC 9110 §9.3.7): what may be done, for the server (*) or
	// one resource, in Allow; 204 because there is nothing else to send.
	options := status(204).with("Allow", allowed)
	add(
		one("OPTIONS * is 204 with Allow", "OPTIONS * HTTP/1.1\r\nHost: test\r\n\r\n", options, open),
		one("OPTIONS of a file is 204 with Allow", "OPTIONS /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", options, open),
		one("OPTIONS of the root", "OPTIONS / HTTP/1.1\r\nHost: test\r\n\r\n", options, open),
		one("OPTIONS in absolute form", "OPTIONS http://test/hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", options, open),
		one("OPTIONS of a missing file is 404", "OPTIONS /no-such-file.txt HTTP/1.1\r\nHost: test\r\n\r\n", status(404), open),
		one("OPTIONS of a folder without its slash is 301", "OPTIONS /docs HTTP/1.1\r\nHost: test\r\n\r\n", moved("/docs/"), open),
		one("OPTIONS * in HTTP/1.0 closes", "OPTIONS * HTTP/1.0\r\n\r\n", options, closed),
		row{
			name: "OPTIONS then GET on one connection: the 204 has no body",
			send: "OPTIONS * HTTP/1.1\r\nHost: test\r\n\r\n" + getReq("/hello.txt"),
			want: []reply{options, ok("hello.txt")},
			end:  open,
		},
		one("GET * is 400: the asterisk is for OPTIONS", "GET * HTTP/1.1\r\nHost: test\r\n\r\n", status(400), closed),
	)

	// Bytes that can never begin a request are refused at once: none of
	// these rows ends its line, and the server must not wait for a line
	// end (or a timeout) to answer. blocking has no timeout at all, so a
	// wait there holds the one loop for ever.
	add(
		one("a TLS ClientHello is 400 at once", tlsClientHello, status(400), closed),
		one("an SSH banner without its line end is 400 at once", "SSH-2.0-OpenSSH_9.6p1", status(400), closed),
		one("a NUL byte is 400 at once", "\x00\x00\x00\x00", status(400), closed),
		one("a method longer than any registered is 400 at once", strings.Repeat("M", 40), status(400), closed),
		one("a control byte in the target is 400 at once", "GET /hello\x01", status(400), closed),
		one("a target that is no form of one is 400 at once", "GET hello.txt", status(400), closed),
		one("a version that is not HTTP is 400 at once", "GET /hello.txt SPDY/3", status(400), closed),
	)

	// An answer that ends the connection while request bytes are unread
	// is followed by a lingering close (RFC 9112 §9.6): the client reads
	// the whole answer and then EOF, never a reset (check and
	// expectClosed insist on both, in every row that closes).
	mib := strings.Repeat("b", 1<<20)
	add(
		one("405 to a POST with a 1 MiB body ends with EOF, not a reset",
			"POST /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: "+strconv.Itoa(len(mib))+"\r\n\r\n"+mib,
			status(405), closed),
		one("414 to a 64 KiB request line ends with EOF, not a reset",
			requestLine(64<<10)+"\r\nHost: test\r\n\r\n", status(414), closed),
		one("431 to a 64 KiB header section ends with EOF, not a reset",
			"GET /hello.txt HTTP/1.1\r\n"+paddedHeaders(64<<10)+"\r\n", status(431), closed),
		one("400 with 1 MiB after it ends with EOF, not a reset", "BAD\r\n"+mib, status(400), closed),
		one("413 to a chunked body with 1 MiB more coming ends with EOF, not a reset",
			chunked("100000\r\n"+mib), status(413), closed),
		row{
			name: "Connection: close with a request unread behind it ends with EOF, not a reset",
			send: getReq("/hello.txt", "Connection: close") + strings.Repeat(getReq("/1k.bin"), 100),
			want: []reply{ok("hello.txt")},
			end:  closed,
		},
	)

	// Range positions of any length (RFC 9110 §14.1.2): a last position
	// past the end means the end, whatever its number of digits.
	rangeOf := func(spec string) string { return getReq("/range.txt", "Range: "+spec) }
	huge := "99999999999999999999" // 20 digits: past any int64
	add(
		one("a last position of 20 digits is clamped to the end", rangeOf("bytes=0-"+huge), part("range.txt", 0, 19).with("Content-Range", "bytes 0-19/20"), open),
		one("a first position of 20 digits is 416", rangeOf("bytes="+huge+"-"), status(416).with("Content-Range", "bytes */20"), open),
		one("a first position of 20 digits with a last is 416", rangeOf("bytes="+huge+"-"+huge), status(416), open),
		one("a suffix of 20 digits is the whole file", rangeOf("bytes=-"+huge), part("range.txt", 0, 19), open),
		one("positions with many leading zeros", rangeOf("bytes=0000000000000000000000001-0000000000000000000000002"), part("range.txt", 1, 2), open),
		one("a reversed range of huge positions is ignored", rangeOf("bytes="+huge+"-99999999999999999998"), ok("range.txt"), open),
	)
	return rs
}

// chunkedBody is a valid chunked body of exactly n bytes on the wire: chunks
// of 256 bytes (263 with their framing), then a last chunk whose extension
// pads the whole to size.
func chunkedBody(n int) string {
	const last = "0;pad=\r\n\r\n"
	var b strings.Builder
	for n-b.Len() >= 263+len(last) {
		b.WriteString("100\r\n" + strings.Repeat("c", 256) + "\r\n")
	}
	b.WriteString("0;pad=" + strings.Repeat("p", n-b.Len()-len(last)) + "\r\n\r\n")
	return b.String()
}

// tlsClientHello is the start of a TLS 1.2/1.3 ClientHello, what a browser
// sends to a port it believes speaks https: a handshake record (0x16), with
// no LF anywhere in it.
const tlsClientHello = "\x16\x03\x01\x00\xf1\x01\x00\x00\xed\x03\x03" +
	"\x5b\x2c\x91\x37\xe4\x08\xd3\x7f\x19\x42\x6a\xc0\x88\x3d\x51\x06" +
	"\xab\x73\x2e\x9f\x14\xc6\x55\x81\x3b\x20\xd7\x4e\x99\x12\x6f\xe0" +
	"\x20\x1d\x62\x8a\x35\xf4\x07\xb9\x4c\x23\x90\x5e\xc1\x78\x2b\xd6" +
	"\x41\x9c\x13\x67\xe8\x32\x8f\x05\xba\x5d\x76\x21\xc9\x48\x3e\x11" +
	"\x00\x20\x13\x01\x13\x02\x13\x03\xc0\x2b\xc0\x2f\xc0\x2c\xc0\x30" +
	"\xcc\xa9\xcc\xa8\xc0\x13\xc0\x14\x00\x9c\x00\x9d\x00\x2f\x00\x35" +
	"\x01\x00\x00\x84\x00\x00\x00\x10\x00\x0e\x00\x00\x0b\x65\x78\x61" +
	"\x6d\x70\x6c\x65\x2e\x63\x6f\x6d"
