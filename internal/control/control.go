// Package control is the small channel between a server process and the
// parent that started it (bench or the dashboard): both of its ends, so the
// protocol is written down once.
//
// The parent makes a socketpair and hands one end to the child as a file
// descriptor (Pair, then `serve -control-fd 3`). The protocol is one line
// each way: the parent writes "stats\n", the child answers with its
// servers.Snapshot as one line of JSON. A socketpair rather than an HTTP
// endpoint, because it needs no port, nobody else can reach it, and its
// closing says something: when the parent goes, however it goes, the child
// reads EOF and shuts down, so a crashed dashboard leaves no servers behind.
package control

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"serverlab/internal/sock"
	"serverlab/servers"
)

// ChildFD is the descriptor the child finds its end on: the first of
// exec.Cmd.ExtraFiles, after stdin, stdout and stderr.
const ChildFD = 3

// statsCommand is the one request the protocol has.
const statsCommand = "stats"

// timeout bounds one exchange, so that a child that stopped answering (a
// held event loop, say) costs the parent a missing sample, not a hang.
const timeout = 2 * time.Second

// Client is the parent's end of the channel.
type Client struct {
	mu   sync.Mutex // one exchange at a time: answers come back in order
	conn net.Conn
	r    *bufio.Reader
}

// Pair makes a channel: the parent's Client, and the child's end, to pass
// as exec.Cmd.ExtraFiles[0] (so it becomes ChildFD) and close once the
// child has started. Both ends are close-on-exec: only the descriptor the
// child is given on purpose crosses exec.
func Pair() (*Client, *os.File, error) {
	conn, theirs, err := sock.Pair("control channel")
	if err != nil {
		return nil, nil, err
	}
	return NewClient(conn), theirs, nil
}

// NewClient speaks the protocol over conn, the parent's end of a channel.
func NewClient(conn net.Conn) *Client {
	return &Client{conn: conn, r: bufio.NewReader(conn)}
}

// Stats asks the child for its counters.
func (c *Client) Stats() (servers.Snapshot, error) {
	var snap servers.Snapshot
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c.conn, statsCommand+"\n"); err != nil {
		return snap, fmt.Errorf("stats: %w", err)
	}
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return snap, fmt.Errorf("stats: %w", err)
	}
	if err := json.Unmarshal(line, &snap); err != nil {
		return snap, fmt.Errorf("stats: %w", err)
	}
	return snap, nil
}

// Close closes the parent's end, which tells the child to shut down.
func (c *Client) Close() error { return c.conn.Close() }

// ProtocolError is a line from the parent that the child does not
// understand. The child exits on it (serve's exit code 3) rather than guess
// what its parent meant.
type ProtocolError struct{ Line string }

// Error says what was received.
func (e ProtocolError) Error() string {
	return fmt.Sprintf("control channel: unknown command %q", e.Line)
}

// Serve is the child's end: it answers each "stats" with snapshot() as one
// line of JSON. It returns nil when the parent closes the channel (it has
// gone, so the child should too), and a ProtocolError when the parent says
// something else.
func Serve(ch io.ReadWriter, snapshot func() servers.Snapshot) error {
	sc := bufio.NewScanner(ch)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != statsCommand {
			return ProtocolError{Line: line}
		}
		b, _ := json.Marshal(snapshot()) // a struct of numbers cannot fail to marshal
		if _, err := ch.Write(append(b, '\n')); err != nil {
			return nil // the parent went away mid-answer
		}
	}
	if err := sc.Err(); err != nil {
		// Garbage longer than a line, or a broken channel: either way,
		// the parent can no longer talk to us.
		return ProtocolError{Line: err.Error()}
	}
	return nil
}
