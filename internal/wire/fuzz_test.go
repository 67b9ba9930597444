package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/messages"
)

// The fuzz targets check two things on every input: decoding never panics
// and fails only with ErrMalformed, and a successful decode survives
// Append + Decode unchanged. The text targets also compare the result with
// a reference decoder built on encoding/json. Seed corpora live in
// testdata/fuzz/<FuzzName>/.

// refString decodes a JSON string value with encoding/json.
func refString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// refRef decodes a ref: string, null or number (literal text).
func refRef(raw json.RawMessage) (string, bool) {
	switch {
	case len(raw) == 0:
		return "", false
	case raw[0] == '"':
		return refString(raw)
	case string(raw) == "null":
		return "", true
	case raw[0] == '-' || jsonscan.IsDigit(raw[0]):
		return string(raw), true
	}
	return "", false
}

// refDecodeV2 is the reference decoder for V2 text frames.
func refDecodeV2(data []byte) (frame.Frame, bool) {
	var elems []json.RawMessage
	if json.Unmarshal(data, &elems) != nil || len(elems) < 5 {
		return frame.Frame{}, false
	}
	var f frame.Frame
	ok1, ok2, ok3, ok4 := false, false, false, false
	f.JoinRef, ok1 = refRef(elems[0])
	f.Ref, ok2 = refRef(elems[1])
	f.Topic, ok3 = refString(elems[2])
	f.Event, ok4 = refString(elems[3])
	f.Payload = elems[4]
	return f, ok1 && ok2 && ok3 && ok4
}

// refDecodeV1 is the reference decoder for V1 object frames.
func refDecodeV1(data []byte) (frame.Frame, bool) {
	var m map[string]json.RawMessage
	if jsonscan.IsNull(data) || json.Unmarshal(data, &m) != nil {
		return frame.Frame{}, false
	}
	topic, ok1 := m["topic"]
	event, ok2 := m["event"]
	payload, ok3 := m["payload"]
	if !ok1 || !ok2 || !ok3 {
		return frame.Frame{}, false
	}
	var f frame.Frame
	ok := true
	if f.Topic, ok1 = refString(topic); !ok1 {
		ok = false
	}
	if f.Event, ok1 = refString(event); !ok1 {
		ok = false
	}
	if raw, present := m["ref"]; present {
		if f.Ref, ok1 = refRef(raw); !ok1 {
			ok = false
		}
	}
	if raw, present := m["join_ref"]; present {
		if f.JoinRef, ok1 = refRef(raw); !ok1 {
			ok = false
		}
	}
	f.Payload = payload
	return f, ok
}

// textFramesEqual compares decoded text frames, payloads after compaction.
func textFramesEqual(t *testing.T, a, b frame.Frame) bool {
	t.Helper()
	pa, pb := a.Payload, b.Payload
	a.Payload, b.Payload = nil, nil
	return framesEqual(a, b) && bytes.Equal(compactJSON(t, pa), compactJSON(t, pb))
}

func addTextSeeds(f *testing.F, v1 bool) {
	if v1 {
		for _, ex := range v1Examples {
			f.Add([]byte(ex.wire))
		}
		return
	}
	for _, ex := range v2TextExamples {
		f.Add([]byte(ex.wire))
	}
}

func FuzzDecodeV1(f *testing.F) {
	addTextSeeds(f, true)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzText(t, CodecV1, refDecodeV1, data) })
}

func FuzzDecodeV2Text(f *testing.F) {
	addTextSeeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzText(t, CodecV2, refDecodeV2, data) })
}

// fuzzText checks one text input against the reference decoder and the
// encode/decode round trip.
func fuzzText(t *testing.T, codec Codec, ref func([]byte) (frame.Frame, bool), data []byte) {
	var got frame.Frame
	err := codec.Decode(data, false, &got)
	want, wantOK := ref(data)
	if (err == nil) != wantOK {
		t.Fatalf("Decode err = %v, reference ok = %v", err, wantOK)
	}
	if err != nil {
		if !errors.Is(err, messages.ErrMalformed) {
			t.Fatalf("Decode err = %v, want ErrMalformed", err)
		}
		return
	}
	if !json.Valid(got.Payload) {
		t.Fatalf("payload %q is not valid JSON", got.Payload)
	}
	if !textFramesEqual(t, got, want) {
		t.Fatalf("Decode = %s, reference %s", fmtFrame(got), fmtFrame(want))
	}
	checkBroadcastSpans(t, got, codec.Vsn() == frame.V2)
	out, binary, err := codec.Append(nil, &got)
	if err != nil || binary {
		t.Fatalf("Append: binary=%v err=%v", binary, err)
	}
	var again frame.Frame
	if err := codec.Decode(out, false, &again); err != nil {
		t.Fatalf("re-Decode of %q: %v", out, err)
	}
	if !framesEqual(again, got) {
		t.Fatalf("round trip: %s != %s", fmtFrame(again), fmtFrame(got))
	}
}

