package servers

import (
	"strings"
	"testing"
	"time"
)

// A request as curl or wrk sends it.
var benchReq = []byte("GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n")

func BenchmarkParse(b *testing.B) { benchParse(b, benchReq) }

// browserReq is a request as a browser sends it for a page's image: the
// fields every browser adds, a Referer and a cookie.
var browserReq = []byte("GET /images/logo.png HTTP/1.1\r\n" +
	"Host: 127.0.0.1:8080\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\r\n" +
	"Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8\r\n" +
	"Accept-Language: en-GB,en;q=0.9,fr;q=0.8\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Connection: keep-alive\r\n" +
	"Referer: http://127.0.0.1:8080/index.html\r\n" +
	"Cookie: session=3f2a9c0d4e5b6a7f8091a2b3c4d5e6f7; theme=dark\r\n" +
	"Sec-Fetch-Dest: image\r\n" +
	"If-Modified-Since: Tue, 15 Nov 1994 08:12:31 GMT\r\n" +
	"\r\n")

func BenchmarkParseWrk(b *testing.B)     { benchParse(b, wrkReq) }
func BenchmarkParseBrowser(b *testing.B) { benchParse(b, browserReq) }

// benchParse parses one whole request, in one buffer, again and again.
func benchParse(b *testing.B, in []byte) {
	var p Parser
	var req Request
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := p.Parse(in, &req); err != nil || n != len(in) {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	site := benchSite(b)
	s := NewSession(&Config{Site: site, Stats: NewStats()})
	s.Start(time.Now())
	s.ReadSpace()
	req := Request{Method: GET, Path: []byte("/a.txt"), KeepAlive: true}
	b.ReportAllocs()
	for b.Loop() {
		s.x.req = req
		s.begin()
		fetch(s)
		s.Sent(s.now)
	}
}

func BenchmarkAppendHead(b *testing.B) {
	site := benchSite(b)
	resp := resolve(site, Request{Method: GET, Path: []byte("/a.txt"), KeepAlive: true}, time.Now())
	defer resp.File.release()
	date := []byte(time.Now().UTC().Format(TimeFormat))
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendHead(dst[:0], &resp, date)
	}
}

// wrkReq is the request wrk sends for the small-file scenario: one line,
// one Host field, a keep-alive connection.
var wrkReq = []byte("GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1:18300\r\n\r\n")

// BenchmarkSession is the whole core per keep-alive request for a 1 KiB file
// the small-file cache holds: the steps, in the order, that the event loop
// takes for each request, with the protective limits set so that Deadline
// does its sums. It is what every model pays before it touches a socket.
func BenchmarkSession(b *testing.B) {
	site := benchSite(b)
	s := NewSession(&Config{Site: site, Stats: NewStats(), Limits: Limits{
		HeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, WriteTimeout: 30 * time.Second}})
	// One clock for the whole run, as one event-loop turn has one: the
	// cache entry stays fresh and the Date is made once, as they are
	// within any one second.
	now := time.Now()
	s.Start(now)
	feed(s, string(wrkReq), now) // the first request opens the file
	if !s.Next() {
		b.Fatal("no answer")
	}
	fetch(s)
	s.Sent(now)
	b.ReportAllocs()
	for b.Loop() {
		n := copy(s.ReadSpace(), wrkReq)
		s.Received(n, now)
		if !s.Next() || s.Open() != nil {
			b.Fatal("no answer from the cache")
		}
		if f, _, _ := s.Body(); f != nil {
			b.Fatal("the cached body did not travel with the head")
		}
		s.Wrote(len(s.Head()), now)
		if !s.Sent(now) {
			b.Fatal("the connection did not stay open")
		}
		if s.Next() {
			b.Fatal("an answer to nothing")
		}
		s.Shrink()
		_ = s.Deadline()
	}
}

func benchSite(b *testing.B) *Site {
	b.Helper()
	dir := b.TempDir()
	if err := writeTestFile(dir+"/a.txt", "0123456789"); err != nil {
		b.Fatal(err)
	}
	if err := writeTestFile(dir+"/1k.bin", strings.Repeat("x", 1024)); err != nil {
		b.Fatal(err)
	}
	site, err := NewSite(dir, SiteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { site.Close() })
	return site
}

// BenchmarkCleanPath is the root jail's work on a path as clients send it,
// clean already.
func BenchmarkCleanPath(b *testing.B) {
	p, dst := []byte("/images/2024/logo-dark.png"), make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cleanPath(dst, p); err != nil {
			b.Fatal(err)
		}
	}
}
