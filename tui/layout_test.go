package tui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"serverlab/bench"
)

func TestLayoutColumns(t *testing.T) {
	for _, c := range []struct {
		w, n, focus int
		first, cols int
	}{
		{80, 3, 0, 0, 1},
		{80, 3, 2, 2, 1},
		{119, 3, 0, 0, 1},
		{120, 3, 0, 0, 2}, // today's two wide columns and a summary
		{149, 3, 2, 1, 2},
		{150, 3, 0, 0, 3}, // from 150, every model side by side
		{160, 3, 2, 0, 3},
		{150, 4, 0, 0, 3},
		{197, 4, 3, 1, 3},
		{200, 4, 0, 0, 4}, // four from 200
		{240, 4, 0, 0, 4},
		{240, 3, 0, 0, 3},
		{300, 2, 1, 0, 2},
		{150, 1, 0, 0, 1},
	} {
		l := layoutFor(c.w, c.n, c.focus, false)
		if l.first != c.first || l.cols != c.cols {
			t.Errorf("%d columns, %d servers, focus %d: first %d cols %d, want %d and %d",
				c.w, c.n, c.focus, l.first, l.cols, c.first, c.cols)
		}
		if used := l.cols*l.colW + (l.cols-1)*colGap; used > c.w {
			t.Errorf("%d columns, %d servers: %d columns of %d take %d", c.w, c.n, l.cols, l.colW, used)
		}
		if c.w >= allSideBySideAt && l.colW < narrowColWidth {
			t.Errorf("%d columns, %d servers: a column of %d, narrower than %d", c.w, c.n, l.colW, narrowColWidth)
		}
	}
	if l := layoutFor(200, 3, 0, true); l.cols != 0 {
		t.Errorf("a page over the columns leaves %d columns", l.cols)
	}
}

