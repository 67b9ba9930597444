package main

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

func key(parts ...string) string { return strings.Join(parts, "/") }

func median(v []float64) float64 { return percentile(v, 50) }

// percentile returns the p-th percentile (0..100) of v with linear
// interpolation between closest ranks; NaN for no values.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 1 {
		return s[0]
	}
	pos := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

func minMax(v []float64) (lo, hi float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	lo, hi = v[0], v[0]
	for _, x := range v[1:] {
		lo = math.Min(lo, x)
		hi = math.Max(hi, x)
	}
	return lo, hi
}

// thousands formats n rounded to an integer with "," separators.
func thousands(n float64) string {
	if math.IsNaN(n) {
		return "n/a"
	}
	neg := n < 0
	s := strconv.FormatInt(int64(math.Round(math.Abs(n))), 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func fixed(n float64, prec int) string {
	if math.IsNaN(n) {
		return "n/a"
	}
	return strconv.FormatFloat(n, 'f', prec, 64)
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "n/a"
	}
	return fixed(a/b, 2) + "×"
}
