package bench

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"serverlab/internal/model"
)

// TargetSpec is one entry of `bench -targets`, parsed.
//
//	threaded                     a model, started as a child on a free port
//	threaded@127.0.0.1:8081      a model, started on that address
//	threaded+osthreads           a model with serve flags: +F is -F,
//	evloop+disk-workers=4          +F=V is -F=V
//	http://127.0.0.1:8080/1k.bin a server already running, by URL; its
//	                             path, if any, is what the timed clients
//	                             fetch, as with wrk
type TargetSpec struct {
	// Name labels the target in reports: the entry as written.
	Name string
	// Model is the model to start, or "" for a URL target.
	Model string
	// Flags are extra serve flags for a model ("-osthreads").
	Flags []string
	// Addr is the address to listen on (model, optional) or to connect
	// to (URL).
	Addr string
	// Path is the URL's path, "" if it had none.
	Path string
}

// ParseTarget parses one -targets entry. Only loopback addresses are
// accepted: this tool generates load, and it is only ever pointed at the
// machine it runs on.
func ParseTarget(s string) (TargetSpec, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		return parseURL(s)
	}
	spec := TargetSpec{Name: s}
	name, addr, hasAddr := strings.Cut(s, "@")
	if hasAddr {
		if err := checkLoopback(addr); err != nil {
			return spec, fmt.Errorf("target %q: %w", s, err)
		}
		spec.Addr = addr
	}
	parts := strings.Split(name, "+")
	spec.Model = parts[0]
	if !model.Known(spec.Model) {
		return spec, fmt.Errorf("target %q: not a model (%s) or an http:// URL", s, strings.Join(model.Names(), ", "))
	}
	for _, f := range parts[1:] {
		if f == "" {
			return spec, fmt.Errorf("target %q: empty +flag", s)
		}
		spec.Flags = append(spec.Flags, "-"+f)
	}
	return spec, nil
}

func parseURL(s string) (TargetSpec, error) {
	spec := TargetSpec{Name: s}
	u, err := url.Parse(s)
	if err != nil {
		return spec, fmt.Errorf("target %q: %w", s, err)
	}
	if u.Scheme != "http" {
		return spec, fmt.Errorf("target %q: only http:// URLs (no TLS here)", s)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	if u.Hostname() == "localhost" {
		host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	if err := checkLoopback(host); err != nil {
		return spec, fmt.Errorf("target %q: %w", s, err)
	}
	spec.Addr = host
	spec.Path = u.EscapedPath()
	if u.RawQuery != "" {
		spec.Path += "?" + u.RawQuery
	}
	return spec, nil
}

// checkLoopback accepts "127.x.y.z:PORT" only.
func checkLoopback(hostport string) error {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return fmt.Errorf("want 127.0.0.1:PORT, got %q", hostport)
	}
	if !ap.Addr().Is4() || !ap.Addr().IsLoopback() {
		return fmt.Errorf("%s is not a loopback address: bench only loads servers on this machine (127.0.0.1)", ap.Addr())
	}
	return nil
}

// ParseTargets parses a comma-separated -targets list.
func ParseTargets(list string) ([]TargetSpec, error) {
	var out []TargetSpec
	for s := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		t, err := ParseTarget(s)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no targets")
	}
	return out, nil
}
