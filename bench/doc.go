// Package bench is `serverlab bench`, the headless benchmark, and the named
// scenarios that it, the dashboard and the lessons share. It starts the
// servers, runs a scenario on each in turn and prints what happened.
//
// What a student should learn here: a benchmark is a plan (which servers,
// which load, how long, how many interleaved rounds, which CPUs) and an
// honest report of it, and the pieces that do the measuring are small
// packages of one job each, which this one only puts together:
//
//	load     the clients, their schedules and meters: the load generator
//	proc     the servers as child processes: start, pin, /proc, limits
//	report   tables, JSON, CSV and SVG figures of a run
//
// # Files
//
//	scenario.go  the named scenarios: their mix, what each shows, and
//	             the rules by which a knob or a flag changes one
//	target.go    parsing -targets (models, URLs; loopback only)
//	run.go       Run: a Plan carried out, target by target -> Report
//	cli.go       `serverlab bench` (Main), its flags and progress line
//
// # Batch use
//
// Run(ctx, Plan) starts the targets, runs the scenario on each in turn
// (interleaved when Rounds > 1), stops them and returns a report.Report,
// which writes itself with WriteTable, WriteMarkdown, WriteJSON, WriteCSV
// and WritePlots. Main is the command line, `serverlab bench -h`.
//
// The scenarios (Scenarios, ScenarioByName) carry their Mix, the serve
// flags the models need (ServerArgs, e.g. slow-disk's -disk-delay), an
// About paragraph and a one-line Watch for a lesson line.
package bench
