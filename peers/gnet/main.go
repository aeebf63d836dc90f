// Command gnet is a benchmark peer: a minimal static file server on gnet v2,
// the fastest Go event-loop library, serving every file of a folder from
// memory. It lives in its own module so that serverlab itself does not
// depend on gnet.
//
// It is deliberately a best case, not a real server: responses are built once
// at start-up, requests are matched by path only, and anything unknown gets a
// 404. What it shows is the ceiling of a Go event loop on this machine.
//
//	cd peers/gnet && go build -o /tmp/gnetpeer . && /tmp/gnetpeer -addr 127.0.0.1:8082 -root DIR
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/panjf2000/gnet/v2"
)

type server struct {
	gnet.BuiltinEventEngine
	addr     string
	files    map[string][]byte // path -> whole response (head and body)
	notFound []byte
}

func (s *server) OnBoot(eng gnet.Engine) gnet.Action {
	fmt.Printf("gnet listening on http://%s\n", s.addr)
	return gnet.None
}

// OnTraffic answers every complete request in the buffer, which makes
// pipelining work, and leaves a partial one for the next call.
func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	used := 0
	for {
		end := bytes.Index(buf[used:], []byte("\r\n\r\n"))
		if end < 0 {
			break
		}
		head := buf[used : used+end]
		used += end + 4
		path := requestPath(head)
		resp, ok := s.files[string(path)]
		if !ok {
			resp = s.notFound
		}
		c.Write(resp)
	}
	c.Discard(used)
	return gnet.None
}

// requestPath returns the path of "GET /path HTTP/1.1".
func requestPath(head []byte) []byte {
	sp := bytes.IndexByte(head, ' ')
	if sp < 0 {
		return nil
	}
	rest := head[sp+1:]
	if sp2 := bytes.IndexByte(rest, ' '); sp2 >= 0 {
		return rest[:sp2]
	}
	return nil
}

func response(status string, ctype string, body []byte) []byte {
	h := "HTTP/1.1 " + status + "\r\nServer: gnet-peer\r\nContent-Type: " + ctype +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: keep-alive\r\n\r\n"
	return append([]byte(h), body...)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "loopback address to listen on")
	root := flag.String("root", ".", "folder to serve from memory")
	multicore := flag.Bool("multicore", false, "one event loop per CPU (default: one loop, as compared)")
	flag.Parse()
	s := &server{addr: *addr, files: map[string][]byte{}, notFound: response("404 Not Found", "text/plain", []byte("404 Not Found\n"))}
	err := filepath.WalkDir(*root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(*root, p)
		s.files["/"+filepath.ToSlash(rel)] = response("200 OK", "application/octet-stream", body)
		return nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "gnet peer: %v\n", err)
		os.Exit(1)
	}
	if err := gnet.Run(s, "tcp://"+*addr, gnet.WithMulticore(*multicore)); err != nil {
		fmt.Fprintf(os.Stderr, "gnet peer: %v\n", err)
		os.Exit(1)
	}
}
