package load

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// ErrorKind says what went wrong with one request. The kinds are the ones a
// student can act on: a refused connection means nobody listens (or the
// accept queue is full), a reset means the server dropped the connection, a
// timeout means it did not answer in time, and the last three mean it
// answered, but wrongly.
type ErrorKind uint8

// The kinds of failed request, in the order reports print them.
const (
	ErrRefused     ErrorKind = iota // connect(2) failed with ECONNREFUSED
	ErrReset                        // ECONNRESET, EPIPE, or the server closed before answering
	ErrTimeout                      // no complete answer within the request timeout
	ErrBadStatus                    // an answer, but not 200 OK
	ErrShortBody                    // the connection ended before Content-Length bytes came
	ErrBadResponse                  // not parseable HTTP/1.1, or a body of the wrong size
	ErrOther                        // anything else (out of ports, out of descriptors, ...)
	numKinds
)

var kindNames = [numKinds]string{"refused", "reset", "timeout", "bad_status", "short_body", "bad_response", "other"}

// String is the kind's name as reports and JSON use it ("bad_status").
func (k ErrorKind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", k)
}

// Errors counts failed requests by kind; index it with an ErrorKind.
type Errors [numKinds]int64

// Total is the number of failures of every kind.
func (e Errors) Total() int64 {
	var n int64
	for _, v := range e {
		n += v
	}
	return n
}

// ErrorsFromMap is the inverse of Map, for reading a report back; a name
// it does not know counts as "other".
func ErrorsFromMap(m map[string]int64) Errors {
	var e Errors
	for name, v := range m {
		k := ErrOther
		for i, n := range kindNames {
			if n == name {
				k = ErrorKind(i)
			}
		}
		e[k] += v
	}
	return e
}

// Map returns the counts by name, every kind present, for JSON.
func (e Errors) Map() map[string]int64 {
	m := make(map[string]int64, numKinds)
	for k, v := range e {
		m[ErrorKind(k).String()] = v
	}
	return m
}

// String lists the non-zero kinds, "timeout 3, reset 1", or "0".
func (e Errors) String() string {
	s := ""
	for k, v := range e {
		if v == 0 {
			continue
		}
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", ErrorKind(k), v)
	}
	if s == "" {
		return "0"
	}
	return s
}

// responseError is a wrong answer: the server spoke, but not as it should.
type responseError struct {
	Kind ErrorKind
	Msg  string
}

// Error is "kind: what was wrong".
func (e *responseError) Error() string { return e.Kind.String() + ": " + e.Msg }

func badResponse(format string, a ...any) error {
	return &responseError{Kind: ErrBadResponse, Msg: fmt.Sprintf(format, a...)}
}

// classify sorts an error from a request into its kind. Socket errors come
// wrapped several layers deep (net.OpError, os.SyscallError), so it asks
// with errors.Is and errors.As rather than comparing.
func classify(err error) ErrorKind {
	var re *responseError
	var ne net.Error
	switch {
	case errors.As(err, &re):
		return re.Kind
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return ErrReset
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ErrTimeout
	}
	return ErrOther
}
