package registry

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/messages"
)

// This file holds the presence state engine of a channel: a pure port of
// phoenix.js Presence (syncState / syncDiff / pendingDiffs), which
// realtime-js uses to turn presence_state and presence_diff messages into
// join, leave and sync events. It does no I/O and has no clock; the
// registry actor owns one per channel and fills in Channel and Topic of the
// events it returns.
//
// Differences from phoenix.js, all deliberate:
//
//   - phx_ref_prev is honoured (as realtime-js does since 2.110.9;
//     docs/peers.md pain 25): a joined meta that carries phx_ref_prev
//     replaces the meta with that ref at once, so a presence update
//     never shows the member twice, even when the matching leave arrives
//     in a later diff or never. A leave for a ref that was already
//     replaced in an earlier diff is not reported again; within the same
//     diff (the server's usual join + leave for an update) it is
//     reported, as phoenix does. A joined meta whose ref is already
//     known as replaced is stale (phx_refs are unique) and is ignored.
//   - Buffered diffs are tagged with the join_ref they arrived under; when
//     the channel rejoins before a presence_state arrived, those of the
//     earlier join are dropped rather than replayed on top of the newer
//     snapshot, and the buffer is bounded (a channel that never gets a
//     presence_state, because presence is not enabled on it, still receives
//     every diff of the topic).
//   - Event order follows the order of keys in the JSON payloads (JS
//     enumerates integer-like keys first).

// Bounds of the diff buffer kept while waiting for a presence_state. When
// exceeded the oldest buffered diffs are dropped: they are the likeliest to
// be reflected in the snapshot already.
const (
	maxPendingPresenceDiffs = 1024
	maxPendingPresenceBytes = 4 << 20
)

// maxReplacedRefs bounds, per key, the refs remembered as replaced through
// phx_ref_prev whose leave has not arrived yet.
const maxReplacedRefs = 32

// smallRefSet is the size up to which ref lookups scan linearly.
const smallRefSet = 8

// presenceMeta is one meta of a key. payload is never modified after
// creation, so copies of the state may share it.
type presenceMeta struct {
	ref     string // phx_ref
	prev    string // phx_ref_prev, "" if absent
	payload []byte // the meta object without phx_ref and phx_ref_prev
}

// presenceEntry is the state of one key.
type presenceEntry struct {
	pos   int // index of the key in presenceState.keys
	metas []presenceMeta
	// replaced lists refs removed because a joined meta named them in
	// phx_ref_prev and whose own leave has not been seen yet, oldest first.
	replaced []string
}

// presenceGroup is one key of a presence_state or of the joins or leaves
// of a presence_diff, in payload order.
type presenceGroup struct {
	key   string
	metas []presenceMeta
}

// presenceDiff is a parsed presence_diff. It is never modified after
// parsing.
type presenceDiff struct {
	joinRef string // the channel's join_ref when the diff was buffered
	size    int    // payload size, for the buffer bound
	joins   []presenceGroup
	leaves  []presenceGroup
}

// presenceState is the presence engine of one channel. The zero value is
// ready to use. It is not safe for concurrent use; the registry actor owns
// it.
type presenceState struct {
	// joinRef is the channel join_ref the current state was received
	// under; "" until the first presence_state.
	joinRef string
	keys    []string // keys in insertion order, with tombstones
	entries map[string]*presenceEntry
	dead    int // tombstones in keys

	pending      []*presenceDiff // diffs waiting for the state of their join_ref
	pendingBytes int

	// lim bounds the state; the registry sets it before every call.
	lim presenceLimits
	// nMetas and nBytes measure the state (see metaCost and keyCost).
	nMetas, nBytes int
	// dropped counts the metas refused by the last onState or onDiff
	// because of lim.
	dropped int
}

// presenceLimits bounds one channel's presence state against a server
// that sends more than a client can hold. Zero fields mean no bound.
type presenceLimits struct {
	metas int // metas over all keys
	bytes int // metaCost and keyCost summed over the state
}

