package uring

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bufRing is a ring of provided buffers (IORING_REGISTER_PBUF_RING): a pool
// of receive buffers the kernel picks from when data arrives, instead of
// one buffer given with each receive.
//
// Why it matters. In a completion model a receive is a request that runs
// until data comes, and a plain receive carries its buffer with it: ten
// thousand idle connections, each with a receive waiting, pin ten thousand
// buffers that hold nothing. epoll never had this problem — a readiness
// server reads only when there is something to read, into a buffer it
// takes at that moment. Provided buffers give the completion model the
// same economy: the waiting receive names a buffer GROUP, and the kernel
// takes a buffer from it only at the moment bytes arrive. Memory then
// follows the data in flight, not the connections open.
//
// The ring is shared memory like the SQ, produced by us and consumed by the
// kernel: we put a free buffer's address at the tail and move the tail; the
// kernel takes from the head, and tells us in the completion which buffer
// (by its ID) it filled. Once we have copied the bytes out, the buffer goes
// back at the tail.
type bufRing struct {
	group   uint16
	entries uint16 // slots, a power of two
	size    int    // bytes per buffer
	ring    []byte // the slots (anonymous memory, page-aligned)
	bufs    []byte // the buffers themselves, entries*size bytes
	tail    uint16 // our tail: how many buffers we have ever provided
	// bid0 mirrors the buffer ID in slot 0, which shares its word with the
	// tail (see publish).
	bid0 uint16
	out  int // buffers the kernel holds or we have not given back
}

// newBufRing registers a group of n buffers of size bytes with r.
func newBufRing(r *ring, group uint16, n uint16, size int) (*bufRing, error) {
	b := &bufRing{group: group, entries: n, size: size}
	var err error
	// The buffers live outside Go's heap, in memory of their own: the
	// kernel writes into them whenever it likes, and no garbage collector
	// should ever have to know.
	if b.ring, err = unix.Mmap(-1, 0, int(n)*int(unsafe.Sizeof(bufEntry{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE); err != nil {
		return nil, fmt.Errorf("io_uring: buffer ring: %w", err)
	}
	if b.bufs, err = unix.Mmap(-1, 0, int(n)*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE); err != nil {
		b.free()
		return nil, fmt.Errorf("io_uring: buffers: %w", err)
	}
	reg := bufReg{ringAddr: ptr(b.ring), ringEntries: uint32(n), bgid: group}
	if err := r.register(registerPbufRing, unsafe.Pointer(&reg), 1); err != nil {
		b.free()
		return nil, fmt.Errorf("IORING_REGISTER_PBUF_RING: %w (Linux 5.19+)", err)
	}
	for i := range n {
		b.provide(i)
	}
	b.publish()
	return b, nil
}

// buf is buffer bid's memory.
func (b *bufRing) buf(bid uint16) []byte {
	off := int(bid) * b.size
	return b.bufs[off : off+b.size : off+b.size]
}

// put gives buffer bid, which a completion handed us, back to the kernel.
func (b *bufRing) put(bid uint16) {
	b.out--
	b.provide(bid)
	b.publish()
}

// provide fills the slot at the tail with buffer bid.
func (b *bufRing) provide(bid uint16) {
	slot := b.tail & (b.entries - 1)
	e := (*bufEntry)(unsafe.Pointer(&b.ring[int(slot)*int(unsafe.Sizeof(bufEntry{}))]))
	e.addr = ptr(b.buf(bid))
	e.len = uint32(b.size)
	if slot == 0 {
		b.bid0 = bid // written with the tail, in publish
	} else {
		e.bid = bid
	}
	b.tail++
}

// publish moves the ring's tail. The kernel's header overlays the 16-bit
// tail on the last two bytes of slot 0 (so the ring needs no extra page),
// and Go's sync/atomic has no 16-bit store. So the tail is written with a
// 32-bit store-release covering slot 0's buffer ID and the tail together —
// the ID from our mirror, so it is written unchanged. Release: the slots we
// filled are visible to the kernel before the tail that hands them over.
func (b *bufRing) publish() {
	var v [2]uint16 // bytes 12-13 of the ring: slot 0's bid; 14-15: the tail
	v[0], v[1] = b.bid0, b.tail
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b.ring[12])), *(*uint32)(unsafe.Pointer(&v)))
}

// taken notes that the kernel handed us buffer bid in a completion.
func (b *bufRing) taken() { b.out++ }

// unregister takes the group back from r and frees the memory.
func (b *bufRing) unregister(r *ring) {
	reg := bufReg{bgid: b.group}
	r.register(unregisterPbufRing, unsafe.Pointer(&reg), 1)
	b.free()
}

func (b *bufRing) free() {
	if b.ring != nil {
		unix.Munmap(b.ring)
		b.ring = nil
	}
	if b.bufs != nil {
		unix.Munmap(b.bufs)
		b.bufs = nil
	}
}
