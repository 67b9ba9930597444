package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"
)

// config holds every flag.
type config struct {
	root        string // repository root
	node        string
	jsScript    string
	out         string
	clients     []string
	scen        map[string]bool
	micro       bool
	calibrate   bool     // B1: also run the minimal counting programs
	variants    []string // B1 frame variants
	quiet       bool
	command     string // how the run was started, for the report
	nodeVersion string
	profileDir  string // Go children write CPU profiles here

	runs, warmup int
	frames       int // B1, B2 frames per run
	b2Channels   int
	b3Channels   int
	b3Runs       int
	b3Conc       int
	b3Limit      time.Duration
	b4Rate       int
	b4Duration   time.Duration
	b4Runs       int
	b5Channels   int
	b5Backoff    time.Duration
	b5Runs       int
	b6N          int
	b7Clients    int
	b7Runs       int
	b8Subs       int
	b8Kills      int
	b8MemSubs    int
	waitLimit    time.Duration
}

func defaultConfig() *config {
	return &config{
		node:       "node",
		clients:    []string{kindGo, kindJS, kindRaw},
		scen:       allScenarios(),
		micro:      true,
		calibrate:  true,
		variants:   allVariants,
		runs:       5,
		warmup:     1,
		frames:     200_000,
		b2Channels: 1000,
		b3Channels: 10_000,
		b3Runs:     3,
		b3Limit:    time.Minute,
		b4Rate:     2000,
		b4Duration: 5 * time.Second,
		b4Runs:     8,
		b5Channels: 1000,
		b5Backoff:  100 * time.Millisecond,
		b5Runs:     5,
		b6N:        100_000,
		b7Clients:  1000,
		b7Runs:     3,
		b8Subs:     20,
		b8Kills:    10,
		b8MemSubs:  100,
		waitLimit:  2 * time.Minute,
	}
}

func allScenarios() map[string]bool {
	return map[string]bool{"B1": true, "B1t": true, "B2": true, "B3": true, "B4": true, "B5": true, "B6": true, "B7": true, "B8": true}
}

func main() {
	if runChildFromEnv() {
		return
	}
	cfg := defaultConfig()
	var clients, scen, variants string
	flag.StringVar(&cfg.out, "out", "BENCHMARKS.md", "report file, relative to the repository root (\"\" = stdout only)")
	flag.StringVar(&cfg.node, "node", cfg.node, "Node.js binary (20+)")
	flag.StringVar(&clients, "clients", "go,js,raw", "clients to run: go (ours), js (realtime-js), raw (gorilla ceiling)")
	flag.StringVar(&variants, "variants", strings.Join(allVariants, ","), "B1 frame variants to run")
	flag.StringVar(&scen, "scenarios", "B1,B1t,B2,B3,B4,B5,B6,B7,B8", "scenarios to run")
	flag.BoolVar(&cfg.micro, "micro", cfg.micro, "also run the Go micro-benchmarks of ./messages/, ./internal/wire/ and ./registry/")
	flag.BoolVar(&cfg.calibrate, "calibrate", cfg.calibrate, "B1: also run the minimal counting programs (test/bench/js/minimal.mjs, test/bench/minimal) as calibration rows")
	flag.BoolVar(&cfg.quiet, "quiet", false, "no progress lines on stderr")
	flag.IntVar(&cfg.runs, "runs", cfg.runs, "measured runs per cell of B1, B1t, B2 and B6 (median reported)")
	flag.IntVar(&cfg.warmup, "warmup", cfg.warmup, "discarded warm-up runs per cell before the measured ones")
	flag.IntVar(&cfg.frames, "frames", cfg.frames, "frames per run in B1, B1t and B2")
	flag.IntVar(&cfg.b2Channels, "b2-channels", cfg.b2Channels, "B2: channels on the socket")
	flag.IntVar(&cfg.b3Channels, "b3-channels", cfg.b3Channels, "B3: channels joined")
	flag.IntVar(&cfg.b3Runs, "b3-runs", cfg.b3Runs, "B3: runs (fresh process each)")
	flag.DurationVar(&cfg.b3Limit, "b3-limit", cfg.b3Limit, "B3: give up on a client that has not joined every channel within this")
	flag.IntVar(&cfg.b3Conc, "b3-concurrency", cfg.b3Conc, "B3, B2, B5: Go client Subscribe calls in flight (0 = one goroutine per channel)")
	flag.IntVar(&cfg.b4Rate, "b4-rate", cfg.b4Rate, "B4: acknowledged broadcasts per second")
	flag.DurationVar(&cfg.b4Duration, "b4-duration", cfg.b4Duration, "B4: duration of a run")
	flag.IntVar(&cfg.b4Runs, "b4-runs", cfg.b4Runs, "B4: runs per client (latencies pooled)")
	flag.IntVar(&cfg.b5Channels, "b5-channels", cfg.b5Channels, "B5: channels to rejoin")
	flag.DurationVar(&cfg.b5Backoff, "b5-backoff", cfg.b5Backoff, "B5: fixed reconnect backoff of every client")
	flag.IntVar(&cfg.b5Runs, "b5-runs", cfg.b5Runs, "B5: socket drops per client")
	flag.IntVar(&cfg.b6N, "b6-n", cfg.b6N, "B6: broadcasts pushed per run")
	flag.IntVar(&cfg.b7Clients, "b7-clients", cfg.b7Clients, "B7: clients in one process, one joined channel each")
	flag.IntVar(&cfg.b7Runs, "b7-runs", cfg.b7Runs, "B7: runs per client kind (fresh process each)")
	flag.IntVar(&cfg.b8Subs, "b8-subs", cfg.b8Subs, "B8: fleet subscriptions")
	flag.IntVar(&cfg.b8Kills, "b8-kills", cfg.b8Kills, "B8: members killed one after another")
	flag.IntVar(&cfg.b8MemSubs, "b8-mem-subs", cfg.b8MemSubs, "B8: subscriptions of the member alone whose heap is measured")
	flag.StringVar(&cfg.profileDir, "cpuprofile", "", "directory where every Go child (ours, ceiling) writes <kind>-<n>.pprof")
	flag.Parse()
	cfg.clients = splitList(clients)
	cfg.variants = splitList(variants)
	for _, v := range cfg.variants {
		if variantNames[v] == "" {
			fmt.Fprintf(os.Stderr, "bench: unknown variant %q (want %s)\n", v, strings.Join(allVariants, ","))
			os.Exit(2)
		}
	}
	cfg.scen = map[string]bool{}
	for _, s := range splitList(scen) {
		cfg.scen[s] = true
	}
	cfg.command = strings.TrimSpace("go run ./test/bench " + strings.Join(os.Args[1:], " "))
	if os.Getenv("MAKELEVEL") != "" {
		cfg.command = "make bench` (`" + cfg.command
	}
	if cfg.profileDir != "" {
		f, err := os.Create(filepath.Join(cfg.profileDir, "harness.pprof"))
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(cfg); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// findRoot walks up from the working directory to the repository root:
// the directory holding go.work (test/, where the harness's own tests run,
// is a nested module with a go.mod of its own).
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		// The repository root holds go.work; test/ and cmd/ hold go.mod
		// files of their own.
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.work (the repository root) not found above the working directory")
		}
		dir = parent
	}
}