func (l presenceLimits) set() bool { return l.metas > 0 || l.bytes > 0 }

// Fixed costs charged per meta and per key on top of their strings, so
// that empty metas and keys are not free.
const (
	presenceMetaOverhead = 48
	presenceKeyOverhead  = 64
)

func metaCost(m presenceMeta) int {
	return presenceMetaOverhead + len(m.ref) + len(m.prev) + len(m.payload)
}

// keyCost is the cost of an entry without its metas.
func keyCost(key string, e *presenceEntry) int {
	n := presenceKeyOverhead + len(key)
	for _, r := range e.replaced {
		n += len(r)
	}
	return n
}

// entryCost is the full cost of one key.
func entryCost(key string, e *presenceEntry) int {
	n := keyCost(key, e)
	for _, m := range e.metas {
		n += metaCost(m)
	}
	return n
}

// account adds (sign 1) or removes (sign -1) an entry from the measure.
func (p *presenceState) account(key string, e *presenceEntry, sign int) {
	p.nMetas += sign * len(e.metas)
	p.nBytes += sign * entryCost(key, e)
}

// onState applies a presence_state payload received while the channel's
// join_ref is channelJoinRef: it reconciles the snapshot against the current
// state (syncState), replays the diffs buffered for that join_ref in
// arrival order and returns the resulting join and leave events followed by
// one sync event. A malformed payload leaves the state unchanged and
// returns an error wrapping messages.ErrMalformed.
func (p *presenceState) onState(channelJoinRef string, payload []byte) ([]messages.PresenceEvent, error) {
	groups, err := parsePresenceGroups(payload)
	if err != nil {
		return nil, fmt.Errorf("presence_state: %w", err)
	}
	p.dropped = 0
	p.joinRef = channelJoinRef
	events := p.syncState(groups, nil)
	for _, d := range p.pending {
		if d.joinRef == channelJoinRef {
			events = p.syncDiff(d, events)
		}
	}
	p.dropPending()
	return append(events, messages.PresenceEvent{Type: messages.PresenceSync}), nil
}

// onDiff applies a presence_diff payload received while the channel's
// join_ref is channelJoinRef. Until a presence_state has been received for
// that join_ref the diff is buffered (its content copied) and nil is
// returned; otherwise it is applied (syncDiff) and the resulting join and
// leave events are returned followed by one sync event. A malformed payload
// leaves the state unchanged and returns an error wrapping
// messages.ErrMalformed.
func (p *presenceState) onDiff(channelJoinRef string, payload []byte) ([]messages.PresenceEvent, error) {
	d, err := parsePresenceDiff(payload)
	if err != nil {
		return nil, fmt.Errorf("presence_diff: %w", err)
	}
	p.dropped = 0
	if p.inPendingSyncState(channelJoinRef) {
		d.joinRef = channelJoinRef
		d.size = len(payload)
		p.buffer(d)
		return nil, nil
	}
	events := p.syncDiff(d, nil)
	return append(events, messages.PresenceEvent{Type: messages.PresenceSync}), nil
}

// inPendingSyncState reports whether no presence_state has been received
// for channelJoinRef yet.
func (p *presenceState) inPendingSyncState(channelJoinRef string) bool {
	return p.joinRef == "" || p.joinRef != channelJoinRef
}

// buffer queues d, dropping diffs of other join_refs and, beyond the
// bounds, the oldest ones (never d itself).
func (p *presenceState) buffer(d *presenceDiff) {
	kept := p.pending[:0]
	size := 0
	for _, old := range p.pending {
		if old.joinRef == d.joinRef {
			kept = append(kept, old)
			size += old.size
		}
	}
	clear(p.pending[len(kept):])
	kept = append(kept, d)
	size += d.size
	drop := 0
	for drop < len(kept)-1 && (len(kept)-drop > maxPendingPresenceDiffs || size > maxPendingPresenceBytes) {
		size -= kept[drop].size
		drop++
	}
	if drop > 0 {
		n := copy(kept, kept[drop:])
		clear(kept[n:])
		kept = kept[:n]
	}
	p.pending, p.pendingBytes = kept, size
}

