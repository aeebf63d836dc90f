#!/usr/bin/env bash
# What do the trace hooks cost when nobody traces? The server CPU time per
# request of evloop (serve without -trace-fd: every hook is one nil check),
# the binary built here against an older one (default: the baseline from
# before the hooks), side by side in interleaved rounds: each server pinned
# to CPU 0, wrk -t1 -c50 on CPU 1 fetching /1k.bin. CPU time is utime+stime
# from /proc/PID/stat over the requests wrk counted.
# Usage: scripts/tracecost.sh [rounds] [seconds] [old binary] [model] [new binary]
# (the new binary defaults to one built from this tree).
# Wrap it in `flock /tmp/serverlab-bench.lock` on a shared machine.
set -euo pipefail
rounds=${1:-5}; secs=${2:-5}; old=${3:-/work/baseline/serverlab}; model=${4:-evloop}; new=${5:-}
if [ -z "$new" ]; then
	new=bin/serverlab
	go build -o $new .
fi
tick=$(getconf CLK_TCK)

# measure BIN: start it, load it, print "req/s µs-CPU-per-request".
measure() {
	local bin=$1 out pid url t0 t1 rps reqs
	out=$(mktemp)
	taskset -c 0 "$bin" serve -model "$model" -addr 127.0.0.1:0 > "$out" &
	pid=$!
	for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
	url=$(grep -o 'http://[0-9.:]*' "$out")/1k.bin
	# A short warm-up, so that both binaries are measured warm.
	taskset -c 1 wrk -t1 -c50 -d1s "$url" > /dev/null
	t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
	read -r rps reqs < <(taskset -c 1 wrk -t1 -c50 -d${secs}s "$url" |
		awk '/requests in/ {r=$1} /Requests\/sec/ {print $2, r}')
	t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -f "$out"
	echo "$rps $(echo "($t1 - $t0) * 1000000 / $tick / $reqs" | bc -l)"
}

printf "%-6s %12s %12s %12s %12s %8s\n" round "old req/s" "old µs/req" "new req/s" "new µs/req" "new/old"
for r in $(seq "$rounds"); do
	# Alternate which goes first, so that drift in the machine's load
	# does not always favour the same binary.
	if (( r % 2 )); then read -r orps ocpu < <(measure "$old"); read -r nrps ncpu < <(measure "$new")
	else read -r nrps ncpu < <(measure "$new"); read -r orps ocpu < <(measure "$old"); fi
	printf "%-6d %12.0f %12.2f %12.0f %12.2f %8.3f\n" "$r" "$orps" "$ocpu" "$nrps" "$ncpu" "$(echo "$ncpu / $ocpu" | bc -l)"
done
