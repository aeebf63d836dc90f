package bench

import (
	"slices"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in    string
		want  TargetSpec
		error string // substring; "" for none
	}{
		{in: "threaded", want: TargetSpec{Name: "threaded", Model: "threaded"}},
		{in: "evloop@127.0.0.1:8081", want: TargetSpec{Name: "evloop@127.0.0.1:8081", Model: "evloop", Addr: "127.0.0.1:8081"}},
		{in: "threaded+osthreads", want: TargetSpec{Name: "threaded+osthreads", Model: "threaded", Flags: []string{"-osthreads"}}},
		{in: "evloop+disk-workers=4+poller=poll", want: TargetSpec{Name: "evloop+disk-workers=4+poller=poll", Model: "evloop", Flags: []string{"-disk-workers=4", "-poller=poll"}}},
		{in: "http://127.0.0.1:8080/1k.bin", want: TargetSpec{Name: "http://127.0.0.1:8080/1k.bin", Addr: "127.0.0.1:8080", Path: "/1k.bin"}},
		{in: "http://127.0.0.1:8080", want: TargetSpec{Name: "http://127.0.0.1:8080", Addr: "127.0.0.1:8080"}},
		{in: "http://localhost:9000/a%20b?x=1", want: TargetSpec{Name: "http://localhost:9000/a%20b?x=1", Addr: "127.0.0.1:9000", Path: "/a%20b?x=1"}},
		{in: "http://127.0.0.2/", want: TargetSpec{Name: "http://127.0.0.2/", Addr: "127.0.0.2:80", Path: "/"}},
		{in: "apache", error: "not a model"},
		{in: "threaded+", error: "empty +flag"},
		{in: "http://10.0.0.1:80/", error: "not a loopback"},
		{in: "http://example.com/", error: "127.0.0.1:PORT"},
		{in: "https://127.0.0.1:443/", error: "only http"},
		{in: "threaded@0.0.0.0:80", error: "not a loopback"},
		{in: "http://[::1]:80/", error: "not a loopback"},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if tt.error != "" {
			if err == nil || !strings.Contains(err.Error(), tt.error) {
				t.Errorf("%s: err %v, want %q", tt.in, err, tt.error)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got.Name != tt.want.Name || got.Model != tt.want.Model || got.Addr != tt.want.Addr ||
			got.Path != tt.want.Path || !slices.Equal(got.Flags, tt.want.Flags) {
			t.Errorf("%s: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
	list, err := ParseTargets("blocking, threaded,,evloop")
	if err != nil || len(list) != 3 || list[1].Model != "threaded" {
		t.Errorf("list: %+v, %v", list, err)
	}
	if _, err := ParseTargets(" , "); err == nil {
		t.Error("an empty list was accepted")
	}
}