// dropPending empties the diff buffer.
func (p *presenceState) dropPending() {
	p.pending, p.pendingBytes = nil, 0
}

// list returns a deep copy of the state, without keys that have no metas.
func (p *presenceState) list() messages.PresenceState {
	out := make(messages.PresenceState, len(p.entries))
	for key, e := range p.entries {
		if len(e.metas) > 0 {
			out[key] = exportMetas(e.metas)
		}
	}
	return out
}

// clone returns an independent copy of p (payload bytes, which are never
// modified, are shared).
func (p *presenceState) clone() *presenceState {
	c := &presenceState{joinRef: p.joinRef, pendingBytes: p.pendingBytes, lim: p.lim}
	if len(p.pending) > 0 {
		c.pending = append([]*presenceDiff(nil), p.pending...)
	}
	p.each(func(key string, e *presenceEntry) {
		ce := c.add(key)
		c.account(key, ce, -1)
		ce.metas = append([]presenceMeta(nil), e.metas...)
		if len(e.replaced) > 0 {
			ce.replaced = append([]string(nil), e.replaced...)
		}
		c.account(key, ce, 1)
	})
	return c
}

// each calls fn for every key in insertion order. fn must not add or
// remove keys.
func (p *presenceState) each(fn func(key string, e *presenceEntry)) {
	for i, key := range p.keys {
		if e := p.entries[key]; e != nil && e.pos == i {
			fn(key, e)
		}
	}
}

// add creates an empty entry for key, last in insertion order.
func (p *presenceState) add(key string) *presenceEntry {
	if p.entries == nil {
		p.entries = make(map[string]*presenceEntry)
	}
	e := &presenceEntry{pos: len(p.keys)}
	p.keys = append(p.keys, key)
	p.entries[key] = e
	p.account(key, e, 1)
	return e
}

// remove deletes key, compacting the key order when tombstones dominate.
func (p *presenceState) remove(key string) {
	e, ok := p.entries[key]
	if !ok {
		return
	}
	p.account(key, e, -1)
	delete(p.entries, key)
	p.dead++
	if p.dead > 16 && p.dead > len(p.keys)/2 {
		keys := make([]string, 0, len(p.entries))
		p.each(func(key string, e *presenceEntry) {
			e.pos = len(keys)
			keys = append(keys, key)
		})
		p.keys, p.dead = keys, 0
	}
}

// syncState reconciles the snapshot groups against the state, as
// phoenix.js Presence.syncState: keys missing from the snapshot leave;
// for keys present in both, metas with new refs join and metas whose refs
// vanished leave; new keys join. The joins and leaves are then applied as
// one diff.
func (p *presenceState) syncState(groups []presenceGroup, events []messages.PresenceEvent) []messages.PresenceEvent {
	d := &presenceDiff{}
	if len(p.entries) > 0 {
		inNew := make(map[string]struct{}, len(groups))
		for _, g := range groups {
			inNew[g.key] = struct{}{}
		}
		p.each(func(key string, e *presenceEntry) {
			if _, ok := inNew[key]; !ok {
				d.leaves = append(d.leaves, presenceGroup{key: key, metas: e.metas})
			}
		})
	}
	for _, g := range groups {
		e := p.entries[g.key]
		if e == nil {
			d.joins = append(d.joins, g)
			continue
		}
		curRefs, newRefs := newRefSet(e.metas), newRefSet(g.metas)
		var joined, left []presenceMeta
		for _, m := range g.metas {
			if !curRefs.has(m.ref) {
				joined = append(joined, m)
			}
		}
		for _, m := range e.metas {
			if !newRefs.has(m.ref) {
				left = append(left, m)
			}
		}
		if len(joined) > 0 {
			d.joins = append(d.joins, presenceGroup{key: g.key, metas: joined})
		}
		if len(left) > 0 {
			d.leaves = append(d.leaves, presenceGroup{key: g.key, metas: left})
		}
	}
	return p.syncDiff(d, events)
}

// syncDiff applies d as phoenix.js Presence.syncDiff, with phx_ref_prev
// honoured: first every join (stale metas, already replaced, are dropped;
// the key's metas become the current metas whose refs are neither joined
// nor replaced, followed by the joined metas), then every leave (metas removed by ref, empty keys deleted). It
// appends the events to events. d is not modified.
func (p *presenceState) syncDiff(d *presenceDiff, events []messages.PresenceEvent) []messages.PresenceEvent {
	// With limits, the joins may use what this diff's leaves will free
	// for sure (see freedBy), so an update at the limit still applies.
	var room presenceRoom
	if p.lim.set() {
		room = p.roomFor(d)
	}
	// replacedNow holds the metas replaced through phx_ref_prev by this
	// diff's joins.
	var replacedNow map[keyRef]struct{}
	for _, g := range d.joins {
		e := p.entries[g.key]
		var current []presenceMeta
		joined := g.metas
		if e != nil {
			current = e.metas
			joined = e.withoutReplaced(g.metas)
			if len(joined) == 0 && len(g.metas) > 0 {
				// Every meta was superseded already (a diff replayed
				// after a newer snapshot): nothing joins.
				continue
			}
		}
		if p.lim.set() {
			var fits bool
			joined, fits = p.fit(g.key, e, joined, room)
			if !fits {
				continue // not even the key fits
			}
			if len(joined) == 0 && len(g.metas) > 0 {
				continue // every meta was refused
			}
		}
		metas := joinMetas(current, joined)
		joinedRefs := newRefSet(joined)
		for _, m := range current {
			if !joinedRefs.has(m.ref) && replacedBy(joined, m.ref) {
				if replacedNow == nil {
					replacedNow = make(map[keyRef]struct{})
				}
				replacedNow[keyRef{g.key, m.ref}] = struct{}{}
			}
		}
		if e == nil {
			e = p.add(g.key)
		}
		p.account(g.key, e, -1)
		e.metas = metas
		for _, m := range joined {
			if m.prev != "" {
				e.addReplaced(m.prev)
			}
		}
		p.account(g.key, e, 1)
		events = append(events, messages.PresenceEvent{
			Type:    messages.PresenceJoin,
			Key:     g.key,
			Current: exportMetas(current),
			Joined:  exportMetas(joined),
		})
	}
	for _, g := range d.leaves {
		e := p.entries[g.key]
		if e == nil {
			continue
		}
		leftRefs, curRefs := newRefSet(g.metas), newRefSet(e.metas)
		kept := make([]presenceMeta, 0, len(e.metas))
		for _, m := range e.metas {
			if !leftRefs.has(m.ref) {
				kept = append(kept, m)
			}
		}
		p.account(g.key, e, -1)
		left := make([]presenceMeta, 0, len(g.metas))
		for _, m := range g.metas {
			switch {
			case curRefs.has(m.ref):
				left = append(left, m)
			case e.dropReplaced(m.ref):
				// Replaced through phx_ref_prev: this is the companion
				// leave of an update. Report it only alongside the join
				// of the same diff; a later one would be a ghost leave.
				if _, now := replacedNow[keyRef{g.key, m.ref}]; now {
					left = append(left, m)
				}
			default:
				// Unknown ref: phoenix reports it all the same.
				left = append(left, m)
			}
		}
		e.metas = kept
		p.account(g.key, e, 1)
		if len(g.metas) == 0 || len(left) > 0 {
			events = append(events, messages.PresenceEvent{
				Type:    messages.PresenceLeave,
				Key:     g.key,
				Current: exportMetas(kept),
				Left:    exportMetas(left),
			})
		}
		if len(kept) == 0 {
			p.remove(g.key)
		}
	}
	return events
}

// joinMetas returns the metas of a key after joined joins it: the current
// metas whose refs are neither joined again nor replaced through
// phx_ref_prev by a joined meta, followed by the joined metas.
func joinMetas(current, joined []presenceMeta) []presenceMeta {
	joinedRefs := newRefSet(joined)
	metas := make([]presenceMeta, 0, len(current)+len(joined))
	for _, m := range current {
		if joinedRefs.has(m.ref) || replacedBy(joined, m.ref) {
			continue
		}
		metas = append(metas, m)
	}
	return append(metas, joined...)
}

// presenceRoom is how far the joins of one diff may take the measure:
// the limits plus what the diff's leaves free for sure.
type presenceRoom struct{ metas, bytes int }

// roomFor computes the room of d: a current meta frees its cost when a
// leave of d names its ref and no join of d for that key names the ref
// (as phx_ref or phx_ref_prev), since the join phase then leaves it alone
// and the leave phase removes it.
func (p *presenceState) roomFor(d *presenceDiff) presenceRoom {
	room := presenceRoom{metas: p.lim.metas, bytes: p.lim.bytes}
	if len(d.leaves) == 0 {
		return room
	}
	named := make(map[keyRef]struct{})
	for _, g := range d.joins {
		for _, m := range g.metas {
			named[keyRef{g.key, m.ref}] = struct{}{}
			if m.prev != "" {
				named[keyRef{g.key, m.prev}] = struct{}{}
			}
		}
	}
	leaving := make(map[keyRef]struct{})
	for _, g := range d.leaves {
		for _, m := range g.metas {
			if _, ok := named[keyRef{g.key, m.ref}]; !ok {
				leaving[keyRef{g.key, m.ref}] = struct{}{}
			}
		}
	}
	for key, e := range p.entries {
		for _, m := range e.metas {
			if _, ok := leaving[keyRef{key, m.ref}]; ok {
				room.metas++
				room.bytes += metaCost(m)
			}
		}
	}
	return room
}

// fit returns the longest prefix of joined whose join keeps the measure
// within room (all of joined when it fits), counting the refused metas in
// p.dropped. fits is false when not even the key alone fits (a new key).
func (p *presenceState) fit(key string, e *presenceEntry, joined []presenceMeta, room presenceRoom) ([]presenceMeta, bool) {
	var current []presenceMeta
	baseMetas, baseBytes := p.nMetas, p.nBytes
	keyBytes := presenceKeyOverhead + len(key)
	if e != nil {
		current = e.metas
		baseMetas -= len(e.metas)
		baseBytes -= entryCost(key, e)
		keyBytes = keyCost(key, e)
	}
	within := func(k int) bool {
		metas := joinMetas(current, joined[:k])
		n, b := baseMetas+len(metas), baseBytes+keyBytes
		for _, m := range metas {
			b += metaCost(m)
		}
		for _, m := range joined[:k] {
			b += len(m.prev) // remembered as replaced (an upper bound)
		}
		return (p.lim.metas <= 0 || n <= room.metas) && (p.lim.bytes <= 0 || b <= room.bytes)
	}
	if within(len(joined)) {
		return joined, true
	}
	if !within(0) {
		p.dropped += len(joined)
		return nil, false
	}
	lo, hi := 0, len(joined) // within(lo), !within(hi)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if within(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	p.dropped += len(joined) - lo
	return joined[:lo:lo], true
}

// keyRef names one meta of one key.
type keyRef struct{ key, ref string }

// withoutReplaced returns metas without those whose ref e already knows
// as replaced (phx_refs are unique, so such a meta is stale); metas itself
// when there is none.
func (e *presenceEntry) withoutReplaced(metas []presenceMeta) []presenceMeta {
	if len(e.replaced) == 0 {
		return metas
	}
	var out []presenceMeta
	for i, m := range metas {
		if !e.isReplaced(m.ref) {
			if out != nil {
				out = append(out, m)
			}
			continue
		}
		if out == nil {
			out = append(make([]presenceMeta, 0, len(metas)-1), metas[:i]...)
		}
	}
	if out == nil {
		return metas
	}
	return out
}

