package tui

import "strings"

// lessonFor is the line under the charts while s runs: what to watch and
// why. The load generator's scenarios carry it (bench.Scenario.Watch), so
// that the dashboard, `serverlab bench` and the lessons say the same thing;
// a scenario without one falls back on the first sentence of what it shows.
func lessonFor(s Scenario) string {
	if s.Lesson != "" {
		return s.Lesson
	}
	if i := strings.Index(s.Shows, ". "); i >= 0 {
		return s.Shows[:i+1]
	}
	return s.Shows
}
