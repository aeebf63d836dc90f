// Package spares keeps what an event loop is done with — a closed
// connection's struct and its Session, a finished response, a file
// buffer — for the next one to use, so that a busy loop allocates nothing. The store is bounded: after a burst,
// the surplus is left to the garbage collector instead of being held for
// ever.
package spares

// Stack is a loop's spares of one kind, the last put away taken first
// (still warm in the cache). Its zero value holds none.
type Stack[T any] struct {
	items []T
}

// Get takes a spare, and reports false when there is none.
func (s *Stack[T]) Get() (x T, ok bool) {
	n := len(s.items)
	if n == 0 {
		return x, false
	}
	x = s.items[n-1]
	var zero T
	s.items[n-1] = zero // the stack no longer holds it
	s.items = s.items[:n-1]
	return x, true
}

// Put keeps x for later, unless max spares are kept already.
func (s *Stack[T]) Put(x T, max int) {
	if len(s.items) < max {
		s.items = append(s.items, x)
	}
}
