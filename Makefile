# Two commands set up and run everything on a fresh machine:
#   make demo   the scripted demo on an in-process Realtime server
#   make test   gofmt, go vet and every test under the race detector
GO ?= go
GOTEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: all test demo bench fmt vet unit fuzz clean pg-deps

all: test

test: pg-deps fmt vet unit

# PostgreSQL 15 for the throwaway clusters (installed from Debian packages
# when missing).
pg-deps:
	@./scripts/ensure-postgres.sh

fmt:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test $(GOTEST_FLAGS) ./...

demo: pg-deps
	$(GO) run ./cmd/realtime demo

# Benchmarks: results are written down in BENCHMARKS.md.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./messages/ ./registry/

# Short fuzzing of the codec (seeds under messages/testdata/fuzz).
fuzz:
	for f in FuzzDecodeV1 FuzzDecodeV2Text FuzzDecodeV2Binary FuzzObjectEach; do \
		$(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=20s ./messages/ || exit 1; \
	done
