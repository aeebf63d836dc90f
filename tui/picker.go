package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// picker is the scenario menu: the names on the left, what the selected one
// shows on the right. It is a dozen lines rather than bubbles' list, whose
// filtering, paging and status bar a nine-item menu does not need and whose
// three-line items would not fit a 24-line terminal beside the text.
type picker struct {
	open bool
	sel  int
}

func (m *Model) onPickerKey(msg tea.KeyMsg) {
	k := m.keys
	switch {
	case key.Matches(msg, k.PickUp):
		m.picker.sel = max(m.picker.sel-1, 0)
	case key.Matches(msg, k.PickDown):
		m.picker.sel = min(m.picker.sel+1, len(m.scenarios)-1)
	case key.Matches(msg, k.PickStart):
		m.picker.open = false
		if err := m.start(m.picker.sel, false); err != nil {
			m.note = err.Error()
		}
	case key.Matches(msg, k.PickClose):
		m.picker.open = false
	}
}

// viewPicker draws the menu in a w×h box.
func (m *Model) viewPicker(w, h int) string {
	st := m.st
	nameW := 2
	for _, s := range m.scenarios {
		nameW = max(nameW, lipgloss.Width(s.Name)+4)
	}
	var names []string
	for i, s := range m.scenarios {
		// The arrow, not only the reverse video, marks the selection, so
		// that it shows without colour as well.
		line := "  " + s.Name
		if i == m.picker.sel {
			line = "▸ " + s.Name
		}
		if i == m.scenario {
			line += " *"
		}
		line = padRight(line, nameW)
		if i == m.picker.sel {
			line = st.selected.Render(line)
		}
		names = append(names, line)
	}
	left := strings.Join(names, "\n")

	textW := max(w-nameW-3, 10)
	s := m.scenarios[m.picker.sel]
	right := st.title.Render(s.Name) + "\n" +
		wrap(s.Shows, textW) + "\n\n" +
		st.dim.Render(wrap("Watch: "+lessonFor(s), textW)) + "\n\n" +
		st.dim.Render("enter runs it · esc closes · * is the one loaded")
	bar := strings.TrimSuffix(strings.Repeat(" │ \n", max(len(m.scenarios), lipgloss.Height(right))), "\n")
	body := lipgloss.JoinHorizontal(lipgloss.Top, left, bar, right)
	head := st.title.Render("Scenarios") + st.dim.Render("  pick one with ↑/↓ and enter")
	return clip(head+"\n"+body, w, h)
}
