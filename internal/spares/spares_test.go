package spares

import "testing"

func TestStack(t *testing.T) {
	var s Stack[*int]
	if _, ok := s.Get(); ok {
		t.Fatal("Get from an empty stack reported a spare")
	}
	a, b, c := new(int), new(int), new(int)
	s.Put(a, 2)
	s.Put(b, 2)
	s.Put(c, 2) // over the bound: left to the garbage collector
	if x, ok := s.Get(); !ok || x != b {
		t.Fatalf("Get = %p, %v; want the last put, %p", x, ok, b)
	}
	if x, ok := s.Get(); !ok || x != a {
		t.Fatalf("Get = %p, %v; want %p", x, ok, a)
	}
	if _, ok := s.Get(); ok {
		t.Fatal("Get reported a third spare; the bound was 2")
	}
}
