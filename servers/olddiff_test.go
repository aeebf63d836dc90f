package servers

import (
	"fmt"
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
				t.Fatalf("step %d: %d calls, the old parser %d\nnew: %q\nold: %q", st, len(a), len(b), a, b)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("step %d, call %d:\nnew: %s\nold: %s", st, i, a[i], b[i])
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
		if a, b := validValue(p), oldValidValue(p); a != b {
			t.Fatalf("validValue(%q) = %v, was %v", p, a, b)
		}
	})
}

type parseFunc func(buf []byte, req *Request) (int, error)

func traceNew(in []byte, step int) []string {
	var p Parser
	return traceParse(p.Parse, in, step)
}

func traceOld(in []byte, step int) []string {
	var p oldParser
	return traceParse(p.Parse, in, step)
}

// traceParse feeds in to parse as a model would, step bytes at a time, and
// describes every call.
func traceParse(parse parseFunc, in []byte, step int) []string {
	var out []string
	var req Request
	store := make([]byte, 0, len(in)+1)
	buf := store
	for fed, calls := 0, 0; calls < 10*len(in)+100; calls++ {
		n, err := parse(buf, &req)
		out = append(out, fmt.Sprintf("n=%d err=%v req=%s", n, err, describeReq(req, store)))
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
	return append(out, "too many calls")
}

func describeReq(r Request, store []byte) string {
	return fmt.Sprintf("{%v path=%s query=%s minor=%d ka=%v ims=%s range=%s cl=%d chunked=%v unread=%v}",
		r.Method, where(r.Path, store), where(r.Query, store), r.Minor, r.KeepAlive,
		where(r.IfModifiedSince, store), where(r.Range, store), r.ContentLength, r.chunked, r.bodyUnread)
}

// where describes a slice: nil, or its bytes and where they are.
func where(s, store []byte) string {
	if s == nil {
		return "nil"
	}
	at := "elsewhere"
	if cap(s) > 0 && cap(store) > 0 {
		p, lo := uintptr(unsafe.Pointer(unsafe.SliceData(s))), uintptr(unsafe.Pointer(unsafe.SliceData(store)))
		if p >= lo && p < lo+uintptr(cap(store)) {
			at = fmt.Sprint("@", p-lo)
		}
	}
	return fmt.Sprintf("%q%s/cap%d", s, at, cap(s))
}
