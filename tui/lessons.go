package tui

import "strings"

// lessons are the line under the charts: for each scenario, where to look
// and why it looks like that. The load generator's scenarios say what a
// scenario is; these say what to watch while it runs.
var lessons = map[string]string{
	"baseline": "One client, one request at a time: each model's floor. " +
		"The latency lines should sit together; a gap here is the cost of the model itself, not of waiting.",
	"crowd": "A hundred clients at once. Blocking answers one connection at a time, so the others queue: " +
		"watch its p99 and the clients' in-flight count against the server's own in-flight of one.",
	"slow-client": "One client sends its request a byte at a time. Blocking is stuck reading it and everyone waits, " +
		"so its p99 jumps; threaded and evloop wait on all sockets at once and stay flat.",
	"c10k": "Ten thousand connections that say nothing. Watch threads and RSS: a thread per connection costs memory " +
		"even when idle, while the event loop keeps each one as a small entry in epoll.",
	"big-files": "1 MiB answers: time goes into moving bytes, not waiting. Compare MiB/s rather than req/s; " +
		"sendfile lets the kernel copy file to socket without the process touching the data.",
	"slow-reader": "A client reads a big file slowly, so the server's writes back up. A blocking write holds the " +
		"blocking server hostage; the event loop parks that socket and serves the others.",
	"churn": "A new connection for every request: accept and the TCP handshake now cost as much as the answer. " +
		"Compare req/s with crowd, and watch the accept rate limit the single-threaded models.",
	"overload": "The open-loop rate climbs past what each server can do. Past that point latency, measured from when " +
		"each request was due, grows without bound: queueing, not service, dominates.",
	"slow-disk": "Every file read waits a few milliseconds. A loop that reads files itself stalls on each one; " +
		"threads overlap their waits, so the threaded model keeps its throughput.",
}

// lessonFor is the lesson line of s: its own, the dashboard's, or failing
// both the first sentence of what it shows.
func lessonFor(s Scenario) string {
	if s.Lesson != "" {
		return s.Lesson
	}
	if l, ok := lessons[s.Name]; ok {
		return l
	}
	if i := strings.Index(s.Shows, ". "); i >= 0 {
		return s.Shows[:i+1]
	}
	return s.Shows
}