// isReplaced reports whether ref is remembered as replaced.
func (e *presenceEntry) isReplaced(ref string) bool {
	for _, r := range e.replaced {
		if r == ref {
			return true
		}
	}
	return false
}

// replacedBy reports whether one of metas names ref in phx_ref_prev.
func replacedBy(metas []presenceMeta, ref string) bool {
	for _, m := range metas {
		if m.prev != "" && m.prev == ref {
			return true
		}
	}
	return false
}

// addReplaced remembers ref as replaced, forgetting the oldest beyond
// maxReplacedRefs.
func (e *presenceEntry) addReplaced(ref string) {
	if e.isReplaced(ref) {
		return
	}
	if len(e.replaced) >= maxReplacedRefs {
		e.replaced = append(e.replaced[:0], e.replaced[1:]...)
	}
	e.replaced = append(e.replaced, ref)
}

// dropReplaced forgets ref as replaced and reports whether it was.
func (e *presenceEntry) dropReplaced(ref string) bool {
	for i, r := range e.replaced {
		if r == ref {
			e.replaced = append(e.replaced[:i:i], e.replaced[i+1:]...)
			if len(e.replaced) == 0 {
				e.replaced = nil
			}
			return true
		}
	}
	return false
}

// refSet answers membership of phx_refs, scanning small sets linearly.
type refSet struct {
	metas []presenceMeta
	m     map[string]struct{}
}

func newRefSet(metas []presenceMeta) refSet {
	s := refSet{metas: metas}
	if len(metas) > smallRefSet {
		s.m = make(map[string]struct{}, len(metas))
		for _, m := range metas {
			s.m[m.ref] = struct{}{}
		}
	}
	return s
}

func (s refSet) has(ref string) bool {
	if s.m != nil {
		_, ok := s.m[ref]
		return ok
	}
	for _, m := range s.metas {
		if m.ref == ref {
			return true
		}
	}
	return false
}

// exportMetas returns metas as a fresh, non-nil slice of
// messages.PresenceMeta with copied payloads.
func exportMetas(metas []presenceMeta) []messages.PresenceMeta {
	out := make([]messages.PresenceMeta, len(metas))
	for i, m := range metas {
		out[i] = messages.PresenceMeta{Ref: m.ref, Payload: bytes.Clone(m.payload)}
	}
	return out
}

// errPresence builds a malformed-payload error. It never quotes payload
// bytes: presence payloads may carry personal data.
func errPresence(what string) error {
	return fmt.Errorf("%w: %s", messages.ErrMalformed, what)
}

// parsePresenceDiff parses a presence_diff payload:
// {"joins":{key:{"metas":[…]}},"leaves":{…}}. Missing or null joins and
// leaves are empty; other members are ignored.
func parsePresenceDiff(payload []byte) (*presenceDiff, error) {
	var joins, leaves []byte
	err := jsonscan.ObjectEach(payload, func(k, v []byte) error {
		switch {
		case jsonscan.KeyEquals(k, "joins"):
			joins = v
		case jsonscan.KeyEquals(k, "leaves"):
			leaves = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := &presenceDiff{}
	if joins != nil && !jsonscan.IsNull(joins) {
		if d.joins, err = parsePresenceGroups(joins); err != nil {
			return nil, fmt.Errorf("joins: %w", err)
		}
	}
	if leaves != nil && !jsonscan.IsNull(leaves) {
		if d.leaves, err = parsePresenceGroups(leaves); err != nil {
			return nil, fmt.Errorf("leaves: %w", err)
		}
	}
	return d, nil
}

// parsePresenceGroups parses {key:{"metas":[meta…]},…} in key order. As
// with JSON.parse, a repeated key keeps its first position and its last
// value. The result does not alias data.
func parsePresenceGroups(data []byte) ([]presenceGroup, error) {
	var groups []presenceGroup
	var index map[string]int
	quoted := make([]byte, 0, 64)
	err := jsonscan.ObjectEach(data, func(k, v []byte) error {
		quoted = append(append(append(quoted[:0], '"'), k...), '"')
		key, err := jsonscan.Unquote(quoted)
		if err != nil {
			return err
		}
		metas, err := parsePresenceMetas(v)
		if err != nil {
			return err
		}
		if i, ok := index[key]; ok {
			groups[i].metas = metas
			return nil
		}
		if index == nil {
			index = make(map[string]int)
		}
		index[key] = len(groups)
		groups = append(groups, presenceGroup{key: key, metas: metas})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return groups, nil
}

// parsePresenceMetas parses {"metas":[meta…],…}; other members (such as
// those a server-side fetch/2 adds) are ignored.
func parsePresenceMetas(v []byte) ([]presenceMeta, error) {
	if len(v) == 0 || v[0] != '{' {
		return nil, errPresence("presence entry is not an object")
	}
	var raw []byte
	err := jsonscan.ObjectEach(v, func(k, val []byte) error {
		if jsonscan.KeyEquals(k, "metas") {
			raw = val
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errPresence(`presence entry has no "metas"`)
	}
	if raw[0] != '[' {
		return nil, errPresence(`"metas" is not an array`)
	}
	metas := []presenceMeta{}
	err = jsonscan.ArrayEach(raw, func(_ int, m []byte) error {
		meta, err := parsePresenceMeta(m)
		if err != nil {
			return err
		}
		metas = append(metas, meta)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return metas, nil
}

// parsePresenceMeta parses one meta object. phx_ref must be a string;
// phx_ref_prev may be a string, null or absent. The payload keeps every
// other member, compacted, in order.
func parsePresenceMeta(v []byte) (presenceMeta, error) {
	if len(v) == 0 || v[0] != '{' {
		return presenceMeta{}, errPresence("presence meta is not an object")
	}
	var m presenceMeta
	hasRef := false
	payload := make([]byte, 0, len(v))
	payload = append(payload, '{')
	err := jsonscan.ObjectEach(v, func(k, val []byte) error {
		switch {
		case jsonscan.KeyEquals(k, "phx_ref"):
			if len(val) == 0 || val[0] != '"' {
				return errPresence(`presence meta "phx_ref" is not a string`)
			}
			ref, err := jsonscan.Unquote(val)
			if err != nil {
				return err
			}
			m.ref, hasRef = ref, true
		case jsonscan.KeyEquals(k, "phx_ref_prev"):
			if jsonscan.IsNull(val) {
				m.prev = ""
				return nil
			}
			if len(val) == 0 || val[0] != '"' {
				return errPresence(`presence meta "phx_ref_prev" is not a string`)
			}
			prev, err := jsonscan.Unquote(val)
			if err != nil {
				return err
			}
			m.prev = prev
		default:
			if len(payload) > 1 {
				payload = append(payload, ',')
			}
			payload = append(payload, '"')
			payload = append(payload, k...)
			payload = append(payload, '"', ':')
			var err error
			if payload, err = appendCompact(payload, val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return presenceMeta{}, err
	}
	if !hasRef {
		return presenceMeta{}, errPresence(`presence meta has no "phx_ref"`)
	}
	m.payload = append(payload, '}')
	return m, nil
}

// appendCompact appends the valid JSON value v to dst without
// insignificant whitespace.
func appendCompact(dst, v []byte) ([]byte, error) {
	if !bytes.ContainsAny(v, " \t\r\n") {
		return append(dst, v...), nil
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, v); err != nil {
		// Unreachable: the scanner validated v.
		return nil, errPresence("presence meta value is not valid JSON")
	}
	return buf.Bytes(), nil
}
