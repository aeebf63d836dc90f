package uring

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"serverlab/internal/sock"
)

// The ring's tests run against the real kernel: each submits requests and
// checks what comes back. They skip, with the reason, where io_uring cannot
// be used.

// testRing makes a ring for one test, on the test's own (locked) thread:
// the ring is single-issuer, as the model's is.
func testRing(t *testing.T, entries, cqEntries uint32) *ring {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
	runtime.LockOSThread()
	r, err := newRing(ringOptions{entries: entries, cqEntries: cqEntries, singleIssuer: true})
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.close()
		runtime.UnlockOSThread()
	})
	return r
}

// guardUD is the user data of collect's guard timeout.
const guardUD = ^uint64(0)

// collect waits for n completions and returns them. A guard timeout bounds
// the wait, so that a request that never completes fails the test instead
// of hanging it.
func collect(t *testing.T, r *ring, n int) []cqe {
	t.Helper()
	guard := durationSpec(int64(10 * time.Second))
	r.get().timeout(&guard, 0, guardUD)
	var got []cqe
	guarded := true
	for len(got) < n || guarded {
		if len(got) == n && guarded {
			r.get().cancel(guardUD, guardUD-1)
			guarded = false
			n += 2 // the guard's completion, and the cancel's
		}
		if err := r.wait(); err != nil {
			t.Fatal(err)
		}
		for c := range r.completions {
			if c.userData == guardUD && c.res == -int32(unix.ETIME) {
				t.Fatalf("after 10 s, %d of %d completions: %v", len(got), n, got)
			}
			got = append(got, c)
		}
	}
	var out []cqe
	for _, c := range got {
		if c.userData < guardUD-1 {
			out = append(out, c)
		}
	}
	return out
}

// TestEnableOnAnotherThread sets a ring up disabled on one goroutine and
// enables and uses it on another, locked one: how the model makes its ring
// in New and runs it in Serve.
func TestEnableOnAnotherThread(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	r, err := newRing(ringOptions{entries: 8, cqEntries: 16, singleIssuer: true, disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	b, err := newBufRing(r, 1, 4, 64)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := r.enable(); err != nil {
			done <- err
			return
		}
		r.get().nop(1)
		if err := r.wait(); err != nil {
			done <- err
			return
		}
		var got []cqe
		for c := range r.completions {
			got = append(got, c)
		}
		if len(got) != 1 || got[0].userData != 1 {
			done <- fmt.Errorf("completions %+v, want the NOP", got)
			return
		}
		b.unregister(r)
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestABISizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"io_uring_sqe", unsafe.Sizeof(sqe{}), 64},
		{"io_uring_cqe", unsafe.Sizeof(cqe{}), 16},
		{"io_uring_params", unsafe.Sizeof(params{}), 120},
		{"io_uring_buf", unsafe.Sizeof(bufEntry{}), 16},
		{"io_uring_buf_reg", unsafe.Sizeof(bufReg{}), 40},
		{"io_uring_probe", unsafe.Sizeof(probeHeader{}), 16},
		{"io_uring_probe_op", unsafe.Sizeof(probeOp{}), 8},
		{"__kernel_timespec", unsafe.Sizeof(timespec{}), 16},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, c.got, c.want)
		}
	}
	// The offsets that matter most: user data, and the buffer group.
	var s sqe
	if o := unsafe.Offsetof(s.userData); o != 32 {
		t.Errorf("sqe.user_data at %d, want 32", o)
	}
	if o := unsafe.Offsetof(s.bufGroup); o != 40 {
		t.Errorf("sqe.buf_group at %d, want 40", o)
	}
}

func TestNop(t *testing.T) {
	r := testRing(t, 8, 16)
	r.get().nop(42)
	got := collect(t, r, 1)
	if got[0].userData != 42 || got[0].res != 0 {
		t.Fatalf("completion %+v, want user data 42, result 0", got[0])
	}
}

func TestReadPipe(t *testing.T) {
	r := testRing(t, 8, 16)
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	// Submitted before there is anything to read: the read waits in the
	// kernel, and this thread is free until it completes.
	buf := make([]byte, 16)
	r.get().read(p[0], buf, -1, 7)
	if err := r.submit(); err != nil {
		t.Fatal(err)
	}
	if r.ready() != 0 {
		t.Fatal("the read completed before anything was written")
	}
	unix.Write(p[1], []byte("hello"))
	got := collect(t, r, 1)
	if got[0].res != 5 || string(buf[:5]) != "hello" {
		t.Fatalf("read %d bytes %q, want 5 %q", got[0].res, buf[:max(got[0].res, 0)], "hello")
	}
}

