package tui

import (
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// defaultTick is the dashboard's frame period: ten frames a second, the
// most the issue allows, and enough for a chart that moves every 250 ms.
const defaultTick = 100 * time.Millisecond

// Options configure a Model.
type Options struct {
	// Scenario starts running at once. Empty opens the dashboard on
	// baseline, paused, with the scenario picker showing.
	Scenario string
	// Now is the clock; nil means time.Now. Tests pass a fixed one so
	// that their views do not depend on when they run.
	Now func() time.Time
	// Tick is the frame period; 0 means defaultTick.
	Tick time.Duration
}

// Model is the dashboard in bubbletea's Elm architecture: the whole state
// of the screen in one value, changed only by Update in answer to a message
// (a key, a resize, a tick of the frame clock) and drawn only by View.
//
// It is used by pointer, unlike the textbook Elm model that is copied on
// every message: it owns several kilobytes of history per server, and View
// memoises its output in it (see render.go).
type Model struct {
	drv  Driver
	opts Options
	keys keyMap
	help help.Model
	st   styles

	width, height int // terminal size; 0 until the first WindowSizeMsg

	targets   []*target
	focus     int
	scenarios []Scenario
	scenario  int // index into scenarios of the one loaded
	knobs     Knobs
	started   time.Time     // when the load last started running
	ran       time.Duration // running time before the last pause
	now       time.Time

	picker   picker
	trace    tracePane
	showHelp bool
	note     string // one line of feedback: an error, a refused restart
	notice   string // the driver's Notice, as of the last tick

	frames []Frame // Drain's buffer, reused every tick
	view   viewCache
}

// tickMsg is the frame clock: every Tick the model collects what the load
// generator produced and, if anything changed, draws one frame.
type tickMsg struct{}

// New makes the dashboard over drv and loads the first scenario. It fails
// if opts.Scenario is not one of drv's scenarios or cannot start.
func New(drv Driver, opts Options) (*Model, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tick <= 0 {
		opts.Tick = defaultTick
	}
	m := &Model{
		drv:       drv,
		opts:      opts,
		keys:      newKeyMap(),
		st:        newStyles(),
		scenarios: drv.Scenarios(),
		now:       opts.Now(),
	}
	m.help = m.st.helpModel()
	for _, name := range drv.Targets() {
		m.targets = append(m.targets, &target{name: name})
	}
	if len(m.targets) == 0 {
		return nil, fmt.Errorf("no servers to show")
	}
	name, paused := opts.Scenario, false
	if name == "" {
		name, paused = "baseline", true
		m.picker.open = true
	}
	i := m.scenarioIndex(name)
	if i < 0 {
		return nil, fmt.Errorf("unknown scenario %q", name)
	}
	if err := m.start(i, paused); err != nil {
		return nil, err
	}
	m.picker.sel = i
	m.pollStatus()
	return m, nil
}

func (m *Model) scenarioIndex(name string) int {
	for i, s := range m.scenarios {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// start loads scenario i and sets its load running (or paused). The drive
// mode is the teacher's choice, so it survives a change of scenario.
func (m *Model) start(i int, paused bool) error {
	k, err := m.drv.Start(m.scenarios[i].Name)
	if err != nil {
		return fmt.Errorf("start %s: %w", m.scenarios[i].Name, err)
	}
	k.Paused, k.Mode = paused, m.knobs.Mode
	m.scenario, m.knobs = i, k
	m.freeTrace()
	m.drv.Set(m.knobs)
	m.ran, m.started = 0, m.now
	for _, t := range m.targets {
		// Totals are "since this scenario started"; the charts keep their
		// history so that the change from one scenario to the next shows.
		t.resetTotals()
	}
	return nil
}

// Init starts the frame clock.
func (m *Model) Init() tea.Cmd { return m.tick() }

func (m *Model) tick() tea.Cmd {
	return tea.Tick(m.opts.Tick, func(time.Time) tea.Msg { return tickMsg{} })
}

// Update is the only place the model changes.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tickMsg:
		m.onTick()
		return m, m.tick()
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		m.view.invalidate()
	case tea.KeyMsg:
		return m, m.onKey(msg)
	}
	return m, nil
}

// onTick takes in whatever the driver has produced since the last frame.
// Nothing here waits: Drain and Status return what is already there. When
// the load is paused and no server changes state, a tick costs a few
// comparisons and the next View returns the cached frame.
func (m *Model) onTick() {
	prevClock := m.clockText()
	m.now = m.opts.Now()
	m.frames = m.drv.Drain(m.frames[:0])
	for _, f := range m.frames {
		if f.Target >= 0 && f.Target < len(m.targets) {
			m.targets[f.Target].add(f)
		}
	}
	changed := len(m.frames) > 0
	if m.pollTrace() {
		changed = true
	}
	if m.pollStatus() || m.clockText() != prevClock {
		changed = true
	}
	if n := m.drv.Notice(); n != m.notice {
		m.notice, changed = n, true
	}
	if changed {
		m.view.invalidate()
	}
}

// pollStatus refreshes every target's lifecycle and reports a change.
func (m *Model) pollStatus() bool {
	changed := false
	for i, t := range m.targets {
		if s := m.drv.Status(i); s != t.status {
			t.status, changed = s, true
		}
	}
	return changed
}

// onKey answers one key press. Every branch that changes what is drawn
// ends in invalidate, so the next View draws afresh.
func (m *Model) onKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	if key.Matches(msg, k.Quit) {
		return tea.Quit
	}
	defer m.view.invalidate()
	if m.showHelp {
		// Any key closes the help page: nobody has to hunt for esc.
		m.showHelp = false
		return nil
	}
	if key.Matches(msg, k.Help) {
		m.showHelp = true
		return nil
	}
	if m.picker.open {
		m.onPickerKey(msg)
		return nil
	}
	m.note = ""
	switch {
	case key.Matches(msg, k.Next):
		m.focus = (m.focus + 1) % len(m.targets)
	case key.Matches(msg, k.Prev):
		m.focus = (m.focus + len(m.targets) - 1) % len(m.targets)
	case key.Matches(msg, k.Pick):
		m.picker.open, m.picker.sel = true, m.scenario
	case key.Matches(msg, k.Pause):
		m.setPaused(!m.knobs.Paused)
	case key.Matches(msg, k.Mode):
		m.knobs.Mode = 1 - m.knobs.Mode
		m.drv.Set(m.knobs)
	case key.Matches(msg, k.ResetCharts):
		for _, t := range m.targets {
			t.reset()
		}
	case key.Matches(msg, k.Restart):
		m.restart(m.focus)
	case key.Matches(msg, k.Trace):
		m.toggleTrace()
	case key.Matches(msg, k.Step):
		m.stepTrace()
	default:
		m.turnKnob(msg)
	}
	return nil
}

