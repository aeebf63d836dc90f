package tui

import (
	"net"
	"os"
	"testing"
)

func TestListenerPID(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := listenerPID(ln.Addr().String()); got != os.Getpid() {
		t.Errorf("listenerPID(%s) = %d, want this process, %d", ln.Addr(), got, os.Getpid())
	}
	// A connected (not listening) socket on another port is not a listener.
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := listenerPID(c.LocalAddr().String()); got != 0 {
		t.Errorf("listenerPID(%s), a client port, = %d, want 0", c.LocalAddr(), got)
	}
	ln.Close()
	if got := listenerPID(ln.Addr().String()); got != 0 {
		t.Errorf("after close: listenerPID = %d, want 0", got)
	}
	if got := listenerPID("not an address"); got != 0 {
		t.Errorf("bad address: %d", got)
	}
}
