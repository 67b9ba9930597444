package wire

import "github.com/supabase-go/realtime/internal/jsonscan"

// This file holds a second, non-validating walk over JSON the codec has
// already validated. Decode validates every text frame's payload (it must,
// to find where the payload ends), so re-validating it when the registry
// looks for a broadcast's "event" and "payload" would scan the bytes twice.
// The walk below only finds value boundaries: strings by their closing
// quote, containers by bracket depth. It never panics on any input and
// reports ErrMalformed when the bytes do not even have that shape; on
// invalid JSON that does have it the result is unspecified, which is why it
// is only used on decoded payloads.

// objectEachDecoded calls fn for every top-level member of the object in
// data, like ObjectEach, without validating the values.
func objectEachDecoded(data []byte, fn func(key, value []byte) error) error {
	i := jsonscan.SkipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return jsonscan.ErrSyntax("expected object", i)
	}
	i = jsonscan.SkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return jsonscan.ErrSyntax("expected string key", i)
		}
		keyEnd, ok := skipString(data, i)
		if !ok {
			return jsonscan.ErrSyntax("unterminated string", i)
		}
		key := data[i+1 : keyEnd-1]
		i = jsonscan.SkipSpace(data, keyEnd)
		if i >= len(data) || data[i] != ':' {
			return jsonscan.ErrSyntax("expected ':'", i)
		}
		i = jsonscan.SkipSpace(data, i+1)
		end, ok := skipValue(data, i)
		if !ok {
			return jsonscan.ErrSyntax("bad value", i)
		}
		if err := fn(key, data[i:end]); err != nil {
			return err
		}
		i = jsonscan.SkipSpace(data, end)
		if i >= len(data) {
			return jsonscan.ErrSyntax("unexpected end of input", i)
		}
		switch data[i] {
		case ',':
			i = jsonscan.SkipSpace(data, i+1)
		case '}':
			return nil
		default:
			return jsonscan.ErrSyntax("expected ',' or '}'", i)
		}
	}
}

// skipString returns the index just past the string starting at data[i]
// ('"').
func skipString(data []byte, i int) (int, bool) {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '"':
			return i + 1, true
		case '\\':
			i++
		}
	}
	return 0, false
}

// skipValue returns the index just past the value starting at data[i].
func skipValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				end, ok := skipString(data, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	default:
		start := i
		for i < len(data) {
			switch data[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if i == start {
					return 0, false
				}
				return i, true
			}
			i++
		}
		if i == start {
			return 0, false
		}
		return i, true
	}
}

// ParseDecodedBroadcast is ParseBroadcast for a payload that came out of
// Codec.Decode, which already validated it: it does not validate the
// payload a second time. On arbitrary input it never panics and returns an
// error or a best-effort result; use ParseBroadcast for untrusted bytes.
//
// The event name is looked up with intern (optional) before a string is
// allocated for it.
func ParseDecodedBroadcast(payload []byte, intern InternFunc) (BroadcastPayload, error) {
	return parseBroadcast(payload, false, intern)
}
