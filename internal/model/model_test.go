package model

import (
	"testing"

	"serverlab/servers"
)

func TestNames(t *testing.T) {
	names := Names()
	if len(names) < 3 || names[0] != "blocking" {
		t.Fatalf("Names() = %v: want blocking first, then the others", names)
	}
	for _, n := range names {
		if !Known(n) {
			t.Errorf("Known(%q) = false", n)
		}
	}
	if Known("forking") || Known("") {
		t.Error("an unknown name is Known")
	}
	if c := Classic(); len(c) != 3 || c[0] != "blocking" || c[1] != "threaded" || c[2] != "evloop" {
		t.Errorf("Classic() = %v: want lesson 00's three loops", c)
	}
	names[0] = "changed"
	if Names()[0] != "blocking" {
		t.Error("a caller changed the shared list")
	}
}

func TestDefaultLimits(t *testing.T) {
	if l := DefaultLimits("blocking"); l != (servers.Limits{}) {
		t.Errorf("blocking gets %+v by default; its freeze is the lesson, it must get none", l)
	}
	p := ProtectiveLimits()
	if p.HeaderTimeout <= 0 || p.IdleTimeout <= 0 || p.WriteTimeout <= 0 || p.MaxConns != 0 {
		t.Errorf("protective limits %+v: want every timeout on and no cap", p)
	}
	for _, n := range Names()[1:] {
		if l := DefaultLimits(n); l != p {
			t.Errorf("%s gets %+v by default, want %+v", n, l, p)
		}
	}
}