// lastReport is the report of the latest run, for the test.
var lastReport *report

// run executes the selected scenarios and writes the report.
func run(cfg *config) error {
	var err error
	if cfg.root == "" {
		if cfg.root, err = findRoot(); err != nil {
			return err
		}
	}
	cfg.jsScript = filepath.Join(cfg.root, "test", "bench", "js", "bench.mjs")
	if has(cfg.clients, kindJS) {
		if err := checkNode(cfg); err != nil {
			return err
		}
	}
	rep := &report{cfg: cfg, started: time.Now().UTC(), samples: map[string][]float64{}, msgSize: map[string]float64{}}
	rep.machine = describeMachine(cfg)
	b := &bench{cfg: cfg, rep: rep}
	defer func() {
		for _, f := range b.cleanup {
			f()
		}
	}()
	steps := []struct {
		name string
		fn   func() error
	}{
		{"B1", b.b1}, {"B2", b.b2}, {"B3", b.b3}, {"B4", b.b4}, {"B5", b.b5}, {"B6", b.b6}, {"B7", b.b7}, {"B8", b.b8},
	}
	for _, s := range steps {
		if s.name == "B1" && !cfg.scen["B1"] && !cfg.scen["B1t"] {
			continue
		}
		if s.name != "B1" && !cfg.scen[s.name] {
			continue
		}
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if cfg.scen["B1t"] {
		rep.bound = measureDecodeBound()
	}
	if cfg.micro {
		rep.micro, err = runMicro(cfg)
		if err != nil {
			return fmt.Errorf("micro-benchmarks: %w", err)
		}
	}
	rep.finished = time.Now().UTC()
	lastReport = rep
	md := rep.markdown()
	if cfg.out == "" {
		fmt.Print(md)
		return nil
	}
	path := cfg.out
	if !filepath.IsAbs(path) {
		path = filepath.Join(cfg.root, path)
	}
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		return err
	}
	b.logf("wrote %s", path)
	return nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func checkNode(cfg *config) error {
	out, err := exec.Command(cfg.node, "--version").Output()
	if err != nil {
		return fmt.Errorf("%s --version: %v (realtime-js needs Node 20+; or drop it with -clients go,raw)", cfg.node, err)
	}
	cfg.nodeVersion = strings.TrimSpace(string(out))
	pkg := filepath.Join(cfg.root, "test", "conformance", "node_modules", "@supabase", "realtime-js", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		return fmt.Errorf("realtime-js is not installed: run `make node-deps` (npm ci in test/conformance)")
	}
	return nil
}
