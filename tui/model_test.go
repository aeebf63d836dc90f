package tui

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
)

func TestMain(m *testing.M) {
	// Golden views hold plain text: no colour codes, whatever terminal
	// the tests run in. This is also exactly what NO_COLOR gives.
	lipgloss.SetColorProfile(termenv.Ascii)
	code := m.Run()
	if e2eBin.dir != "" {
		os.RemoveAll(e2eBin.dir)
	}
	os.Exit(code)
}

// newTest makes a dashboard over a fake driver with a fixed clock and a
// slow frame tick, so that nothing on screen depends on when it ran.
func newTest(t *testing.T, scenario string) (*Model, *fakeDriver) {
	t.Helper()
	return newTestOf(t, threeModels, scenario)
}

// newTestOf is newTest over the named fake servers.
func newTestOf(t *testing.T, models []string, scenario string) (*Model, *fakeDriver) {
	t.Helper()
	d := newFakeDriverOf(models)
	m, err := New(d, Options{Scenario: scenario, Now: func() time.Time { return epoch }, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return m, d
}

// runTest runs m in a teatest program of w×h.
func runTest(t *testing.T, m *Model, w, h int) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
}

// finish quits the program and returns the final model.
func finish(t *testing.T, tm *teatest.TestModel) *Model {
	t.Helper()
	tm.Type("q")
	return tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
}

// waitFor waits until cond holds, failing the test after a generous time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// waitForScreen waits until the program's output contains all of want.
func waitForScreen(t *testing.T, tm *teatest.TestModel, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

func TestOpensPausedOnBaselineWithPicker(t *testing.T) {
	m, d := newTest(t, "")
	if len(d.started) != 1 || d.started[0] != "baseline" {
		t.Fatalf("started %v, want [baseline]", d.started)
	}
	if k := d.lastSet(); !k.Paused {
		t.Errorf("first knobs %+v, want paused", k)
	}
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	v := m.View()
	for _, want := range []string{"Scenarios", "‖ PAUSED", "▸ baseline", "What baseline shows"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}

func TestScenarioFlagStartsRunning(t *testing.T) {
	_, d := newTest(t, "crowd")
	if k := d.lastSet(); k.Paused || k.Clients != 100 {
		t.Errorf("knobs %+v, want crowd's 100 clients, running", k)
	}
	if _, err := New(newFakeDriver(), Options{Scenario: "nosuch"}); err == nil {
		t.Error("unknown scenario accepted")
	}
}

// TestKnobsReachDriver presses every knob key and checks that the driver
// got each change, in order.
func TestKnobsReachDriver(t *testing.T) {
	m, d := newTest(t, "crowd")
	tm := runTest(t, m, 80, 24)
	steps := []struct {
		key  string
		want Knobs
	}{
		{"+", Knobs{Clients: 200}},
		{"-", Knobs{Clients: 100}},
		{"-", Knobs{Clients: 50}},
		{"R", Knobs{Clients: 50, Rate: 100}},
		{"R", Knobs{Clients: 50, Rate: 200}},
		{"r", Knobs{Clients: 50, Rate: 100}},
		{"r", Knobs{Clients: 50}},
		{"S", Knobs{Clients: 50, Slow: 1}},
		{"I", Knobs{Clients: 50, Slow: 1, Idle: 10}},
		{"I", Knobs{Clients: 50, Slow: 1, Idle: 20}},
		{"i", Knobs{Clients: 50, Slow: 1, Idle: 10}},
		{"s", Knobs{Clients: 50, Idle: 10}},
		{" ", Knobs{Clients: 50, Idle: 10, Paused: true}},
		{"m", Knobs{Clients: 50, Idle: 10, Paused: true, Mode: OneAtATime}},
		{" ", Knobs{Clients: 50, Idle: 10, Mode: OneAtATime}},
	}
	for _, s := range steps {
		tm.Type(s.key)
		waitFor(t, "knobs "+s.key, func() bool { return d.lastSet() == s.want })
	}
	final := finish(t, tm)
	if final.Knobs() != steps[len(steps)-1].want {
		t.Errorf("model knobs %+v", final.Knobs())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// One Set for the scenario, one per key.
	if len(d.sets) != 1+len(steps) {
		t.Errorf("%d calls to Set, want %d: %+v", len(d.sets), 1+len(steps), d.sets)
	}
}

func TestKnobLimits(t *testing.T) {
	m, d := newTest(t, "baseline")
	for range 30 {
		m.Update(press("+"))
		m.Update(press("I"))
	}
	if k := d.lastSet(); k.Clients != clientsKnob.limit || k.Idle != idleKnob.limit {
		t.Errorf("knobs %+v past their limits", k)
	}
	for range 30 {
		m.Update(press("-"))
	}
	if k := d.lastSet(); k.Clients != 0 {
		t.Errorf("clients %d, want 0 at the bottom", k.Clients)
	}
}

func TestLadder(t *testing.T) {
	k := knob{floor: 10, limit: 20000}
	var up []int
	for v := 0; v < k.limit; {
		v = k.up(v)
		up = append(up, v)
	}
	want := []int{10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000}
	if !equalInts(up, want) {
		t.Errorf("up: %v, want %v", up, want)
	}
	if got := k.down(10); got != 0 {
		t.Errorf("down(10) = %d, want 0: below the floor is off", got)
	}
	if got := k.down(150); got != 100 {
		t.Errorf("down(150) = %d, want 100", got)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestScenarioSwitch picks slow-client in the picker and checks that the
// driver switched to it with its knobs, running.
func TestScenarioSwitch(t *testing.T) {
	m, d := newTest(t, "")
	tm := runTest(t, m, 80, 24)
	waitForScreen(t, tm, "Scenarios")
	tm.Type("jj") // baseline -> crowd -> slow-client
	waitForScreen(t, tm, "What slow-client shows")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor(t, "slow-client to start", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.started) == 2 && d.started[1] == "slow-client"
	})
	waitFor(t, "its knobs", func() bool { return d.lastSet() == Knobs{Clients: 20, Slow: 1} })
	final := finish(t, tm)
	if final.picker.open {
		t.Error("picker still open after enter")
	}
	if v := final.View(); !strings.Contains(v, "scenario slow-client") || !strings.Contains(v, "▶ RUNNING") {
		t.Errorf("header does not show slow-client running:\n%s", v)
	}
}

func TestPickerEscKeepsScenario(t *testing.T) {
	m, d := newTest(t, "crowd")
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(press("p"))
	m.Update(press("j"))
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.picker.open || len(d.started) != 1 {
		t.Errorf("esc: picker open %v, scenarios started %v", m.picker.open, d.started)
	}
}

func TestFocusAndRestart(t *testing.T) {
	m, d := newTest(t, "crowd")
	d.push(slowClientFrames(10)...)
	d.setStatus(1, Status{State: Crashed, Detail: "panic: boom"})
	tm := runTest(t, m, 80, 24)
	waitForScreen(t, tm, "✗ CRASHED")
	tm.Type("x") // blocking is listening: refused
	tm.Send(tea.KeyMsg{Type: tea.KeyTab})
	tm.Type("x")
	waitFor(t, "restart", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.restarts) == 1
	})
	waitForScreen(t, tm, "◌ STARTING")
	final := finish(t, tm)
	if d.restarts[0] != 1 {
		t.Errorf("restarted %v, want [1]", d.restarts)
	}
	if final.focus != 1 {
		t.Errorf("focus %d after tab, want 1", final.focus)
	}
	v := final.View()
	if !strings.Contains(v, "▶ threaded") || !strings.Contains(v, "◌ STARTING") {
		t.Errorf("want threaded in focus and starting again:\n%s", v)
	}
	for _, k := range []tea.KeyMsg{{Type: tea.KeyShiftTab}, {Type: tea.KeyLeft}} {
		final.Update(k)
	}
	if final.focus != 2 {
		t.Errorf("focus %d after shift+tab and left from 1, want 2 (it wraps)", final.focus)
	}
}

func TestHelpPage(t *testing.T) {
	m, _ := newTest(t, "crowd")
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if v := m.View(); !strings.Contains(v, "? keys") || !strings.Contains(v, "q quit") {
		t.Errorf("help line missing:\n%s", v)
	}
	m.Update(press("?"))
	v := m.View()
	// All three columns of keys fit in 80 columns, the last one too.
	for _, want := range []string{"Keys", "reset charts", "restart crashed server", "more idle conns", "next server", "quit", "Charts:"} {
		if !strings.Contains(v, want) {
			t.Errorf("help page lacks %q:\n%s", want, v)
		}
	}
	m.Update(press("+")) // closes the page, and does nothing else
	if m.showHelp || m.Knobs().Clients != 100 {
		t.Errorf("after a key: help %v, clients %d", m.showHelp, m.Knobs().Clients)
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []tea.KeyMsg{press("q"), {Type: tea.KeyCtrlC}} {
		m, _ := newTest(t, "crowd")
		tm := runTest(t, m, 80, 24)
		tm.Send(k)
		tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	}
}

func TestResetCharts(t *testing.T) {
	m, d := newTest(t, "crowd")
	d.push(slowClientFrames(20)...)
	m.Update(tickMsg{})
	if m.targets[0].hist.len() != 20 || m.targets[0].errorTotal() == 0 {
		t.Fatalf("history %d, errors %d", m.targets[0].hist.len(), m.targets[0].errorTotal())
	}
	m.Update(press("z"))
	for _, tg := range m.targets {
		if tg.hist.len() != 0 || tg.errorTotal() != 0 || tg.seen {
			t.Errorf("%s not reset", tg.name)
		}
	}
}

// TestResize checks that every frame is exactly the terminal's size, at
// the sizes a classroom meets, in every view.
func TestResize(t *testing.T) {
	m, d := newTest(t, "slow-client")
	d.push(slowClientFrames(300)...)
	m.Update(tickMsg{})
	for _, sz := range [][2]int{{80, 24}, {200, 60}, {120, 40}, {100, 30}, {150, 40}, {160, 45}, {240, 60}, {80, 24}, {40, 10}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for _, page := range []string{"columns", "help", "picker"} {
			switch page {
			case "help":
				m.Update(press("?"))
			case "picker":
				m.Update(press("?")) // closes help
				m.Update(press("p"))
			}
			checkSize(t, fmt.Sprintf("%dx%d %s", sz[0], sz[1], page), m.View(), sz[0], sz[1])
		}
		m.Update(press("p")) // closes the picker
	}
}

func checkSize(t *testing.T, what, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("%s: %d lines, want %d", what, len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Errorf("%s: line %d is %d wide, want %d: %q", what, i, n, w, l)
			return
		}
	}
}

// TestResizeInProgram resizes a running dashboard and checks it redraws at
// each size, 80x24 with one column and summaries, 200x60 with three.
func TestResizeInProgram(t *testing.T) {
	m, d := newTest(t, "slow-client")
	d.push(slowClientFrames(40)...)
	tm := runTest(t, m, 80, 24)
	waitForScreen(t, tm, "▶ blocking", "threaded   ● UP")
	tm.Send(tea.WindowSizeMsg{Width: 200, Height: 60})
	waitForScreen(t, tm, "throughput 10.0k req/s")
	final := finish(t, tm)
	v := final.View()
	checkSize(t, "200x60", v, 200, 60)
	if strings.Count(v, "latency ─ p99") != 3 {
		t.Errorf("want three columns at 200x60:\n%s", v)
	}
}

// TestGolden compares whole screens, drawn from fixed fake data, with the
// files in testdata (go test ./tui -run Golden -update rewrites them):
// the small screens of a laptop and the projected ones of a classroom,
// with today's three models and with four.
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		name   string
		w, h   int
		models []string
		keys   []string
		// states, when set, puts the servers in these states.
		states []Status
	}{
		{"slow-client-80x24", 80, 24, threeModels, nil, nil},
		{"slow-client-200x60", 200, 60, threeModels, nil, nil},
		{"focus-evloop-80x24", 80, 24, threeModels, []string{"tab", "tab"}, nil},
		{"one-at-a-time-120x40", 120, 40, threeModels, []string{"m"}, nil},
		{"picker-80x24", 80, 24, threeModels, []string{"p", "j"}, nil},
		{"help-80x24", 80, 24, threeModels, []string{"?"}, nil},
		{"slow-client-120x35", 120, 35, threeModels, nil, nil},
		{"three-150x40", 150, 40, threeModels, nil, nil},
		{"three-160x45", 160, 45, threeModels, nil, nil},
		{"three-200x50", 200, 50, threeModels, nil, nil},
		{"three-240x60", 240, 60, threeModels, nil, nil},
		{"four-150x40", 150, 40, fourModels, nil, nil},
		{"four-160x45", 160, 45, fourModels, nil, nil},
		{"four-200x50", 200, 50, fourModels, nil, nil},
		{"four-240x60", 240, 60, fourModels, nil, nil},
		{"four-focus-uring-160x45", 160, 45, fourModels, []string{"tab", "tab", "tab"}, nil},
		{"states-200x50", 200, 50, fourModels, nil, []Status{
			{State: Listening, Addr: "127.0.0.1:40001"},
			{State: Crashed, Detail: "exit status 2: listen tcp 127.0.0.1:40002: bind: address already in use"},
			{State: Held, Addr: "127.0.0.1:40003"},
			{State: Starting},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, d := newTestOf(t, c.models, "slow-client")
			d.push(slowClientFramesOf(240, len(c.models))...)
			// In one-at-a-time mode, it is blocking's turn.
			for i := 1; i < len(c.models); i++ {
				d.setStatus(i, Status{State: Listening, Addr: fmt.Sprintf("127.0.0.1:%d", 40001+i)})
			}
			for i, s := range c.states {
				d.setStatus(i, s)
			}
			tm := runTest(t, m, c.w, c.h)
			// Keys only once the first tick has taken in the frames:
			// then the final view depends on nothing but the data.
			waitFor(t, "the frames to be drained", d.drained)
			for _, k := range c.keys {
				switch k {
				case "tab":
					tm.Send(tea.KeyMsg{Type: tea.KeyTab})
				default:
					tm.Type(k)
				}
			}
			final := finish(t, tm)
			v := final.View()
			checkSize(t, c.name, v, c.w, c.h)
			golden.RequireEqual(t, []byte(v))
		})
	}
}

