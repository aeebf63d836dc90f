package uring

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// neededOps are the operations the model submits. The kernel says which it
// supports (IORING_REGISTER_PROBE), so a missing one is a clear reason
// rather than an EINVAL in the middle of serving.
var neededOps = []uint8{
	opNop, opAccept, opRecv, opSend, opSendmsg, opRead, opOpenat2, opStatx,
	opClose, opTimeout, opTimeoutRemove, opLinkTimeout, opAsyncCancel, opShutdown,
}

// ErrUnavailable is in the chain of every error saying that io_uring
// cannot be used here (errors.Is): `serverlab serve` then exits with
// status 2, as for a bad flag, rather than 1, a server that failed.
var ErrUnavailable = errors.New("io_uring unavailable")

// Available reports whether this process can use io_uring as the model
// needs it, and if not, why, in one line.
func Available() error { return availability() }

// availability is computed once per process: the answer cannot change
// while it runs, and each check sets up a ring.
var availability = sync.OnceValue(func() error {
	if err := probeKernel(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
})

// probeKernel sets up a small ring and tries what the model needs: the
// operations, and a ring of provided buffers.
func probeKernel() error {
	r, err := newRing(ringOptions{entries: 8, cqEntries: 16})
	if err != nil {
		return err
	}
	defer r.close()
	if err := r.probe(neededOps); err != nil {
		return err
	}
	b, err := newBufRing(r, 0, 8, 64)
	if err != nil {
		return err
	}
	b.unregister(r)
	return nil
}

// probe checks that the kernel supports every op in ops.
func (r *ring) probe(ops []uint8) error {
	const n = 256
	buf := make([]byte, unsafe.Sizeof(probeHeader{})+n*unsafe.Sizeof(probeOp{}))
	if err := r.register(registerProbe, unsafe.Pointer(&buf[0]), n); err != nil {
		return fmt.Errorf("IORING_REGISTER_PROBE: %w (Linux 5.6+)", err)
	}
	h := (*probeHeader)(unsafe.Pointer(&buf[0]))
	list := unsafe.Slice((*probeOp)(unsafe.Pointer(&buf[unsafe.Sizeof(probeHeader{})])), n)
	var missing []string
	for _, op := range ops {
		if op > h.lastOp || list[op].flags&opSupported == 0 {
			missing = append(missing, "IORING_OP_"+opNames[op])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the kernel lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// setupError says, in one line, why io_uring_setup failed.
func setupError(err error) error {
	switch {
	case errors.Is(err, unix.ENOSYS):
		return errors.New("this kernel has none (io_uring_setup: ENOSYS)")
	case errors.Is(err, unix.EPERM):
		b, _ := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
		switch strings.TrimSpace(string(b)) {
		case "2":
			return errors.New("turned off by the sysctl kernel.io_uring_disabled=2")
		case "1":
			return errors.New("only for the group in kernel.io_uring_group (sysctl kernel.io_uring_disabled=1)")
		}
		return errors.New("io_uring_setup: operation not permitted (a seccomp profile, as containers often have, forbids it)")
	case errors.Is(err, unix.ENOMEM):
		return errors.New("io_uring_setup: out of memory (RLIMIT_MEMLOCK too low?)")
	}
	return fmt.Errorf("io_uring_setup: %w", err)
}
