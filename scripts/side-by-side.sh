#!/usr/bin/env bash
# Two servers' CPU per request, measured at the same time: both pinned to
# CPU 0, each under its own wrk (one thread, keep-alive), both wrks on CPU 1,
# for the same seconds. utime+stime of each server from /proc over the
# requests its wrk counted, and A's over B's within each round.
#
# Why at the same time: this VM's speed changes from one run to the next (a
# core that idles comes back slower or faster), by more than the small
# differences worth measuring. Measured one after the other, two servers
# land on different speeds; measured at once, a slow spell hits both alike
# and the ratio keeps only what differs. The price: the two share the core
# and its caches, so each figure is higher than it would be alone. Read the
# ratio, not the figures.
#
# Usage: scripts/side-by-side.sh [rounds] [seconds] [path] [connections]
#   A, B: the two commands, with ADDR (and SITE, the demo site) in them;
#   by default evloop and uring:
#   A="bin/serverlab serve -model evloop -addr ADDR -root SITE"
#   B="bin/floor -addr ADDR -root SITE"       (make bench-peers builds it)
# Holds the benchmark lock.
set -euo pipefail
rounds=${1:-5}; secs=${2:-4}; path=${3:-/1k.bin}; conns=${4:-50}
cd "$(dirname "$0")/.."
go build -o bin/serverlab .
site=$(mktemp -d)
pa= pb=
trap 'kill $pa $pb 2> /dev/null || true; rm -rf "$site"' EXIT
bin/serverlab site "$site" > /dev/null
A=${A:-bin/serverlab serve -model evloop -addr ADDR -root SITE}
B=${B:-bin/serverlab serve -model uring -addr ADDR -root SITE}
tck=$(getconf CLK_TCK)
exec 9>> /tmp/serverlab-bench.lock
flock 9

# start CMD PORT: the server, pinned, in the background (its PID in $pid),
# once it answers.
start() {
	local cmd=${1//ADDR/127.0.0.1:$2}
	taskset -c 0 ${cmd//SITE/$site} > /dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$2$path" && return; sleep 0.05; done
	echo "side-by-side: nothing answers on port $2: $1" >&2
	exit 1
}
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
reqs() { awk '/requests in/ {print $1}' "$1"; }

echo "# $rounds rounds of $secs s, $path, $conns connections each"
echo "# A: $A"
echo "# B: $B"
for r in $(seq "$rounds"); do
	start "$A" 18751; pa=$pid
	start "$B" 18752; pb=$pid
	taskset -c 1 wrk -t1 -c"$conns" -d1s "http://127.0.0.1:18751$path" > /dev/null & w1=$!
	taskset -c 1 wrk -t1 -c"$conns" -d1s "http://127.0.0.1:18752$path" > /dev/null & w2=$!
	wait $w1 $w2 # a second of warm-up for both
	a0=$(cpu "$pa"); b0=$(cpu "$pb")
	taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:18751$path" > "$site/a.out" & wa=$!
	taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:18752$path" > "$site/b.out" & wb=$!
	wait $wa $wb
	a1=$(cpu "$pa"); b1=$(cpu "$pb")
	kill "$pa" "$pb"; wait "$pa" "$pb" 2> /dev/null || true
	pa= pb=
	awk -v r="$r" -v da=$((a1 - a0)) -v db=$((b1 - b0)) -v qa="$(reqs "$site/a.out")" -v qb="$(reqs "$site/b.out")" -v t="$tck" \
		'BEGIN { a = da * 1e6 / t / qa; b = db * 1e6 / t / qb
		         printf "round %d  A %6.2f µs/req (%d requests)  B %6.2f µs/req (%d requests)  A/B %.3f\n", r, a, qa, b, qb, a / b }' |
		tee -a "$site/rounds"
done
awk '{ print $NF }' "$site/rounds" | sort -n | awk '{ x[NR] = $1 } END { printf "A/B: median %.3f, range %.3f–%.3f over %d rounds\n", x[int((NR + 1) / 2)], x[1], x[NR], NR }'
