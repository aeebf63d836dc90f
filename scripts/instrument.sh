#!/usr/bin/env bash
# How much does the load generator cost? serverlab bench (closed loop, 50
# keep-alive connections) against wrk -t1 -c50, on the same evloop server
# pinned to CPU 0, both load generators on CPU 1, in interleaved rounds.
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
for r in $(seq "$rounds"); do
	w=$(taskset -c 1 wrk -t1 -c50 -d${secs}s "$url" | awk '/Requests\/sec/ {print $2}')
	s=$($bin bench -q -json -load-cpus 1 -targets "$url" -c 50 -duration ${secs}s | \
		python3 -c 'import json,sys; print(json.load(sys.stdin)["targets"][0]["rps"])')
	printf "round %d  wrk %10.0f req/s  serverlab bench %10.0f req/s  ratio %.2f\n" "$r" "$w" "$s" "$(echo "$s / $w" | bc -l)"
done
