package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// fit makes s exactly h lines of exactly w cells: longer lines are cut,
// shorter ones padded, missing lines added and extra ones dropped. Every
// block of the screen goes through it, which is how the whole frame comes
// out the terminal's size and a resize can never leave debris behind.
// Widths are counted in cells, not bytes, and colour codes count as none.
func fit(s string, w, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = padRight(ansi.Truncate(l, w, ""), w)
	}
	return strings.Join(lines, "\n")
}

// clip is fit for a block that should keep its own width when narrower.
func clip(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return strings.Join(lines, "\n")
}

// padRight pads s with spaces to w cells.
func padRight(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// wrap breaks s into lines of at most w cells at spaces, and only there:
// "slow-client" and "-osthreads" stay whole, where ansi.Wrap would break
// them at the hyphen. Only a word wider than w itself is cut.
func wrap(s string, w int) string {
	w = max(w, 1)
	var out []string
	for para := range strings.SplitSeq(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			for ansi.StringWidth(word) > w {
				if line != "" {
					out, line = append(out, line), ""
				}
				head := ansi.Truncate(word, w, "")
				out, word = append(out, head), word[len(head):]
			}
			switch {
			case line == "":
				line = word
			case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= w:
				line += " " + word
			default:
				out, line = append(out, line), word
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func durationOfMicros(us float64) time.Duration {
	return time.Duration(us * float64(time.Microsecond))
}

// fitWords cuts plain text s to at most w cells at a space, never inside
// a word, and marks the cut with an ellipsis: "exit status 2: bind: …".
// A single word wider than w is cut where it must be, ellipsis and all.
func fitWords(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	if w <= 1 {
		return ansi.Truncate(s, w, "")
	}
	cut := ansi.Truncate(s, w-1, "")
	// The cut is at a word's end only if a space follows it.
	if !strings.HasPrefix(s[len(cut):], " ") {
		if i := strings.LastIndexByte(cut, ' '); i > 0 {
			cut = cut[:i]
		}
	}
	return strings.TrimRight(cut, " ") + "…"
}

// firstFit returns the first of the texts, longest first, that fits in w
// cells: a caption in the words it can afford, not one cut mid-word. If
// none fits, the last is cut at a word.
func firstFit(w int, texts ...string) string {
	for _, t := range texts {
		if ansi.StringWidth(t) <= w {
			return t
		}
	}
	return fitWords(texts[len(texts)-1], w)
}
