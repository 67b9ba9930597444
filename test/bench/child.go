package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serveChild runs the child side of the protocol on in/out until a close
// request or the end of in. handle answers one request; exit reports that
// the child must stop after answering.
func serveChild(in io.Reader, out io.Writer, handle func(request) (resp response, exit bool)) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	enc := json.NewEncoder(out)
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			_ = enc.Encode(response{Error: "bad request: " + err.Error()})
			continue
		}
		resp, exit := handle(req)
		if err := enc.Encode(resp); err != nil {
			return err
		}
		if exit {
			return nil
		}
	}
	return sc.Err()
}

// memory returns the live heap after a full GC and the resident set size
// of this process.
func memory() (heap, rss uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, readRSS()
}

// readRSS reads the resident set size from /proc/self/statm (0 where it
// does not exist).
func readRSS() uint64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// cpuNs returns the CPU time (user and system) this process has used.
func cpuNs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// mallocs returns the cumulative heap allocation count and bytes.
func mallocs() (n, bytes uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs, ms.TotalAlloc
}

func errResp(format string, a ...any) response {
	return response{Error: fmt.Sprintf(format, a...)}
}

func nowNs() int64 { return time.Now().UnixNano() }

func timeout(ms int, def time.Duration) time.Duration {
	if ms <= 0 {
		return def
	}
	return time.Duration(ms) * time.Millisecond
}
