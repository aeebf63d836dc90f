package threaded

import (
	"io"
	"net"
	"testing"
	"time"
)

// A write that says more follows (a head before its body) really holds the
// bytes back: through the RawConn, with MSG_MORE, TCP keeps them to share a
// packet with what comes next, where nc.Write would send them at once (the
// socket has TCP_NODELAY). The next write without more sends both.
func TestWriteMoreHoldsTheHead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s := newNetSocket(nc.(*net.TCPConn))

	if n, err := s.Write([]byte("head;"), true, time.Time{}); n != 5 || err != nil {
		t.Fatalf("write with more: %d, %v", n, err)
	}
	// Held, so nothing arrives. (Under load a late packet could make this
	// pass when it should not; it can never fail when the bytes are held.)
	client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 16)
	if n, err := client.Read(buf); n > 0 {
		t.Fatalf("the client got %q at once: the head was not held for the body", buf[:n])
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("read: %v, want a timeout", err)
	}
	if n, err := s.Write([]byte("body"), false, time.Time{}); n != 4 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(client, buf[:9]); err != nil || string(buf[:9]) != "head;body" {
		t.Fatalf("got %q, %v; want head;body", buf[:9], err)
	}
}
