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
//
// A projector washes colours out, and the dark ones first: blue and grey
// on black all but vanish from the back of a room. So grey is kept for
// what nobody needs to read from there (addresses, key hints, the axis
// lines), blue is not used at all, and the signals a class must see at a
// glance (the lesson line, each server's state, running or paused) are
// badges: a word in reverse video, a block of colour with the terminal's
// own background as the letters, bold, which is the most contrast a
// terminal can give and reads even when the colour itself has faded.
const (
	red     = lipgloss.Color("1")
	green   = lipgloss.Color("2")
	yellow  = lipgloss.Color("3")
	magenta = lipgloss.Color("5")
	cyan    = lipgloss.Color("6")
	grey    = lipgloss.Color("8")
)

// styles are the few looks the dashboard uses, made once.
type styles struct {
	title, dim, selected, focused, warn, bad, good lipgloss.Style
	axis, axisLabel                                lipgloss.Style
	p50, p99                                       lipgloss.Style
	conns, inFlight, srvOpen, srvInFlight, threads lipgloss.Style
	spark                                          lipgloss.Style

	// Badges, and the lesson line's text.
	goodBadge, warnBadge, badBadge, lessonBadge lipgloss.Style
	lesson                                      lipgloss.Style
}

func newStyles() styles {
	fg := func(c lipgloss.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	badge := func(c lipgloss.Color) lipgloss.Style { return fg(c).Bold(true).Reverse(true) }
	return styles{
		title:       lipgloss.NewStyle().Bold(true),
		dim:         fg(grey),
		selected:    lipgloss.NewStyle().Reverse(true),
		focused:     lipgloss.NewStyle().Bold(true).Reverse(true),
		warn:        fg(yellow).Bold(true),
		bad:         fg(red).Bold(true),
		good:        fg(green).Bold(true),
		axis:        fg(grey),
		axisLabel:   lipgloss.NewStyle(), // the shared scale's numbers: readable, not grey
		p50:         fg(cyan),
		p99:         fg(magenta),
		conns:       lipgloss.NewStyle(), // the terminal's own foreground, where blue was
		inFlight:    fg(cyan),
		srvOpen:     fg(green),
		srvInFlight: fg(yellow),
		threads:     fg(magenta),
		spark:       fg(green),
		goodBadge:   badge(green),
		warnBadge:   badge(yellow),
		badBadge:    badge(red),
		lessonBadge: lipgloss.NewStyle().Bold(true).Reverse(true),
		lesson:      lipgloss.NewStyle().Bold(true),
	}
}

// axes is the charts' axis style.
func (s styles) axes() axisStyle { return axisStyle{line: s.axis, label: s.axisLabel} }

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
