#!/usr/bin/env bash
# How much does the load generator cost? serverlab bench (closed loop, 50
# keep-alive connections) against wrk -t1 -c50, on the same evloop server
# pinned to CPU 0, both load generators on CPU 1, in interleaved rounds.
# Besides requests/s it prints each generator's own CPU time per request
# (user + system, from /usr/bin/time), the finer measure when both cores
# are near full.
# Usage: scripts/instrument.sh [rounds] [seconds]
set -euo pipefail
rounds=${1:-3}; secs=${2:-8}
bin=bin/serverlab
go build -o $bin .
taskset -c 0 $bin serve -model evloop -addr 127.0.0.1:0 > /tmp/instrument.out &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
sleep 1
url=$(grep -o 'http://[0-9.:]*' /tmp/instrument.out)/1k.bin
cpu() { awk '/^cpu-seconds/ {print $2}' /tmp/instrument.time; }
for r in $(seq "$rounds"); do
	w=$(/usr/bin/time -o /tmp/instrument.time -f 'cpu-seconds %e %U %S' taskset -c 1 wrk -t1 -c50 -d${secs}s "$url" | awk '/Requests\/sec/ {print $2}')
	wcpu=$(awk '{print $3 + $4}' /tmp/instrument.time)
	s=$(/usr/bin/time -o /tmp/instrument.time -f 'cpu-seconds %e %U %S' $bin bench -q -json -load-cpus 1 -targets "$url" -c 50 -duration ${secs}s | \
		python3 -c 'import json,sys; t=json.load(sys.stdin)["targets"][0]; print(t["rps"], t["requests"])')
	scpu=$(awk '{print $3 + $4}' /tmp/instrument.time)
	read -r srps sreq <<<"$s"
	printf "round %d  wrk %7.0f req/s %5.2f µs CPU/req  serverlab bench %7.0f req/s %5.2f µs CPU/req  ratio %.2f\n" \
		"$r" "$w" "$(echo "$wcpu * 1000000 / ($w * $secs)" | bc -l)" "$srps" "$(echo "$scpu * 1000000 / $sreq" | bc -l)" "$(echo "$srps / $w" | bc -l)"
done
