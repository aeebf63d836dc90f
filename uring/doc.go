// Package uring is model 4: the event loop written as the classic
// pseudocode writes it, completion-based, on Linux's io_uring. Where evloop
// asks the kernel "tell me when this socket CAN be read" and then reads,
// this model asks "read this socket, and tell me when it IS read": each
// request carries user data naming the connection, and the loop reacts to
// completions.
//
// ring.go, ops.go and bufring.go are the raw io_uring interface, through
// golang.org/x/sys/unix only: io_uring_setup, io_uring_enter and
// io_uring_register, the two rings mapped into our memory, and the atomic
// loads and stores that are the whole protocol between the kernel and us.
package uring
