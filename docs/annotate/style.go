package main

import (
	"bytes"
	"strings"

	"github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
)

// layoutCSS is the page layout. It follows docco's parallel layout: each
// section is a two-column grid row, so a comment's first line and its
// code's first line always start at the same height however long either
// one is. System fonts only, and no script: the pages work offline and as
// plain files.
const layoutCSS = `:root {
  color-scheme: light dark;
  --bg: #ffffff;
  --fg: #1f2328;
  --muted: #59636e;
  --code-bg: #f6f8fa;
  --border: #d1d9e0;
  --link: #0969da;
  --target: #fff3b0;
  --inline-code: rgba(175, 184, 193, 0.25);
  --inner-rule: #c8d1da;
  --topic-rule: #e6eaef;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117;
    --fg: #e6edf3;
    --muted: #9198a1;
    --code-bg: #151b23;
    --border: #3d444d;
    --link: #58a6ff;
    --target: #3d3414;
    --inline-code: rgba(110, 118, 129, 0.4);
    --inner-rule: #3d444d;
    --topic-rule: #262c36;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--fg);
  font: 15px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Helvetica, Arial, sans-serif;
}
a { color: var(--link); }
code, pre, kbd {
  font-family: ui-monospace, "SFMono-Regular", "Cascadia Mono", "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace;
}

.top {
  padding: 0.8em 1.5em;
  border-bottom: 1px solid var(--border);
}
.top nav { margin: 0.15em 0; }
.crumbs { font-size: 1.05em; }
.files { font-size: 0.9em; color: var(--muted); }
.files .current { color: var(--fg); font-weight: 600; }
.files .sep { color: var(--border); }

.page { display: block; }
.sec {
  display: grid;
  grid-template-columns: minmax(0, min(40%, 38em)) minmax(0, 1fr);
}
.sec + .sec.topic { border-top: 1px solid var(--topic-rule); }
.sec.wide { grid-template-columns: minmax(0, 1fr); }
.sec.wide .docs { max-width: 60em; }
.sec.wide .code { border-left: none; border-top: 1px solid var(--border); }
.docs {
  padding: 0.9em 1.6em 0.6em 1.5em;
  overflow-wrap: break-word;
  min-width: 0;
}
.docs > :first-child, .docs .src-anchor + p, .docs .src-anchor + ul { margin-top: 0; }
.docs p, .docs ul, .docs ol, .docs pre, .docs blockquote { margin: 0 0 0.7em; }
.docs ul, .docs ol { padding-left: 1.4em; }
.docs h1, .docs h2, .docs h3, .docs h4 { font-size: 1.05em; margin: 0.2em 0 0.5em; }
.docs.inner {
  font-size: 0.94em;
  padding-left: 2.2em;
  border-left: 3px solid var(--inner-rule);
  background-clip: padding-box;
}
.docs code {
  font-size: 0.88em;
  background: var(--inline-code);
  padding: 0.1em 0.3em;
  border-radius: 4px;
}
.docs pre {
  font-size: 0.8em;
  line-height: 1.45;
  background: var(--code-bg);
  border: 1px solid var(--border);
  border-radius: 6px;
  padding: 0.6em 0.8em;
  overflow-x: auto;
  tab-size: 4;
}
.docs pre code { background: none; padding: 0; font-size: 1em; }
.code {
  background: var(--code-bg);
  border-left: 1px solid var(--border);
  min-width: 0;
  padding: 0.9em 0 0.6em;
}
.code pre {
  margin: 0;
  font-size: 13px;
  line-height: 1.55;
  tab-size: 4;
  overflow-x: auto;
  background: transparent;
}
.src-line { display: flex; min-width: max-content; }
.src-line:target, .src-anchor:target + .src-line { background: var(--target); }
.src-anchor { display: block; height: 0; }
.src-line, .src-anchor { scroll-margin-top: 3em; }
.src-num {
  flex: none;
  width: 4.2em;
  padding-right: 1.1em;
  text-align: right;
  color: var(--muted);
  opacity: 0.75;
  text-decoration: none;
  -webkit-user-select: none;
  user-select: none;
}
.src-num:hover { opacity: 1; text-decoration: underline; }
.src-code { white-space: pre; padding-right: 1.5em; }

.bottom {
  border-top: 1px solid var(--border);
  padding: 1em 1.5em 2em;
  color: var(--muted);
  font-size: 0.9em;
}
.turn { display: flex; gap: 2em; flex-wrap: wrap; margin-bottom: 0.6em; }

.index { max-width: 52em; margin: 0 auto; padding: 1.5em 1.5em 3em; }
.index h1 { font-size: 1.7em; margin: 0.4em 0 0.6em; }
.index h2 { font-size: 1.2em; margin: 1.6em 0 0.4em; padding-bottom: 0.2em; border-bottom: 1px solid var(--border); }
.index code { font-size: 0.92em; }
.synopsis p { margin: 0.3em 0 0.6em; }
.filelist { columns: 16em auto; padding-left: 1.2em; margin: 0.4em 0; }
.filelist li { break-inside: avoid; }
.count { color: var(--muted); font-size: 0.85em; }

@media (max-width: 56em) {
  .sec { grid-template-columns: minmax(0, 1fr); }
  .docs.empty { display: none; }
  .code { border-left: none; }
}
`

// stylesheet is the one CSS file all pages share: the layout, then
// chroma's colours for code, GitHub's light scheme by default and its dark
// one when the reader's system prefers dark. Both come from chroma's own
// style definitions, so they are written out in a fixed order.
func stylesheet() string {
	var b strings.Builder
	b.WriteString("/* Generated by docs/annotate: do not edit. */\n")
	b.WriteString(layoutCSS)
	b.WriteString("\n/* Code colours: chroma's github style. */\n")
	b.WriteString(tokenCSS("github"))
	b.WriteString("@media (prefers-color-scheme: dark) {\n/* Code colours: chroma's github-dark style. */\n")
	// chroma leaves out the classes whose colour is the style's plain
	// text colour, so a light rule would still apply to them in the dark:
	// reset every token first, then let the dark rules set theirs.
	// Both the reset and the dark rules are scoped to .src-code, which
	// makes them outrank the light rules without touching the layout's
	// own spans (line numbers, the highlighted target line).
	b.WriteString(".chroma .src-code [class] { color: inherit; font-weight: inherit; font-style: inherit; background-color: transparent; }\n")
	b.WriteString(strings.ReplaceAll(tokenCSS("github-dark"), ".chroma .", ".chroma .src-code ."))
	b.WriteString("}\n")
	return b.String()
}

// tokenCSS returns chroma's rules for the token classes of a style. The
// rules for chroma's own wrappers, backgrounds and line numbers are left
// out: the layout above owns those.
func tokenCSS(style string) string {
	var buf bytes.Buffer
	f := html.New(html.WithClasses(true))
	if err := f.WriteCSS(&buf, styles.Get(style)); err != nil {
		// chroma writes to a bytes.Buffer, which cannot fail.
		return ""
	}
	var b strings.Builder
	for _, line := range strings.Split(buf.String(), "\n") {
		if !strings.HasPrefix(line, "/* ") || strings.HasPrefix(line, "/* Background */") ||
			strings.HasPrefix(line, "/* PreWrapper */") || strings.HasPrefix(line, "/* Line") ||
			strings.HasPrefix(line, "/* CodeLine */") {
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
