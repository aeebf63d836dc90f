#!/usr/bin/env bash
# The captures lesson 00b ("watch the loop") prints, made again from the
# running code: the same requests traced in each model beside lesson 00's
# pseudocode, and the dashboard holding the event loop in slow motion.
# Each goes into docs/lessons/screens/watch-*.txt, and the lesson's copy of
# it (the ```text block after its "screen:" marker) is refilled by the
# docs' own filler, as make docs does.
# Usage: scripts/lesson-traces.sh        (make traces)
set -euo pipefail
bin=${BIN:-bin/serverlab}
go build -o "$bin" .
dir=docs/lessons/screens

# The lesson's requests: two pipelined on one keep-alive connection, and a
# slow client, connected first, that sends its request four bytes at a time.
for model in evloop blocking; do
	"$bin" trace -model "$model" -n 2 -c 1 -pipeline -scenario slow-client -pseudocode \
		> "$dir/watch-$model.txt"
	echo "wrote $dir/watch-$model.txt"
done
if "$bin" trace -h 2>&1 | grep -q uring && "$bin" trace -model uring -n 1 > /dev/null 2>&1; then
	"$bin" trace -model uring -n 2 -c 1 -pipeline -scenario slow-client > "$dir/watch-uring.txt"
	echo "wrote $dir/watch-uring.txt"
fi

# The dashboard in slow motion: evloop focused, its trace pane open, held,
# then two steps. Needs tmux.
if command -v tmux > /dev/null; then
	sock=serverlab-lesson-$$
	tmux -L "$sock" new-session -d -s l -x 160 -y 45 "$bin tui -scenario baseline"
	trap 'tmux -L "$sock" kill-server 2>/dev/null || true' EXIT
	screen() { tmux -L "$sock" capture-pane -p -t l; }
	turn() { screen | grep -o 'slow motion · turn [0-9]*' || true; }
	# waitfor CONDITION...: run it every half second, for 30 s at most.
	waitfor() {
		for _ in $(seq 60); do "$@" && return 0; sleep 0.5; done
		echo "lesson-traces: timed out waiting for: $*" >&2; screen >&2; exit 1
	}
	up3() { [ "$(screen | grep -o '● UP' | wc -l)" -ge 3 ]; }
	waitfor up3
	sleep 3 # a few seconds of charts
	tmux -L "$sock" send-keys -t l Tab Tab t
	sleep 2
	tmux -L "$sock" send-keys -t l .
	held() { [ -n "$(turn)" ]; }
	waitfor held
	for _ in 1 2; do
		was=$(turn)
		tmux -L "$sock" send-keys -t l .
		moved() { [ "$(turn)" != "$was" ]; }
		waitfor moved
	done
	sleep 1
	screen | sed -e 's/[[:space:]]*$//' > "$dir/watch-slow-motion.txt"
	echo "wrote $dir/watch-slow-motion.txt"
fi

# Refill the lesson's copies (and every other page's quoted figures and
# screens): each "screen:" marker's block takes its file's text.
go run ./docs/fill
