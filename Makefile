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

# install puts kith in $(PREFIX)/bin when PREFIX is set, else where `go
# install` would: $GOBIN, or the first entry of $GOPATH, plus /bin.
.PHONY: install
install: ## build and install kith into $(go env GOPATH)/bin, or $(PREFIX)/bin when PREFIX is set
	@if [ -n "$(PREFIX)" ]; then dir="$(PREFIX)/bin"; \
	else dir="$$($(GO) env GOBIN)"; [ -n "$$dir" ] || dir="$$($(GO) env GOPATH | cut -d: -f1)/bin"; fi; \
	mkdir -p "$$dir" && $(GO) build -o "$$dir/kith" . && echo "installed $$dir/kith" && \
	case ":$$PATH:" in *":$$dir:"*) ;; *) echo "$$dir is not on your PATH; add it, e.g.: export PATH=\"$$dir:\$$PATH\"";; esac

.PHONY: run
run: build ## build, create an identity in $KITH_HOME if none, start the daemon
	@test -f "$(KITH_HOME)/identity.key" || KITH_HOME="$(KITH_HOME)" ./$(BIN) init --no-passphrase
	KITH_HOME="$(KITH_HOME)" ./$(BIN) daemon

.PHONY: test
test: ## run the tests
	$(GO) test $(PKGS)

.PHONY: test-race
test-race: ## run the tests with the race detector (node alone takes ~6 min of it on 2 loaded cores)
	$(GO) test -race -timeout 20m $(PKGS)

.PHONY: e2e
e2e: ## run the whole-binary tests in test/e2e
	$(GO) test -race -count=1 ./test/e2e/

.PHONY: test-interop
test-interop: ## sync with real clients (vdirsyncer, khard, khal; installed with apt-get when missing)
	@command -v vdirsyncer >/dev/null && command -v khard >/dev/null && command -v khal >/dev/null || \
		{ echo "installing vdirsyncer, khard and khal with apt-get"; \
		  $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) apt-get install -y vdirsyncer khard khal || \
		  { $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) apt-get update && \
		    $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) apt-get install -y vdirsyncer khard khal; }; }
	KITH_REQUIRE_INTEROP=1 $(GO) test -count=1 -v ./test/interop/

.PHONY: bench-dav
bench-dav: ## vdirsyncer against Kith with 10,000 cards, and against Radicale with 1,000 (installed with apt-get when missing); not part of check
	@command -v vdirsyncer >/dev/null && command -v radicale >/dev/null || \
		{ echo "installing vdirsyncer and radicale with apt-get"; \
		  $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) apt-get install -y vdirsyncer radicale || \
		  { $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) apt-get update && \
		    $$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo) apt-get install -y vdirsyncer radicale; }; }
	KITH_REQUIRE_INTEROP=1 $(GO) test -run='^$$' -bench='^BenchmarkVdirsyncer10k$$' -benchtime=1x -count=1 -timeout=60m -v ./test/interop/

.PHONY: fuzz
fuzz: ## run each fuzzer for FUZZTIME (default 10s)
	GO=$(GO) .ci/fuzz-one FuzzDecode ./spec/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzDecodeSyncRequest ./spec/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzDecodeConnectMsg ./spec/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzParseInvite ./spec/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzUnpad ./spec/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzOpen ./graph/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzParseKey ./identity/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzParsePhrase ./identity/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzDecode ./graph/vcard/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzDecode ./graph/ical/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzCheckReply ./graph/cal/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzFreeBusy ./spec/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzRead ./graph/archive/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzDecodeManifest ./graph/archive/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzDecodeHints ./graph/archive/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzKeyVerifier ./graph/archive/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzNormalizeField ./graph/ $(FUZZTIME)
	GO=$(GO) .ci/fuzz-one FuzzHandler ./node/dav/ $(FUZZTIME)

.PHONY: vet
vet: ## go vet
	$(GO) vet $(PKGS)

.PHONY: fmt-check
fmt-check: ## fail if gofmt would change a file
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: lint
lint: vet fmt-check ## vet + format check

.PHONY: bench
bench: ## run the benchmarks (append, verify+store, ed25519 ceiling, 10k import, idle RSS, replication, fan-out, 100k export/import, restore of 10k contacts and 20 friends, 10k-event agenda and .ics import)
	$(GO) test -run='^$$' -bench=. -benchmem ./graph/ ./graph/vcard/ ./identity/
	$(GO) test -run='^$$' -bench=. -benchtime=1x -count=1 ./test/e2e/ ./node/
	$(GO) test -run='^$$' -bench=. -benchtime=5x -count=1 ./graph/cal/

.PHONY: bench-import
bench-import: ## run the 100k export/import benchmark 3 times (entries/s each way next to the ed25519 verify rate)
	$(GO) test -run='^$$' -bench='^BenchmarkExportImport100k$$' -benchtime=1x -count=3 ./node/

.PHONY: cross
cross: ## build bin/kith-OS-ARCH for phones and other laptops (no cgo)
	CGO_ENABLED=0 GOOS=linux   GOARCH=arm64 $(GO) build -o $(BIN)-linux-arm64 .
	CGO_ENABLED=0 GOOS=darwin  GOARCH=arm64 $(GO) build -o $(BIN)-darwin-arm64 .
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -o $(BIN)-windows-amd64.exe .
	$(MAKE) cross-android cross-ios

# go-libp2p lists Android's interfaces through github.com/wlynxg/anet, which
# reaches into the net package's zone cache; Go 1.23+ links that only with
# -checklinkname=0 (https://github.com/wlynxg/anet).
.PHONY: cross-android
cross-android: ## build bin/kith-android-arm64 (no cgo)
	CGO_ENABLED=0 GOOS=android GOARCH=arm64 $(GO) build -ldflags=-checklinkname=0 -o $(BIN)-android-arm64 .

# An iOS executable needs cgo to link, so an app embeds the node as a
# library (gomobile); this checks that every package builds for iOS without cgo.
.PHONY: cross-ios
cross-ios: ## check that the packages build for iOS without cgo
	CGO_ENABLED=0 GOOS=ios GOARCH=arm64 $(GO) build ./cli/ ./node/... ./graph/... ./identity/ ./spec/

# CI builds the two targets whose code differs most from Linux: Android
# (the linker flag above) and Windows (file locking, no umask).
.PHONY: cross-check
cross-check:
	CGO_ENABLED=0 GOOS=android GOARCH=arm64 $(GO) build -ldflags=-checklinkname=0 -o /dev/null .
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null .

.PHONY: check
check: lint cross-check test-race fuzz ## everything CI runs
