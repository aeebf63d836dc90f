package backoff

import (
	"testing"
	"time"
)

func TestDoubling(t *testing.T) {
	b := Doubling{First: 5 * time.Millisecond, Max: 30 * time.Millisecond}
	want := []time.Duration{5, 10, 20, 30, 30}
	for i, w := range want {
		if got := b.Next(); got != w*time.Millisecond {
			t.Errorf("failure %d: pause %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	b.Reset()
	if got := b.Next(); got != 5*time.Millisecond {
		t.Errorf("after Reset: pause %v, want First", got)
	}
}