func TestFitWords(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"exit status 2: bind: address in use", 40, "exit status 2: bind: address in use"},
		{"exit status 2: bind: address in use", 21, "exit status 2: bind:…"},
		{"exit status 2: bind: address in use", 20, "exit status 2:…"},
		{"exit status 2: bind: address in use", 13, "exit status…"},
		{"127.0.0.1:40001", 8, "127.0.0…"},
		{"abc", 1, "a"},
	} {
		if got := fitWords(c.in, c.w); got != c.want {
			t.Errorf("fitWords(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
	}
	if got := firstFit(10, "a long caption", "short", "x"); got != "short" {
		t.Errorf("firstFit = %q", got)
	}
}

// TestNothingCutMidWord draws the dashboard at widths from 80 to 260
// columns, each side of every change of layout, with three servers and
// with four, and checks that each
// caption, address and label is either whole on screen or not there at
// all: a projected screen must never show "concurrency (log) ─conns •in
// fli".
func TestNothingCutMidWord(t *testing.T) {
	whole := []*regexp.Regexp{
		// Every chart caption, in one of the forms it may take.
		regexp.MustCompile(`latency ─ p99 • p50( · last \d+s)?( |$)`),
		regexp.MustCompile(`concurrency (\(log\) ─conns •in flight o\+ (server|srv) #thr|─conns •req o\+srv #thr)( |$)`),
		regexp.MustCompile(`throughput [0-9.]+k? req/s( · [0-9.]+ [KM]iB/s)?( |$)`),
		// An address, where the title has room for one.
		regexp.MustCompile(`127\.0\.0\.1:4000\d( |$)`),
		// The compare row's ratios.
		regexp.MustCompile(`[0-9.]+k?× (higher|lower)( |$)`),
	}
	starts := []string{"latency", "concurrency", "throughput", "127.0", "× "}
	for _, models := range [][]string{threeModels, fourModels} {
		m, d := newTestOf(t, models, "slow-client")
		d.push(slowClientFramesOf(120, len(models))...)
		m.Update(tickMsg{})
		for _, w := range []int{80, 81, 99, 100, 119, 120, 121, 135, 149, 150, 151, 155, 160, 170, 180,
			197, 198, 199, 200, 201, 210, 220, 232, 233, 240, 250, 260} {
			h := 24 + (w-80)/5
			m.Update(tea.WindowSizeMsg{Width: w, Height: h})
			v := m.View()
			checkSize(t, fmt.Sprintf("%dx%d", w, h), v, w, h)
			for _, line := range strings.Split(v, "\n") {
				for i, start := range starts {
					found := strings.Count(line, start)
					if start == "× " {
						found = strings.Count(line, "× higher") + strings.Count(line, "× lower")
					}
					if got := len(whole[i].FindAllString(line, -1)); got != found {
						t.Fatalf("%d servers at %dx%d: %q cut short in\n%q", len(models), w, h, start, line)
					}
				}
			}
		}
	}
}

// TestPanelKeepsValues checks that a narrow numbers panel shortens its
// labels rather than cut a value.
func TestPanelKeepsValues(t *testing.T) {
	got := panelLines([]entry{{label: "  p99 uncorrected", short: "  p99 uncorr.", value: "1.25ms"}}, 20)
	if want := "  p99 uncorr. 1.25ms"; got != want {
		t.Errorf("panel line %q, want %q", got, want)
	}
	kinds := []ErrorCount{{"timeout", 12}, {"reset", 3}, {"refused", 1}}
	if got := errorKinds(kinds, 18); got != "timeout 12 reset…" {
		t.Errorf("error kinds %q", got)
	}
}

func TestFmtRatio(t *testing.T) {
	for _, c := range []struct {
		v, base float64
		want    string
	}{
		{357, 1, "357× higher"},
		{1, 18900, "18.9k× lower"},
		{10.5, 10, "1.05× higher"},
		{10, 10, "same"},
		{0, 10, "none"},
		{5, 0, ""},
	} {
		if got := fmtRatio(c.v, c.base); got != c.want {
			t.Errorf("fmtRatio(%v, %v) = %q, want %q", c.v, c.base, got, c.want)
		}
	}
}

// TestEveryScenarioHasFigures keeps the compare row's table in step with
// the load generator's scenarios: a new scenario must say what its
// compare row shows.
func TestEveryScenarioHasFigures(t *testing.T) {
	for _, s := range bench.Scenarios() {
		figs, ok := compareFigures[s.Name]
		if !ok {
			t.Errorf("scenario %s has no compare figures", s.Name)
		}
		if len(figs) == 0 || len(figs) > 2 {
			t.Errorf("scenario %s compares %d figures, want one or two", s.Name, len(figs))
		}
	}
}

// TestCompareRow checks the compare row's figures and ratios, and that it
// looks back no further than the start of the running scenario.
func TestCompareRow(t *testing.T) {
	m, d := newTest(t, "slow-client")
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 45})
	frame := func(target int, i int, p99 time.Duration, requests int64) Frame {
		return Frame{Target: target, At: epoch.Add(time.Duration(i) * 250 * time.Millisecond), Interval: 250 * time.Millisecond,
			Requests: requests, P50: p99 / 2, P99: p99, HasProc: true, Threads: 4 + target, RSS: int64(8+target) << 20}
	}
	// Before the scenario under test: blocking was fast, and that must
	// not count.
	for i := range 10 {
		d.push(frame(0, i, time.Microsecond, 1000), frame(1, i, time.Microsecond, 1000), frame(2, i, time.Microsecond, 1000))
	}
	m.Update(tickMsg{})
	m.Update(press("p"))
	m.Update(tea.KeyMsg{Type: tea.KeyEnter}) // slow-client again: the totals start afresh
	for i := 10; i < 50; i++ {
		d.push(frame(0, i, time.Second, 25), frame(1, i, 100*time.Millisecond, 2500), frame(2, i, time.Millisecond, 2500))
	}
	d.setStatus(2, Status{State: Crashed, Detail: "signal: killed"})
	m.Update(tickMsg{})
	v := m.View()
	for _, want := range []string{
		" COMPARE  last 10s     worst p99  vs blocking      req/s  vs blocking",
		"▶ blocking ● up            1.00s                     100",
		"  threaded ● up            100ms  10.0× lower      10.0k  100× higher",
		"  evloop   ✗ crashed      1.00ms  1.00k× lower     10.0k  100× higher     signal: killed",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("compare row lacks %q:\n%s", want, v)
		}
	}

	m.Update(press("p"))
	m.Update(press("j")) // slow-client -> c10k
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	d.push(frame(0, 60, time.Second, 25), frame(1, 60, time.Second, 25), frame(2, 60, time.Second, 25))
	m.Update(tickMsg{})
	v = m.View()
	if !strings.Contains(v, "scenario c10k") || !strings.Contains(v, "RSS  vs blocking     threads  vs blocking") {
		t.Errorf("c10k compares RSS and threads:\n%s", v)
	}
	if !strings.Contains(v, "10.0 MiB  1.25× higher          6  1.50× higher    signal: killed") {
		t.Errorf("c10k's figures:\n%s", v)
	}
}

func TestWrapAtSpacesOnly(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"threads, with -osthreads; the slow-client lesson", 20, "threads, with\n-osthreads; the\nslow-client lesson"},
		{"a\n\nb c", 3, "a\n\nb c"},
		{"abcdefgh ij", 3, "abc\ndef\ngh\nij"},
	} {
		if got := wrap(c.in, c.w); got != c.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
	}
}
