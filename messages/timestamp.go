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
	// a lower-case t or a space between date and time, and 24:00:00 for
	// the end of the day. It takes a comma before the fraction itself.
	norm := s
	if c := s[10]; c == 't' || c == ' ' {
		norm = s[:10] + "T" + s[11:]
	}
	endOfDay := strings.HasPrefix(norm[11:], "24:00")
	if endOfDay {
		norm = norm[:11] + "00" + norm[13:]
	}
	local, zone, withSeconds := splitZone(norm)
	offset, ok := zoneOffset(zone)
	if !ok {
		return bad("unexpected characters after the time")
	}
	// Without a zone in the layout, time.Parse returns UTC and allocates
	// no time.Location; the offset is applied here.
	t, err := time.Parse(timestampLayouts[withSeconds], local)
	if err != nil {
		return bad("out of range or malformed")
	}
	if endOfDay {
		if t.Second() != 0 || t.Nanosecond() != 0 {
			return bad("time out of range")
		}
		t = t.AddDate(0, 0, 1)
	}
	t = t.Add(-offset)
	if t.Year() < 0 || t.Year() > 9999 {
		return bad("year out of range")
	}
	return t, nil
}

// timestampLayouts are the time.Parse layouts of a timestamp without its
// zone: [0] without seconds, [1] with. A fraction needs no layout of its
// own: time.Parse takes one after the seconds (with '.' or ',').
var timestampLayouts = [2]string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// splitZone splits norm (date, 'T', hh:mm, then optional :ss and fraction)
// before its zone; withSeconds is 1 when it has seconds.
func splitZone(norm string) (local, zone string, withSeconds int) {
	i := len("2006-01-02T15:04")
	if i < len(norm) && norm[i] == ':' {
		withSeconds, i = 1, i+3
		if i < len(norm) && (norm[i] == '.' || norm[i] == ',') {
			i++
			for i < len(norm) && jsonscan.IsDigit(norm[i]) {
				i++
			}
		}
	}
	i = min(i, len(norm))
	return norm[:i], norm[i:], withSeconds
}

// zoneOffset parses a zone: none, Z (or z), or ±hh, ±hhmm, ±hh:mm,
// ±hh:mm:ss with hours below 24 and minutes and seconds below 60.
func zoneOffset(zone string) (time.Duration, bool) {
	if zone == "" || zone == "Z" || zone == "z" {
		return 0, true
	}
	if zone[0] != '+' && zone[0] != '-' {
		return 0, false
	}
	d := zone[1:]
	var at [3]int // where hh, mm and ss start in d; -1: absent
	switch {
	case len(d) == 2:
		at = [3]int{0, -1, -1}
	case len(d) == 4:
		at = [3]int{0, 2, -1}
	case len(d) == 5 && d[2] == ':':
		at = [3]int{0, 3, -1}
	case len(d) == 8 && d[2] == ':' && d[5] == ':':
		at = [3]int{0, 3, 6}
	default:
		return 0, false
	}
	var v [3]int
	for k, i := range at {
		if i < 0 {
			continue
		}
		n, ok := fixedDigits(d, i, 2)
		if !ok || n > [3]int{23, 59, 59}[k] {
			return 0, false
		}
		v[k] = n
	}
	h, m, sec := v[0], v[1], v[2]
	off := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	if zone[0] == '-' {
		off = -off
	}
	return off, true
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
