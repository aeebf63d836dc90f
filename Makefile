# serverlab — the two commands a newcomer needs are `make demo` and `make test`.
GO ?= go
BIN := bin/serverlab

.PHONY: all build demo test lint vet fmtcheck fuzz bench clean

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

# Fuzz the parser and the resolver for FUZZTIME each (default 1m).
FUZZTIME ?= 1m
fuzz:
	$(GO) test ./servers -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./servers -run '^$$' -fuzz '^FuzzCleanPath$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin
