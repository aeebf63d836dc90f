package servers

import (
	"testing"
	"time"
)

// A request as curl or wrk sends it.
var benchReq = []byte("GET /a.txt HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n")

func BenchmarkParse(b *testing.B) {
	var p Parser
	var req Request
	b.SetBytes(int64(len(benchReq)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(benchReq, &req); err != nil {
			b.Fatal(err)
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

// BenchmarkSession is the whole core per keep-alive request: what every
// model pays before it touches a socket.
func BenchmarkSession(b *testing.B) {
	site := benchSite(b)
	s := NewSession(&Config{Site: site, Stats: NewStats()})
	s.Start(time.Now())
	b.ReportAllocs()
	for b.Loop() {
		n := copy(s.ReadSpace(), benchReq)
		s.Received(n, time.Now())
		if !s.Next() {
			b.Fatal("no response")
		}
		fetch(s)
		s.Sent(time.Now())
	}
}

func benchSite(b *testing.B) *Site {
	b.Helper()
	dir := b.TempDir()
	if err := writeTestFile(dir+"/a.txt", "0123456789"); err != nil {
		b.Fatal(err)
	}
	site, err := NewSite(dir, SiteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { site.Close() })
	return site
}
