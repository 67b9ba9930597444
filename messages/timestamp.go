package messages

import (
	"strings"
	"time"

	"github.com/supabase-go/realtime/internal/jsonscan"
)

// ---------------------------------------------------------------------
// Timestamps

// ParseTimestamp parses the timestamp forms found in postgres_changes and
// returns the instant in UTC:
//
//	2026-08-21T10:15:30.123456+00:00   to_jsonb(timestamptz); offsets ±hh, ±hhmm, ±hh:mm, ±hh:mm:ss
//	2026-08-21T10:15:30.123Z           commit_timestamp (RFC 3339)
//	2026-08-21T10:15:30.123456         to_jsonb(timestamp): no zone, taken as UTC
//	2026-08-21 10:15:30.123456+00      Postgres text output (legacy servers)
//	2026-08-21                         date: midnight UTC
//
// Seconds and the fraction are optional; a fraction longer than
// nanoseconds is truncated. "infinity", BC dates and instants outside the
// years 0000–9999 are rejected. Errors wrap ErrDecode and never contain
// the input.
func ParseTimestamp(s string) (time.Time, error) {
	bad := func(reason string) (time.Time, error) {
		return time.Time{}, &valueError{"invalid timestamp: " + reason}
	}
	if len(s) == len("2006-01-02") {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return bad("expected YYYY-MM-DD")
		}
		return t, nil
	}
	if len(s) < len("2006-01-02T15:04") {
		return bad("expected YYYY-MM-DD or a date and a time")
	}
	// time.Parse knows one spelling of each part; map the others onto it:
	// a lower-case t or a space between date and time, a lower-case z, a
	// comma before the fraction (time.Parse takes both), and 24:00:00 for
	// the end of the day.
	norm := s
	if c := s[10]; c == 't' || c == ' ' {
		norm = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(norm, "z") {
		norm = norm[:len(norm)-1] + "Z"
	}
	endOfDay := strings.HasPrefix(norm[11:], "24:00")
	if endOfDay {
		norm = norm[:11] + "00" + norm[13:]
	}
	layout, ok := timestampLayout(norm)
	if !ok {
		return bad("unexpected characters after the time")
	}
	t, err := time.Parse(layout, norm)
	if err != nil {
		return bad("out of range or malformed")
	}
	if endOfDay {
		if t.Second() != 0 || t.Nanosecond() != 0 {
			return bad("time out of range")
		}
		t = t.AddDate(0, 0, 1)
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return bad("zone offset out of range")
	}
	t = t.UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return bad("year out of range")
	}
	return t, nil
}

// timestampLayouts holds the time.Parse layout for each shape ParseTimestamp
// accepts: [with seconds][zone form]. The fraction needs no layout of its
// own: time.Parse accepts one after the seconds (with '.' or ',').
var timestampLayouts = [2][5]string{
	{"2006-01-02T15:04", "2006-01-02T15:04Z07:00", "2006-01-02T15:04Z0700", "2006-01-02T15:04Z07", "2006-01-02T15:04Z07:00:00"},
	{"2006-01-02T15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05Z07", "2006-01-02T15:04:05Z07:00:00"},
}

// timestampLayout picks the layout for norm (date, 'T', hh:mm, then
// optional :ss, fraction and zone) from the shape of its tail.
func timestampLayout(norm string) (string, bool) {
	i, sec := len("2006-01-02T15:04"), 0
	if i < len(norm) && norm[i] == ':' {
		sec, i = 1, i+3
		if i < len(norm) && (norm[i] == '.' || norm[i] == ',') {
			i++
			for i < len(norm) && jsonscan.IsDigit(norm[i]) {
				i++
			}
		}
	}
	zone := norm[min(i, len(norm)):]
	switch {
	case zone == "" || zone == "Z":
		// "Z" parses with the ±hh:mm layout (Z07:00 accepts Z).
		if zone == "" {
			return timestampLayouts[sec][0], true
		}
		return timestampLayouts[sec][1], true
	case zone[0] != '+' && zone[0] != '-' || !zoneInRange(zone):
		return "", false
	case len(zone) == len("+07:00") && zone[3] == ':':
		return timestampLayouts[sec][1], true
	case len(zone) == len("+0700"):
		return timestampLayouts[sec][2], true
	case len(zone) == len("+07"):
		return timestampLayouts[sec][3], true
	case len(zone) == len("+07:00:00"):
		return timestampLayouts[sec][4], true
	}
	return "", false
}

// zoneInRange reports whether the zone offset ±hh[[:]mm[:ss]] has hours
// below 24 and minutes and seconds below 60 (time.Parse checks less).
func zoneInRange(zone string) bool {
	digits := strings.ReplaceAll(zone[1:], ":", "")
	for k := 0; k+2 <= len(digits); k += 2 {
		v, ok := fixedDigits(digits, k, 2)
		if !ok || (k == 0 && v > 23) || (k > 0 && v > 59) {
			return false
		}
	}
	return true
}

// fixedDigits reads the n-digit decimal number at s[i:i+n].
func fixedDigits(s string, i, n int) (int, bool) {
	if i < 0 || i+n > len(s) {
		return 0, false
	}
	v := 0
	for k := i; k < i+n; k++ {
		if !jsonscan.IsDigit(s[k]) {
			return 0, false
		}
		v = v*10 + int(s[k]-'0')
	}
	return v, true
}
