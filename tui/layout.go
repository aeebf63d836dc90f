package tui

// Layout: how the terminal's width is shared between the servers.
//
// A projected terminal a class can read is about 160x45, and the point of
// the dashboard is every model reacting to the same load, side by side.
// So from 150 columns every server gets a column of its own, however many
// there are up to what fits at narrowColWidth: three from 150 columns,
// four from 200. A column that narrow draws its charts full width and its
// numbers panel underneath. Below 150 columns a column needs
// wideColWidth, and the servers that get none are summarised on one line
// each, the focused one always in full: on an 80-column terminal that is
// one column and a line for each of the others.
//
//	 150+ columns          80-149 columns
//	┌──────┬──────┬──────┐ ┌─────────────┬─────┐
//	│title │title │title │ │title        │panel│
//	│charts│charts│charts│ │charts       │     │
//	│panel │panel │panel │ ├─────────────┴─────┤
//	├──────┴──────┴──────┤ │ one line a server │
//	│ compare, a line    │ │ lesson            │
//	│ a server; lesson   │ └───────────────────┘
//	└────────────────────┘
//
// A pane that needs room of its own (a trace of the focused server, say)
// takes its rows from the body, the block between header and compare row,
// and viewColumns draws in what is left.
const (
	allSideBySideAt = 150 // terminal width from which narrow columns are allowed
	narrowColWidth  = 48  // the narrowest column: charts of about 40 intervals
	wideColWidth    = 60  // below allSideBySideAt, the width a column needs
	colGap          = 2   // cells between two columns
	panelWidth      = 24  // the numbers panel when it sits beside the charts
	sideBySideAt    = 76  // column width from which the panel goes beside the charts
)

// layout is what the terminal's size decides: which servers are drawn in
// full, in columns how wide.
type layout struct {
	first, cols int // targets first .. first+cols-1 have a column
	colW        int // the width of each
}

// has reports whether target i has a column.
func (l layout) has(i int) bool { return i >= l.first && i < l.first+l.cols }

// layoutFor lays n targets out on a terminal w wide, keeping the focused
// one in view. A page over the columns (help, the picker) gives none.
func layoutFor(w, n, focus int, page bool) layout {
	if page || n == 0 {
		return layout{}
	}
	cols := max(1, min(n, w/wideColWidth))
	if w >= allSideBySideAt {
		cols = max(cols, min(n, (w+colGap)/(narrowColWidth+colGap)))
	}
	return layout{
		first: min(focus, n-cols),
		cols:  cols,
		colW:  (w - colGap*(cols-1)) / cols,
	}
}

// chartWidth is how wide a column of width w draws its charts: all of it,
// or what the panel beside them leaves.
func chartWidth(w int) int {
	if w >= sideBySideAt {
		return w - panelWidth - colGap
	}
	return w
}
