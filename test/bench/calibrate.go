package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/supabase-go/realtime/test/realtimetest"
)

// Calibration kinds of B1: standalone programs that only count broadcasts
// (js/minimal.mjs and ./minimal), so that the harness's own children can
// be checked against what each client does with nothing around it.
const (
	kindJSMin = "js-min" // realtime-js, minimal counting script
	kindGoMin = "go-min" // ours, minimal counting program (public API, defaults)
)

// minimalOf names the calibration program of a harness client kind.
var minimalOf = map[string]string{kindGo: kindGoMin, kindJS: kindJSMin}

// minimalProc is one started calibration program.
type minimalProc struct {
	kind, id string
	cmd      *exec.Cmd
	in       io.WriteCloser
	lines    chan string
	done     chan struct{}
}

// buildMinimal builds ./minimal into dir once per harness run.
func buildMinimal(cfg *config, dir string) (string, error) {
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	exe := filepath.Join(dir, "minimal")
	cmd := exec.Command(goBin, "build", "-o", exe, "./test/bench/minimal")
	cmd.Dir = cfg.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build test/bench/minimal: %v: %s", err, out)
	}
	return exe, nil
}

// startMinimal starts a calibration program of kind on srv, subscribed to
// "room", printing a time stamp every n deliveries.
func (b *bench) startMinimal(srv *realtimetest.Server, kind, vsn string, n int) (*minimalProc, error) {
	b.seq++
	id := fmt.Sprintf("%s-%d", kind, b.seq)
	args := []string{srv.URL(), vsn, id, strconv.Itoa(n)}
	var cmd *exec.Cmd
	switch kind {
	case kindJSMin:
		cmd = exec.Command(b.cfg.node, append([]string{filepath.Join(b.cfg.root, "test", "bench", "js", "minimal.mjs")}, args...)...)
	case kindGoMin:
		cmd = exec.Command(b.minimalExe, args...)
	default:
		return nil, fmt.Errorf("unknown calibration kind %q", kind)
	}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", kind, err)
	}
	m := &minimalProc{kind: kind, id: id, cmd: cmd, in: in, lines: make(chan string, 16), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			m.lines <- sc.Text()
		}
		_ = cmd.Wait()
	}()
	if line, err := m.next(time.Minute); err != nil || line != "ready" {
		m.stop()
		return nil, fmt.Errorf("%s: not ready (%q, %v)", kind, line, err)
	}
	return m, nil
}

func (m *minimalProc) next(limit time.Duration) (string, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case line := <-m.lines:
		return line, nil
	case <-m.done:
		return "", fmt.Errorf("%s exited", m.kind)
	case <-t.C:
		return "", fmt.Errorf("%s: nothing within %s", m.kind, limit)
	}
}

// stop closes the program's stdin (it exits on EOF) and kills it if it has
// not exited within 15 s.
func (m *minimalProc) stop() {
	_ = m.in.Close()
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case <-m.done:
	case <-t.C:
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// minimalRun blasts plan on the program's socket and waits for its time
// stamp of the last delivery: frames per second as receiveRun counts them,
// and the program's CPU time per frame.
func (b *bench) minimalRun(m *minimalProc, srv *realtimetest.Server, plan blastPlan) (rate, cpuPer float64, err error) {
	c := &client{peer: &peer{kind: m.kind, id: m.id}, srv: srv}
	conn, err := c.conn()
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.waitLimit)
	defer cancel()
	start := nowNs()
	if err := conn.Blast(ctx, plan.chunk, plan.repeat); err != nil {
		return 0, 0, fmt.Errorf("blast to %s: %w", m.kind, err)
	}
	line, err := m.next(b.cfg.waitLimit)
	if err != nil {
		return 0, 0, err
	}
	var end, cpu int64
	if _, err := fmt.Sscanf(line, "%d %d", &end, &cpu); err != nil {
		return 0, 0, fmt.Errorf("%s: %q instead of a time stamp and CPU time: %w", m.kind, line, errShort)
	}
	n := float64(plan.frames)
	return n / (float64(end-start) / 1e9), float64(cpu) / n, nil
}

// startCalibration starts the calibration programs of the clients being
// measured (-calibrate; B1 only).
func (b *bench) startCalibration(srv *realtimetest.Server, variant string, n int) ([]*minimalProc, error) {
	if !b.cfg.calibrate || !b.cfg.scen["B1"] {
		return nil, nil
	}
	var out []*minimalProc
	for _, pair := range [][2]string{{kindGo, kindGoMin}, {kindJS, kindJSMin}} {
		if !has(b.cfg.clients, pair[0]) {
			continue
		}
		if pair[1] == kindGoMin && b.minimalExe == "" {
			dir, err := os.MkdirTemp("", "realtime-bench-")
			if err != nil {
				return out, err
			}
			b.cleanup = append(b.cleanup, func() { _ = os.RemoveAll(dir) })
			if b.minimalExe, err = buildMinimal(b.cfg, dir); err != nil {
				return out, err
			}
		}
		m, err := b.startMinimal(srv, pair[1], string(vsnOf(variant)), n)
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

// calibrationRatios records, for one round of B1, each harness child's
// rate divided by its calibration program's rate in the same round: both
// ran back to back on the same server, so the ratio is steadier than
// either rate on a shared machine.
func (b *bench) calibrationRatios(variant string, round map[string]float64) {
	for _, pair := range [][2]string{{kindGo, kindGoMin}, {kindJS, kindJSMin}} {
		h, m := round[pair[0]], round[pair[1]]
		if h > 0 && m > 0 {
			b.rep.add(key("B1", variant, pair[0], "calibration"), h/m)
		}
	}
}
