package evloop

// poller is the one part of the loop that depends on the kernel's readiness
// API. The loop tells it which descriptors to watch and for what, and asks it
// to wait until some of them are ready. Two backends implement it, each in its
// own file, as redis does with ae_epoll.c and ae_select.c:
//
//   - epoll (poller_epoll.go): the kernel keeps the interest list, and a wait
//     costs time in proportion to the descriptors that are READY.
//   - poll (poller_poll.go): the loop hands the kernel its whole list on
//     every wait, and both sides scan all of it, so a wait costs time in
//     proportion to the descriptors WATCHED — ten thousand idle connections
//     make every turn of the loop slow. That difference is the lesson.
//
// Both are used level-triggered; see doc.go for why.
type poller interface {
	// add starts watching fd for the events in ev.
	add(fd int, ev events) error
	// mod changes what fd is watched for.
	mod(fd int, ev events) error
	// del stops watching fd. It must be called before fd is closed.
	del(fd int) error
	// wait blocks until at least one watched descriptor is ready or msec
	// milliseconds pass (-1: no limit), fills ready and returns how many
	// entries it filled. A descriptor that is still ready after being
	// handled is reported again by the next wait (level-triggered).
	wait(ready []event, msec int) (int, error)
	// close releases the poller's own descriptor, if it has one.
	close() error
	// name is the wait's system call, for a trace: "epoll_wait", "poll".
	name() string
}

// events is what a descriptor is watched for, or found ready for.
type events uint8

const (
	// readable: data (or a FIN, or an error) is waiting to be read, or,
	// for a listening socket, a connection waits to be accepted.
	readable events = 1 << iota
	// writable: the socket's send buffer has room again.
	writable
)

// event is one ready descriptor, as a poller reports it.
type event struct {
	fd int
	ev events
}
