package servers

import (
	"testing"
	"unsafe"
)

// FuzzParseOld holds the parser against its former self, call by call:
// for any input, fed whole and fed step bytes at a time, every call to
// Parse must use the same bytes, give the same error and fill the same
// request, its slices pointing at the same bytes of the buffer.
func FuzzParseOld(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), uint8(3))
	}
	for _, s := range diffSeeds {
		f.Add([]byte(s), uint8(5))
	}
	f.Add(browserReq, uint8(7))
	f.Add(wrkReq, uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		for _, st := range []int{len(in) + 1, int(step)%17 + 1} {
			a, b := traceNew(in, st), traceOld(in, st)
			if len(a) != len(b) {
				t.Fatalf("step %d: %d calls, the old parser %d\nnew: %+v\nold: %+v", st, len(a), len(b), a, b)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("step %d, call %d:\nnew: %+v\nold: %+v", st, i, a[i], b[i])
				}
			}
		}
	})
	_ = oldIsClean
}

// FuzzIsCleanOld holds isClean and validHost against their former selves.
func FuzzIsCleanOld(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/../x", "/a/./b", "/a%2e", "//", "/a/", "127.0.0.1:18300", "[::1]:80", "x:8o", "u@x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if a, b := isClean(p), oldIsClean(p); a != b {
			t.Fatalf("isClean(%q) = %v, was %v", p, a, b)
		}
		if a, b := validHost(p), oldValidHost(p); a != b {
			t.Fatalf("validHost(%q) = %v, was %v", p, a, b)
		}
		want := len(p)
		for i := range p {
			if !oldValidValue(p[i : i+1]) {
				want = i
				break
			}
		}
		if got := valueEnd(p); got != want {
			t.Fatalf("valueEnd(%q) = %d, want %d", p, got, want)
		}
	})
}

type parseFunc func(buf []byte, req *Request) (int, error)

// call is what one call to Parse did. Both parsers are fed the same bytes
// in the same way, so while their calls agree their buffers hold the same
// bytes, and a slice is known by where it starts and how long it is.
type call struct {
	n                              int
	err                            error
	method                         Method
	path, query, ims, rng          span
	minor                          int
	keepAlive, chunked, bodyUnread bool
	contentLength                  int64
}

// span is a slice of the buffer: nil (off -1), inside it (off >= 0), or
// elsewhere (off -2, as the "/" of an absolute form without a path).
type span struct{ off, len int }

func traceNew(in []byte, step int) []call {
	var p Parser
	return traceParse(p.Parse, in, step)
}

func traceOld(in []byte, step int) []call {
	var p oldParser
	return traceParse(p.Parse, in, step)
}

// traceParse feeds in to parse as a model would, step bytes at a time, and
// records every call.
func traceParse(parse parseFunc, in []byte, step int) []call {
	var out []call
	var req Request
	store := make([]byte, 0, len(in)+1)
	buf := store
	for fed := 0; len(out) < 10*len(in)+100; {
		n, err := parse(buf, &req)
		out = append(out, call{n, err, req.Method, spanOf(req.Path, store), spanOf(req.Query, store),
			spanOf(req.IfModifiedSince, store), spanOf(req.Range, store), req.Minor,
			req.KeepAlive, req.chunked, req.bodyUnread, req.ContentLength})
		if err != nil {
			return out
		}
		buf = buf[n:]
		if n == 0 || len(buf) == 0 {
			if fed == len(in) {
				return out
			}
			next := min(fed+step, len(in))
			// Move the unused bytes to the front, as a session does.
			buf = append(store[:0], buf...)
			buf = append(buf, in[fed:next]...)
			fed = next
		}
	}
	return append(out, call{n: -1})
}

func spanOf(s, store []byte) span {
	if s == nil {
		return span{-1, 0}
	}
	if cap(s) > 0 && cap(store) > 0 {
		p, lo := uintptr(unsafe.Pointer(unsafe.SliceData(s))), uintptr(unsafe.Pointer(unsafe.SliceData(store)))
		if p >= lo && p < lo+uintptr(cap(store)) {
			return span{int(p - lo), len(s)}
		}
	}
	return span{-2, len(s)}
}
