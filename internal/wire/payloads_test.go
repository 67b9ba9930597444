package wire

import (
	"errors"
	"testing"

	"github.com/supabase-go/realtime/messages"
)

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		status   string
		response string // raw; "" means nil
		reason   string
	}{
		{"§3.4 join ok", `{"status":"ok","response":{"postgres_changes":[{"id":106243155,"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.1"}]}}`,
			"ok", `{"postgres_changes":[{"id":106243155,"event":"INSERT","schema":"public","table":"todos","filter":"id=eq.1"}]}`, ""},
		{"§4.1 heartbeat", `{"status":"ok","response":{}}`, "ok", `{}`, ""},
		{"§5.3 payload_size_exceeded", `{"status":"error","response":"payload_size_exceeded"}`, "error", `"payload_size_exceeded"`, "payload_size_exceeded"},
		{"§10.8 unauthorized", `{"status":"error","response":{"reason":"Unauthorized: You do not have permissions to read from this Channel topic: realtime:x"}}`,
			"error", `{"reason":"Unauthorized: You do not have permissions to read from this Channel topic: realtime:x"}`,
			"Unauthorized: You do not have permissions to read from this Channel topic: realtime:x"},
		{"§10.12 rate limit", `{"status":"error","response":{"reason":"ConnectionRateLimitReached: Too many connected users"}}`,
			"error", `{"reason":"ConnectionRateLimitReached: Too many connected users"}`, "ConnectionRateLimitReached: Too many connected users"},
		{"§10.14 private only", ` { "response" : {"reason":"PrivateOnly: This project only allows private channels","x":1} , "status" : "error" } `,
			"error", `{"reason":"PrivateOnly: This project only allows private channels","x":1}`, "PrivateOnly: This project only allows private channels"},
		{"§10.11 status only", `{"status":"ok"}`, "ok", "", ""},
		{"escaped reason", `{"status":"timeout","response":{"reason":"a\"b\n"}}`, "timeout", `{"reason":"a\"b\n"}`, "a\"b\n"},
		{"non-string reason", `{"status":"error","response":{"reason":42}}`, "error", `{"reason":42}`, ""},
		{"array response", `{"status":"error","response":["x"]}`, "error", `["x"]`, ""},
		{"null response", `{"status":"error","response":null}`, "error", `null`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseReply([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.status || string(r.Response) != tc.response || (tc.response == "") != (r.Response == nil) {
				t.Errorf("ParseReply = %q %q", r.Status, r.Response)
			}
			if got := ReplyReason(r.Response); got != tc.reason {
				t.Errorf("ReplyReason = %q, want %q", got, tc.reason)
			}
		})
	}
	for _, in := range []string{``, `[]`, `"ok"`, `{}`, `{"response":{}}`, `{"status":1}`, `{"status":null}`, `{"status":"ok"`, `{"status":"ok"}x`} {
		if _, err := ParseReply([]byte(in)); !errors.Is(err, messages.ErrMalformed) {
			t.Errorf("ParseReply(%q) err = %v, want ErrMalformed", in, err)
		}
	}
	for _, in := range []string{``, `{`, `"unterminated`, `{"reason":"x"`, `{"reason":"x\q"}`, `"\q"`, `1`} {
		if got := ReplyReason([]byte(in)); got != "" {
			t.Errorf("ReplyReason(%q) = %q, want empty", in, got)
		}
	}
}

func TestParseBroadcast(t *testing.T) {
	for _, tc := range []struct {
		name               string
		in                 string
		typ, event         string
		payload, meta      string // "" means nil
		payloadNil, metaNl bool
	}{
		{"§2.2", `{"type":"broadcast","event":"e","payload":{"a":1}}`, "broadcast", "e", `{"a":1}`, "", false, true},
		{"§10.7", `{"event":"TEST","payload":{"msg":1},"type":"broadcast"}`, "broadcast", "TEST", `{"msg":1}`, "", false, true},
		{"§10.9 replay", `{"event":"json","payload":{"value":"v"},"type":"broadcast","meta":{"id":"0b2c","replayed":true}}`,
			"broadcast", "json", `{"value":"v"}`, `{"id":"0b2c","replayed":true}`, false, false},
		{"no payload", `{"type":"broadcast","event":"e"}`, "broadcast", "e", "", "", true, true},
		{"null meta and type", `{"type":null,"event":"e","payload":[1],"meta":null}`, "", "e", `[1]`, "", false, true},
		{"escaped event", `{"event":"caf\u00e9","payload":"s"}`, "", "café", `"s"`, "", false, true},
		{"empty", `{}`, "", "", "", "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bp, err := ParseBroadcast([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if bp.Type != tc.typ || bp.Event != tc.event || string(bp.Payload) != tc.payload ||
				string(bp.Meta) != tc.meta || (bp.Payload == nil) != tc.payloadNil || (bp.Meta == nil) != tc.metaNl {
				t.Errorf("ParseBroadcast = %+v", bp)
			}
		})
	}
	for _, in := range []string{``, `[]`, `null`, `{"event":1}`, `{"type":{}}`, `{"event":"e","payload":}`, `{"event":"e"`} {
		if _, err := ParseBroadcast([]byte(in)); !errors.Is(err, messages.ErrMalformed) {
			t.Errorf("ParseBroadcast(%q) err = %v, want ErrMalformed", in, err)
		}
	}
}

func TestParseSystem(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want SystemPayload
	}{
		{"§10.2 subscribed", `{"channel":"any","extension":"postgres_changes","message":"Subscribed to PostgreSQL","status":"ok"}`,
			SystemPayload{Channel: "any", Extension: "postgres_changes", Status: "ok", Message: "Subscribed to PostgreSQL"}},
		{"§10.6 filter error", "{\"channel\":\"test\",\"extension\":\"postgres_changes\",\"message\":\"Error parsing `filter` params: [\\\"wrong\\\"]\",\"status\":\"error\"}",
			SystemPayload{Channel: "test", Extension: "postgres_changes", Status: "error", Message: "Error parsing `filter` params: [\"wrong\"]"}},
		{"§10.11 server disconnect", `{"extension":"system","message":"Server requested disconnect","status":"ok"}`,
			SystemPayload{Extension: "system", Status: "ok", Message: "Server requested disconnect"}},
		{"§10.17 presence limit", `{"message":"Client presence rate limit exceeded","status":"error","extension":"system","channel":"test"}`,
			SystemPayload{Channel: "test", Extension: "system", Status: "error", Message: "Client presence rate limit exceeded"}},
		{"nulls and extra keys", `{"channel":null,"extension":"system","status":"error","message":"x","extra":{"a":[1]}}`,
			SystemPayload{Extension: "system", Status: "error", Message: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := ParseSystem([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if sp != tc.want {
				t.Errorf("ParseSystem = %+v, want %+v", sp, tc.want)
			}
		})
	}
	for _, in := range []string{``, `[]`, `"x"`, `{"status":1}`, `{"message":true}`, `{"channel":[]}`, `{"extension":{}}`, `{"status":"ok",}`} {
		if _, err := ParseSystem([]byte(in)); !errors.Is(err, messages.ErrMalformed) {
			t.Errorf("ParseSystem(%q) err = %v, want ErrMalformed", in, err)
		}
	}
}
