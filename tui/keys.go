package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap is every key the dashboard answers, with the words the help line
// and the `?` page show for it. Keeping the bindings and their help text in
// one value means the help can never disagree with what the keys do.
type keyMap struct {
	Help, Quit                  key.Binding
	Next, Prev                  key.Binding
	Pick, Pause, Mode           key.Binding
	MoreClients, FewerClients   key.Binding
	MoreRate, LessRate          key.Binding
	MoreSlow, FewerSlow         key.Binding
	MoreIdle, FewerIdle         key.Binding
	ResetCharts, Restart        key.Binding
	PickUp, PickDown, PickStart key.Binding
	PickClose                   key.Binding
	Trace, Step                 key.Binding // the trace pane (trace.go)

	// For the help line only: a pair of keys in one entry.
	clientsHelp key.Binding
}

func newKeyMap() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Help:         b("?", "all keys", "?"),
		Quit:         b("q", "quit", "q", "ctrl+c"),
		Next:         b("tab/→", "next server", "tab", "right", "down", "l"),
		Prev:         b("shift+tab/←", "prev server", "shift+tab", "left", "up", "h"),
		Pick:         b("p", "scenarios", "p"),
		Pause:        b("space", "pause/resume", " "),
		Mode:         b("m", "drive mode: all/one", "m"),
		MoreClients:  b("+", "more clients", "+", "="),
		FewerClients: b("-", "fewer clients", "-", "_"),
		MoreRate:     b("R", "raise rate", "R"),
		LessRate:     b("r", "lower rate", "r"),
		MoreSlow:     b("S", "more slow clients", "S"),
		FewerSlow:    b("s", "fewer slow clients", "s"),
		MoreIdle:     b("I", "more idle conns", "I"),
		FewerIdle:    b("i", "fewer idle conns", "i"),
		ResetCharts:  b("z", "reset charts", "z"),
		Restart:      b("x", "restart crashed server", "x"),
		PickUp:       b("↑/k", "up", "up", "k"),
		PickDown:     b("↓/j", "down", "down", "j"),
		PickStart:    b("enter", "run scenario", "enter"),
		PickClose:    b("esc", "close", "esc", "p"),
		clientsHelp:  b("+/-", "clients", "+", "-"),
		Trace:        b("t", "trace pane", "t"),
		Step:         b(".", "slow motion: one step", "."),
	}
}

// ShortHelp is the help line that is always on screen: the few keys a
// teacher needs first, short enough for 80 columns so that quit is never
// cut off. Everything else is one `?` away.
func (k keyMap) ShortHelp() []key.Binding {
	short := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	return []key.Binding{short(k.Help, "keys"), k.Pick, short(k.Pause, "pause"), k.clientsHelp,
		short(k.Next, "next server"), k.Quit}
}

// pickerHelp is the help line while the scenario picker is open.
func (k keyMap) pickerHelp() []key.Binding {
	return []key.Binding{k.PickUp, k.PickDown, k.PickStart, k.PickClose, k.Help, k.Quit}
}

// FullHelp is the `?` page, one column per kind of key.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Pick, k.Pause, k.Mode, k.ResetCharts, k.Restart, k.Trace, k.Step},
		{k.MoreClients, k.FewerClients, k.MoreRate, k.LessRate, k.MoreSlow, k.FewerSlow, k.MoreIdle, k.FewerIdle},
		{k.Next, k.Prev, k.Help, k.Quit},
	}
}
