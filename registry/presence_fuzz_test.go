package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/supabase-go/realtime/messages"
)

// FuzzPresence drives the presence engine with arbitrary presence_state and
// presence_diff sequences. Every step must leave it consistent: no panic,
// malformed payloads refused with ErrMalformed, the measure (nMetas,
// nBytes) equal to a recount, the key order index intact, the state within
// its limits, and events ending with one sync. Three engines run side by
// side: one with the fuzzed limits, one without limits and, when no meta
// carries phx_ref_prev, a plain model of phoenix.js Presence; the unlimited
// engine must match the model, and the limited one must match the
// unlimited one as long as it has refused nothing. Seeds live in
// testdata/fuzz/FuzzPresence.
func FuzzPresence(f *testing.F) {
	f.Add([]byte{0, 2, 1, 2, 1, 3, 2, 1, 0, 1, 1, 2, 4, 1, 1, 1, 1, 0, 0, 1, 1}, uint8(0), uint16(0), []byte(`{"joins":{},"leaves":{}}`))
	f.Add([]byte{1, 1, 2, 1, 1, 0, 0, 2, 0, 3, 2, 2, 1, 0, 1, 4, 0, 1, 2, 3, 4, 5, 6}, uint8(3), uint16(0), []byte(`{"u1":{"metas":[{"phx_ref":"a"}]}}`))
	f.Add([]byte{0, 3, 1, 3, 1, 2, 3, 2, 1, 9, 9, 9, 1, 3, 3, 1, 7, 7, 2, 1, 2, 0, 1}, uint8(2), uint16(900), []byte(`{"joins":{"k":{"metas":[{"phx_ref":"x","phx_ref_prev":"y","a":[1, 2]}]}}}`))
	f.Add([]byte{2, 0, 1, 2, 2, 1, 1, 1, 1, 1, 2, 3, 1, 1, 0, 1, 0}, uint8(1), uint16(300), []byte(`{"joins":{"k":{"metas":"x"}}}`))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, uint8(5), uint16(2000), []byte(`[`))
	f.Fuzz(func(t *testing.T, program []byte, limMetas uint8, limBytes uint16, raw []byte) {
		checkRawPresence(t, raw)
		runPresenceProgram(t, program, presenceLimits{metas: int(limMetas % 24), bytes: int(limBytes)})
	})
}

