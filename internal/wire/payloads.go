package wire

import (
	"fmt"

	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/messages"
)

// Helpers that pick apart the payloads the registry routes on. They use the
// allocation-free scanner: raw []byte results alias the input, and only the
// returned strings that are not well-known names allocate.

// Reply is the payload of a phx_reply: {"status": "...", "response": <any>}.
type Reply struct {
	// Status is "ok", "error", … (required).
	Status string
	// Response is the raw JSON response value: usually an object (possibly
	// {}), sometimes a bare string such as "payload_size_exceeded"
	// (docs/protocol.md §5.3). It is nil when the key is absent.
	Response []byte
}

// ParseReply parses a phx_reply payload. The payload must be a JSON object
// with a string "status"; "response" may be any JSON value or absent. Other
// keys are ignored; for duplicate keys the last one wins. Errors wrap
// ErrMalformed.
func ParseReply(payload []byte) (Reply, error) {
	var statusRaw, response []byte
	err := jsonscan.ObjectEach(payload, func(key, value []byte) error {
		switch k, _ := jsonscan.KeyName(key); string(k) {
		case "status":
			statusRaw = value
		case "response":
			response = value
		}
		return nil
	})
	if err != nil {
		return Reply{}, err
	}
	if statusRaw == nil {
		return Reply{}, fmt.Errorf("%w: reply: missing \"status\"", messages.ErrMalformed)
	}
	status, ok := interner{}.jsonString(statusRaw)
	if !ok {
		return Reply{}, fmt.Errorf("%w: reply: \"status\" is not a string", messages.ErrMalformed)
	}
	return Reply{Status: status, Response: response}, nil
}

// ReplyReason extracts a human-readable reason from a reply's Response: the
// string field "reason" when response is an object that has one, the string
// itself when response is a JSON string, and "" otherwise (including
// malformed input).
func ReplyReason(response []byte) string {
	response = jsonscan.TrimSpace(response)
	if len(response) == 0 {
		return ""
	}
	switch response[0] {
	case '"':
		s, err := jsonscan.Unquote(response)
		if err != nil {
			return ""
		}
		return s
	case '{':
		var reason []byte
		err := jsonscan.ObjectEach(response, func(key, value []byte) error {
			if jsonscan.KeyEquals(key, "reason") {
				reason = value
			}
			return nil
		})
		if err != nil || len(reason) == 0 || reason[0] != '"' {
			return ""
		}
		s, err := jsonscan.Unquote(reason)
		if err != nil {
			return ""
		}
		return s
	}
	return ""
}

// BroadcastPayload is the payload of a text "broadcast" frame:
// {"type":"broadcast","event":"e","payload":{...},"meta":{...}}.
type BroadcastPayload struct {
	// Type is normally "broadcast"; "" when absent or null.
	Type string
	// Event is the user event name; "" when absent or null.
	Event string
	// Payload is the raw JSON user payload; nil when absent.
	Payload []byte
	// Meta is the raw JSON metadata (e.g. {"id":"…","replayed":true}); nil
	// when absent or null.
	Meta []byte
}

// ParseBroadcast parses a text broadcast payload. It must be a JSON object;
// "type" and "event" must be strings (or null) when present. The server
// forwards broadcast maps verbatim (docs/protocol.md §5.1), so missing keys are
// not an error. Errors wrap ErrMalformed.
func ParseBroadcast(payload []byte) (BroadcastPayload, error) {
	return parseBroadcast(payload, true, nil)
}

// parseBroadcast extracts the broadcast members, validating the JSON or
// (for decoded payloads) only walking it. A bool rather than a function
// value keeps the member callback from escaping to the heap.
func parseBroadcast(payload []byte, validate bool, intern InternFunc) (BroadcastPayload, error) {
	var typ, event, inner, meta []byte
	member := func(key, value []byte) error {
		switch k, _ := jsonscan.KeyName(key); string(k) {
		case "type":
			typ = value
		case "event":
			event = value
		case "payload":
			inner = value
		case "meta":
			meta = value
		}
		return nil
	}
	var err error
	if validate {
		err = jsonscan.ObjectEach(payload, member)
	} else {
		err = objectEachDecoded(payload, member)
	}
	if err != nil {
		return BroadcastPayload{}, err
	}
	var bp BroadcastPayload
	var ok bool
	if bp.Type, ok = optString(typ); !ok {
		return BroadcastPayload{}, fmt.Errorf("%w: broadcast: \"type\" is not a string", messages.ErrMalformed)
	}
	if bp.Event, ok = optStringIntern(event, intern); !ok {
		return BroadcastPayload{}, fmt.Errorf("%w: broadcast: \"event\" is not a string", messages.ErrMalformed)
	}
	bp.Payload = inner
	if meta != nil && !jsonscan.IsNull(meta) {
		bp.Meta = meta
	}
	return bp, nil
}

// SystemPayload is the payload of a "system" event:
// {"extension","status","message"[,"channel"]} (docs/protocol.md §9.1).
type SystemPayload struct {
	// Channel is the sub-topic ("room1"); "" when absent (e.g. "Server
	// requested disconnect").
	Channel string
	// Extension is "postgres_changes", "system", …
	Extension string
	// Status is "ok" or "error".
	Status string
	// Message is the human-readable message.
	Message string
}

// ParseSystem parses a system payload. It must be a JSON object; the four
// known keys must be strings (or null) when present, and missing keys are
// left empty. Errors wrap ErrMalformed.
func ParseSystem(payload []byte) (SystemPayload, error) {
	var channel, extension, status, message []byte
	err := jsonscan.ObjectEach(payload, func(key, value []byte) error {
		switch k, _ := jsonscan.KeyName(key); string(k) {
		case "channel":
			channel = value
		case "extension":
			extension = value
		case "status":
			status = value
		case "message":
			message = value
		}
		return nil
	})
	if err != nil {
		return SystemPayload{}, err
	}
	var sp SystemPayload
	var ok bool
	if sp.Channel, ok = optString(channel); !ok {
		return SystemPayload{}, fmt.Errorf("%w: system: \"channel\" is not a string", messages.ErrMalformed)
	}
	if sp.Extension, ok = optString(extension); !ok {
		return SystemPayload{}, fmt.Errorf("%w: system: \"extension\" is not a string", messages.ErrMalformed)
	}
	if sp.Status, ok = optString(status); !ok {
		return SystemPayload{}, fmt.Errorf("%w: system: \"status\" is not a string", messages.ErrMalformed)
	}
	if sp.Message, ok = optString(message); !ok {
		return SystemPayload{}, fmt.Errorf("%w: system: \"message\" is not a string", messages.ErrMalformed)
	}
	return sp, nil
}

// optString decodes an optional string member: absent (nil) or null give "".
func optString(raw []byte) (string, bool) { return optStringIntern(raw, nil) }

// JSONString decodes a raw JSON string value (null or nil is ""), looking
// the result up with intern (optional) before allocating it. ok is false
// for any other value.
func JSONString(raw []byte, intern InternFunc) (s string, ok bool) {
	return optStringIntern(raw, intern)
}

// optStringIntern is optString that looks the string up with intern first.
func optStringIntern(raw []byte, intern InternFunc) (string, bool) {
	if raw == nil || jsonscan.IsNull(raw) {
		return "", true
	}
	return interner{hook: intern}.jsonString(raw)
}
