#!/usr/bin/env bash
# Server CPU per request: each model serves the 1 KiB file to wrk over C
# keep-alive connections, the server pinned to CPU 0 and wrk (one thread) to
# CPU 1, in interleaved rounds; the server's utime+stime from /proc over the
# requests wrk counted. Prints every round, then the medians and each
# model's median ratio to the first. Holds the benchmark lock.
# Usage: scripts/cpu-per-request.sh [rounds] [seconds] [connections...]
#   MODELS="evloop uring": the models, the first the reference.
set -euo pipefail
rounds=${1:-5}; secs=${2:-8}
shift $(( $# < 2 ? $# : 2 ))
conns=("$@")
[ ${#conns[@]} -gt 0 ] || conns=(50 500)
read -r -a models <<< "${MODELS:-evloop uring}"
cd "$(dirname "$0")/.."
go build -o bin/serverlab .
tck=$(getconf CLK_TCK)
out=$(mktemp)
trap 'rm -f "$out" /tmp/cpu-per-request.$$.out' EXIT

# one MODEL CONNS: prints "MODEL CONNS µs-per-request req/s".
one() {
	local m=$1 c=$2 addr="" pid
	taskset -c 0 bin/serverlab serve -model "$m" -addr 127.0.0.1:0 > /tmp/cpu-per-request.$$.out 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		addr=$(grep -o 'http://[0-9.:]*' /tmp/cpu-per-request.$$.out | head -1) && [ -n "$addr" ] && break
		sleep 0.1
	done
	taskset -c 1 wrk -t1 -c"$c" -d1s "$addr/1k.bin" > /dev/null # warm up
	local t0 t1 w
	t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
	w=$(taskset -c 1 wrk -t1 -c"$c" -d"${secs}s" "$addr/1k.bin")
	t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
	kill $pid; wait $pid 2>/dev/null || true
	local req rps
	req=$(awk '/requests in/ {print $1}' <<< "$w")
	rps=$(awk '/Requests\/sec/ {print $2}' <<< "$w")
	awk -v m="$m" -v c="$c" -v d=$((t1 - t0)) -v t="$tck" -v r="$req" -v q="$rps" \
		'BEGIN {printf "%s %s %.2f %s\n", m, c, d * 1e6 / t / r, q}'
}

exec 9>>/tmp/serverlab-bench.lock
flock 9
for r in $(seq "$rounds"); do
	for c in "${conns[@]}"; do
		for m in "${models[@]}"; do
			line=$(one "$m" "$c")
			echo "round $r  $line" | awk '{printf "round %s  %-8s c=%-4s %6s µs/request  %s req/s\n", $2, $3, $4, $5, $6}'
			echo "$r $line" >> "$out"
		done
	done
done
echo
for c in "${conns[@]}"; do
	awk -v c="$c" -v ref="${models[0]}" '
		$3 == c { cpu[$2, $1] = $4; ms[$2] = 1; rs[$1] = 1 }
		function median(a, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		END {
			for (m in ms) {
				n = 0; k = 0
				for (r in rs) { v[++n] = cpu[m, r]; x[++k] = cpu[m, r] / cpu[ref, r] }
				printf "c=%-4s %-8s median %6.2f µs/request, %.2f of %s (rounds: %.2f to %.2f)\n", c, m, median(v, n), median(x, k), ref, minv(x, k), maxv(x, k)
			}
		}
		function minv(a, n,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]; return m }
		function maxv(a, n,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] > m) m = a[i]; return m }
	' "$out"
done
