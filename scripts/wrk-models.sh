#!/usr/bin/env bash
# wrk against each model for the 1 KiB file with 50 keep-alive connections,
# the server pinned to CPU 0 and wrk to CPU 1, in interleaved rounds; prints
# req/s per round and the median ratio against the threaded model.
# Usage: scripts/wrk-models.sh [rounds] [seconds]
set -euo pipefail
rounds=${1:-3}; secs=${2:-8}
bin=bin/serverlab
go build -o $bin .
declare -A pids addrs
for m in blocking threaded evloop; do
	taskset -c 0 $bin serve -model $m -addr 127.0.0.1:0 > /tmp/wrk-models-$m.out &
	pids[$m]=$!
done
trap 'kill ${pids[@]} 2>/dev/null' EXIT
sleep 1
for m in blocking threaded evloop; do
	addrs[$m]=$(grep -o 'http://[0-9.:]*' /tmp/wrk-models-$m.out)
done
declare -A results
for r in $(seq "$rounds"); do
	for m in blocking threaded evloop; do
		rps=$(taskset -c 1 wrk -t1 -c50 -d${secs}s "${addrs[$m]}/1k.bin" | awk '/Requests\/sec/ {print $2}')
		echo "round $r $m $rps"
		results[$m]+="$rps "
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
t=$(echo ${results[threaded]} | median)
for m in blocking threaded evloop; do
	v=$(echo ${results[$m]} | median)
	printf "%-9s median %10.0f req/s  ratio to threaded %.2f\n" $m "$v" "$(echo "$v / $t" | bc -l)"
done
