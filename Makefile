# serverlab — the two commands a newcomer needs are `make demo` and `make test`.
GO ?= go
BIN := bin/serverlab

.PHONY: all build demo test lint vet fmtcheck tidycheck fuzz docs traces bench bench-exercises bench-peers syscalls tools clean

all: build

build:
	$(GO) build -o $(BIN) .

# The dashboard over the three models and the built-in demo site.
demo: build
	./$(BIN) tui

# What CI runs: formatting, vet, and every test with the race detector.
test: lint
	$(GO) test -race -timeout 20m ./...

lint: fmtcheck vet

vet:
	$(GO) vet ./...

fmtcheck:
	@out="$$(gofmt -l . 2>&1)"; if [ -n "$$out" ]; then \
		echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# go.mod and go.sum as go mod tidy leaves them, in both modules. Not part of
# lint: tidy reads the go.mod of every module in the graph, which may need
# the network. Offline, the tests check the direct requirements
# (tidy_test.go) and run this where the module cache allows.
tidycheck:
	$(GO) mod tidy -diff
	cd peers/gnet && $(GO) mod tidy -diff

# Fuzz the parser and the resolver for FUZZTIME each (default 1m).
FUZZTIME ?= 1m
fuzz:
	$(GO) test ./servers -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./servers -run '^$$' -fuzz '^FuzzCleanPath$$' -fuzztime $(FUZZTIME)

# The generated docs: the annotated-source site in docs/annotated, then
# every measured number the lessons, README and class plan quote, each
# scenario's results page and the results index, all from the data in
# docs/results (never edit those by hand; go test ./docs fails if stale).
docs:
	$(GO) run ./docs/annotate -out docs/annotated
	$(GO) run ./docs/fill

# The traces and the slow-motion screen lesson 00b prints, made again from
# the running code (the screen needs tmux), and filled into the lesson.
traces: build
	BIN=$(BIN) ./scripts/lesson-traces.sh

# Every scenario against the four models, pinned, into docs/results: the
# data (NAME.json); then the exercises' runs, the machine they ran on, and
# the figures (NAME/) and pages made from all of it (make docs).
SCENARIOS := baseline crowd slow-client c10k big-files slow-reader churn overload slow-disk
bench: build
	@echo "make bench: $(words $(SCENARIOS)) scenarios x 4 models x 10 s, then the exercises: about 13 minutes"
	@mkdir -p docs/results
	@n=0; for s in $(SCENARIOS); do n=$$((n+1)); \
		echo "[$$n/$(words $(SCENARIOS))] $$s"; \
		./$(BIN) bench -q -scenario $$s -json > docs/results/$$s.json.tmp \
			&& mv docs/results/$$s.json.tmp docs/results/$$s.json || exit 1; done
	@./scripts/machine.sh > docs/results/machine.md
	@$(MAKE) --no-print-directory bench-exercises
	@$(MAKE) --no-print-directory docs
	@echo "wrote docs/results"

# The runs the lessons' exercise answers quote, into docs/results/ex
# (about 5 minutes); make docs then fills the answers from them.
bench-exercises: build
	@echo "make bench-exercises: the exercises' runs, about 5 minutes"
	@BIN=$(BIN) ./scripts/bench-exercises.sh

# Tools the peer comparison needs, installed with apt when missing.
tools:
	@command -v wrk >/dev/null && command -v nginx >/dev/null || { \
		echo "bench-peers needs wrk and nginx: installing them with apt-get"; \
		apt-get update -qq && apt-get install -y -qq wrk nginx; }

# serverlab against nginx (one worker), Go's net/http FileServer, gnet and
# the floor (peers/floor, built with cc; skipped where there is none), each
# on one core: writes docs/results/peers.md. Takes about 15 minutes.
CC ?= cc
bench-peers: build tools
	$(GO) build -o bin/fileserver ./peers/fileserver
	cd peers/gnet && $(GO) build -o ../../bin/gnetpeer .
	@rm -f bin/floor; if command -v $(CC) >/dev/null 2>&1; then \
		$(CC) -O2 -Wall -o bin/floor peers/floor/floor.c || exit 1; \
	else echo "bench-peers: no C compiler ($(CC)): the floor is left out"; fi
	@site=$$(mktemp -d) && ./$(BIN) site $$site >/dev/null && \
	echo "comparing on one core each; this takes about 15 minutes" && \
	$(GO) run ./peers/compare -serverlab $(BIN) -fileserver bin/fileserver \
		-gnet bin/gnetpeer $$([ -x bin/floor ] && echo -floor bin/floor) \
		-root $$site $(PEERFLAGS); rc=$$?; rm -rf $$site; exit $$rc

# What a request costs, system call by system call, for every model, the
# floor and gnet, under strace: writes docs/results/syscalls.md. About a
# minute; needs strace and wrk.
syscalls: build
	cd peers/gnet && $(GO) build -o ../../bin/gnetpeer .
	@rm -f bin/floor; if command -v $(CC) >/dev/null 2>&1; then \
		$(CC) -O2 -Wall -o bin/floor peers/floor/floor.c || exit 1; \
	else echo "syscalls: no C compiler ($(CC)): the floor is left out"; fi
	./scripts/syscalls.sh > docs/results/syscalls.md.tmp && mv docs/results/syscalls.md.tmp docs/results/syscalls.md

clean:
	rm -rf bin