// listen opens a loopback listener for the ring to accept on.
func listen(t *testing.T) (int, string) {
	t.Helper()
	lfd, addr, err := sock.Listen("127.0.0.1:0", sock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(lfd) })
	return lfd, addr
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAcceptRecvSend(t *testing.T) {
	r := testRing(t, 8, 16)
	lfd, addr := listen(t)
	r.get().acceptMulti(lfd, 1)
	r.submit()
	// Two clients, one accept request: multishot.
	c1, c2 := dial(t, addr), dial(t, addr)
	got := collect(t, r, 2)
	var fds []int
	for _, c := range got {
		if c.userData != 1 || c.res < 0 || c.flags&cqeFMore == 0 {
			t.Fatalf("accept completion %+v, want a descriptor and F_MORE", c)
		}
		fds = append(fds, int(c.res))
		defer unix.Close(int(c.res))
	}
	// Echo a line on each, through the ring.
	for i, c := range []net.Conn{c1, c2} {
		c.Write([]byte("ping"))
		buf := make([]byte, 64)
		r.get().recv(fds[i], buf, 2)
		rc := collect(t, r, 1)[0]
		if rc.res != 4 {
			t.Fatalf("recv: %d, want 4", rc.res)
		}
		r.get().send(fds[i], append([]byte("pong:"), buf[:4]...), 3)
		if sc := collect(t, r, 1)[0]; sc.res != 9 {
			t.Fatalf("send: %d, want 9", sc.res)
		}
		reply := make([]byte, 9)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, reply); err != nil || string(reply) != "pong:ping" {
			t.Fatalf("client read %q, %v", reply, err)
		}
	}
}

// acceptOne accepts one connection through the ring.
func acceptOne(t *testing.T, r *ring, lfd int, addr string) (int, net.Conn) {
	t.Helper()
	c := dial(t, addr)
	fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd, c
}

func TestProvidedBufferRecv(t *testing.T) {
	r := testRing(t, 8, 16)
	b, err := newBufRing(r, 3, 4, 256)
	if err != nil {
		t.Fatal(err)
	}
	defer b.unregister(r)
	lfd, addr := listen(t)
	fd, c := acceptOne(t, r, lfd, addr)
	// The receive waits holding no buffer; the kernel picks one only
	// when the bytes arrive.
	r.get().recvSelect(fd, b.size, b.group, 9)
	r.submit()
	c.Write([]byte("GET / HTTP/1.1\r\n"))
	rc := collect(t, r, 1)[0]
	if rc.res != 16 || rc.flags&cqeFBuffer == 0 {
		t.Fatalf("recv completion %+v, want 16 bytes in a provided buffer", rc)
	}
	bid := uint16(rc.flags >> cqeBufferShift)
	b.taken()
	if got := b.buf(bid)[:16]; string(got) != "GET / HTTP/1.1\r\n" {
		t.Fatalf("buffer %d holds %q", bid, got)
	}
	b.put(bid)
	if b.out != 0 {
		t.Fatalf("%d buffers out after giving the one back", b.out)
	}
}

// TestProvidedBuffersRunOut shows ENOBUFS: more receives complete at once
// than the group has buffers, and the one left without gets -ENOBUFS (and
// must be retried once a buffer is back, not spun on).
func TestProvidedBuffersRunOut(t *testing.T) {
	r := testRing(t, 8, 16)
	b, err := newBufRing(r, 4, 1, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer b.unregister(r)
	lfd, addr := listen(t)
	fd1, c1 := acceptOne(t, r, lfd, addr)
	fd2, c2 := acceptOne(t, r, lfd, addr)
	c1.Write([]byte("one"))
	c2.Write([]byte("two"))
	// Both receives must find their bytes already there, so that both
	// complete at once, inside the one submit.
	waitQueued(t, fd1, 3)
	waitQueued(t, fd2, 3)
	r.get().recvSelect(fd1, 64, b.group, 1)
	r.get().recvSelect(fd2, 64, b.group, 2)
	got := collect(t, r, 2)
	var ok, nobufs int
	for _, c := range got {
		switch {
		case c.res > 0 && c.flags&cqeFBuffer != 0:
			ok++
			b.taken()
			b.put(uint16(c.flags >> cqeBufferShift))
		case c.res == -int32(unix.ENOBUFS):
			nobufs++
		}
	}
	if ok != 1 || nobufs != 1 {
		t.Fatalf("completions %+v: want one receive served and one -ENOBUFS", got)
	}
}

// waitQueued waits until n bytes are in fd's receive queue.
func waitQueued(t *testing.T, fd, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if q, err := unix.IoctlGetInt(fd, unix.SIOCINQ); err == nil && q >= n {
			return
		}
	}
	t.Fatalf("%d bytes never arrived", n)
}

