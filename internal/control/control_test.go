package control

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"serverlab/servers"
)

// serve runs the child's end on the child's half of a fresh pair, as a
// serve process would, and returns the parent's Client and Serve's result.
func serve(t *testing.T, snapshot func() servers.Snapshot) (*Client, <-chan error) {
	t.Helper()
	c, child, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer child.Close()
		done <- Serve(child, snapshot)
	}()
	t.Cleanup(func() { c.Close() })
	return c, done
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

func TestStatsRoundTrip(t *testing.T) {
	n := int64(0)
	c, done := serve(t, func() servers.Snapshot {
		n++
		return servers.Snapshot{Model: "evloop", Requests: n, Open: 7}
	})
	for want := int64(1); want <= 3; want++ {
		snap, err := c.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if snap.Model != "evloop" || snap.Requests != want || snap.Open != 7 {
			t.Errorf("exchange %d: got %+v", want, snap)
		}
	}
	// The parent closing its end is how it says goodbye: not an error.
	c.Close()
	if err := wait(t, done); err != nil {
		t.Errorf("Serve after the parent closed: %v, want nil", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	c, done := serve(t, func() servers.Snapshot { return servers.Snapshot{} })
	if _, err := io.WriteString(c.conn, "reboot\n"); err != nil {
		t.Fatal(err)
	}
	var pe ProtocolError
	if err := wait(t, done); !errors.As(err, &pe) || pe.Line != "reboot" {
		t.Errorf("Serve: %v, want a ProtocolError for \"reboot\"", err)
	}
	// The child has gone: the parent's next question fails, it does not hang.
	if _, err := c.Stats(); err == nil {
		t.Error("Stats after the child left: no error")
	}
}

func TestStatsTimesOut(t *testing.T) {
	// A child that reads but never answers (a held event loop, say).
	parent, child := net.Pipe()
	defer child.Close()
	go io.Copy(io.Discard, child)
	c := NewClient(parent)
	defer c.Close()
	start := time.Now()
	if _, err := c.Stats(); err == nil {
		t.Fatal("Stats from a silent child: no error")
	}
	if d := time.Since(start); d < timeout/2 {
		t.Errorf("gave up after %v, before the timeout of %v", d, timeout)
	}
}