func FuzzDecodeV2Binary(f *testing.F) {
	for _, ex := range binaryExamples {
		f.Add(ex.wire)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got frame.Frame
		err := CodecV2.Decode(data, true, &got)
		if err != nil {
			if !errors.Is(err, messages.ErrMalformed) {
				t.Fatalf("Decode err = %v, want ErrMalformed", err)
			}
			return
		}
		if got.Kind == frame.KindText || got.Kind > frame.KindUserBroadcast {
			t.Fatalf("Decode kind = %d", got.Kind)
		}
		// The binary layout is canonical: re-encoding gives the input back.
		out, binary, err := CodecV2.Append(nil, &got)
		if err != nil || !binary {
			t.Fatalf("Append: binary=%v err=%v", binary, err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("Append(Decode(x)) = % x, want % x", out, data)
		}
		var again frame.Frame
		if err := CodecV2.Decode(out, true, &again); err != nil {
			t.Fatalf("re-Decode: %v", err)
		}
		if !framesEqual(again, got) {
			t.Fatalf("round trip: %s != %s", fmtFrame(again), fmtFrame(got))
		}
	})
}

// checkBroadcastSpans checks the members the decoder located in a broadcast
// payload against ParseBroadcast, which parses the payload on its own.
// Only vsn 2.0.0 locates them (required says whether it must).
func checkBroadcastSpans(t *testing.T, f frame.Frame, required bool) {
	t.Helper()
	bp, err := ParseBroadcast(f.Payload)
	s := f.Bcast
	if !s.OK {
		if required && f.Event == "broadcast" && len(f.Payload) > 0 && f.Payload[0] == '{' && err == nil {
			t.Fatalf("spans not located for a valid broadcast payload %q", f.Payload)
		}
		return
	}
	if f.Event != "broadcast" {
		t.Fatalf("spans located on a %q frame", f.Event)
	}
	if err != nil {
		t.Fatalf("spans OK but ParseBroadcast: %v", err)
	}
	event, ok := JSONString(s.Event.In(f.Payload), nil)
	if !ok || event != bp.Event || !bytes.Equal(s.Payload.In(f.Payload), bp.Payload) ||
		!bytes.Equal(s.Meta.In(f.Payload), bp.Meta) || (s.Meta.In(f.Payload) == nil) != (bp.Meta == nil) {
		t.Fatalf("spans (%q %q %q) != ParseBroadcast (%q %q %q)", event, s.Payload.In(f.Payload), s.Meta.In(f.Payload), bp.Event, bp.Payload, bp.Meta)
	}
	// The offsets survive Own.
	g := f
	g.Own()
	if !bytes.Equal(s.Payload.In(g.Payload), bp.Payload) {
		t.Fatal("spans do not survive Own")
	}
}

func compactJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("json.Compact(%q): %v", b, err)
	}
	return buf.Bytes()
}

// FuzzParsePayloads checks that the payload parsers never panic and fail
// only with ErrMalformed (FuzzObjectEach in package jsonscan covers the
// scanner they are built on).
func FuzzParsePayloads(f *testing.F) {
	f.Add([]byte(`{"status":"error","response":{"reason":"PrivateOnly: x"}}`))
	f.Add([]byte(`{"type":"broadcast","event":"e","payload":{"a":1},"meta":{"id":"x"}}`))
	f.Add([]byte(`{"channel":"any","extension":"postgres_changes","message":"m","status":"ok"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := ParseReply(data); err == nil {
			_ = ReplyReason(r.Response)
		} else if !errors.Is(err, messages.ErrMalformed) {
			t.Fatalf("ParseReply err = %v", err)
		}
		_ = ReplyReason(data)
		if _, err := ParseBroadcast(data); err != nil && !errors.Is(err, messages.ErrMalformed) {
			t.Fatalf("ParseBroadcast err = %v", err)
		}
		if _, err := ParseSystem(data); err != nil && !errors.Is(err, messages.ErrMalformed) {
			t.Fatalf("ParseSystem err = %v", err)
		}
	})
}
