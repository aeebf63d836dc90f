#!/usr/bin/env bash
# Runs the bench commands whose results the lessons' exercise answers
# quote, each into docs/results/ex/NAME.json, so that an answer's numbers
# are data like the scenarios' (make bench-exercises; make docs fills the
# answers). Each line: the data file's name, then the arguments of
# serverlab bench exactly as the lesson prints them. Keep the two in step:
# a lesson's command and the line here are the same run.
# ONLY=PREFIX runs only the runs whose names start with it (ONLY=readiness).
set -euo pipefail
bin=${BIN:-bin/serverlab}
out=docs/results/ex
mkdir -p "$out"
while read -r name args; do
	[[ -z $name || $name == \#* ]] && continue
	[[ $name == "${ONLY:-}"* ]] || continue
	echo "  exercise $name: bench $args"
	# shellcheck disable=SC2086 # the arguments are split on purpose
	"$bin" bench -q -json $args > "$out/$name.json.tmp"
	mv "$out/$name.json.tmp" "$out/$name.json"
done <<'LIST'
# lesson 01 · baseline
baseline-sendfile       -scenario baseline -targets blocking,blocking+sendfile=false -duration 5s
baseline-2clients       -scenario baseline -c 2 -targets blocking,blocking+keepalive,evloop -duration 5s
# lesson 02 · crowd
crowd-1000              -targets evloop,threaded -c 1000 -duration 5s
crowd-keepalive         -scenario crowd -targets blocking,blocking+keepalive -duration 5s
crowd-osthreads         -scenario crowd -targets threaded,threaded+osthreads -duration 5s
# lesson 03 · slow-client
slow-client-timeout-2s  -scenario slow-client -targets blocking,blocking+header-timeout=2s -duration 6s
slow-client-timeout-200ms -scenario slow-client -targets blocking,blocking+header-timeout=200ms -duration 6s
slow-client-40          -scenario slow-client -c 40 -targets blocking -duration 6s
# lesson 04 · c10k
c10k-poll               -scenario c10k -targets evloop,evloop+poller=poll -duration 6s
c10k-osthreads          -scenario c10k -targets threaded+osthreads -duration 6s
# lesson 05 · big-files
big-files-sendfile      -scenario big-files -targets evloop,evloop+sendfile=false,threaded+sendfile=false -duration 5s
# lesson 07 · churn
churn-osthreads         -scenario churn -targets threaded,threaded+osthreads -duration 5s
# lesson 08 · overload
overload-10k            -targets evloop -rate 10000 -c 100 -duration 4s
overload-150k           -targets evloop -rate 150000 -c 100 -duration 4s
overload-loops          -scenario overload -targets evloop,evloop+loops=2 -duration 5s
# lesson 09 · slow-disk
slow-disk-workers       -scenario slow-disk -targets evloop,evloop+disk-workers=4 -duration 5s
slow-disk-workers-20    -scenario slow-disk -targets evloop+disk-workers=20 -duration 5s
# lesson 10 · readiness and completion
readiness-c50           -targets evloop,uring -c 50 -duration 5s -rounds 3
readiness-c500          -targets evloop,uring -c 500 -duration 5s -rounds 3
readiness-c10k          -scenario c10k -targets evloop,uring,uring+own-buffers -duration 10s
readiness-slow-disk     -scenario slow-disk -targets threaded,evloop,uring -duration 5s
LIST
