package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/messages"
)

// wire builds a byte string from byte values and string literals, so spec
// examples such as `04 0E 06 00 01 "realtime:room1" "cursor" {"x":1}` read
// naturally.
func wire(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b = append(b, byte(v))
		case string:
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("wire: unsupported part %T", p))
		}
	}
	return b
}

// framesEqual compares two frames field by field; nil and empty slices are
// equal.
func framesEqual(a, b frame.Frame) bool {
	return a.JoinRef == b.JoinRef && a.Ref == b.Ref && a.Topic == b.Topic &&
		a.Event == b.Event && bytes.Equal(a.Payload, b.Payload) && a.Kind == b.Kind &&
		a.UserEvent == b.UserEvent && bytes.Equal(a.Meta, b.Meta) &&
		a.Encoding == b.Encoding && a.Status == b.Status && (a.Meta == nil) == (b.Meta == nil)
}

func fmtFrame(f frame.Frame) string {
	return fmt.Sprintf("{JoinRef:%q Ref:%q Topic:%q Event:%q Payload:%q Kind:%d UserEvent:%q Meta:%q Encoding:%d Status:%q}",
		f.JoinRef, f.Ref, f.Topic, f.Event, f.Payload, f.Kind, f.UserEvent, f.Meta, f.Encoding, f.Status)
}

func TestCodecFor(t *testing.T) {
	for _, tc := range []struct {
		vsn     frame.Vsn
		wantErr bool
	}{
		{frame.V1, false},
		{frame.V2, false},
		{"", true},
		{"3.0.0", true},
		{"2.0", true},
	} {
		c, err := CodecFor(tc.vsn)
		if tc.wantErr {
			if !errors.Is(err, ErrUnsupported) || c != nil {
				t.Errorf("CodecFor(%q) = %v, %v; want nil, ErrUnsupported", tc.vsn, c, err)
			}
			continue
		}
		if err != nil || c.Vsn() != tc.vsn {
			t.Errorf("CodecFor(%q) = %v, %v", tc.vsn, c, err)
		}
	}
	if CodecV1.Vsn() != frame.V1 || CodecV2.Vsn() != frame.V2 {
		t.Errorf("CodecV1/CodecV2 report %q/%q", CodecV1.Vsn(), CodecV2.Vsn())
	}
	if _, err := NewCodec("x", nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("NewCodec(x) err = %v", err)
	}
}

func TestKindWireByte(t *testing.T) {
	for b := byte(0); b <= 4; b++ {
		if got := (frame.Kind(b) + 1).WireByte(); got != b {
			t.Errorf("Kind(%d).WireByte() = %d", b+1, got)
		}
	}
}

