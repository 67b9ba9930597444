package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"time"
)

// Client kinds.
const (
	kindGo  = "go"  // this module's client (child process, public API only)
	kindJS  = "js"  // @supabase/realtime-js on Node (child process)
	kindRaw = "raw" // bare gorilla/websocket client: the ceiling
)

// childEnv names the child kind when the harness binary (or the test
// binary) re-executes itself.
const childEnv = "REALTIME_BENCH_CHILD"

// profileEnv, when set for a Go child, is the file its CPU profile is
// written to (flag -cpuprofile).
const profileEnv = "REALTIME_BENCH_CPUPROFILE"

// runChildFromEnv runs the child side and reports true when this process
// was started as a child.
func runChildFromEnv() bool {
	kind := os.Getenv(childEnv)
	if kind != kindGo && kind != kindRaw {
		return false
	}
	if path := os.Getenv(profileEnv); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() {
				pprof.StopCPUProfile()
				_ = f.Close()
			}()
		}
	}
	var err error
	switch kind {
	case kindGo:
		err = runGoChild(os.Stdin, os.Stdout)
	case kindRaw:
		err = runRawChild(os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
	}
	return true
}

// peer is the orchestrator's handle on one child process.
type peer struct {
	kind  string
	id    string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan []byte
	errMu sync.Mutex
	errb  bytes.Buffer // last stderr output, for error messages
	done  chan struct{}
}

// startPeer starts a child of the given kind.
func startPeer(cfg *config, kind, id string) (*peer, error) {
	var cmd *exec.Cmd
	switch kind {
	case kindJS:
		cmd = exec.Command(cfg.node, "--expose-gc", cfg.jsScript)
	case kindGo, kindRaw:
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(exe)
		cmd.Env = append(os.Environ(), childEnv+"="+kind)
		if cfg.profileDir != "" {
			cmd.Env = append(cmd.Env, profileEnv+"="+filepath.Join(cfg.profileDir, id+".pprof"))
		}
	default:
		return nil, fmt.Errorf("unknown client kind %q", kind)
	}
	p := &peer{kind: kind, id: id, cmd: cmd, lines: make(chan []byte, 16), done: make(chan struct{})}
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = (*lockedWriter)(p)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s client: %w", kind, err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64*1024), 256*1024*1024)
		for sc.Scan() {
			p.lines <- bytes.Clone(sc.Bytes())
		}
		_ = cmd.Wait()
	}()
	return p, nil
}

// lockedWriter keeps the last 4 KiB of a child's stderr.
type lockedWriter peer

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	w.errb.Write(b)
	if w.errb.Len() > 4096 {
		tail := bytes.Clone(w.errb.Bytes()[w.errb.Len()-4096:])
		w.errb.Reset()
		w.errb.Write(tail)
	}
	return len(b), nil
}

func (p *peer) stderr() string {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.errb.String()
}

// call sends req and waits up to limit for the answer; a child that does
// not answer in time is killed.
func (p *peer) call(req request, limit time.Duration) (response, error) {
	raw, _ := json.Marshal(req)
	if _, err := p.in.Write(append(raw, '\n')); err != nil {
		return response{}, fmt.Errorf("%s client: %s: %w (stderr: %s)", p.kind, req.Op, err, p.stderr())
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case line := <-p.lines:
		var resp response
		if err := json.Unmarshal(line, &resp); err != nil {
			return resp, fmt.Errorf("%s client: %s: bad answer %q", p.kind, req.Op, line)
		}
		if resp.Error != "" {
			return resp, fmt.Errorf("%s client: %s: %s", p.kind, req.Op, resp.Error)
		}
		return resp, nil
	case <-p.done:
		return response{}, fmt.Errorf("%s client exited during %s (stderr: %s)", p.kind, req.Op, p.stderr())
	case <-t.C:
		p.kill()
		return response{}, fmt.Errorf("%s client: %s: no answer within %s (stderr: %s)", p.kind, req.Op, limit, p.stderr())
	}
}

// close asks the child to close its client and exit, and kills it if it
// has not exited within 15 s.
func (p *peer) close() {
	_, _ = p.call(request{Op: opClose}, 15*time.Second)
	_ = p.in.Close()
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.kill()
	}
}

func (p *peer) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

var errShort = errors.New("not every message arrived")