// TestPausedIsIdle checks the promise behind the dashboard's low CPU use
// when paused: a tick that brings nothing new does not draw a new frame.
func TestPausedIsIdle(t *testing.T) {
	m, d := newTest(t, "")
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	first := m.View()
	for range 50 {
		m.Update(tickMsg{})
		if !m.view.valid {
			t.Fatal("an empty tick invalidated the frame")
		}
	}
	if m.View() != first {
		t.Error("frame changed with nothing new")
	}
	d.push(slowClientFrames(1)...)
	m.Update(tickMsg{})
	if m.view.valid {
		t.Error("a new frame did not invalidate the view")
	}
}

// TestDriftFreeClock checks that the running clock stops while paused.
func TestDriftFreeClock(t *testing.T) {
	now := epoch
	d := newFakeDriver()
	m, err := New(d, Options{Scenario: "crowd", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(65 * time.Second)
	m.Update(tickMsg{})
	m.Update(press(" "))
	now = now.Add(time.Hour)
	m.Update(tickMsg{})
	if got := m.clockText(); got != "1:05" {
		t.Errorf("clock %s after 65 s running and an hour paused, want 1:05", got)
	}
}

// TestRunStopsDriverOnPanic runs the whole program loop with a driver
// that panics mid-run, and checks that the driver is still closed (its
// servers stopped) and the exit code is 1.
func TestRunStopsDriverOnPanic(t *testing.T) {
	d := &panickyDriver{fakeDriver: newFakeDriver()}
	// bubbletea prints the panic to the process's stdout and its stack
	// to stderr; keep both out of the test log.
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = devnull, devnull
	defer func() { os.Stdout, os.Stderr = stdout, stderr }()
	r, w := io.Pipe()
	defer w.Close()
	var out, errOut bytes.Buffer
	code := run(d, Options{Scenario: "crowd", Tick: 10 * time.Millisecond}, r, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr: %s", code, errOut.String())
	}
	if !d.closed {
		t.Error("driver not closed after a panic")
	}
}

type panickyDriver struct {
	*fakeDriver
	calls int
}

func (p *panickyDriver) Status(i int) Status {
	p.calls++
	if p.calls > 20 {
		panic("status exploded")
	}
	return p.fakeDriver.Status(i)
}

func TestRunQuitsCleanly(t *testing.T) {
	d := newFakeDriver()
	var out, errOut bytes.Buffer
	code := run(d, Options{Scenario: "crowd", Tick: 10 * time.Millisecond}, strings.NewReader("q"), &out, &errOut)
	if code != 0 || !d.closed {
		t.Errorf("exit %d, closed %v; stderr: %s", code, d.closed, errOut.String())
	}
}

func press(s string) tea.KeyMsg {
	if s == " " {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestLessonFallsBackOnShows(t *testing.T) {
	s := Scenario{Name: "x", Shows: "First sentence. Second one."}
	if got := lessonFor(s); got != "First sentence." {
		t.Errorf("lesson %q", got)
	}
	s.Lesson = "Own lesson."
	if got := lessonFor(s); got != "Own lesson." {
		t.Errorf("lesson %q", got)
	}
}

// TestColourIsNotTheOnlyCarrier renders the same screens in 16 colours and
// without (NO_COLOR's profile): once the colour codes are stripped, the
// texts must be equal, so everything the colours say is also said in words
// and glyphs. It covers an 80-column laptop and a 160-column projector,
// with every state a server can show.
func TestColourIsNotTheOnlyCarrier(t *testing.T) {
	defer lipgloss.SetColorProfile(termenv.Ascii)
	for _, c := range []struct {
		w, h   int
		models []string
		keys   []string
	}{
		{120, 40, threeModels, nil},
		{120, 40, threeModels, []string{"p"}},
		{120, 40, threeModels, []string{"?"}},
		{120, 40, threeModels, []string{"m"}},
		{80, 24, threeModels, nil},
		{160, 45, threeModels, nil},
		{200, 50, fourModels, []string{" "}},
	} {
		var views [2]string
		for i, profile := range []termenv.Profile{termenv.Ascii, termenv.ANSI} {
			lipgloss.SetColorProfile(profile)
			views[i] = statesView(t, c.models, c.w, c.h, c.keys...)
		}
		if !strings.Contains(views[1], "\x1b[") {
			t.Fatalf("%dx%d %v: no colour codes in the 16-colour view", c.w, c.h, c.keys)
		}
		if plain := ansi.Strip(views[1]); plain != views[0] {
			t.Errorf("%dx%d %v: the coloured view says something the plain one does not:\n%s\n---\n%s",
				c.w, c.h, c.keys, plain, views[0])
		}
	}
}

// statesView is a screen with a server in each state: the first up, the
// second crashed, the third held, a fourth starting.
func statesView(t *testing.T, models []string, w, h int, keys ...string) string {
	t.Helper()
	m, d := newTestOf(t, models, "slow-client")
	d.setStatus(1, Status{State: Crashed, Detail: "exit status 2: bind: address in use"})
	d.setStatus(2, Status{State: Held, Addr: "127.0.0.1:40003"})
	if len(models) > 3 {
		d.setStatus(3, Status{State: Starting})
	}
	d.push(slowClientFramesOf(100, len(models))...)
	m.Update(tickMsg{})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	for _, k := range keys {
		m.Update(press(k))
	}
	return m.View()
}

// sgr matches one Select Graphic Rendition sequence, the escape code that
// sets colours and attributes.
var sgr = regexp.MustCompile(`\x1b\[([0-9;]*)m`)

// TestSixteenColoursOnly renders in true colour, the richest profile, and
// checks that the screen still uses nothing but the sixteen ANSI colours
// (SGR 30-37, 90-97 and their backgrounds), bold and reverse: the palette
// every terminal and every projector's theme has.
func TestSixteenColoursOnly(t *testing.T) {
	defer lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetColorProfile(termenv.TrueColor)
	v := statesView(t, fourModels, 200, 50)
	for _, m := range sgr.FindAllStringSubmatch(v, -1) {
		for p := range strings.SplitSeq(m[1], ";") {
			n, err := strconv.Atoi(p)
			if p == "" {
				n, err = 0, nil
			}
			ok := err == nil && (n == 0 || n == 1 || n == 7 || n == 22 || n == 27 || n == 39 || n == 49 ||
				(n >= 30 && n <= 37) || (n >= 90 && n <= 97) || (n >= 40 && n <= 47) || (n >= 100 && n <= 107))
			if !ok {
				t.Fatalf("SGR %q outside the sixteen colours, bold and reverse", m[0])
			}
		}
	}
}

// TestSignalsAreBadges checks that what a class must see from the back of
// the room, each server's state, running or paused and the lesson, is
// drawn bold in reverse video, and never in the grey that a projector
// washes out.
func TestSignalsAreBadges(t *testing.T) {
	defer lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetColorProfile(termenv.ANSI)
	running := statesView(t, fourModels, 200, 50)
	paused := statesView(t, fourModels, 200, 50, " ")
	for _, c := range []struct{ view, text string }{
		{running, " ● UP "}, {running, " ✗ CRASHED "}, {running, " ‖ HELD "}, {running, " ◌ STARTING "},
		{running, " ▶ RUNNING 0:00 "}, {paused, " ‖ PAUSED 0:00 "},
		{running, " WATCH "}, {running, " COMPARE "},
	} {
		params := attributesAt(t, c.view, c.text)
		if !params["1"] || !params["7"] {
			t.Errorf("%q is drawn with SGR %v, want bold (1) and reverse (7)", c.text, params)
		}
		if params["90"] {
			t.Errorf("%q is grey", c.text)
		}
	}
	// The lesson's own words are bold too, in the terminal's foreground.
	lesson := attributesAt(t, running, "The charts while slow-client runs")
	if !lesson["1"] || lesson["90"] {
		t.Errorf("the lesson is drawn with SGR %v, want bold and not grey", lesson)
	}
}

// attributesAt returns the SGR parameters in force where text first
// appears in the coloured view v.
func attributesAt(t *testing.T, v, text string) map[string]bool {
	t.Helper()
	i := strings.Index(v, text)
	if i < 0 {
		t.Fatalf("%q not on screen:\n%s", text, ansi.Strip(v))
	}
	codes := sgr.FindAllStringSubmatchIndex(v[:i], -1)
	params := map[string]bool{}
	if len(codes) == 0 {
		return params
	}
	last := codes[len(codes)-1]
	if last[1] != i {
		return params // the text is not right after a code: it is unstyled
	}
	for p := range strings.SplitSeq(v[last[2]:last[3]], ";") {
		params[p] = true
	}
	return params
}
