package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/supabase-go/realtime/messages"
)

// presenceStep feeds one presence_state or presence_diff to the engine.
type presenceStep struct {
	state   bool   // presence_state when true, presence_diff otherwise
	joinRef string // the channel's join_ref at arrival
	payload string
	// want is the events rendered by fmtPresenceEvents; nil means the
	// call must return no events (a buffered diff).
	want []string
}

func stateStep(joinRef, payload string, want ...string) presenceStep {
	return presenceStep{state: true, joinRef: joinRef, payload: payload, want: want}
}

func diffStep(joinRef, payload string, want ...string) presenceStep {
	return presenceStep{joinRef: joinRef, payload: payload, want: want}
}

// fmtPresenceMetas renders metas as [ref{payload} ref{payload}].
func fmtPresenceMetas(metas []messages.PresenceMeta) string {
	parts := make([]string, len(metas))
	for i, m := range metas {
		parts[i] = m.Ref + string(m.Payload)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// fmtPresenceEvents renders events compactly and checks the invariants
// every event must hold.
func fmtPresenceEvents(t *testing.T, evs []messages.PresenceEvent) []string {
	t.Helper()
	if evs == nil {
		return nil
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		if ev.Channel != "" || ev.Topic != "" {
			t.Errorf("event %d: Channel/Topic %q/%q, want them empty", i, ev.Channel, ev.Topic)
		}
		switch ev.Type {
		case messages.PresenceSync:
			if ev.Key != "" || ev.Current != nil || ev.Joined != nil || ev.Left != nil {
				t.Errorf("event %d: sync carries data: %+v", i, ev)
			}
			out[i] = "sync"
		case messages.PresenceJoin:
			if ev.Current == nil || ev.Joined == nil || ev.Left != nil {
				t.Errorf("event %d: join slices: %+v", i, ev)
			}
			out[i] = fmt.Sprintf("join %s current=%s joined=%s", ev.Key, fmtPresenceMetas(ev.Current), fmtPresenceMetas(ev.Joined))
		case messages.PresenceLeave:
			if ev.Current == nil || ev.Left == nil || ev.Joined != nil {
				t.Errorf("event %d: leave slices: %+v", i, ev)
			}
			out[i] = fmt.Sprintf("leave %s current=%s left=%s", ev.Key, fmtPresenceMetas(ev.Current), fmtPresenceMetas(ev.Left))
		default:
			t.Errorf("event %d: unknown type %q", i, ev.Type)
		}
		if ev.ChannelName() != ev.Channel {
			t.Errorf("event %d: ChannelName %q", i, ev.ChannelName())
		}
	}
	return out
}

// fmtPresenceList renders a state as "key:[…] key:[…]" in key order.
func fmtPresenceList(s messages.PresenceState) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + fmtPresenceMetas(s[k])
	}
	return strings.Join(parts, " ")
}

