// Package tui is serverlab's live dashboard, `serverlab tui`: the three
// server models side by side, each with its latency, concurrency and
// throughput drawn as the load changes under a teacher's keys.
//
// What a student should learn here:
//
//   - The Elm architecture, as bubbletea implements it. The whole screen is
//     one value, the Model; it changes only in Update, in answer to a
//     message (a key, a resize, a tick of the frame clock); and View draws
//     it, and does nothing else. Every question "why is the screen like
//     this?" has its answer in one function.
//   - An instrument must not disturb what it measures. The dashboard
//     redraws on a fixed clock of ten frames a second at most, however
//     fast data arrives; it never waits for the load generator, which
//     hands over its intervals through a buffered channel and drops them
//     rather than block if the screen falls behind; and when nothing has
//     changed, a frame costs nothing because View returns the last one.
//   - A seam for tests. The model talks to the world only through the
//     Driver interface (driver.go). The tests drive it with fixed, fake
//     frames and compare whole screens with golden files; live.go is the
//     thin adapter that maps the same interface onto the bench packages
//     and the server processes.
//   - Processes are cleaned up on every way out: q, ctrl+c, SIGTERM, a
//     closed terminal (SIGHUP) and a panic all end in Driver.Close, which
//     stops every server the dashboard started; and each server also
//     stops by itself if the dashboard dies (bench/proc gives each child
//     Pdeathsig and a control channel whose end-of-file means "go").
//
// # Files
//
//	driver.go   the Driver interface and the values it hands the model
//	model.go    Model, Update, keys and knobs; keys.go, knobs.go
//	render.go   View: columns, titles and badges, numbers panel, summaries
//	layout.go   how many servers get a column, and how wide
//	compare.go  the compare row, and which figures each scenario compares
//	charts.go   the charts, drawn with ntcharts from each server's history
//	history.go  the ring of samples each server keeps
//	picker.go   the scenario menu; lessons.go the lesson line
//	styles.go   the sixteen-colour palette; format.go units; text.go fitting
//	live.go     the real Driver over bench; supervisor.go runs its servers
//	procnet.go  finds the PID of a server listening on an address
//	main.go     Main: flags, signals, panics, and the program itself
//
// # Reading the screen
//
// Each column is one server. Its latency chart has p99 as a line and p50
// as dots, on an axis shared by all columns, so that a flat line beside a
// jumping one really is flat. The concurrency chart is logarithmic (a
// thousand connections and one request in flight both stay readable): the
// line is the connections the clients hold open, dots their requests in
// flight, o and + the server's own open connections and requests in
// flight, # its OS threads. The numbers panel beside or under the charts
// repeats each series' glyph, so it is the legend too. On an 80-column
// terminal one server gets the charts and the others one line each; tab
// and the arrows move between them. From 150 columns, a projected
// terminal's width, every server has its column (layout.go), and under
// them the compare row (compare.go) puts the scenario's point in a few
// numbers: its one or two figures for each server, against the first.
package tui
