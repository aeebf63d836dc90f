// Package docs is serverlab's textbook, kept beside the code it explains:
// the lessons (lessons/), the annotated source generated from the code's
// own comments (annotated/, made by the program in annotate/ when you run
// make docs; never edit it by hand) and the benchmark results the lessons
// quote (results/, made by make bench).
//
// There is no Go code here, only a test: links_test.go follows every
// relative link in these pages and in the repository's README.md and
// fails on any that leads to a missing file or a missing anchor, so a
// lesson cannot point at a line or a heading that has moved away.
package docs
