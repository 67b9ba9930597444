# Two commands set up and run everything on a fresh machine:
#   make demo   the scripted demo on an in-process Realtime server
#   make test   gofmt, go vet and every test under the race detector
GO ?= go
# realtime_testhooks builds the fault-injection hooks (registry.Crash) the
# specs use; they are not part of a normal build.
GOTEST_FLAGS ?= -race -count=1 -timeout 20m -tags realtime_testhooks

.PHONY: all test demo bench fmt vet unit hygiene fuzz fuzz-smoke lint clean pg-deps

all: test

# Every module of the repository: the library (root), fleet mode (fleet/),
# the test rig (test/), the commands (cmd/) and the examples (examples/);
# go.work ties them together.
PKGS := ./... ./fleet/... ./test/... ./cmd/... ./examples/...

test: pg-deps node-deps hygiene fmt vet unit fuzz-smoke

# PostgreSQL 15 for the throwaway clusters (installed from Debian packages
# when missing).
pg-deps:
	@./scripts/ensure-postgres.sh

fmt:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@./scripts/readme-gofmt.sh README.md

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags realtime_testhooks $(PKGS)

# The multi-process fleet specs (test/fleetrig: member processes, their
# own PostgreSQL and server) run after the rest, on their own: run beside
# the other suites they load the two cores enough to slow the conformance
# suite's row-level-security case past its 10 s wait (seen once).
FLEET_SPECS := ./test/fleetrig/...

unit:
	$(GO) test $(GOTEST_FLAGS) $$($(GO) list $(PKGS) | grep -v /test/fleetrig)
	$(GO) test $(GOTEST_FLAGS) $(FLEET_SPECS)

# The tree holds source: no tracked file over 1 MB, and a program that only
# imports package realtime resolves none of the test rig's modules.
hygiene:
	@./scripts/check-tree.sh

demo: pg-deps
	$(GO) run ./cmd/realtime demo

# Fleet mode (package fleet): three member processes share six
# subscriptions on a local server and PostgreSQL; one is killed with
# SIGKILL and its subscriptions move (test/fleetrig).
.PHONY: fleet-demo
fleet-demo: pg-deps
	$(GO) run ./test/fleetrig/demo

# Benchmarks (targets and results in BENCHMARKS.md): our client, realtime-js
# (pinned in test/conformance) and a bare gorilla/websocket ceiling against
# the same in-process server, scenarios B1–B7, B8 (fleet mode: member
# processes on PostgreSQL), plus the Go micro-benchmarks;
# rewrites BENCHMARKS.md.
# About 10 minutes on 2 cores. Flags: make bench BENCH_FLAGS='-runs 3'
# (go run ./test/bench -h lists them).
BENCH_FLAGS ?=
bench: node-deps pg-deps
	$(GO) run ./test/bench -out BENCHMARKS.md $(BENCH_FLAGS)

# Soak (not part of make test): broadcast, presence and postgres traffic
# through test/faultproxy, which cuts the connection every 20–60 s; prints
# heap and goroutine samples and fails if they keep growing or anything is
# lost or duplicated. SOAK_DURATION=2m for a shorter run. Figures are in
# RELIABILITY.md.
SOAK_DURATION ?= 10m
SOAK_SEED ?= 1

.PHONY: soak
soak: pg-deps
	$(GO) test -tags soak -run '^TestSoak$$' -v -count=1 -timeout 60m ./test/soak/ -soak.duration=$(SOAK_DURATION) -soak.seed=$(SOAK_SEED)


# Every fuzz target, as package:Target. Seeds are committed under each
# package's testdata/fuzz/<Target>/.
FUZZ_TARGETS := \
	internal/wire:FuzzDecodeV1 internal/wire:FuzzDecodeV2Text internal/wire:FuzzDecodeV2Binary \
	internal/jsonscan:FuzzObjectEach internal/wire:FuzzParsePayloads internal/wire:FuzzParseDecodedBroadcast \
	internal/wire:FuzzParsePostgresChange messages:FuzzDecodeRecord messages:FuzzParseTimestamp \
	registry:FuzzPresence test/realtimetest:FuzzFilter connection:FuzzFrameReader

# Longer fuzzing: FUZZ_TIME per target.
FUZZ_TIME ?= 20s
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "--- fuzz $$fn ($(FUZZ_TIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZ_TIME) ./$$pkg/; \
	done

# Fuzz smoke, part of make test: every target for FUZZ_SMOKE_TIME under the
# race detector, one target per go test run (go test fuzzes one target at a
# time). About a minute in all.
FUZZ_SMOKE_TIME ?= 3s
fuzz-smoke:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "--- fuzz smoke $$fn ($(FUZZ_SMOKE_TIME))"; \
		$(GO) test -race -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZ_SMOKE_TIME) ./$$pkg/; \
	done

# Static checks: gofmt, go vet, staticcheck and govulncheck, both installed
# from the Go module proxy at pinned versions. govulncheck needs the
# vulnerability database at vuln.go.dev; when that cannot be reached the
# target says so and passes on the strength of the other checks.
GOVULNCHECK_VERSION ?= v1.9.0
STATICCHECK_VERSION ?= v0.8.2
GOBIN_DIR := $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)
lint: fmt vet
	$(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN_DIR)/staticcheck $(PKGS)
	@out=$$($(GOBIN_DIR)/govulncheck $(PKGS) 2>&1); rc=$$?; echo "$$out"; \
	if [ $$rc -ne 0 ] && echo "$$out" | grep -q "fetching vulnerabilities"; then \
		echo "govulncheck: SKIPPED - the vulnerability database (vuln.go.dev) is not reachable from this machine"; \
		exit 0; \
	fi; exit $$rc

# Conformance and interop suite: @supabase/realtime-js (pinned in
# test/conformance/package.json) against test/realtimetest, and the Go client
# against realtime-js. Needs Node 20+, npm and PostgreSQL.
.PHONY: conformance node-deps

CONFORMANCE_DIR := test/conformance

# npm ci when node_modules is missing or package-lock.json is newer than it
# (npm writes node_modules/.package-lock.json on every install).
node-deps: $(CONFORMANCE_DIR)/node_modules/.package-lock.json

$(CONFORMANCE_DIR)/node_modules/.package-lock.json: $(CONFORMANCE_DIR)/package-lock.json $(CONFORMANCE_DIR)/package.json
	cd $(CONFORMANCE_DIR) && npm ci --no-audit --no-fund
	@touch $@

# Streams every case; the "N passed, N failed" lines are repeated at the end.
conformance: pg-deps node-deps
	@log=$$(mktemp); \
	{ $(GO) test -race -count=1 -timeout 5m -v ./$(CONFORMANCE_DIR)/ 2>&1; echo $$? > $$log.rc; } | tee $$log; \
	rc=$$(cat $$log.rc); \
	echo "--- conformance summary"; \
	grep -E '^(realtime-js conformance|interop vsn=[0-9.]+): [0-9]+ passed, [0-9]+ failed$$' $$log || echo "no summary line (see the output above)"; \
	grep -E '^(realtime-js conformance|interop vsn=[0-9.]+): [0-9]+ passed, [0-9]+ failed$$' $$log | \
		awk '{p+=$$(NF-3); f+=$$(NF-1)} END {printf "%d passed, %d failed\n", p, f}'; \
	rm -f $$log $$log.rc; exit $$rc