// binaryExamples are the binary frames of docs/protocol.md §2.3 and §10 items 15
// and 18, with the frame each must decode to. Append of the frame must give
// the bytes back exactly.
var binaryExamples = []struct {
	name  string
	wire  []byte
	frame frame.Frame
}{
	{
		name: "§2.3 kind 4 JSON no metadata",
		wire: wire(0x04, 0x0E, 0x06, 0x00, 0x01, "realtime:room1", "cursor", `{"x":1}`),
		frame: frame.Frame{Kind: frame.KindUserBroadcast, Topic: "realtime:room1", Event: "broadcast",
			UserEvent: "cursor", Encoding: frame.EncodingJSON, Payload: []byte(`{"x":1}`)},
	},
	{
		name: "§2.3 kind 3 as realtime-js emits it",
		wire: wire(0x03, 0x01, 0x01, 0x0E, 0x06, 0x00, 0x01, "3", "6", "realtime:room1", "cursor", `{"x":1}`),
		frame: frame.Frame{Kind: frame.KindUserBroadcastPush, JoinRef: "3", Ref: "6", Topic: "realtime:room1",
			Event: "broadcast", UserEvent: "cursor", Encoding: frame.EncodingJSON, Payload: []byte(`{"x":1}`)},
	},
	{
		name: "§10.15 kind 3 binary payload",
		wire: wire(0x03, 0x02, 0x03, 0x05, 0x0A, 0x00, 0x00, "12", "123", "topic", "user_event", 0x65, 0x66, 0x67),
		frame: frame.Frame{Kind: frame.KindUserBroadcastPush, JoinRef: "12", Ref: "123", Topic: "topic",
			Event: "broadcast", UserEvent: "user_event", Encoding: frame.EncodingBinary, Payload: []byte("efg")},
	},
	{
		name: "§10.15 kind 3 with metadata",
		wire: wire(0x03, 0x02, 0x03, 0x05, 0x0A, 0x0E, 0x00, "12", "123", "topic", "user_event", `{"store":true}`, 0x65, 0x66, 0x67),
		frame: frame.Frame{Kind: frame.KindUserBroadcastPush, JoinRef: "12", Ref: "123", Topic: "topic",
			Event: "broadcast", UserEvent: "user_event", Meta: []byte(`{"store":true}`),
			Encoding: frame.EncodingBinary, Payload: []byte("efg")},
	},
	{
		name: "§10.15 kind 4 replayed",
		wire: wire(0x04, 0x05, 0x0A, 0x11, 0x00, "topic", "user_event", `{"replayed":true}`, 0x65, 0x66, 0x67),
		frame: frame.Frame{Kind: frame.KindUserBroadcast, Topic: "topic", Event: "broadcast", UserEvent: "user_event",
			Meta: []byte(`{"replayed":true}`), Encoding: frame.EncodingBinary, Payload: []byte("efg")},
	},
	{
		name: "§10.18 realtime-js user broadcast push",
		wire: wire(0x03, 0x02, 0x01, 0x03, 0x0a, 0x00, 0x01, "10", "1", "top", "user-event", `{"a":"b"}`),
		frame: frame.Frame{Kind: frame.KindUserBroadcastPush, JoinRef: "10", Ref: "1", Topic: "top", Event: "broadcast",
			UserEvent: "user-event", Encoding: frame.EncodingJSON, Payload: []byte(`{"a":"b"}`)},
	},
	{
		name: "kind 0 push (client→server layout)",
		wire: wire(0x00, 0x01, 0x02, 0x01, 0x05, "1", "22", "t", "event", 0x00, 0xFF),
		frame: frame.Frame{Kind: frame.KindPush, JoinRef: "1", Ref: "22", Topic: "t", Event: "event",
			Payload: []byte{0x00, 0xFF}},
	},
	{
		name: "kind 1 reply",
		wire: wire(0x01, 0x01, 0x01, 0x01, 0x02, "1", "2", "t", "ok", 0x01, 0x02),
		frame: frame.Frame{Kind: frame.KindReply, JoinRef: "1", Ref: "2", Topic: "t", Event: "phx_reply", Status: "ok",
			Payload: []byte{0x01, 0x02}},
	},
	{
		name:  "kind 2 broadcast",
		wire:  wire(0x02, 0x01, 0x09, "t", "broadcast", 0xCA, 0xFE),
		frame: frame.Frame{Kind: frame.KindBroadcast, Topic: "t", Event: "broadcast", Payload: []byte{0xCA, 0xFE}},
	},
	{
		name:  "kind 4 empty everything",
		wire:  wire(0x04, 0x00, 0x00, 0x00, 0x00),
		frame: frame.Frame{Kind: frame.KindUserBroadcast, Event: "broadcast", Payload: []byte{}},
	},
}

func TestBinaryExamples(t *testing.T) {
	for _, tc := range binaryExamples {
		t.Run(tc.name, func(t *testing.T) {
			var f frame.Frame
			if err := CodecV2.Decode(tc.wire, true, &f); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !framesEqual(f, tc.frame) {
				t.Errorf("Decode =\n %s\nwant\n %s", fmtFrame(f), fmtFrame(tc.frame))
			}
			out, binary, err := CodecV2.Append([]byte("prefix"), &tc.frame)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !binary {
				t.Errorf("Append binary = false")
			}
			if !bytes.Equal(out, append([]byte("prefix"), tc.wire...)) {
				t.Errorf("Append =\n % x\nwant\n % x", out[6:], tc.wire)
			}
		})
	}
}

func TestBinaryDecodeAliasesInput(t *testing.T) {
	data := binaryExamples[3].wire
	var f frame.Frame
	if err := CodecV2.Decode(data, true, &f); err != nil {
		t.Fatal(err)
	}
	if &f.Payload[0] != &data[len(data)-3] || &f.Meta[0] != &data[len(data)-3-14] {
		t.Error("Payload/Meta do not alias the input")
	}
}

