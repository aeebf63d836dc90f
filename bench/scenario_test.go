package bench

import (
	"context"
	"slices"
	"testing"
	"time"

	"serverlab/bench/internal/benchtest"
	"serverlab/bench/load"
)

func TestScenarioList(t *testing.T) {
	want := []string{"baseline", "crowd", "slow-client", "c10k", "big-files", "slow-reader", "churn", "overload", "slow-disk"}
	var got []string
	for _, s := range Scenarios() {
		got = append(got, s.Name)
		if s.Title == "" || len(s.About) < 100 || s.Watch == "" {
			t.Errorf("%s: title, about or watch missing", s.Name)
		}
		if err := s.ForDuration(10 * time.Second).Validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if s.Mix.Conns() == 0 {
			t.Errorf("%s: no clients", s.Name)
		}
	}
	if !slices.Equal(got, want) || !slices.Equal(ScenarioNames(), want) {
		t.Errorf("scenarios %v (names %v), want %v", got, ScenarioNames(), want)
	}
	c10k, _ := ScenarioByName("c10k")
	if c10k.Mix.Idle != 10000 || c10k.Mix.Clients != 20 || c10k.Mix.FDs() < 10020 {
		t.Errorf("c10k: %+v", c10k.Mix)
	}
	disk, _ := ScenarioByName("slow-disk")
	if !slices.Contains(disk.ServerArgs, "-disk-delay") {
		t.Errorf("slow-disk starts servers with %v", disk.ServerArgs)
	}
	// Scenarios hands out copies: changing one changes nothing else.
	disk.ServerArgs[0] = "-changed"
	if again, _ := ScenarioByName("slow-disk"); again.ServerArgs[0] != "-disk-delay" {
		t.Error("a caller changed the shared scenario list")
	}
	if _, ok := ScenarioByName("nope"); ok {
		t.Error("found a scenario that does not exist")
	}
}

func TestScenarioOverrides(t *testing.T) {
	crowd, _ := ScenarioByName("crowd")
	if m := crowd.WithClients(7).Mix; m.Clients != 7 {
		t.Errorf("crowd -c 7: %+v", m)
	}
	churn, _ := ScenarioByName("churn")
	if m := churn.WithClients(3).Mix; m.Churn != 3 || m.Clients != 0 {
		t.Errorf("churn -c 3: %+v", m)
	}
	over, _ := ScenarioByName("overload")
	m := over.WithRate(5000).WithClients(10).ForDuration(20 * time.Second)
	if r, ok := m.Rate.(load.Ramp); !ok || r.To != 5000 || r.From > 500 || r.Over != 20*time.Second || m.OpenConns != 10 {
		t.Errorf("overload -rate 5000 -c 10 for 20s: %+v", m)
	}
	base, _ := ScenarioByName("baseline")
	if m := base.WithRate(300).Mix; m.Rate != load.Constant(300) || m.Clients != 0 || m.OpenConns != 1 {
		t.Errorf("baseline -rate 300: %+v", m)
	}
}

// TestEveryScenarioRuns runs each scenario briefly against the threaded
// model, scaled down where it is big (c10k's idle connections, overload's
// rate), to check that every one is a load that works end to end: the
// server starts with the scenario's flags, and the clients get answers.
func TestEveryScenarioRuns(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			sc.Mix.Idle = min(sc.Mix.Idle, 100)
			sc.Mix.SlowStart = 0
			if sc.Mix.Rate != nil {
				sc = sc.WithRate(1000)
			}
			if sc.Mix.Clients > 0 {
				sc = sc.WithClients(min(sc.Mix.Clients, 10))
			}
			rep, err := Run(context.Background(), Plan{
				Targets:  []TargetSpec{{Name: "threaded", Model: "threaded"}},
				Scenario: sc, Duration: 400 * time.Millisecond, Interval: 100 * time.Millisecond,
				Binary: benchtest.Binary(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Targets[0].Summary
			if s.Errors.Total() != 0 || s.Bytes == 0 {
				t.Errorf("errors %v, %d bytes", s.Errors, s.Bytes)
			}
			if sc.Mix.Clients+sc.Mix.Churn > 0 || sc.Mix.Rate != nil {
				if s.Requests == 0 {
					t.Error("no timed requests answered")
				}
			}
		})
	}
}

// TestKnobsRoundTrip checks that every scenario reads as knobs and that
// the knobs, untouched, give back exactly the scenario's own mix.
func TestKnobsRoundTrip(t *testing.T) {
	for _, s := range Scenarios() {
		if got, want := s.Turned(s.Knobs(), time.Minute), s.ForDuration(time.Minute); got != want {
			t.Errorf("%s: knobs %+v give mix %+v, want %+v", s.Name, s.Knobs(), got, want)
		}
	}
}

func TestKnobsTurnTheScenariosClients(t *testing.T) {
	slow, _ := ScenarioByName("slow-client")
	k := slow.Knobs()
	if k.Clients != slow.Mix.Churn || k.Slow != slow.Mix.Slowloris {
		t.Fatalf("slow-client knobs %+v from mix %+v", k, slow.Mix)
	}
	k.Clients, k.Slow = 50, 3
	if m := slow.Turned(k, time.Minute); m.Churn != 50 || m.Clients != 0 || m.Slowloris != 3 {
		t.Errorf("slow-client: more clients should be more churn clients, got %+v", m)
	}
	reader, _ := ScenarioByName("slow-reader")
	k = reader.Knobs()
	k.Slow = 5
	if m := reader.Turned(k, time.Minute); m.SlowReaders != 5 || m.Slowloris != 0 {
		t.Errorf("slow-reader: slow clients should be slow readers, got %+v", m)
	}
	overload, _ := ScenarioByName("overload")
	k = overload.Knobs()
	if !k.Ramp || k.Rate == 0 {
		t.Fatalf("overload knobs %+v: want a ramp", k)
	}
	k.Rate = 5000
	if r, ok := overload.Turned(k, time.Minute).Rate.(load.Ramp); !ok || r.To != 5000 || r.From > 500 {
		t.Errorf("overload at 5000: rate %v, want a ramp to 5000", overload.Turned(k, time.Minute).Rate)
	}
	k.Rate = 0
	if m := overload.Turned(k, time.Minute); m.Rate != nil {
		t.Errorf("rate 0 should stop the open loop, got %v", m.Rate)
	}
	crowd, _ := ScenarioByName("crowd")
	k = crowd.Knobs()
	k.Rate = 300
	if m := crowd.Turned(k, time.Minute); m.Rate != load.Constant(300) || m.Clients != 100 {
		t.Errorf("crowd with rate 300: %+v", m)
	}
}
