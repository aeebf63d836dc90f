# serverlab — the two commands a newcomer needs are `make demo` and `make test`.
GO ?= go
BIN := bin/serverlab

.PHONY: all build demo test lint vet fmtcheck tidycheck fuzz docs traces bench bench-peers tools clean

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

# The annotated-source site in docs/annotated (never edit those pages by hand).
docs:
	$(GO) run ./docs/annotate -out docs/annotated

# The traces and the slow-motion screen lesson 00b prints, made again from
# the running code (the screen needs tmux), and filled into the lesson.
traces: build
	BIN=$(BIN) ./scripts/lesson-traces.sh

# Every table and figure the lessons use, into docs/results: each scenario
# against the three models, pinned, then a note of the machine they ran on.
SCENARIOS := baseline crowd slow-client c10k big-files slow-reader churn overload slow-disk
bench: build
	@echo "make bench: $(words $(SCENARIOS)) scenarios x 3 models x 10 s, about 7 minutes"
	@mkdir -p docs/results
	@n=0; for s in $(SCENARIOS); do n=$$((n+1)); \
		echo "[$$n/$(words $(SCENARIOS))] $$s"; \
		./$(BIN) bench -q -scenario $$s -md -plot docs/results/$$s > docs/results/$$s.md.tmp \
			&& mv docs/results/$$s.md.tmp docs/results/$$s.md || exit 1; done
	@./scripts/machine.sh > docs/results/machine.md
	@echo "wrote docs/results"

# Tools the peer comparison needs, installed with apt when missing.
tools:
	@command -v wrk >/dev/null && command -v nginx >/dev/null || { \
		echo "bench-peers needs wrk and nginx: installing them with apt-get"; \
		apt-get update -qq && apt-get install -y -qq wrk nginx; }

# serverlab against nginx (one worker), Go's net/http FileServer, gnet and
# the floor (peers/floor, built with cc; skipped where there is none), each
# on one core: writes docs/results/peers.md. Takes about 12 minutes.
CC ?= cc
bench-peers: build tools
	$(GO) build -o bin/fileserver ./peers/fileserver
	cd peers/gnet && $(GO) build -o ../../bin/gnetpeer .
	@rm -f bin/floor; if command -v $(CC) >/dev/null 2>&1; then \
		$(CC) -O2 -Wall -o bin/floor peers/floor/floor.c || exit 1; \
	else echo "bench-peers: no C compiler ($(CC)): the floor is left out"; fi
	@site=$$(mktemp -d) && ./$(BIN) site $$site >/dev/null && \
	echo "comparing on one core each; this takes about 12 minutes" && \
	$(GO) run ./peers/compare -serverlab $(BIN) -fileserver bin/fileserver \
		-gnet bin/gnetpeer $$([ -x bin/floor ] && echo -floor bin/floor) \
		-root $$site $(PEERFLAGS); rc=$$?; rm -rf $$site; exit $$rc

clean:
	rm -rf bin
