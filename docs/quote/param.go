package quote

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"serverlab/bench"
	"serverlab/bench/load"
	"serverlab/demosite"
)

// param is a scenario's parameter, read from bench's own definition of
// it, so that "20 clients" in a lesson is what the scenario really runs.
func param(scenario, name string) (value, error) {
	s, ok := bench.ScenarioByName(scenario)
	if !ok {
		return value{}, fmt.Errorf("key %s/%s: no scenario %q", scenario, name, scenario)
	}
	m := s.Mix.Defaulted()
	secs := func(d time.Duration) value { return value{d.Seconds(), duration} }
	n := func(i int) value { return value{float64(i), count} }
	fileSize := func(p string) (value, error) {
		b, ok := demosite.Sizes[path.Base(p)]
		if !ok {
			return value{}, fmt.Errorf("key %s/%s: %s is not a demo-site file of known size", scenario, name, p)
		}
		return value{float64(b), size}, nil
	}
	switch name {
	case "clients":
		return n(m.Clients), nil
	case "churn":
		return n(m.Churn), nil
	case "slowloris":
		return n(m.Slowloris), nil
	case "slow_readers":
		return n(m.SlowReaders), nil
	case "idle":
		return n(m.Idle), nil
	case "open_conns":
		return n(m.OpenConns), nil
	case "think":
		return secs(m.Think), nil
	case "slow_pace":
		return secs(m.SlowPace), nil
	case "slow_start":
		return secs(m.SlowStart), nil
	case "slow_read_rate":
		return value{float64(m.SlowReadRate), byteRate}, nil
	case "size":
		return fileSize(m.Path)
	case "slow_read_size":
		return fileSize(m.SlowReadPath)
	case "rate_from", "rate_to":
		r, ok := m.Rate.(load.Ramp)
		if !ok {
			return value{}, fmt.Errorf("key %s/%s: the scenario has no ramp", scenario, name)
		}
		if name == "rate_from" {
			return value{r.From, rate}, nil
		}
		return value{r.To, rate}, nil
	}
	// A serve flag the scenario starts every model with: -disk-delay 5ms
	// is disk_delay.
	flag := "-" + strings.ReplaceAll(name, "_", "-")
	for i, a := range s.ServerArgs {
		if a == flag && i+1 < len(s.ServerArgs) {
			if d, err := time.ParseDuration(s.ServerArgs[i+1]); err == nil {
				return secs(d), nil
			}
		}
	}
	return value{}, fmt.Errorf("key %s/%s: no such parameter (try %s)", scenario, name, strings.Join(paramNames(), ", "))
}

func paramNames() []string {
	names := []string{"clients", "churn", "slowloris", "slow_readers", "idle", "open_conns", "think",
		"slow_pace", "slow_start", "slow_read_rate", "size", "slow_read_size", "rate_from", "rate_to",
		"disk_delay (a serve flag)"}
	sort.Strings(names)
	return names
}