// checkRawPresence feeds arbitrary bytes as both message kinds.
func checkRawPresence(t *testing.T, raw []byte) {
	for _, state := range []bool{true, false} {
		p := &presenceState{lim: presenceLimits{metas: 4, bytes: 4096}}
		var err error
		for _, jr := range []string{"1", "1"} { // the second diff applies
			if state {
				_, err = p.onState(jr, raw)
			} else {
				_, err = p.onDiff(jr, raw)
			}
			if err != nil && !errors.Is(err, messages.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			checkPresenceInvariants(t, p)
		}
	}
}

// presenceOp is one generated message.
type presenceOp struct {
	state   bool
	joinRef string
	payload []byte
	hasPrev bool
	// model input
	groups        []modelGroup // state
	joins, leaves []modelGroup // diff
}

type modelMeta struct{ ref, payload string }
type modelGroup struct {
	key   string
	metas []modelMeta
}

// genPresenceOps decodes a program: per op a header byte (bit 0: state or
// diff, bit 1: rejoin first, bit 2: allow phx_ref_prev), then groups of
// keys k0..k4 with metas of refs r0..r7.
func genPresenceOps(program []byte) []presenceOp {
	i := 0
	next := func() byte {
		if i >= len(program) {
			return 0
		}
		i++
		return program[i-1]
	}
	joinRef := 1
	var ops []presenceOp
	genGroups := func(withPrev bool, hasPrev *bool) ([]modelGroup, string) {
		n := int(next() % 4)
		var b strings.Builder
		b.WriteByte('{')
		var groups []modelGroup
		seen := map[string]int{}
		for g := 0; g < n; g++ {
			key := fmt.Sprintf("k%d", next()%5)
			nm := int(next() % 4)
			if g > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `%q:{"metas":[`, key)
			var metas []modelMeta
			for m := 0; m < nm; m++ {
				x := next()
				ref := fmt.Sprintf("r%d", x%8)
				if m > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"phx_ref":%q`, ref)
				if withPrev && x&0x80 != 0 {
					fmt.Fprintf(&b, `,"phx_ref_prev":"r%d"`, (x>>3)%8)
					*hasPrev = true
				}
				fmt.Fprintf(&b, `,"v":%d}`, x>>3)
				metas = append(metas, modelMeta{ref: ref, payload: fmt.Sprintf(`{"v":%d}`, x>>3)})
			}
			b.WriteString("]}")
			// JSON.parse: a repeated key keeps its first position and its
			// last value.
			if at, ok := seen[key]; ok {
				groups[at].metas = metas
				continue
			}
			seen[key] = len(groups)
			groups = append(groups, modelGroup{key: key, metas: metas})
		}
		b.WriteByte('}')
		return groups, b.String()
	}
	for i < len(program) && len(ops) < 64 {
		h := next()
		if h&2 != 0 {
			joinRef++
		}
		op := presenceOp{state: h&1 == 0, joinRef: fmt.Sprint(joinRef)}
		withPrev := h&4 != 0
		if op.state {
			var s string
			op.groups, s = genGroups(withPrev, &op.hasPrev)
			op.payload = []byte(s)
		} else {
			var js, ls string
			op.joins, js = genGroups(withPrev, &op.hasPrev)
			op.leaves, ls = genGroups(withPrev, &op.hasPrev)
			op.payload = []byte(`{"joins":` + js + `,"leaves":` + ls + `}`)
		}
		ops = append(ops, op)
	}
	return ops
}

func runPresenceProgram(t *testing.T, program []byte, lim presenceLimits) {
	ops := genPresenceOps(program)
	limited := &presenceState{lim: lim}
	unlimited := &presenceState{}
	model := &presenceModel{}
	usePrev := false
	everDropped := false
	for n, op := range ops {
		usePrev = usePrev || op.hasPrev
		for _, p := range []*presenceState{limited, unlimited} {
			var (
				evs []messages.PresenceEvent
				err error
			)
			if op.state {
				evs, err = p.onState(op.joinRef, op.payload)
			} else {
				evs, err = p.onDiff(op.joinRef, op.payload)
			}
			if err != nil {
				t.Fatalf("op %d: generated payload refused: %v\n%s", n, err, op.payload)
			}
			if evs != nil && evs[len(evs)-1].Type != messages.PresenceSync {
				t.Fatalf("op %d: events do not end with sync: %+v", n, evs)
			}
			checkPresenceInvariants(t, p)
			// A clone (what the store keeps) is the same state.
			c := p.clone()
			checkPresenceInvariants(t, c)
			if c.nMetas != p.nMetas || c.nBytes != p.nBytes || !samePresence(c.list(), p.list()) {
				t.Fatalf("op %d: clone differs", n)
			}
		}
		everDropped = everDropped || limited.dropped > 0
		if unlimited.dropped != 0 {
			t.Fatalf("op %d: the unlimited engine dropped %d metas", n, unlimited.dropped)
		}
		if !everDropped && !samePresence(limited.list(), unlimited.list()) {
			t.Fatalf("op %d: limited engine differs without refusing anything:\n%v\n%v", n, limited.list(), unlimited.list())
		}
		if !usePrev {
			if op.state {
				model.onState(op.joinRef, op.groups)
			} else {
				model.onDiff(op.joinRef, op.joins, op.leaves)
			}
			if got, want := unlimited.list(), model.list(); !samePresence(got, want) {
				t.Fatalf("op %d (%s): engine and model differ:\nengine %v\nmodel  %v", n, op.payload, got, want)
			}
		}
	}
}

// checkPresenceInvariants checks the engine's bookkeeping.
func checkPresenceInvariants(t *testing.T, p *presenceState) {
	t.Helper()
	metas, bytes := 0, 0
	for key, e := range p.entries {
		metas += len(e.metas)
		bytes += entryCost(key, e)
		if e.pos < 0 || e.pos >= len(p.keys) || p.keys[e.pos] != key {
			t.Fatalf("entry %q has position %d outside the key order", key, e.pos)
		}
		if len(e.replaced) > maxReplacedRefs {
			t.Fatalf("entry %q remembers %d replaced refs", key, len(e.replaced))
		}
	}
	if metas != p.nMetas || bytes != p.nBytes {
		t.Fatalf("measure %d metas %d bytes, recount %d metas %d bytes", p.nMetas, p.nBytes, metas, bytes)
	}
	if p.lim.metas > 0 && p.nMetas > p.lim.metas {
		t.Fatalf("%d metas over the limit %d", p.nMetas, p.lim.metas)
	}
	if p.lim.bytes > 0 && p.nBytes > p.lim.bytes {
		t.Fatalf("%d bytes over the limit %d", p.nBytes, p.lim.bytes)
	}
	if len(p.keys)-p.dead != len(p.entries) {
		t.Fatalf("%d keys with %d tombstones for %d entries", len(p.keys), p.dead, len(p.entries))
	}
	if len(p.pending) > maxPendingPresenceDiffs {
		t.Fatalf("%d pending diffs", len(p.pending))
	}
	for key, ms := range p.list() {
		if len(ms) == 0 {
			t.Fatalf("listed key %q has no metas", key)
		}
	}
}

func samePresence(a, b messages.PresenceState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, am := range a {
		bm, ok := b[k]
		if !ok || !slices.EqualFunc(am, bm, func(x, y messages.PresenceMeta) bool {
			return x.Ref == y.Ref && string(x.Payload) == string(y.Payload)
		}) {
			return false
		}
	}
	return true
}

// presenceModel is phoenix.js Presence (syncState, syncDiff,
// pendingDiffs) written as plainly as possible, without phx_ref_prev.
type presenceModel struct {
	joinRef string
	state   map[string][]modelMeta
	pending []modelDiff
}

type modelDiff struct {
	joinRef       string
	joins, leaves []modelGroup
}

func refsOf(ms []modelMeta) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		out[m.ref] = true
	}
	return out
}

func (m *presenceModel) onState(joinRef string, groups []modelGroup) {
	m.joinRef = joinRef
	if m.state == nil {
		m.state = map[string][]modelMeta{}
	}
	inNew := map[string]bool{}
	for _, g := range groups {
		inNew[g.key] = true
	}
	var joins, leaves []modelGroup
	for key, cur := range m.state {
		if !inNew[key] {
			leaves = append(leaves, modelGroup{key, cur})
		}
	}
	for _, g := range groups {
		cur, ok := m.state[g.key]
		if !ok {
			joins = append(joins, g)
			continue
		}
		curRefs, newRefs := refsOf(cur), refsOf(g.metas)
		var joined, left []modelMeta
		for _, x := range g.metas {
			if !curRefs[x.ref] {
				joined = append(joined, x)
			}
		}
		for _, x := range cur {
			if !newRefs[x.ref] {
				left = append(left, x)
			}
		}
		if len(joined) > 0 {
			joins = append(joins, modelGroup{g.key, joined})
		}
		if len(left) > 0 {
			leaves = append(leaves, modelGroup{g.key, left})
		}
	}
	m.syncDiff(joins, leaves)
	for _, d := range m.pending {
		if d.joinRef == joinRef {
			m.syncDiff(d.joins, d.leaves)
		}
	}
	m.pending = nil
}

func (m *presenceModel) onDiff(joinRef string, joins, leaves []modelGroup) {
	if m.joinRef == "" || m.joinRef != joinRef {
		kept := m.pending[:0]
		for _, d := range m.pending {
			if d.joinRef == joinRef {
				kept = append(kept, d)
			}
		}
		m.pending = append(kept, modelDiff{joinRef, joins, leaves})
		return
	}
	m.syncDiff(joins, leaves)
}

func (m *presenceModel) syncDiff(joins, leaves []modelGroup) {
	if m.state == nil {
		m.state = map[string][]modelMeta{}
	}
	for _, g := range joins {
		metas := append([]modelMeta(nil), g.metas...)
		if cur, ok := m.state[g.key]; ok {
			joined := refsOf(metas)
			var kept []modelMeta
			for _, x := range cur {
				if !joined[x.ref] {
					kept = append(kept, x)
				}
			}
			metas = append(kept, metas...)
		}
		m.state[g.key] = metas
	}
	for _, g := range leaves {
		cur, ok := m.state[g.key]
		if !ok {
			continue
		}
		gone := refsOf(g.metas)
		var kept []modelMeta
		for _, x := range cur {
			if !gone[x.ref] {
				kept = append(kept, x)
			}
		}
		if len(kept) == 0 {
			delete(m.state, g.key)
		} else {
			m.state[g.key] = kept
		}
	}
}

func (m *presenceModel) list() messages.PresenceState {
	out := messages.PresenceState{}
	for k, ms := range m.state {
		if len(ms) == 0 {
			continue
		}
		pm := make([]messages.PresenceMeta, len(ms))
		for i, x := range ms {
			pm[i] = messages.PresenceMeta{Ref: x.ref, Payload: []byte(x.payload)}
		}
		out[k] = pm
	}
	return out
}