func runPresenceSteps(t *testing.T, p *presenceState, steps []presenceStep) {
	t.Helper()
	for i, st := range steps {
		var evs []messages.PresenceEvent
		var err error
		if st.state {
			evs, err = p.onState(st.joinRef, []byte(st.payload))
		} else {
			evs, err = p.onDiff(st.joinRef, []byte(st.payload))
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := fmtPresenceEvents(t, evs)
		if !reflect.DeepEqual(got, st.want) {
			t.Fatalf("step %d events:\n got %q\nwant %q", i, got, st.want)
		}
	}
}

func TestPresenceStateSequences(t *testing.T) {
	tests := []struct {
		name     string
		steps    []presenceStep
		wantList string
	}{
		{
			// docs/protocol.md §10 item 20 (realtime-js RealtimeChannel.presence.test.ts).
			name: "realtime-js join callback",
			steps: []presenceStep{
				stateStep("1", `{}`, "sync"),
				diffStep("1", `{"joins":{"user-123":{"metas":[{"phx_ref":"phoenix_ref","name":"John","user_id":"user-123"}]}},"leaves":{}}`,
					`join user-123 current=[] joined=[phoenix_ref{"name":"John","user_id":"user-123"}]`, "sync"),
			},
			wantList: `user-123:[phoenix_ref{"name":"John","user_id":"user-123"}]`,
		},
		{
			// docs/protocol.md §10 item 10 (server presence_test.exs): the number
			// keeps its exact text.
			name: "server track diff",
			steps: []presenceStep{
				stateStep("1", `{}`, "sync"),
				diffStep("1", `{"joins":{"0d3f6a2e-uuid":{"metas":[{"phx_ref":"GBk3rmPYQjyInEWh","name":"realtime_presence_96","t":1814.7000000029802}]}},"leaves":{}}`,
					`join 0d3f6a2e-uuid current=[] joined=[GBk3rmPYQjyInEWh{"name":"realtime_presence_96","t":1814.7000000029802}]`, "sync"),
			},
			wantList: `0d3f6a2e-uuid:[GBk3rmPYQjyInEWh{"name":"realtime_presence_96","t":1814.7000000029802}]`,
		},
		{
			name: "state then diff",
			steps: []presenceStep{
				stateStep("1", `{"alice":{"metas":[{"phx_ref":"a1","u":"alice"}]},"bob":{"metas":[{"phx_ref":"b1","u":"bob"}]}}`,
					`join alice current=[] joined=[a1{"u":"alice"}]`,
					`join bob current=[] joined=[b1{"u":"bob"}]`,
					"sync"),
				diffStep("1", `{"joins":{"carol":{"metas":[{"phx_ref":"c1","u":"carol"}]}},"leaves":{"bob":{"metas":[{"phx_ref":"b1","u":"bob"}]}}}`,
					`join carol current=[] joined=[c1{"u":"carol"}]`,
					`leave bob current=[] left=[b1{"u":"bob"}]`,
					"sync"),
			},
			wantList: `alice:[a1{"u":"alice"}] carol:[c1{"u":"carol"}]`,
		},
		{
			name: "diffs before the state are buffered and replayed in order",
			steps: []presenceStep{
				diffStep("1", `{"joins":{"carol":{"metas":[{"phx_ref":"c1"}]}},"leaves":{}}`),
				diffStep("1", `{"joins":{},"leaves":{"alice":{"metas":[{"phx_ref":"a1"}]}}}`),
				diffStep("1", `{"joins":{"carol":{"metas":[{"phx_ref":"c2"}]}}}`),
				stateStep("1", `{"alice":{"metas":[{"phx_ref":"a1"}]},"bob":{"metas":[{"phx_ref":"b1"}]}}`,
					`join alice current=[] joined=[a1{}]`,
					`join bob current=[] joined=[b1{}]`,
					`join carol current=[] joined=[c1{}]`,
					`leave alice current=[] left=[a1{}]`,
					`join carol current=[c1{}] joined=[c2{}]`,
					"sync"),
				diffStep("1", `{"joins":{},"leaves":{"bob":{"metas":[{"phx_ref":"b1"}]}}}`,
					`leave bob current=[] left=[b1{}]`, "sync"),
			},
			wantList: `carol:[c1{} c2{}]`,
		},
		{
			name: "rejoin buffers again and the new state reconciles",
			steps: []presenceStep{
				stateStep("1", `{"alice":{"metas":[{"phx_ref":"a1"}]},"bob":{"metas":[{"phx_ref":"b1"}]},"dave":{"metas":[{"phx_ref":"d1"},{"phx_ref":"d2"}]}}`,
					`join alice current=[] joined=[a1{}]`,
					`join bob current=[] joined=[b1{}]`,
					`join dave current=[] joined=[d1{} d2{}]`,
					"sync"),
				// The socket reconnected: join_ref 2, no state yet.
				diffStep("2", `{"joins":{"erin":{"metas":[{"phx_ref":"e1"}]}},"leaves":{}}`),
				stateStep("2", `{"carol":{"metas":[{"phx_ref":"c1"}]},"bob":{"metas":[{"phx_ref":"b1"}]},"dave":{"metas":[{"phx_ref":"d1"},{"phx_ref":"d3"}]}}`,
					`join carol current=[] joined=[c1{}]`,
					`join dave current=[d1{} d2{}] joined=[d3{}]`,
					`leave alice current=[] left=[a1{}]`,
					`leave dave current=[d1{} d3{}] left=[d2{}]`,
					`join erin current=[] joined=[e1{}]`,
					"sync"),
				diffStep("2", `{"joins":{},"leaves":{"carol":{"metas":[{"phx_ref":"c1"}]}}}`,
					`leave carol current=[] left=[c1{}]`, "sync"),
			},
			wantList: `bob:[b1{}] dave:[d1{} d3{}] erin:[e1{}]`,
		},
		{
			name: "diffs buffered under an earlier join_ref are dropped",
			steps: []presenceStep{
				diffStep("1", `{"joins":{"ghost":{"metas":[{"phx_ref":"g1"}]}},"leaves":{}}`),
				diffStep("2", `{"joins":{"ghost2":{"metas":[{"phx_ref":"g2"}]}},"leaves":{}}`),
				diffStep("3", `{"joins":{"erin":{"metas":[{"phx_ref":"e1"}]}},"leaves":{}}`),
				stateStep("3", `{"bob":{"metas":[{"phx_ref":"b1"}]}}`,
					`join bob current=[] joined=[b1{}]`,
					`join erin current=[] joined=[e1{}]`,
					"sync"),
			},
			wantList: `bob:[b1{}] erin:[e1{}]`,
		},
		{
			name: "unchanged state on rejoin emits only sync",
			steps: []presenceStep{
				stateStep("1", `{"bob":{"metas":[{"phx_ref":"b1","x":1}]}}`, `join bob current=[] joined=[b1{"x":1}]`, "sync"),
				stateStep("2", `{"bob":{"metas":[{"phx_ref":"b1","x":1}]}}`, "sync"),
				stateStep("3", `{}`, `leave bob current=[] left=[b1{"x":1}]`, "sync"),
			},
			wantList: ``,
		},
		{
			name: "two sockets under one key",
			steps: []presenceStep{
				stateStep("1", `{}`, "sync"),
				diffStep("1", `{"joins":{"u":{"metas":[{"phx_ref":"s1","tab":1}]}},"leaves":{}}`,
					`join u current=[] joined=[s1{"tab":1}]`, "sync"),
				diffStep("1", `{"joins":{"u":{"metas":[{"phx_ref":"s2","tab":2}]}},"leaves":{}}`,
					`join u current=[s1{"tab":1}] joined=[s2{"tab":2}]`, "sync"),
				diffStep("1", `{"joins":{},"leaves":{"u":{"metas":[{"phx_ref":"s1","tab":1}]}}}`,
					`leave u current=[s2{"tab":2}] left=[s1{"tab":1}]`, "sync"),
			},
			wantList: `u:[s2{"tab":2}]`,
		},
		{
			name: "two metas joining in one diff",
			steps: []presenceStep{
				stateStep("1", `{}`, "sync"),
				diffStep("1", `{"joins":{"u":{"metas":[{"phx_ref":"s1"},{"phx_ref":"s2"}]}},"leaves":{}}`,
					`join u current=[] joined=[s1{} s2{}]`, "sync"),
				diffStep("1", `{"joins":{},"leaves":{"u":{"metas":[{"phx_ref":"s2"}]}}}`,
					`leave u current=[s1{}] left=[s2{}]`, "sync"),
			},
			wantList: `u:[s1{}]`,
		},
		{
			// docs/peers.md pain 25: track() with a changed payload.
			name: "update with join and leave in one diff",
			steps: []presenceStep{
				stateStep("1", `{"user-123":{"metas":[{"phx_ref":"r1","status":"online"}]}}`,
					`join user-123 current=[] joined=[r1{"status":"online"}]`, "sync"),
				diffStep("1", `{"joins":{"user-123":{"metas":[{"phx_ref":"r2","phx_ref_prev":"r1","status":"away"}]}},"leaves":{"user-123":{"metas":[{"phx_ref":"r1","status":"online"}]}}}`,
					`join user-123 current=[r1{"status":"online"}] joined=[r2{"status":"away"}]`,
					`leave user-123 current=[r2{"status":"away"}] left=[r1{"status":"online"}]`,
					"sync"),
				// The member disconnects: no ghost is left behind.
				diffStep("1", `{"joins":{},"leaves":{"user-123":{"metas":[{"phx_ref":"r2","phx_ref_prev":"r1","status":"away"}]}}}`,
					`leave user-123 current=[] left=[r2{"status":"away"}]`, "sync"),
			},
			wantList: ``,
		},
		{
			name: "update whose leave arrives in a later diff",
			steps: []presenceStep{
				stateStep("1", `{"k":{"metas":[{"phx_ref":"r1","v":1}]}}`, `join k current=[] joined=[r1{"v":1}]`, "sync"),
				diffStep("1", `{"joins":{"k":{"metas":[{"phx_ref":"r2","phx_ref_prev":"r1","v":2}]}},"leaves":{}}`,
					`join k current=[r1{"v":1}] joined=[r2{"v":2}]`, "sync"),
				diffStep("1", `{"joins":{},"leaves":{"k":{"metas":[{"phx_ref":"r1","v":1}]}}}`, "sync"),
				// A second update, leave again late.
				diffStep("1", `{"joins":{"k":{"metas":[{"phx_ref":"r3","phx_ref_prev":"r2","v":3}]}}}`,
					`join k current=[r2{"v":2}] joined=[r3{"v":3}]`, "sync"),
			},
			wantList: `k:[r3{"v":3}]`,
		},
		{
			name: "update whose leave never arrives, then untrack",
			steps: []presenceStep{
				stateStep("1", `{"k":{"metas":[{"phx_ref":"r1"}]}}`, `join k current=[] joined=[r1{}]`, "sync"),
				diffStep("1", `{"joins":{"k":{"metas":[{"phx_ref":"r2","phx_ref_prev":"r1"}]}}}`,
					`join k current=[r1{}] joined=[r2{}]`, "sync"),
				diffStep("1", `{"leaves":{"k":{"metas":[{"phx_ref":"r2","phx_ref_prev":"r1"}]}}}`,
					`leave k current=[] left=[r2{}]`, "sync"),
			},
			wantList: ``,
		},
		{
			name: "update of one of two sockets keeps the other",
			steps: []presenceStep{
				stateStep("1", `{"u":{"metas":[{"phx_ref":"s1","v":1},{"phx_ref":"t1","v":1}]}}`,
					`join u current=[] joined=[s1{"v":1} t1{"v":1}]`, "sync"),
				diffStep("1", `{"joins":{"u":{"metas":[{"phx_ref":"s2","phx_ref_prev":"s1","v":2}]}},"leaves":{"u":{"metas":[{"phx_ref":"s1","v":1}]}}}`,
					`join u current=[s1{"v":1} t1{"v":1}] joined=[s2{"v":2}]`,
					`leave u current=[t1{"v":1} s2{"v":2}] left=[s1{"v":1}]`,
					"sync"),
			},
			wantList: `u:[t1{"v":1} s2{"v":2}]`,
		},
		{
			name: "update while disconnected reconciles on the new state",
			steps: []presenceStep{
				stateStep("1", `{"k":{"metas":[{"phx_ref":"r1","v":1}]}}`, `join k current=[] joined=[r1{"v":1}]`, "sync"),
				stateStep("2", `{"k":{"metas":[{"phx_ref":"r2","phx_ref_prev":"r1","v":2}]}}`,
					`join k current=[r1{"v":1}] joined=[r2{"v":2}]`,
					`leave k current=[r2{"v":2}] left=[r1{"v":1}]`,
					"sync"),
			},
			wantList: `k:[r2{"v":2}]`,
		},
		{
			// The snapshot already holds the update that buffered diffs
			// describe: replaying them neither resurrects r1 nor reports
			// its leave.
			name: "snapshot newer than buffered update diffs",
			steps: []presenceStep{
				diffStep("1", `{"joins":{"k":{"metas":[{"phx_ref":"r1","v":1}]}},"leaves":{}}`),
				diffStep("1", `{"joins":{"k":{"metas":[{"phx_ref":"r2","phx_ref_prev":"r1","v":2}]}},"leaves":{"k":{"metas":[{"phx_ref":"r1","v":1}]}}}`),
				stateStep("1", `{"k":{"metas":[{"phx_ref":"r2","phx_ref_prev":"r1","v":2}]}}`,
					`join k current=[] joined=[r2{"v":2}]`,
					`join k current=[r2{"v":2}] joined=[r2{"v":2}]`,
					"sync"),
			},
			wantList: `k:[r2{"v":2}]`,
		},
		{
			// phoenix without phx_ref_prev: both metas until the leave.
			name: "join without phx_ref_prev keeps both metas",
			steps: []presenceStep{
				stateStep("1", `{"k":{"metas":[{"phx_ref":"r1"}]}}`, `join k current=[] joined=[r1{}]`, "sync"),
				diffStep("1", `{"joins":{"k":{"metas":[{"phx_ref":"r2"}]}}}`, `join k current=[r1{}] joined=[r2{}]`, "sync"),
			},
			wantList: `k:[r1{} r2{}]`,
		},
		{
			name: "untrack leave",
			steps: []presenceStep{
				stateStep("1", `{"k":{"metas":[{"phx_ref":"r1","n":"me"}]},"j":{"metas":[{"phx_ref":"x1"}]}}`,
					`join k current=[] joined=[r1{"n":"me"}]`, `join j current=[] joined=[x1{}]`, "sync"),
				diffStep("1", `{"joins":{},"leaves":{"k":{"metas":[{"phx_ref":"r1","n":"me"}]}}}`,
					`leave k current=[] left=[r1{"n":"me"}]`, "sync"),
				// A repeated leave for a key that is gone: nothing.
				diffStep("1", `{"joins":{},"leaves":{"k":{"metas":[{"phx_ref":"r1","n":"me"}]}}}`, "sync"),
			},
			wantList: `j:[x1{}]`,
		},
		{
			name: "leave of an unknown ref on a live key is reported as phoenix does",
			steps: []presenceStep{
				stateStep("1", `{"k":{"metas":[{"phx_ref":"r1"}]}}`, `join k current=[] joined=[r1{}]`, "sync"),
				diffStep("1", `{"leaves":{"k":{"metas":[{"phx_ref":"zz"}]}}}`, `leave k current=[r1{}] left=[zz{}]`, "sync"),
			},
			wantList: `k:[r1{}]`,
		},
		{
			name: "rejoin of a known ref replaces its payload in place",
			steps: []presenceStep{
				stateStep("1", `{"k":{"metas":[{"phx_ref":"r1","v":1},{"phx_ref":"r9"}]}}`, `join k current=[] joined=[r1{"v":1} r9{}]`, "sync"),
				diffStep("1", `{"joins":{"k":{"metas":[{"phx_ref":"r1","v":2}]}}}`,
					`join k current=[r1{"v":1} r9{}] joined=[r1{"v":2}]`, "sync"),
			},
			wantList: `k:[r9{} r1{"v":2}]`,
		},
		{
			name: "empty diff and null members",
			steps: []presenceStep{
				stateStep("1", `{"k":{"metas":[{"phx_ref":"r1"}]}}`, `join k current=[] joined=[r1{}]`, "sync"),
				diffStep("1", `{}`, "sync"),
				diffStep("1", `{"joins":null,"leaves":null,"extra":[1]}`, "sync"),
			},
			wantList: `k:[r1{}]`,
		},
		{
			name: "a repeated key keeps its first position and its last value",
			steps: []presenceStep{
				stateStep("1", `{"a":{"metas":[{"phx_ref":"a1"}]},"b":{"metas":[{"phx_ref":"b1"}]},"a":{"metas":[{"phx_ref":"a2"}]}}`,
					`join a current=[] joined=[a2{}]`, `join b current=[] joined=[b1{}]`, "sync"),
			},
			wantList: `a:[a2{}] b:[b1{}]`,
		},
		{
			name: "escaped keys are decoded",
			steps: []presenceStep{
				stateStep("1", `{"caf\u00e9 \"x\"":{"metas":[{"phx_ref":"r\u0031"}]}}`, `join café "x" current=[] joined=[r1{}]`, "sync"),
			},
			wantList: `café "x":[r1{}]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p presenceState
			runPresenceSteps(t, &p, tt.steps)
			if got := fmtPresenceList(p.list()); got != tt.wantList {
				t.Fatalf("list:\n got %s\nwant %s", got, tt.wantList)
			}
		})
	}
}

func TestPresenceStatePendingSyncState(t *testing.T) {
	var p presenceState
	// The zero value lists nothing and buffers diffs.
	if l := p.list(); l == nil || len(l) != 0 {
		t.Fatalf("zero list = %#v", l)
	}
	if !p.inPendingSyncState("1") {
		t.Fatal("zero value not pending")
	}
	evs, err := p.onDiff("1", []byte(`{"joins":{"k":{"metas":[{"phx_ref":"r1"}]}}}`))
	if err != nil || evs != nil {
		t.Fatalf("buffered diff = %v, %v", evs, err)
	}
	if len(p.pending) != 1 || len(p.list()) != 0 {
		t.Fatalf("pending %d, list %v", len(p.pending), p.list())
	}
	// A state recorded under an empty join_ref never ends the pending
	// state (phoenix: !this.joinRef).
	if _, err := p.onState("", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if !p.inPendingSyncState("") {
		t.Fatal("empty join_ref ended the pending state")
	}
	if _, err := p.onState("1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if p.inPendingSyncState("1") || !p.inPendingSyncState("2") {
		t.Fatal("pending state after the state of join_ref 1")
	}
	if len(p.pending) != 0 || p.pendingBytes != 0 {
		t.Fatalf("buffer not cleared: %d diffs, %d bytes", len(p.pending), p.pendingBytes)
	}
}

func TestPresenceStateBufferBound(t *testing.T) {
	var p presenceState
	n := maxPendingPresenceDiffs + 10
	for i := range n {
		d := fmt.Sprintf(`{"joins":{"k%d":{"metas":[{"phx_ref":"r%d"}]}}}`, i, i)
		if evs, err := p.onDiff("1", []byte(d)); err != nil || evs != nil {
			t.Fatalf("diff %d: %v %v", i, evs, err)
		}
	}
	if len(p.pending) != maxPendingPresenceDiffs {
		t.Fatalf("buffered %d diffs, want %d", len(p.pending), maxPendingPresenceDiffs)
	}
	evs, err := p.onState("1", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != maxPendingPresenceDiffs+1 {
		t.Fatalf("%d events", len(evs))
	}
	l := p.list()
	if _, ok := l["k9"]; ok {
		t.Fatal("oldest diff was kept")
	}
	if _, ok := l[fmt.Sprintf("k%d", n-1)]; !ok {
		t.Fatal("newest diff was dropped")
	}

	// The byte bound keeps at least the newest diff.
	var q presenceState
	big := `{"joins":{"big":{"metas":[{"phx_ref":"r","pad":"` + strings.Repeat("x", maxPendingPresenceBytes) + `"}]}}}`
	if _, err := q.onDiff("1", []byte(`{"joins":{"small":{"metas":[{"phx_ref":"s"}]}}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := q.onDiff("1", []byte(big)); err != nil {
		t.Fatal(err)
	}
	if len(q.pending) != 1 || q.pendingBytes != len(big) {
		t.Fatalf("pending %d diffs, %d bytes", len(q.pending), q.pendingBytes)
	}
}

func TestPresenceStateKeyOrder(t *testing.T) {
	// Events follow the payload's key order, never Go map order.
	keys := []string{"zeta", "10", "alpha", "2", "mike", "bravo", "1", "yankee"}
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `%q:{"metas":[{"phx_ref":"r-%s"}]}`, k, k)
	}
	b.WriteString("}")
	var leaveAll strings.Builder
	leaveAll.WriteString(`{"leaves":{`)
	for i := len(keys) - 1; i >= 0; i-- {
		fmt.Fprintf(&leaveAll, `%q:{"metas":[{"phx_ref":"r-%s"}]}`, keys[i], keys[i])
		if i > 0 {
			leaveAll.WriteString(",")
		}
	}
	leaveAll.WriteString(`}}`)
	for round := range 20 {
		var p presenceState
		evs, err := p.onState("1", []byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			if evs[i].Type != messages.PresenceJoin || evs[i].Key != k {
				t.Fatalf("round %d: event %d = %s %s, want join %s", round, i, evs[i].Type, evs[i].Key, k)
			}
		}
		// Keys missing from a new snapshot leave in state order.
		evs, err = p.onState("2", []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			if evs[i].Type != messages.PresenceLeave || evs[i].Key != k {
				t.Fatalf("round %d: event %d = %s %s, want leave %s", round, i, evs[i].Type, evs[i].Key, k)
			}
		}
		// Diff leaves follow the diff's order.
		if _, err := p.onState("3", []byte(b.String())); err != nil {
			t.Fatal(err)
		}
		evs, err = p.onDiff("3", []byte(leaveAll.String()))
		if err != nil {
			t.Fatal(err)
		}
		for i := range keys {
			if k := keys[len(keys)-1-i]; evs[i].Key != k {
				t.Fatalf("round %d: leave %d = %s, want %s", round, i, evs[i].Key, k)
			}
		}
	}
}

func TestPresenceStateKeyOrderAfterManyRemovals(t *testing.T) {
	// Removing keys compacts the order index; re-added keys go last.
	var p presenceState
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%02d":{"metas":[{"phx_ref":"r%d"}]}`, i, i)
	}
	b.WriteString("}")
	if _, err := p.onState("1", []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i += 2 {
		d := fmt.Sprintf(`{"leaves":{"k%02d":{"metas":[{"phx_ref":"r%d"}]}}}`, i, i)
		if _, err := p.onDiff("1", []byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.onDiff("1", []byte(`{"joins":{"k00":{"metas":[{"phx_ref":"again"}]}}}`)); err != nil {
		t.Fatal(err)
	}
	var order []string
	p.each(func(key string, _ *presenceEntry) { order = append(order, key) })
	if len(order) != 51 || order[0] != "k01" || order[49] != "k99" || order[50] != "k00" {
		t.Fatalf("order = %v", order)
	}
	if p.dead >= len(p.keys) {
		t.Fatalf("dead %d of %d keys", p.dead, len(p.keys))
	}
	evs, err := p.onState("2", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 52 || evs[0].Key != "k01" || evs[50].Key != "k00" {
		t.Fatalf("%d events, first %s, last leave %s", len(evs), evs[0].Key, evs[50].Key)
	}
}

func TestPresenceStateMalformed(t *testing.T) {
	const good = `{"k":{"metas":[{"phx_ref":"r1","v":1}]}}`
	tests := []struct {
		name    string
		state   bool
		payload string
	}{
		{"state not json", true, `{"k":`},
		{"state array", true, `[]`},
		{"state null", true, `null`},
		{"state trailing data", true, good + `x`},
		{"entry not object", true, `{"k":[1]}`},
		{"entry without metas", true, `{"k":{}}`},
		{"metas not array", true, `{"k":{"metas":{}}}`},
		{"metas null", true, `{"k":{"metas":null}}`},
		{"meta not object", true, `{"k":{"metas":["r1"]}}`},
		{"meta without phx_ref", true, `{"k":{"metas":[{"v":1}]}}`},
		{"phx_ref number", true, `{"k":{"metas":[{"phx_ref":1}]}}`},
		{"phx_ref_prev number", true, `{"k":{"metas":[{"phx_ref":"r","phx_ref_prev":2}]}}`},
		{"bad value deep inside", true, `{"k":{"metas":[{"phx_ref":"r","v":[1,}]}]}}`},
		{"second key bad", true, `{"a":{"metas":[]},"k":{"metas":[{}]}}`},
		{"diff not json", false, `{"joins":`},
		{"diff string", false, `"x"`},
		{"joins not object", false, `{"joins":[],"leaves":{}}`},
		{"leaves not object", false, `{"joins":{},"leaves":1}`},
		{"leave meta without phx_ref", false, `{"joins":{"n":{"metas":[{"phx_ref":"n1"}]}},"leaves":{"k":{"metas":[{}]}}}`},
		{"join meta not object", false, `{"joins":{"n":{"metas":[true]}}}`},
		{"diff empty", false, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p presenceState
			if _, err := p.onState("1", []byte(good)); err != nil {
				t.Fatal(err)
			}
			before := p.clone()
			var evs []messages.PresenceEvent
			var err error
			if tt.state {
				evs, err = p.onState("2", []byte(tt.payload))
			} else {
				evs, err = p.onDiff("1", []byte(tt.payload))
			}
			if !errors.Is(err, messages.ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if evs != nil {
				t.Fatalf("events on error: %v", evs)
			}
			if !reflect.DeepEqual(p.list(), before.list()) || p.joinRef != before.joinRef || len(p.pending) != len(before.pending) {
				t.Fatalf("state changed: %v (join_ref %q)", p.list(), p.joinRef)
			}
			// Nothing was buffered either.
			var q presenceState
			if !tt.state {
				if _, err := q.onDiff("1", []byte(tt.payload)); err == nil || len(q.pending) != 0 {
					t.Fatalf("malformed diff buffered: %v", err)
				}
			}
		})
	}
}

func TestPresenceMetaPayload(t *testing.T) {
	tests := []struct {
		name, meta  string
		ref, wantPL string
	}{
		{"phx keys stripped", `{"phx_ref":"r2","phx_ref_prev":"r1","a":1}`, "r2", `{"a":1}`},
		{"order kept, ref in the middle", `{"z":1,"phx_ref":"r","a":2,"m":3}`, "r", `{"z":1,"a":2,"m":3}`},
		{"whitespace compacted", "{ \"a\" : [ 1 , 2 ] ,\n\t\"phx_ref\" : \"r\" , \"b\" : { \"c\" : \"x y\" } }", "r", `{"a":[1,2],"b":{"c":"x y"}}`},
		{"only phx keys", `{"phx_ref":"r","phx_ref_prev":null}`, "r", `{}`},
		{"escaped phx key", `{"phx\u005fref":"r","phx_ref\u005fprev":"p","k\"q":true}`, "r", `{"k\"q":true}`},
		{"large number text kept", `{"phx_ref":"r","n":12345678901234567890,"f":1e400}`, "r", `{"n":12345678901234567890,"f":1e400}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parsePresenceMeta([]byte(tt.meta))
			if err != nil {
				t.Fatal(err)
			}
			if m.ref != tt.ref || string(m.payload) != tt.wantPL {
				t.Fatalf("got ref %q payload %s, want %q %s", m.ref, m.payload, tt.ref, tt.wantPL)
			}
			if !json.Valid(m.payload) {
				t.Fatalf("payload %s is not valid JSON", m.payload)
			}
		})
	}

	// Decode uses json.Number, and the payload carries no phx_ref.
	var p presenceState
	evs, err := p.onState("1", []byte(`{"user-123":{"metas":[{"phx_ref":"phoenix_ref","phx_ref_prev":"old","name":"John","user_id":"user-123","n":9007199254740993}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := evs[0].Joined[0].Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "John", "user_id": "user-123", "n": json.Number("9007199254740993")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode = %#v, want %#v", got, want)
	}
	var typed struct {
		Name   string `json:"name"`
		UserID string `json:"user_id"`
	}
	if err := p.list()["user-123"][0].Decode(&typed); err != nil || typed.Name != "John" || typed.UserID != "user-123" {
		t.Fatalf("typed Decode = %+v, %v", typed, err)
	}
	var v any = "unchanged"
	if err := (messages.PresenceMeta{}).Decode(&v); err != nil || v != nil {
		t.Fatalf("nil payload Decode = %v, %v", v, err)
	}
}

func TestPresenceStateListIsDeepCopy(t *testing.T) {
	var p presenceState
	evs, err := p.onState("1", []byte(`{"k":{"metas":[{"phx_ref":"r1","v":"abc"}]},"empty":{"metas":[]}}`))
	if err != nil {
		t.Fatal(err)
	}
	// phoenix keeps a key joined with no metas; list drops it.
	if got := fmtPresenceEvents(t, evs); !reflect.DeepEqual(got, []string{
		`join k current=[] joined=[r1{"v":"abc"}]`, `join empty current=[] joined=[]`, "sync",
	}) {
		t.Fatalf("events %q", got)
	}
	const want = `k:[r1{"v":"abc"}]`
	l := p.list()
	if got := fmtPresenceList(l); got != want {
		t.Fatalf("list %s", got)
	}
	// Mutating everything handed out leaves the state alone.
	l["k"][0].Payload[6] = 'X'
	l["k"][0].Ref = "mutated"
	l["k"] = append(l["k"], messages.PresenceMeta{Ref: "extra"})
	l["new"] = nil
	delete(l, "k")
	evs[0].Joined[0].Payload[6] = 'Y'
	evs[0].Joined[0].Ref = "mutated"
	if got := fmtPresenceList(p.list()); got != want {
		t.Fatalf("list after mutation %s", got)
	}
	// Mutating the input buffer after the call does not matter either.
	buf := []byte(`{"joins":{"j":{"metas":[{"phx_ref":"j1","v":"def"}]}}}`)
	if _, err := p.onDiff("2", buf); err != nil { // buffered: other join_ref
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = ' '
	}
	evs, err = p.onState("2", []byte(`{"k":{"metas":[{"phx_ref":"r1","v":"abc"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	// (The key phoenix kept with no metas leaves now, as in phoenix.)
	if got := fmtPresenceEvents(t, evs); !reflect.DeepEqual(got, []string{
		`leave empty current=[] left=[]`, `join j current=[] joined=[j1{"v":"def"}]`, "sync",
	}) {
		t.Fatalf("events %q", got)
	}
}

func TestPresenceStateClone(t *testing.T) {
	var p presenceState
	runPresenceSteps(t, &p, []presenceStep{
		stateStep("1", `{"k":{"metas":[{"phx_ref":"r1"}]}}`, `join k current=[] joined=[r1{}]`, "sync"),
		diffStep("1", `{"joins":{"k":{"metas":[{"phx_ref":"r2","phx_ref_prev":"r1"}]}}}`, `join k current=[r1{}] joined=[r2{}]`, "sync"),
		diffStep("2", `{"joins":{"b":{"metas":[{"phx_ref":"b1"}]}}}`),
	})
	c := p.clone()
	// Diverge the original.
	runPresenceSteps(t, &p, []presenceStep{
		stateStep("2", `{"k":{"metas":[{"phx_ref":"r2"},{"phx_ref":"r3"}]}}`,
			`join k current=[r2{}] joined=[r3{}]`, `join b current=[] joined=[b1{}]`, "sync"),
		diffStep("2", `{"leaves":{"k":{"metas":[{"phx_ref":"r2"}]}}}`, `leave k current=[r3{}] left=[r2{}]`, "sync"),
	})
	if got := fmtPresenceList(c.list()); got != `k:[r2{}]` {
		t.Fatalf("clone list %s", got)
	}
	if c.joinRef != "1" || len(c.pending) != 1 {
		t.Fatalf("clone join_ref %q, %d pending", c.joinRef, len(c.pending))
	}
	// The clone replays its own buffer and still knows r1 was replaced.
	runPresenceSteps(t, c, []presenceStep{
		stateStep("2", `{"k":{"metas":[{"phx_ref":"r2"}]}}`, `join b current=[] joined=[b1{}]`, "sync"),
		diffStep("2", `{"leaves":{"k":{"metas":[{"phx_ref":"r1"}]}}}`, "sync"),
	})
	if got := fmtPresenceList(c.list()); got != `b:[b1{}] k:[r2{}]` {
		t.Fatalf("clone list %s", got)
	}
	if got := fmtPresenceList(p.list()); got != `b:[b1{}] k:[r3{}]` {
		t.Fatalf("original list %s", got)
	}
	// Cloning the zero value works.
	var z presenceState
	if l := z.clone().list(); len(l) != 0 {
		t.Fatalf("zero clone list %v", l)
	}
}

func TestPresenceStateManySockets(t *testing.T) {
	// More metas under one key than the linear ref lookup handles.
	metas := func(refs ...int) string {
		parts := make([]string, len(refs))
		for i, r := range refs {
			parts[i] = fmt.Sprintf(`{"phx_ref":"s%d"}`, r)
		}
		return `{"k":{"metas":[` + strings.Join(parts, ",") + `]}}`
	}
	seq := func(from, to int) []int {
		var out []int
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	}
	var p presenceState
	if _, err := p.onState("1", []byte(metas(seq(1, 12)...))); err != nil {
		t.Fatal(err)
	}
	evs, err := p.onState("2", []byte(metas(append(seq(3, 12), 13, 14)...)))
	if err != nil {
		t.Fatal(err)
	}
	got := fmtPresenceEvents(t, evs)
	if len(got) != 3 || !strings.HasSuffix(got[0], "joined=[s13{} s14{}]") || !strings.HasSuffix(got[1], "left=[s1{} s2{}]") {
		t.Fatalf("events %q", got)
	}
	if n := len(p.list()["k"]); n != 12 {
		t.Fatalf("%d metas", n)
	}
	evs, err = p.onDiff("2", []byte(`{"joins":{"k":{"metas":[{"phx_ref":"s20","phx_ref_prev":"s3"}]}},"leaves":`+metas(seq(4, 12)...)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	got = fmtPresenceEvents(t, evs)
	if len(got) != 3 || !strings.HasSuffix(got[1], "current=[s13{} s14{} s20{}] left=[s4{} s5{} s6{} s7{} s8{} s9{} s10{} s11{} s12{}]") {
		t.Fatalf("events %q", got)
	}
}

func TestPresenceReplacedRefsBounded(t *testing.T) {
	var p presenceState
	if _, err := p.onState("1", []byte(`{"k":{"metas":[{"phx_ref":"r0"}]}}`)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3*maxReplacedRefs; i++ {
		d := fmt.Sprintf(`{"joins":{"k":{"metas":[{"phx_ref":"r%d","phx_ref_prev":"r%d"}]}}}`, i, i-1)
		if _, err := p.onDiff("1", []byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	e := p.entries["k"]
	if len(e.replaced) != maxReplacedRefs || len(e.metas) != 1 {
		t.Fatalf("%d replaced refs, %d metas", len(e.replaced), len(e.metas))
	}
	// Deleting the key forgets them.
	d := fmt.Sprintf(`{"leaves":{"k":{"metas":[{"phx_ref":"r%d"}]}}}`, 3*maxReplacedRefs)
	if _, err := p.onDiff("1", []byte(d)); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.entries["k"]; ok {
		t.Fatal("key kept")
	}
}

func TestPresenceBinding(t *testing.T) {
	var _ messages.Binding = messages.Presence{}
	var _ messages.Event = messages.PresenceEvent{}
	types := []messages.PresenceEventType{messages.PresenceJoin, messages.PresenceLeave, messages.PresenceSync}
	tests := []struct {
		event   messages.PresenceEventType
		valid   bool
		matches []messages.PresenceEventType
	}{
		{"", true, types},
		{messages.PresenceAll, true, types},
		{messages.PresenceJoin, true, types[:1]},
		{messages.PresenceLeave, true, types[1:2]},
		{messages.PresenceSync, true, types[2:]},
		{"JOIN", true, types[:1]},
		{"Sync", true, types[2:]},
		{"update", false, nil},
		{"joined", false, nil},
		{" join", false, nil},
		{"**", false, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.event), func(t *testing.T) {
			b := messages.Presence{Event: tt.event}
			err := b.Validate()
			if tt.valid != (err == nil) {
				t.Fatalf("Validate = %v", err)
			}
			if err != nil {
				var oe *messages.OptionError
				if !errors.As(err, &oe) || !errors.Is(err, messages.ErrInvalidOption) {
					t.Fatalf("Validate error %T %v", err, err)
				}
				return
			}
			for _, typ := range types {
				want := false
				for _, m := range tt.matches {
					want = want || m == typ
				}
				if got := b.Matches(typ); got != want {
					t.Errorf("Matches(%s) = %v, want %v", typ, got, want)
				}
			}
		})
	}
}