// v2TextExamples are V2 array frames from docs/protocol.md (§2.2, §3.4, §4.1,
// §5.1, §5.3, §9.1, §10 items 2, 3, 15, 18). canonical marks those that
// Append must reproduce byte-for-byte.
var v2TextExamples = []struct {
	name      string
	wire      string
	frame     frame.Frame
	canonical bool
}{
	{"§2.2 join", `["3","3","realtime:room1","phx_join",{"config":{}}]`,
		frame.Frame{JoinRef: "3", Ref: "3", Topic: "realtime:room1", Event: "phx_join", Payload: []byte(`{"config":{}}`)}, true},
	{"§2.2 join reply", `["3","3","realtime:room1","phx_reply",{"status":"ok","response":{"postgres_changes":[]}}]`,
		frame.Frame{JoinRef: "3", Ref: "3", Topic: "realtime:room1", Event: "phx_reply",
			Payload: []byte(`{"status":"ok","response":{"postgres_changes":[]}}`)}, true},
	{"§2.2 heartbeat", `[null,"4","phoenix","heartbeat",{}]`,
		frame.Frame{Ref: "4", Topic: "phoenix", Event: "heartbeat", Payload: []byte(`{}`)}, true},
	{"§2.2 broadcast", `[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"e","payload":{"a":1}}]`,
		frame.Frame{Topic: "realtime:room1", Event: "broadcast",
			Payload: []byte(`{"type":"broadcast","event":"e","payload":{"a":1}}`)}, true},
	{"§3.4 join reply multi-line", "[\"3\",\"3\",\"realtime:room1\",\"phx_reply\",{\"status\":\"ok\",\"response\":{\"postgres_changes\":[\n  {\"id\":106243155,\"event\":\"INSERT\",\"schema\":\"public\",\"table\":\"todos\",\"filter\":\"id=eq.1\"}\n]}}]",
		frame.Frame{JoinRef: "3", Ref: "3", Topic: "realtime:room1", Event: "phx_reply",
			Payload: []byte("{\"status\":\"ok\",\"response\":{\"postgres_changes\":[\n  {\"id\":106243155,\"event\":\"INSERT\",\"schema\":\"public\",\"table\":\"todos\",\"filter\":\"id=eq.1\"}\n]}}")}, true},
	{"§4.1 heartbeat", `[null,"12","phoenix","heartbeat",{}]`,
		frame.Frame{Ref: "12", Topic: "phoenix", Event: "heartbeat", Payload: []byte(`{}`)}, true},
	{"§4.1 heartbeat reply", `[null,"12","phoenix","phx_reply",{"status":"ok","response":{}}]`,
		frame.Frame{Ref: "12", Topic: "phoenix", Event: "phx_reply", Payload: []byte(`{"status":"ok","response":{}}`)}, true},
	{"§5.1 broadcast push", `["3","6","realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1,"y":2}}]`,
		frame.Frame{JoinRef: "3", Ref: "6", Topic: "realtime:room1", Event: "broadcast",
			Payload: []byte(`{"type":"broadcast","event":"cursor","payload":{"x":1,"y":2}}`)}, true},
	{"§5.3 ack", `["3","6","realtime:room1","phx_reply",{"status":"ok","response":{}}]`,
		frame.Frame{JoinRef: "3", Ref: "6", Topic: "realtime:room1", Event: "phx_reply",
			Payload: []byte(`{"status":"ok","response":{}}`)}, true},
	{"§10.2 system", `["5",null,"realtime:any","system",{"channel":"any","extension":"postgres_changes","message":"Subscribed to PostgreSQL","status":"ok"}]`,
		frame.Frame{JoinRef: "5", Topic: "realtime:any", Event: "system",
			Payload: []byte(`{"channel":"any","extension":"postgres_changes","message":"Subscribed to PostgreSQL","status":"ok"}`)}, true},
	{"§10.15 fastlane", `[null,null,"t","e",{"m":1}]`,
		frame.Frame{Topic: "t", Event: "e", Payload: []byte(`{"m":1}`)}, true},
	{"§10.18 encode with refs", `["0","1","t","e",{"foo":1}]`,
		frame.Frame{JoinRef: "0", Ref: "1", Topic: "t", Event: "e", Payload: []byte(`{"foo":1}`)}, true},
	{"§10.18 encode null refs", `[null,null,"t","e",{"foo":1}]`,
		frame.Frame{Topic: "t", Event: "e", Payload: []byte(`{"foo":1}`)}, true},
	{"whitespace and extra elements", " [ null , 7 , \"t\" , \"e\\u0021\" , [1, 2] , \"extra\", {} ] \n",
		frame.Frame{Ref: "7", Topic: "t", Event: "e!", Payload: []byte(`[1, 2]`)}, false},
	{"numeric refs", `[-1.5e3,12,"t","e",null]`,
		frame.Frame{JoinRef: "-1.5e3", Ref: "12", Topic: "t", Event: "e", Payload: []byte(`null`)}, false},
	{"escaped topic", `["1","2","realtime:a\"b\\c\u00e9\n","e","s"]`,
		frame.Frame{JoinRef: "1", Ref: "2", Topic: "realtime:a\"b\\cé\n", Event: "e", Payload: []byte(`"s"`)}, false},
}

func TestV2TextExamples(t *testing.T) {
	for _, tc := range v2TextExamples {
		t.Run(tc.name, func(t *testing.T) {
			var f frame.Frame
			if err := CodecV2.Decode([]byte(tc.wire), false, &f); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !framesEqual(f, tc.frame) {
				t.Errorf("Decode =\n %s\nwant\n %s", fmtFrame(f), fmtFrame(tc.frame))
			}
			out, binary, err := CodecV2.Append(nil, &tc.frame)
			if err != nil || binary {
				t.Fatalf("Append: binary=%v err=%v", binary, err)
			}
			if tc.canonical && string(out) != tc.wire {
				t.Errorf("Append =\n %s\nwant\n %s", out, tc.wire)
			}
			var g frame.Frame
			if err := CodecV2.Decode(out, false, &g); err != nil || !framesEqual(g, tc.frame) {
				t.Errorf("re-Decode = %s, %v", fmtFrame(g), err)
			}
		})
	}
}

