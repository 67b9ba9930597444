package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/leakcheck"
)

// TestMain lets the test binary serve as the Go children (ours, ceiling),
// as the harness binary does.
func TestMain(m *testing.M) {
	if runChildFromEnv() {
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHarnessTinyScale runs every scenario once at tiny scale with all
// three clients, so that `make test` proves the harness still works. It
// checks correctness only: run fails unless every blasted frame reached
// every client's handler intact, every channel joined and rejoined, every
// acked broadcast was acknowledged, the server received every push and
// every one of B7's clients joined its channel and closed.
// Nothing here asserts speed.
func TestHarnessTinyScale(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node not found on PATH: the harness runs @supabase/realtime-js on Node 20+ (see test/conformance)")
	}
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	cfg := defaultConfig()
	cfg.out = out
	cfg.quiet = !testing.Verbose()
	cfg.micro = false
	cfg.command = "go test ./test/bench"
	cfg.runs, cfg.warmup = 1, 1
	cfg.frames = 200
	cfg.b2Channels = 20
	cfg.b3Channels, cfg.b3Runs = 20, 1
	cfg.b4Rate, cfg.b4Duration, cfg.b4Runs = 200, 300*time.Millisecond, 1
	cfg.b5Channels, cfg.b5Runs, cfg.b5Backoff = 20, 2, 50*time.Millisecond
	cfg.b6N = 200
	cfg.b7Clients, cfg.b7Runs = 10, 1
	cfg.b8Subs, cfg.b8Kills, cfg.b8MemSubs = 6, 1, 4
	cfg.waitLimit = 30 * time.Second
	if err := run(cfg); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(raw)
	for _, want := range []string{
		"## Targets", "## B1:", "## B1t:", "## B2:", "## B3:", "## B4:", "## B5:", "## B6:", "## B7:", "## B8:",
		"### B1 calibration", "p99 per run",
		"## Profile notes (hand-written)", "## Method", "realtime-js", "ceiling (bare gorilla/websocket)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Every scenario measured every client.
	for _, k := range []string{
		key("B1", variantV2Text, kindGo, "rate"), key("B1", variantV2Binary, kindJS, "rate"), key("B1", variantV1Text, kindRaw, "rate"),
		key("B1", variantV2Text, kindGoMin, "rate"), key("B1", variantV2Text, kindJSMin, "rate"),
		key("B1", variantV1Text, kindGo, "calibration"), key("B1", variantV2Binary, kindJS, "calibration"),
		key("B1t", variantV2Text, kindGo, "rate"), key("B1t", variantV2Text, kindJS, "rate"),
		key("B2", kindGo, "rate"), key("B2", kindJS, "rate"), key("B2", kindRaw, "rate"), key("B2", kindGo, "paired"),
		key("B3", kindGo, "seconds"), key("B3", kindJS, "seconds"), key("B3", kindRaw, "seconds"),
		key("B4", kindGo, "latency"), key("B4", kindJS, "latency"), key("B4", kindRaw, "latency"),
		key("B4", kindGo, "p99run"), key("B4", "p99ratio"),
		key("B5", kindGo, "ms"), key("B5", kindJS, "ms"), key("B5", kindRaw, "ms"),
		key("B6", kindGo, "rate"), key("B6", kindJS, "rate"), key("B6", kindRaw, "rate"),
		key("B7", kindGo, "heap"), key("B7", kindJS, "heap"), key("B7", kindGo, "seq"), key("B7", kindJS, "all"),
		key("B7", kindGo, "close"), key("B7", kindJS, "close"), key("B7", kindGo, "goroutines"), key("B7", kindGo, "left"),
		key("B8", "handover"), key("B8", "handover_all"), key("B8", "heap_per_sub"),
	} {
		if len(lastReport.samples[k]) == 0 {
			t.Errorf("no samples for %s", k)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := leakcheck.Goroutines()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left behind:\n%s", strings.Join(left, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