// turnKnob moves the knob msg names one step along its ladder.
func (m *Model) turnKnob(msg tea.KeyMsg) {
	k, kn := m.keys, &m.knobs
	before := *kn
	switch {
	case key.Matches(msg, k.MoreClients):
		kn.Clients = clientsKnob.up(kn.Clients)
	case key.Matches(msg, k.FewerClients):
		kn.Clients = clientsKnob.down(kn.Clients)
	case key.Matches(msg, k.MoreRate):
		kn.Rate = rateKnob.up(kn.Rate)
	case key.Matches(msg, k.LessRate):
		kn.Rate = rateKnob.down(kn.Rate)
	case key.Matches(msg, k.MoreSlow):
		kn.Slow = slowKnob.up(kn.Slow)
	case key.Matches(msg, k.FewerSlow):
		kn.Slow = slowKnob.down(kn.Slow)
	case key.Matches(msg, k.MoreIdle):
		kn.Idle = idleKnob.up(kn.Idle)
	case key.Matches(msg, k.FewerIdle):
		kn.Idle = idleKnob.down(kn.Idle)
	}
	if *kn != before {
		m.drv.Set(*kn)
	}
}

func (m *Model) setPaused(p bool) {
	if p == m.knobs.Paused {
		return
	}
	m.now = m.opts.Now()
	if p {
		m.ran += m.now.Sub(m.started)
	} else {
		m.started = m.now
	}
	m.knobs.Paused = p
	m.drv.Set(m.knobs)
}

// restart brings back a server that crashed or was stopped. A running
// server is left alone: restarting it by accident mid-lesson would wipe
// the very numbers the class is looking at.
func (m *Model) restart(i int) {
	t := m.targets[i]
	switch t.status.State {
	case Crashed, Stopped:
		if err := m.drv.Restart(i); err != nil {
			m.note = fmt.Sprintf("restart %s: %v", t.name, err)
		}
	default:
		m.note = fmt.Sprintf("%s is %s; x restarts only a crashed server", t.name, t.status.State)
	}
}

// elapsed is how long the current scenario has been running, pauses
// excluded.
func (m *Model) elapsed() time.Duration {
	if m.knobs.Paused {
		return m.ran
	}
	return m.ran + m.now.Sub(m.started)
}

func (m *Model) clockText() string { return fmtClock(m.elapsed()) }

// Knobs returns the load settings as the dashboard last set them.
func (m *Model) Knobs() Knobs { return m.knobs }