func TestV2AppendDefaults(t *testing.T) {
	out, _, err := CodecV2.Append(nil, &frame.Frame{Ref: "4", Topic: "phoenix", Event: "heartbeat"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[null,"4","phoenix","heartbeat",{}]`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
	out, _, err = CodecV2.Append(nil, &frame.Frame{Topic: "a\"\\\x01\u2028<>&\xff", Event: "é"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[null,null,"a\"\\\u0001\u2028<>&\ufffd","é",{}]`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}

// v1Examples are V1 object frames from docs/protocol.md §2.1, §4.1 and §10.16.
var v1Examples = []struct {
	name  string
	wire  string
	frame frame.Frame
}{
	{"§2.1 join", `{"topic":"realtime:room1","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}`,
		frame.Frame{JoinRef: "1", Ref: "1", Topic: "realtime:room1", Event: "phx_join", Payload: []byte(`{"config":{}}`)}},
	{"§2.1 reply", `{"topic":"realtime:room1","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[]}},"ref":"1"}`,
		frame.Frame{Ref: "1", Topic: "realtime:room1", Event: "phx_reply",
			Payload: []byte(`{"status":"ok","response":{"postgres_changes":[]}}`)}},
	{"§2.1 broadcast", `{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"e","payload":{"a":1}},"ref":null}`,
		frame.Frame{Topic: "realtime:room1", Event: "broadcast",
			Payload: []byte(`{"type":"broadcast","event":"e","payload":{"a":1}}`)}},
	{"§4.1 heartbeat", `{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"12"}`,
		frame.Frame{Ref: "12", Topic: "phoenix", Event: "heartbeat", Payload: []byte(`{}`)}},
	{"§10.16 reordered keys", `{"event":"broadcast","payload":{"payload":{"data":"data"},"event":"event_1","type":"broadcast"},"ref":null,"topic":"sub_topic_1"}`,
		frame.Frame{Topic: "sub_topic_1", Event: "broadcast",
			Payload: []byte(`{"payload":{"data":"data"},"event":"event_1","type":"broadcast"}`)}},
	{"numbers, unknown keys, duplicates, escaped key", ` { "topic" : "x", "extra":[1,{"topic":2}], "ev\u0065nt":"e", "payload" : [ ] , "ref":17, "join_ref":null, "topic":"t" } `,
		frame.Frame{Ref: "17", Topic: "t", Event: "e", Payload: []byte(`[ ]`)}},
}

func TestV1Examples(t *testing.T) {
	for _, tc := range v1Examples {
		t.Run(tc.name, func(t *testing.T) {
			var f frame.Frame
			if err := CodecV1.Decode([]byte(tc.wire), false, &f); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !framesEqual(f, tc.frame) {
				t.Errorf("Decode =\n %s\nwant\n %s", fmtFrame(f), fmtFrame(tc.frame))
			}
			out, binary, err := CodecV1.Append(nil, &tc.frame)
			if err != nil || binary {
				t.Fatalf("Append: binary=%v err=%v", binary, err)
			}
			var g frame.Frame
			if err := CodecV1.Decode(out, false, &g); err != nil || !framesEqual(g, tc.frame) {
				t.Errorf("re-Decode of %s = %s, %v", out, fmtFrame(g), err)
			}
		})
	}
}

func TestV1AppendExact(t *testing.T) {
	for _, tc := range []struct {
		frame frame.Frame
		want  string
	}{
		{frame.Frame{JoinRef: "1", Ref: "1", Topic: "realtime:room1", Event: "phx_join", Payload: []byte(`{"config":{}}`)},
			`{"topic":"realtime:room1","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}`},
		// §4.1's V1 heartbeat plus the explicit "join_ref":null this codec
		// always writes (the server treats both alike).
		{frame.Frame{Ref: "12", Topic: "phoenix", Event: "heartbeat"},
			`{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"12","join_ref":null}`},
		{frame.Frame{Topic: "t\n", Event: "e", Payload: []byte(`[1]`)},
			`{"topic":"t\n","event":"e","payload":[1],"ref":null,"join_ref":null}`},
	} {
		out, binary, err := CodecV1.Append([]byte("x"), &tc.frame)
		if err != nil || binary || string(out) != "x"+tc.want {
			t.Errorf("Append = %s, %v, %v; want x%s", out, binary, err, tc.want)
		}
	}
}

func TestV1Unsupported(t *testing.T) {
	for k := frame.KindPush; k <= frame.KindUserBroadcast+1; k++ {
		out, _, err := CodecV1.Append([]byte("keep"), &frame.Frame{Kind: k, Topic: "t"})
		if !errors.Is(err, ErrUnsupported) || string(out) != "keep" {
			t.Errorf("V1 Append kind %d = %q, %v", k, out, err)
		}
	}
	f := frame.Frame{Topic: "unchanged"}
	err := CodecV1.Decode(binaryExamples[0].wire, true, &f)
	if !errors.Is(err, ErrUnsupported) || !errors.Is(err, messages.ErrMalformed) {
		t.Errorf("V1 Decode binary err = %v", err)
	}
	if f.Topic != "unchanged" {
		t.Errorf("frame modified on error")
	}
}

func TestRoundTripBinary(t *testing.T) {
	long := strings.Repeat("x", frame.MaxHeaderLen)
	frames := []frame.Frame{
		{Kind: frame.KindPush, JoinRef: long, Ref: long, Topic: long, Event: long, Payload: []byte(long)},
		{Kind: frame.KindReply, JoinRef: "1", Ref: "2", Topic: "realtime:r", Event: "phx_reply", Status: "error"},
		{Kind: frame.KindBroadcast, Topic: "realtime:r", Event: "ev\x00nt", Payload: []byte{0, 1, 2}},
		{Kind: frame.KindUserBroadcastPush, JoinRef: "1", Ref: "2", Topic: "t", Event: "broadcast", UserEvent: long,
			Meta: []byte(`{"id":"x"}`), Encoding: frame.EncodingJSON, Payload: []byte(`{"big":"` + long + long + `"}`)},
		{Kind: frame.KindUserBroadcast, Topic: "t", Event: "broadcast", UserEvent: "u", Meta: []byte(`{"k":"` + long[:frame.MaxHeaderLen-8] + `"}`),
			Encoding: frame.EncodingBinary, Payload: []byte{0xFF}},
	}
	for _, fr := range frames {
		out, binary, err := CodecV2.Append(nil, &fr)
		if err != nil || !binary {
			t.Fatalf("Append kind %d: %v, %v", fr.Kind, binary, err)
		}
		var g frame.Frame
		if err := CodecV2.Decode(out, true, &g); err != nil {
			t.Fatalf("Decode kind %d: %v", fr.Kind, err)
		}
		if fr.Kind == frame.KindPush || fr.Kind == frame.KindBroadcast {
			// Event travels on the wire for these kinds.
		} else if fr.Kind == frame.KindReply {
			fr.Event = "phx_reply"
		} else {
			fr.Event = "broadcast"
		}
		if len(fr.Payload) == 0 {
			fr.Payload = nil
		}
		if len(g.Payload) == 0 {
			g.Payload = nil
		}
		if !framesEqual(g, fr) {
			t.Errorf("round trip kind %d:\n got %s\nwant %s", fr.Kind, fmtFrame(g), fmtFrame(fr))
		}
	}
}

func TestAppendErrors(t *testing.T) {
	long := strings.Repeat("y", frame.MaxHeaderLen+1)
	for _, tc := range []struct {
		name  string
		frame frame.Frame
		want  error
	}{
		{"kind 0 topic", frame.Frame{Kind: frame.KindPush, Topic: long}, ErrHeaderTooLong},
		{"kind 0 event", frame.Frame{Kind: frame.KindPush, Event: long}, ErrHeaderTooLong},
		{"kind 1 status", frame.Frame{Kind: frame.KindReply, Status: long}, ErrHeaderTooLong},
		{"kind 2 topic", frame.Frame{Kind: frame.KindBroadcast, Topic: long}, ErrHeaderTooLong},
		{"kind 3 join_ref", frame.Frame{Kind: frame.KindUserBroadcastPush, JoinRef: long}, ErrHeaderTooLong},
		{"kind 3 ref", frame.Frame{Kind: frame.KindUserBroadcastPush, Ref: long}, ErrHeaderTooLong},
		{"kind 3 user event", frame.Frame{Kind: frame.KindUserBroadcastPush, UserEvent: long}, ErrHeaderTooLong},
		{"kind 3 meta", frame.Frame{Kind: frame.KindUserBroadcastPush, Meta: []byte(long)}, ErrHeaderTooLong},
		{"kind 4 topic", frame.Frame{Kind: frame.KindUserBroadcast, Topic: long}, ErrHeaderTooLong},
		{"kind 4 meta", frame.Frame{Kind: frame.KindUserBroadcast, Meta: []byte(long)}, ErrHeaderTooLong},
		{"kind 3 encoding", frame.Frame{Kind: frame.KindUserBroadcastPush, Encoding: 2}, ErrUnsupported},
		{"kind 4 encoding", frame.Frame{Kind: frame.KindUserBroadcast, Encoding: 255}, ErrUnsupported},
		{"unknown kind", frame.Frame{Kind: 6}, ErrUnsupported},
	} {
		out, _, err := CodecV2.Append([]byte("keep"), &tc.frame)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst modified: %q", tc.name, out)
		}
	}
	// A long payload is fine: it has no length byte.
	if _, _, err := CodecV2.Append(nil, &frame.Frame{Kind: frame.KindUserBroadcast, Payload: []byte(long + long)}); err != nil {
		t.Errorf("long payload: %v", err)
	}
}

func TestDecodeMalformedV2Text(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"null",
		`{"topic":"t"}`,
		`"x"`,
		`[]`,
		`[null]`,
		`[null,null,"t","e"]`,
		`[null,null,"t","e",{}`,
		`[null,null,"t","e",{}]]`,
		`[null,null,"t","e",{}] x`,
		`[null,null,"t","e",{},]`,
		`[null,null,"t","e",{"a":}]`,
		`[null,null,"t","e",{"a" 1}]`,
		`[null,null,"t","e",{1:1}]`,
		`[null,null,"t","e",{"a":1,}]`,
		`[null,null,"t","e",[1 2]]`,
		`[null,null,"t","e",01]`,
		`[null,null,"t","e",1.]`,
		`[null,null,"t","e",1e]`,
		`[null,null,"t","e",-]`,
		`[null,null,"t","e",tru]`,
		`[null,null,"t","e",nul]`,
		`[null,null,"t","e",falsy]`,
		`[null,null,"t","e","unterminated]`,
		`[null,null,"t","e","bad \x escape"]`,
		`[null,null,"t","e","bad \u12G4"]`,
		"[null,null,\"t\",\"e\",\"ctl \x01\"]",
		`[null,null,"t","e",'x']`,
		`[true,null,"t","e",{}]`,
		`[null,{},"t","e",{}]`,
		`[null,[],"t","e",{}]`,
		`[null,null,null,"e",{}]`,
		`[null,null,"t",1,{}]`,
		`[null,null,"t",["e"],{}]`,
		`[null,null,"t","e",{}`,
		`["1","2","t","e",{"a":"\`,
		"\xff",
		strings.Repeat("[", jsonscan.MaxDepth+1) + strings.Repeat("]", jsonscan.MaxDepth+1),
	} {
		f := frame.Frame{Topic: "unchanged"}
		err := CodecV2.Decode([]byte(in), false, &f)
		if !errors.Is(err, messages.ErrMalformed) {
			t.Errorf("Decode(%.40q) err = %v, want ErrMalformed", in, err)
		}
		if f.Topic != "unchanged" {
			t.Errorf("Decode(%.40q) modified the frame", in)
		}
	}
}

func TestDecodeMalformedV1(t *testing.T) {
	for _, in := range []string{
		"",
		"[]",
		`{"topic":"t","event":"e"}`,
		`{"topic":"t","payload":{}}`,
		`{"event":"e","payload":{}}`,
		`{"topic":1,"event":"e","payload":{}}`,
		`{"topic":"t","event":null,"payload":{}}`,
		`{"topic":"t","event":"e","payload":{},"ref":true}`,
		`{"topic":"t","event":"e","payload":{},"ref":{}}`,
		`{"topic":"t","event":"e","payload":{},"join_ref":[]}`,
		`{"topic":"t","event":"e","payload":{}`,
		`{"topic":"t","event":"e","payload":{}}}`,
		`{"topic":"t","event":"e","payload":{},}`,
		`{"topic":"t""event":"e","payload":{}}`,
		`{"topic":"t","event":"e","payload":}`,
		`{"topic":"t","event":"e","payload":{}} {}`,
	} {
		f := frame.Frame{Topic: "unchanged"}
		err := CodecV1.Decode([]byte(in), false, &f)
		if !errors.Is(err, messages.ErrMalformed) {
			t.Errorf("Decode(%q) err = %v, want ErrMalformed", in, err)
		}
		if f.Topic != "unchanged" {
			t.Errorf("Decode(%q) modified the frame", in)
		}
	}
}

func TestDecodeMalformedBinary(t *testing.T) {
	// Empty input and unknown kinds.
	bad := [][]byte{nil, {}, {5}, {6, 0, 0, 0, 0, 0, 0}, {0xFF}}
	// Unknown payload encodings.
	bad = append(bad,
		wire(0x04, 0x00, 0x00, 0x00, 0x02),
		wire(0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF),
	)
	// Every strict prefix of every example whose header is not complete
	// yet, plus length bytes pointing past the end.
	for _, ex := range binaryExamples {
		hdr := headerEnd(ex.wire)
		for n := 0; n < hdr; n++ {
			bad = append(bad, ex.wire[:n])
		}
	}
	bad = append(bad,
		wire(0x04, 0x0E, 0x06, 0x00, 0x01, "realtime:room"),
		wire(0x04, 0x01, 0x01, 0x01, 0x01, "t", "e"),
		wire(0x02, 0xFF, 0x00, "short"),
		wire(0x01, 0x00, 0x00, 0x00, 0x03, "ok"),
		wire(0x00, 0x00, 0x02, 0x00, 0x00, "1"),
		wire(0x03, 0x01, 0x01, 0x01, 0x01, 0x05, 0x01, "1", "2", "t", "u", "{}"),
	)
	for _, in := range bad {
		f := frame.Frame{Topic: "unchanged"}
		err := CodecV2.Decode(in, true, &f)
		if !errors.Is(err, messages.ErrMalformed) {
			t.Errorf("Decode(% x) err = %v, want ErrMalformed", in, err)
		}
		if f.Topic != "unchanged" {
			t.Errorf("Decode(% x) modified the frame", in)
		}
	}
}

// headerEnd returns the offset where the payload of a valid binary frame
// starts: every shorter prefix has an incomplete header.
func headerEnd(b []byte) int {
	n := map[byte]int{0: 4, 1: 4, 2: 2, 3: 5, 4: 3}[b[0]]
	end := 1 + n
	for _, l := range b[1 : 1+n] {
		end += int(l)
	}
	if b[0] >= 3 {
		end++ // payload_encoding byte
	}
	return end
}

func TestDecodeTruncatedEveryLength(t *testing.T) {
	// Every prefix of every example must either fail with ErrMalformed or
	// (once the header is complete) decode to a frame with a shorter
	// payload; a payload declared JSON must still be JSON. Never a panic.
	for _, ex := range binaryExamples {
		hdr := headerEnd(ex.wire)
		jsonPayload := ex.wire[0] >= 3 && ex.wire[1+map[byte]int{3: 5, 4: 3}[ex.wire[0]]] == byte(frame.EncodingJSON)
		for n := 0; n <= len(ex.wire); n++ {
			var f frame.Frame
			err := CodecV2.Decode(ex.wire[:n], true, &f)
			switch {
			case n < hdr && !errors.Is(err, messages.ErrMalformed):
				t.Errorf("%s: prefix %d: err = %v, want ErrMalformed", ex.name, n, err)
			case n >= hdr && jsonPayload && !json.Valid(ex.wire[hdr:n]):
				if !errors.Is(err, messages.ErrMalformed) {
					t.Errorf("%s: prefix %d: err = %v, want ErrMalformed (payload not JSON)", ex.name, n, err)
				}
			case n >= hdr && err != nil:
				t.Errorf("%s: prefix %d: err = %v", ex.name, n, err)
			case n >= hdr && len(f.Payload) != n-hdr:
				t.Errorf("%s: prefix %d: payload %d bytes, want %d", ex.name, n, len(f.Payload), n-hdr)
			}
		}
	}
	for _, ex := range v2TextExamples {
		for n := 0; n < len(ex.wire); n++ {
			if json.Valid([]byte(ex.wire[:n])) {
				continue // the complete array minus trailing whitespace
			}
			var f frame.Frame
			if err := CodecV2.Decode([]byte(ex.wire[:n]), false, &f); !errors.Is(err, messages.ErrMalformed) {
				t.Errorf("%s: prefix %d: err = %v, want ErrMalformed", ex.name, n, err)
			}
		}
	}
	for _, ex := range v1Examples {
		for n := 0; n < len(strings.TrimRight(ex.wire, " ")); n++ {
			var f frame.Frame
			if err := CodecV1.Decode([]byte(ex.wire[:n]), false, &f); !errors.Is(err, messages.ErrMalformed) {
				t.Errorf("%s: prefix %d: err = %v, want ErrMalformed", ex.name, n, err)
			}
		}
	}
}

// TestErrorsDoNotLeakPayload checks that error text never carries payload
// bytes.
func TestErrorsDoNotLeakPayload(t *testing.T) {
	const secret = "SECRET-TOKEN"
	for _, tc := range []struct {
		codec  Codec
		binary bool
		in     string
	}{
		{CodecV2, false, `[null,null,"t","e",{"token":"` + secret + `"}`},
		{CodecV2, false, `[null,null,"t","e",{"token":` + secret + `}]`},
		{CodecV2, false, `[null,null,"t","e",{"token":"` + secret + "\x01\"}]"},
		{CodecV2, false, `[null,null,"t","e",{"token":"` + secret + `"},` + secret + `]`},
		{CodecV2, false, `["1"]` + secret},
		{CodecV1, false, `{"topic":"t","event":"e","payload":"` + secret + `}`},
		{CodecV1, false, `{"topic":"t","event":"e","payload":{` + secret + `}}`},
		{CodecV2, true, "\x04\x01\x01\x00\x09t"},
	} {
		var f frame.Frame
		err := tc.codec.Decode([]byte(tc.in), tc.binary, &f)
		if err == nil {
			t.Fatalf("Decode(%q) succeeded", tc.in)
		}
		if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "token") {
			t.Errorf("error leaks payload: %v", err)
		}
	}
	for _, fn := range []func() error{
		func() error { _, err := ParseReply([]byte(`{"status":"ok","response":` + secret + `}`)); return err },
		func() error { _, err := ParseBroadcast([]byte(`{"payload":"` + secret)); return err },
		func() error { _, err := ParseSystem([]byte(`{"message":` + secret + `}`)); return err },
		func() error { _, err := jsonscan.Unquote([]byte(`"` + secret + `\q"`)); return err },
	} {
		if err := fn(); err == nil || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error leaks payload or is nil: %v", err)
		}
	}
}

