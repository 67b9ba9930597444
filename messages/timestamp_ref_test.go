package messages

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/supabase-go/realtime/internal/jsonscan"
)

// refParseTimestamp is the hand-written parser ParseTimestamp replaced,
// kept as the reference FuzzParseTimestamp compares the layout table with.
func refParseTimestamp(s string) (time.Time, error) {
	bad := func(reason string) (time.Time, error) {
		return time.Time{}, &valueError{"invalid timestamp: " + reason}
	}
	if strings.EqualFold(s, "infinity") || strings.EqualFold(s, "-infinity") {
		return bad("infinite values are not representable")
	}
	year, ok1 := fixedDigits(s, 0, 4)
	month, ok2 := fixedDigits(s, 5, 2)
	day, ok3 := fixedDigits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return bad("expected YYYY-MM-DD")
	}
	if month < 1 || month > 12 || day < 1 || day > refDaysIn(time.Month(month), year) {
		return bad("date out of range")
	}
	i := 10
	if i == len(s) {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), nil
	}
	if c := s[i]; c != 'T' && c != 't' && c != ' ' {
		return bad("expected T or a space after the date")
	}
	i++
	hour, ok1 := fixedDigits(s, i, 2)
	minute, ok2 := fixedDigits(s, i+3, 2)
	if !ok1 || !ok2 || s[i+2] != ':' {
		return bad("expected hh:mm")
	}
	i += 5
	sec, nsec := 0, 0
	if i < len(s) && s[i] == ':' {
		var ok bool
		if sec, ok = fixedDigits(s, i+1, 2); !ok {
			return bad("expected seconds")
		}
		i += 3
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			i++
			start := i
			for i < len(s) && jsonscan.IsDigit(s[i]) {
				if i-start < 9 {
					nsec = nsec*10 + int(s[i]-'0')
				}
				i++
			}
			if i == start {
				return bad("empty fraction")
			}
			for k := i - start; k < 9; k++ {
				nsec *= 10
			}
		}
	}
	if hour == 24 && minute == 0 && sec == 0 && nsec == 0 {
		// 24:00:00 is the end of the day; time.Date normalises it.
	} else if hour > 23 || minute > 59 || sec > 59 {
		return bad("time out of range")
	}
	offset := 0
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			oh, ok := fixedDigits(s, i, 2)
			if !ok {
				return bad("invalid zone offset")
			}
			i += 2
			om, os := 0, 0
			switch {
			case i < len(s) && s[i] == ':':
				if om, ok = fixedDigits(s, i+1, 2); !ok {
					return bad("invalid zone offset")
				}
				i += 3
				if i < len(s) && s[i] == ':' {
					if os, ok = fixedDigits(s, i+1, 2); !ok {
						return bad("invalid zone offset")
					}
					i += 3
				}
			case i+2 <= len(s) && jsonscan.IsDigit(s[i]):
				if om, ok = fixedDigits(s, i, 2); !ok {
					return bad("invalid zone offset")
				}
				i += 2
			}
			if oh > 23 || om > 59 || os > 59 {
				return bad("zone offset out of range")
			}
			offset = sign * (oh*3600 + om*60 + os)
		default:
			return bad("unexpected characters after the time")
		}
	}
	if i != len(s) {
		return bad("unexpected characters after the time")
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).
		Add(-time.Duration(offset) * time.Second)
	if t.Year() < 0 || t.Year() > 9999 {
		return bad("year out of range")
	}
	return t, nil
}

// fixedDigits parses s[i:i+n] as n decimal digits.

func refDaysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// FuzzParseTimestamp checks the layout table against the reference parser:
// both accept the same inputs and agree on the instant, and every error
// wraps ErrDecode.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2026-08-21T10:15:30.123456+00:00", "2026-08-21T10:15:30.123Z", "2026-08-21T10:15:30.123456",
		"2026-08-21 10:15:30.123456+00", "2026-08-21", "2026-08-21t10:15z", "2026-08-21T24:00:00",
		"2026-02-29T10:00:00Z", "0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:30",
		"2026-08-21T10:15:30,5+0530", "2026-08-21T10:15:30+05:30:15", "infinity", "2026-08-21T10:15:30.1234567891234Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTimestamp(s)
		want, refErr := refParseTimestamp(s)
		if err != nil && !errors.Is(err, ErrDecode) {
			t.Fatalf("ParseTimestamp(%q) error does not wrap ErrDecode: %v", s, err)
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("ParseTimestamp(%q) = %v, %v; reference %v, %v", s, got, err, want, refErr)
		}
		if err == nil && !got.Equal(want) {
			t.Fatalf("ParseTimestamp(%q) = %v; reference %v", s, got, want)
		}
	})
}
