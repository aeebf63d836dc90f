package conformance

// A real browser against every model: headless Chromium loads the demo
// site's index page, whose script marks the page loaded only when every
// sub-resource has arrived (see demosite). A browser is the client that
// finds what hand-written clients miss: it opens several connections at
// once and leaves some idle, which is exactly what a server that holds one
// connection at a time cannot survive.
//
// Chromium is driven over DevTools on a pipe (--remote-debugging-pipe): no
// port of its own, no virtual time, and every wait bounded by a deadline, so
// a page that never loads fails the test instead of hanging it.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"serverlab/demosite"
	"serverlab/internal/model"
)

// pageLoaded is what the demo page's script writes in <body data-loaded>
// when everything arrived: the sorted names of its sub-resources.
const pageLoaded = "app.js data.json logo.svg style.css"

// pageDeadline bounds one page load. A working server needs milliseconds;
// the only thing this deadline ever measures is a page that will not load.
const pageDeadline = 20 * time.Second

// pageBudget is the most a page may take, in the page's own clock, from
// navigation to its last sub-resource. It is not a speed goal but a line
// between "served" and "served after a stall": a model that makes a browser
// wait for a timeout or a lingering close takes seconds, not milliseconds.
const pageBudget = 5 * time.Second

func TestBrowser(t *testing.T) {
	b := startBrowser(t)
	b.warmUp(t)
	// Every model as `serverlab serve` runs it by default: the variant
	// named after it. The flags that change how a model does I/O have the
	// rest of the suite.
	for _, name := range model.Names() {
		i := slices.IndexFunc(variants, func(v variant) bool { return v.name == name })
		if i < 0 {
			t.Errorf("no variant runs the %s model with its defaults", name)
			continue
		}
		v := variants[i]
		t.Run(v.name, func(t *testing.T) {
			s := start(t, v)
			begin := time.Now()
			mark, ms, err := b.load(t, "http://"+s.addr+"/")
			took := time.Since(begin)
			if err != nil {
				t.Fatalf("the demo page from %s: %v", v.name, err)
			}
			if mark != pageLoaded {
				t.Fatalf("the page's sub-resources that arrived: %q, want %q", mark, pageLoaded)
			}
			if d := time.Duration(ms) * time.Millisecond; d > pageBudget {
				t.Errorf("the page took %v by its own clock, more than %v: the server stalled the browser", d, pageBudget)
			}
			t.Logf("%s: every sub-resource arrived; %d ms by the page's clock, %v in Chromium", v.name, ms, took.Round(time.Millisecond))
		})
	}
}

// browser is a headless Chromium, driven over DevTools on a pipe.
type browser struct {
	cmd  *exec.Cmd
	to   *os.File      // DevTools messages to Chromium (its fd 3)
	from *bufio.Reader // messages from it (its fd 4)
	rd   *os.File
	id   int
}

// startBrowser starts Chromium, or skips the test where there is none that
// can run: .ci/run installs Debian's chromium package when it is missing.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium on PATH (.ci/run installs Debian's chromium package): the browser test cannot run")
	}
	// Two pipes: Chromium reads commands on fd 3 and writes answers on fd 4.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ansR, ansW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path,
		"--headless", "--remote-debugging-pipe",
		// As root (CI), Chromium's sandbox cannot start; the page is
		// our own, from loopback.
		"--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(),
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-default-apps", "--metrics-recording-only",
		// Loopback only: any name but a loopback literal fails to resolve.
		"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
		"about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, ansW}
	// Its own process group, so that the renderer and helper processes it
	// forks end with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Skipf("Chromium (%s) cannot be started: %v", path, err)
	}
	cmdR.Close()
	ansW.Close()
	b := &browser{cmd: cmd, to: cmdW, from: bufio.NewReader(ansR), rd: ansR}
	t.Cleanup(b.close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := b.call(ctx, "", "Browser.getVersion", nil); err != nil {
		t.Skipf("Chromium (%s) started but does not answer over DevTools: %v\n%s", path, err, lastLines(stderr.String(), 5))
	}
	return b
}

// warmUp loads the demo page once from net/http's file server, unmeasured:
// a browser's first page pays for starting its renderer, hundreds of
// milliseconds that would otherwise be counted against the first model.
func (b *browser) warmUp(t *testing.T) {
	t.Helper()
	root := t.TempDir()
	if err := demosite.Write(root); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	defer srv.Close()
	if mark, _, err := b.load(t, srv.URL+"/"); err != nil || mark != pageLoaded {
		t.Fatalf("the demo page from net/http's file server: %q, %v", mark, err)
	}
}

// load opens url in a new tab and waits until the page marks itself loaded,
// or the deadline passes. It returns the mark and the page's own time, in
// milliseconds, from navigation to the mark.
func (b *browser) load(t *testing.T, url string) (mark string, ms int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), pageDeadline)
	defer cancel()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.callInto(ctx, "", "Target.createTarget", map[string]any{"url": url}, &target); err != nil {
		return "", 0, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.call(ctx, "", "Target.closeTarget", map[string]any{"targetId": target.TargetID})
	}()
	var session struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.callInto(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &session); err != nil {
		return "", 0, err
	}
	// Poll the page: each evaluation returns at once, so that a page that
	// never finishes leaves us waiting only until the deadline. Errors
	// while the first document is replaced by ours are expected.
	const probe = `document.body && document.body.dataset.loaded ? document.body.dataset.loaded + "|" + document.body.dataset.ms : ""`
	for {
		var res struct {
			Result struct {
				Value string `json:"value"`
			} `json:"result"`
		}
		err := b.callInto(ctx, session.SessionID, "Runtime.evaluate", map[string]any{"expression": probe, "returnByValue": true}, &res)
		if v := res.Result.Value; err == nil && v != "" {
			mark, msText, _ := strings.Cut(v, "|")
			ms, _ := strconv.Atoi(msText)
			return mark, ms, nil
		}
		select {
		case <-ctx.Done():
			return "", 0, fmt.Errorf("the page did not mark itself loaded within %v: a sub-resource never arrived (a server holding the browser's connections?)", pageDeadline)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// call sends one DevTools command (to a page's session, or to the browser
// when session is "") and returns its result.
func (b *browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	b.id++
	msg := map[string]any{"id": b.id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	out, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if _, err := b.to.Write(append(out, 0)); err != nil {
		return nil, fmt.Errorf("%s: write to Chromium: %w", method, err)
	}
	deadline, _ := ctx.Deadline()
	b.rd.SetReadDeadline(deadline)
	for {
		// Messages are NUL-terminated JSON. Events (no id) and answers to
		// earlier commands that timed out are passed over.
		line, err := b.from.ReadBytes(0)
		if err != nil {
			return nil, fmt.Errorf("%s: read from Chromium: %w", method, err)
		}
		var reply struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(line[:len(line)-1], &reply); err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if reply.ID != b.id {
			continue
		}
		if reply.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, reply.Error.Message)
		}
		return reply.Result, nil
	}
}

func (b *browser) callInto(ctx context.Context, session, method string, params, into any) error {
	raw, err := b.call(ctx, session, method, params)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}

// close asks Chromium to quit, then makes sure its whole process group has
// gone: every process of it is ours, started by startBrowser.
func (b *browser) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	b.call(ctx, "", "Browser.close", nil)
	cancel()
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	// Helpers that outlived the browser itself, if any.
	if err := syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(os.Stderr, "chromium's process group: %v\n", err)
	}
	b.to.Close()
	b.rd.Close()
}

// lastLines is the end of a long text, for an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
