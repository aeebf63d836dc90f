package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// The palette is the sixteen ANSI colours only, named by number. Every
// terminal has them, each user's theme already makes them readable on its
// background, and a 16-colour terminal shows exactly what a true-colour one
// does. With NO_COLOR set, lipgloss drops colours and attributes alike, so
// nothing on screen carries meaning by colour alone: states are words, the
// focused server has an arrow, and each chart series has its own glyph.
const (
	red     = lipgloss.Color("1")
	green   = lipgloss.Color("2")
	yellow  = lipgloss.Color("3")
	blue    = lipgloss.Color("4")
	magenta = lipgloss.Color("5")
	cyan    = lipgloss.Color("6")
	grey    = lipgloss.Color("8")
)

// styles are the few looks the dashboard uses, made once.
type styles struct {
	title, dim, selected, focused, warn, bad, good lipgloss.Style
	axis                                           lipgloss.Style
	p50, p99                                       lipgloss.Style
	conns, inFlight, srvOpen, srvInFlight, threads lipgloss.Style
	spark                                          lipgloss.Style
}

func newStyles() styles {
	fg := func(c lipgloss.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	return styles{
		title:       lipgloss.NewStyle().Bold(true),
		dim:         fg(grey),
		selected:    lipgloss.NewStyle().Reverse(true),
		focused:     lipgloss.NewStyle().Bold(true).Reverse(true),
		warn:        fg(yellow),
		bad:         fg(red).Bold(true),
		good:        fg(green),
		axis:        fg(grey),
		p50:         fg(cyan),
		p99:         fg(magenta),
		conns:       fg(blue),
		inFlight:    fg(cyan),
		srvOpen:     fg(green),
		srvInFlight: fg(yellow),
		threads:     fg(magenta),
		spark:       fg(green),
	}
}

// helpModel is bubbles' help view in this palette. Its defaults are
// adaptive colours, which make lipgloss ask the terminal for its
// background colour; plain ANSI colours need no such question.
func (s styles) helpModel() help.Model {
	h := help.New()
	key := lipgloss.NewStyle().Bold(true)
	h.Styles = help.Styles{
		Ellipsis:       s.dim,
		ShortKey:       key,
		ShortDesc:      s.dim,
		ShortSeparator: s.dim,
		FullKey:        key,
		FullDesc:       lipgloss.NewStyle(),
		FullSeparator:  s.dim,
	}
	return h
}
