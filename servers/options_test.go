package servers

import (
	"strings"
	"testing"
	"time"
)

// TestOptions checks the answers to OPTIONS (RFC 9110 §9.3.7): 204 with
// Allow for the server and for what exists, and for the rest what a GET
// would get, with its body.
func TestOptions(t *testing.T) {
	site, _ := testSite(t)
	date := []byte("Thu, 26 Nov 2026 05:00:00 GMT")
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"*", 204},
		{"/", 204},
		{"/a.txt", 204},
		{"/sub/", 204},
		{"/sub", 301},
		{"/missing", 404},
	} {
		resp := resolve(site, Request{Method: OPTIONS, Path: []byte(tc.path), KeepAlive: true}, time.Now())
		head := string(AppendHead(nil, &resp, date))
		if resp.Status != tc.status {
			t.Errorf("OPTIONS %s: %d, want %d", tc.path, resp.Status, tc.status)
		}
		if resp.File != nil {
			t.Errorf("OPTIONS %s: holds a file", tc.path)
			resp.File.release()
		}
		if tc.status == 204 && (!strings.Contains(head, "\r\nAllow: GET, HEAD, OPTIONS\r\n") || strings.Contains(head, "Content-Length")) {
			t.Errorf("OPTIONS %s: head wrong:\n%s", tc.path, head)
		}
		if tc.status == 404 && resp.NoBody {
			t.Errorf("OPTIONS %s: a 404 without its body", tc.path)
		}
	}
}
