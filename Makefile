# Kith: a thin layer over plain `go`. `make` lists the targets.
GO        ?= go
BIN       ?= bin/kith
KITH_HOME ?= $(HOME)/.kith
FUZZTIME  ?= 10s
PKGS      := ./...

.DEFAULT_GOAL := help

.PHONY: help
help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/kith
	$(GO) build -o $(BIN) .

.PHONY: run
run: build ## build, create an identity in $KITH_HOME if none, start the daemon
	@test -f "$(KITH_HOME)/identity.key" || KITH_HOME="$(KITH_HOME)" ./$(BIN) init --no-passphrase
	KITH_HOME="$(KITH_HOME)" ./$(BIN) daemon

.PHONY: test
test: ## run the tests
	$(GO) test $(PKGS)

.PHONY: test-race
test-race: ## run the tests with the race detector
	$(GO) test -race $(PKGS)

.PHONY: e2e
e2e: ## run the whole-binary tests in test/e2e
	$(GO) test -race -count=1 ./test/e2e/

.PHONY: fuzz
fuzz: ## run each fuzzer for FUZZTIME (default 10s)
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./spec/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeSyncRequest$$' -fuzztime=$(FUZZTIME) ./spec/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeConnectMsg$$' -fuzztime=$(FUZZTIME) ./spec/
	$(GO) test -run='^$$' -fuzz='^FuzzParseInvite$$' -fuzztime=$(FUZZTIME) ./spec/
	$(GO) test -run='^$$' -fuzz='^FuzzParseKey$$' -fuzztime=$(FUZZTIME) ./identity/
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./graph/vcard/

.PHONY: vet
vet: ## go vet
	$(GO) vet $(PKGS)

.PHONY: fmt-check
fmt-check: ## fail if gofmt would change a file
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: lint
lint: vet fmt-check ## vet + format check

.PHONY: bench
bench: ## run the benchmarks (append, verify+store, ed25519 ceiling, 10k import, idle RSS, replication, fan-out)
	$(GO) test -run='^$$' -bench=. -benchmem ./graph/ ./graph/vcard/ ./identity/
	$(GO) test -run='^$$' -bench=. -benchtime=1x -count=1 ./test/e2e/ ./node/

.PHONY: check
check: lint test-race fuzz ## everything CI runs