func TestTimeout(t *testing.T) {
	r := testRing(t, 8, 16)
	ts := durationSpec(int64(20 * time.Millisecond))
	start := time.Now()
	r.get().timeout(&ts, 0, 5)
	got := collect(t, r, 1)[0]
	if got.res != -int32(unix.ETIME) {
		t.Fatalf("timeout result %d, want -ETIME", got.res)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Fatalf("timeout fired after %v, before its 20 ms", el)
	}
}

// TestLinkedDelay is the simulated slow disk: a timeout that counts its
// expiry as success, linked before a read, so the read starts only when the
// delay has passed — a wait inside the ring, while the thread is free.
func TestLinkedDelay(t *testing.T) {
	r := testRing(t, 8, 16)
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, []byte("file data"), 0o644)
	fd, err := unix.Open(f, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ts := durationSpec(int64(15 * time.Millisecond))
	buf := make([]byte, 64)
	start := time.Now()
	r.reserve(2)
	d := r.get()
	d.timeout(&ts, timeoutEtimeSuccess, 1)
	d.flags |= sqeIOLink
	r.get().read(fd, buf, 0, 2)
	r.submit()
	if r.ready() != 0 {
		t.Fatal("completions before the delay passed")
	}
	got := collect(t, r, 2)
	if got[0].userData != 1 || got[0].res != -int32(unix.ETIME) || got[1].userData != 2 || got[1].res != 9 {
		t.Fatalf("completions %+v, want the delay's -ETIME then a 9-byte read", got)
	}
	if el := time.Since(start); el < 15*time.Millisecond {
		t.Fatalf("read done after %v, before the 15 ms delay", el)
	}
}

func TestCancel(t *testing.T) {
	r := testRing(t, 8, 16)
	lfd, addr := listen(t)
	fd, _ := acceptOne(t, r, lfd, addr)
	buf := make([]byte, 64)
	// By user data: a receive that would wait for ever.
	r.get().recv(fd, buf, 10)
	r.submit()
	r.get().cancel(10, 11)
	got := collect(t, r, 2)
	res := map[uint64]int32{}
	for _, c := range got {
		res[c.userData] = c.res
	}
	if res[10] != -int32(unix.ECANCELED) || res[11] != 0 {
		t.Fatalf("by user data: %+v, want the receive -ECANCELED and the cancel 0", got)
	}
	// By descriptor: everything in flight on fd, as a closing connection
	// does before it closes its socket.
	r.get().recv(fd, buf, 20)
	r.get().recv(fd, buf, 21)
	r.submit()
	r.get().cancelFd(fd, 22)
	got = collect(t, r, 3)
	res = map[uint64]int32{}
	for _, c := range got {
		res[c.userData] = c.res
	}
	if res[20] != -int32(unix.ECANCELED) || res[21] != -int32(unix.ECANCELED) || res[22] != 2 {
		t.Fatalf("by descriptor: %+v, want both receives -ECANCELED and the cancel 2", got)
	}
}

func TestLinkTimeout(t *testing.T) {
	r := testRing(t, 8, 16)
	lfd, addr := listen(t)
	fd, _ := acceptOne(t, r, lfd, addr)
	buf := make([]byte, 64)
	ts := durationSpec(int64(10 * time.Millisecond))
	r.reserve(2)
	s := r.get()
	s.recv(fd, buf, 1)
	s.flags |= sqeIOLink
	r.get().linkTimeout(&ts, 2)
	got := collect(t, r, 2)
	res := map[uint64]int32{}
	for _, c := range got {
		res[c.userData] = c.res
	}
	if res[1] != -int32(unix.ECANCELED) || res[2] != -int32(unix.ETIME) {
		t.Fatalf("%+v: want the receive -ECANCELED by its linked timeout's -ETIME", got)
	}
}

func TestFileOps(t *testing.T) {
	r := testRing(t, 8, 16)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("0123456789"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "out"))
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(root)
	how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH}
	open := func(name string) int32 {
		path := append([]byte(name), 0)
		r.get().openat2(root, path, &how, 1)
		res := collect(t, r, 1)[0].res
		runtime.KeepAlive(path)
		return res
	}
	if res := open("out"); res != -int32(unix.EXDEV) {
		t.Errorf("openat2 of a symlink leaving the root: %d, want -EXDEV", res)
	}
	fd := open("a.txt")
	if fd < 0 {
		t.Fatalf("openat2: %v", unix.Errno(-fd))
	}
	var st unix.Statx_t
	var empty byte
	r.get().fstatx(int(fd), &empty, unix.STATX_SIZE|unix.STATX_MODE, &st, 2)
	if c := collect(t, r, 1)[0]; c.res != 0 || st.Size != 10 || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("statx: %d, size %d, mode %o", c.res, st.Size, st.Mode)
	}
	r.get().close(int(fd), 3)
	if c := collect(t, r, 1)[0]; c.res != 0 {
		t.Errorf("close: %d", c.res)
	}
}

func TestShutdown(t *testing.T) {
	r := testRing(t, 8, 16)
	lfd, addr := listen(t)
	fd, c := acceptOne(t, r, lfd, addr)
	r.get().shutdown(fd, unix.SHUT_WR, 1)
	if got := collect(t, r, 1)[0]; got.res != 0 {
		t.Fatalf("shutdown: %d", got.res)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("client read after shutdown: %d, %v; want EOF", n, err)
	}
}

// TestSQFull queues far more requests than the submission queue holds:
// get submits the full queue and goes on, and every request completes.
func TestSQFull(t *testing.T) {
	r := testRing(t, 4, 256)
	const n = 100
	for i := range n {
		r.get().nop(uint64(i))
	}
	if r.enters == 0 {
		t.Fatal("100 requests queued on a 4-slot queue without a submit")
	}
	got := collect(t, r, n)
	seen := make([]bool, n)
	for _, c := range got {
		seen[c.userData] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("request %d never completed", i)
		}
	}
}

// TestOverflow lets far more completions finish than the completion queue
// holds. With IORING_FEAT_NODROP the kernel keeps the extra ones in an
// overflow list and says so (IORING_SQ_CQ_OVERFLOW); reading the queue and
// entering with GETEVENTS brings them all back, in order.
func TestOverflow(t *testing.T) {
	r := testRing(t, 8, 16)
	const n = 200
	for i := range n {
		r.get().nop(uint64(i)) // submits every 8, never reading a completion
	}
	r.submit()
	r.enter(0) // DEFER_TASKRUN: make the kernel post them (and overflow)
	if !r.needsFlush() && r.ready() < n {
		t.Fatalf("%d completions in a 16-slot queue and no overflow flagged", r.ready())
	}
	var got []uint64
	for c := range r.completions {
		got = append(got, c.userData)
	}
	if len(got) != n {
		t.Fatalf("%d completions back, want %d", len(got), n)
	}
	for i, ud := range got {
		if ud != uint64(i) {
			t.Fatalf("completion %d has user data %d: out of order", i, ud)
		}
	}
	if r.overflowSeen == 0 {
		t.Error("the overflow flag was never seen")
	}
}

// TestChainStaysWhole fills the queue to one free slot and then asks for a
// two-request chain: reserve must submit first, so that the chain reaches
// the kernel in one piece (a link ends where a submit ends).
func TestChainStaysWhole(t *testing.T) {
	r := testRing(t, 4, 64)
	for i := range 3 {
		r.get().nop(uint64(i))
	}
	r.reserve(2)
	if r.space() < 2 {
		t.Fatalf("reserve(2) left %d free slots", r.space())
	}
	var p [2]int
	unix.Pipe2(p[:], unix.O_CLOEXEC)
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	unix.Write(p[1], []byte("x"))
	ts := durationSpec(int64(time.Millisecond))
	d := r.get()
	d.timeout(&ts, timeoutEtimeSuccess, 10)
	d.flags |= sqeIOLink
	buf := make([]byte, 4)
	r.get().read(p[0], buf, -1, 11)
	got := collect(t, r, 5)
	if c := got[len(got)-1]; c.userData != 11 || c.res != 1 {
		t.Fatalf("last completion %+v, want the linked read of 1 byte", c)
	}
}

// TestBacklog checks the backlog keeps chains whole and in order when
// the queue has no room at all.
func TestBacklog(t *testing.T) {
	r := testRing(t, 4, 64)
	r.spill = 3 // as if the kernel had refused a submit: the next 3 go to the backlog
	for i := range 3 {
		s := r.get()
		s.nop(uint64(i))
		if i < 2 {
			s.flags |= sqeIOLink
		}
	}
	if len(r.backlog) != 3 {
		t.Fatalf("backlog holds %d, want 3", len(r.backlog))
	}
	r.get().nop(3) // behind the backlog, to keep the order
	got := collect(t, r, 4)
	// A chain completes in its own order; the request behind it may
	// overtake it, since it does not wait for it.
	var order []uint64
	for _, c := range got {
		if c.userData < 3 {
			order = append(order, c.userData)
		}
	}
	if len(got) != 4 || len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
		t.Fatalf("completions %+v: want all four, the chain 0, 1, 2 in order", got)
	}
	if len(r.backlog) != 0 {
		t.Fatalf("backlog not emptied: %d", len(r.backlog))
	}
}