func TestInternHook(t *testing.T) {
	known := map[string]string{"realtime:room1": "realtime:room1", "cursor": "cursor"}
	var calls int
	c, err := NewCodec(frame.V2, func(b []byte) (string, bool) {
		calls++
		s, ok := known[string(b)]
		return s, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	var f frame.Frame
	if err := c.Decode(binaryExamples[0].wire, true, &f); err != nil {
		t.Fatal(err)
	}
	if f.Topic != "realtime:room1" || f.UserEvent != "cursor" || calls != 2 {
		t.Errorf("got %s after %d hook calls", fmtFrame(f), calls)
	}
	calls = 0
	if err := c.Decode([]byte(`[null,"100","realtime:other","phx_reply",{}]`), false, &f); err != nil {
		t.Fatal(err)
	}
	// phx_reply is well known: only the ref and the topic reach the hook.
	if f.Topic != "realtime:other" || f.Ref != "100" || calls != 2 {
		t.Errorf("got %s after %d hook calls", fmtFrame(f), calls)
	}
	c1, _ := NewCodec(frame.V1, func(b []byte) (string, bool) { return "interned", true })
	if err := c1.Decode([]byte(`{"topic":"x","event":"heartbeat","payload":{},"ref":"12"}`), false, &f); err != nil {
		t.Fatal(err)
	}
	if f.Topic != "interned" || f.Event != "heartbeat" || f.Ref != "interned" {
		t.Errorf("V1 hook not used: %s", fmtFrame(f))
	}
}

func TestDecodeAllocs(t *testing.T) {
	text := []byte(`[null,null,"realtime:room1","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1,"y":2}}]`)
	bin := binaryExamples[0].wire
	v1 := []byte(`{"topic":"realtime:room1","event":"broadcast","payload":{"type":"broadcast","event":"e","payload":{"a":1}},"ref":null}`)
	hook := func(b []byte) (string, bool) {
		switch string(b) {
		case "realtime:room1":
			return "realtime:room1", true
		case "cursor":
			return "cursor", true
		}
		return "", false
	}
	v2h, _ := NewCodec(frame.V2, hook)
	v1h, _ := NewCodec(frame.V1, hook)
	for _, tc := range []struct {
		name   string
		codec  Codec
		data   []byte
		binary bool
		max    float64
	}{
		{"v2 text broadcast", CodecV2, text, false, 1},
		{"v2 text broadcast, hook", v2h, text, false, 0},
		{"v2 binary kind 4", CodecV2, bin, true, 2},
		{"v2 binary kind 4, hook", v2h, bin, true, 0},
		{"v1 broadcast", CodecV1, v1, false, 1},
		{"v1 broadcast, hook", v1h, v1, false, 0},
		{"v2 heartbeat reply", CodecV2, []byte(`[null,"7","phoenix","phx_reply",{"status":"ok","response":{}}]`), false, 0},
	} {
		var f frame.Frame
		allocs := testing.AllocsPerRun(200, func() {
			if err := tc.codec.Decode(tc.data, tc.binary, &f); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > tc.max {
			t.Errorf("%s: %v allocs per Decode, want <= %v", tc.name, allocs, tc.max)
		}
	}
	bp := []byte(`{"type":"broadcast","event":"phx_join","payload":{"a":1}}`)
	rp := []byte(`{"status":"ok","response":{}}`)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := ParseBroadcast(bp); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseReply(rp); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("ParseBroadcast/ParseReply with well-known strings: %v allocs", allocs)
	}
	buf := make([]byte, 0, 512)
	push := &frame.Frame{Ref: "1", Topic: "realtime:room1", Event: "broadcast", Payload: text}
	allocs = testing.AllocsPerRun(200, func() {
		buf, _, _ = CodecV2.Append(buf[:0], push)
		buf, _, _ = CodecV2.Append(buf[:0], &binaryExamples[1].frame)
	})
	if allocs > 0 {
		t.Errorf("Append into a large enough buffer: %v allocs", allocs)
	}
}
