// SPDX-License-Identifier: EUPL-1.2

package form

import (
	"encoding/json"
	"math"
	"math/bits"
	"strconv"
	"sync"
	"sync/atomic"
)

// Fast number handling for Validate. Almost every answer and every bound is
// a plain decimal such as "12", "-3.5" or "1e3" whose value fits in an
// unsigned 64-bit mantissa with at most 19 decimals; such a number is
// compared exactly as a scaled integer (no big.Rat, no allocation). Anything
// else — other spellings, huge or very precise numbers, text — is left to
// the exact big.Rat path, which decides as before. The fast path never
// rejects: it either knows the exact value or says "don't know".

// dec is the exact value ±mant / 10^scale; normalised: no trailing zero
// digits when scale > 0, neg false for zero.
type dec struct {
	mant  uint64
	scale uint8 // 0…19
	neg   bool
}

// pow10 holds 10^0…10^19 (all fit in a uint64).
var pow10 = [20]uint64{
	1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
}

// isInt reports whether d is a whole number.
func (d dec) isInt() bool { return d.scale == 0 }

// cmp compares d and e: -1, 0 or +1.
func (d dec) cmp(e dec) int {
	if d.neg != e.neg {
		if d.neg {
			return -1
		}
		return 1
	}
	c := cmpAbs(d, e)
	if d.neg {
		return -c
	}
	return c
}

// cmpAbs compares |d| and |e| exactly: both are brought to the larger scale
// in 128 bits.
func cmpAbs(d, e dec) int {
	dh, dl := uint64(0), d.mant
	eh, el := uint64(0), e.mant
	switch {
	case d.scale < e.scale:
		dh, dl = bits.Mul64(d.mant, pow10[e.scale-d.scale])
	case e.scale < d.scale:
		eh, el = bits.Mul64(e.mant, pow10[d.scale-e.scale])
	}
	switch {
	case dh < eh:
		return -1
	case dh > eh:
		return 1
	case dl < el:
		return -1
	case dl > el:
		return 1
	}
	return 0
}

// parseDec parses the decimal spellings [+-]digits[.digits][(e|E)[+-]digits]
// whose exact value fits a dec; ok false means "not handled here" (the
// caller falls back to parseRat, which also decides what is no number).
// Inputs longer than 64 bytes are not handled (parseRat rejects them).
func parseDec[S string | []byte](s S) (d dec, ok bool) {
	n := len(s)
	if n == 0 || n > 64 {
		return dec{}, false
	}
	i := 0
	switch s[0] {
	case '+':
		i++
	case '-':
		d.neg = true
		i++
	}
	var mant uint64
	digits := 0 // significant digits taken into mant
	frac := 0   // digits after the point
	intDigits := 0
	for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
		intDigits++
		if mant == 0 && s[i] == '0' {
			continue
		}
		if digits == 19 {
			return dec{}, false
		}
		mant = mant*10 + uint64(s[i]-'0')
		digits++
	}
	if intDigits == 0 {
		return dec{}, false
	}
	if i < n && s[i] == '.' {
		i++
		start := i
		for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
			if mant == 0 && s[i] == '0' {
				frac++
				continue
			}
			if digits == 19 {
				return dec{}, false
			}
			mant = mant*10 + uint64(s[i]-'0')
			digits++
			frac++
		}
		if i == start {
			return dec{}, false
		}
	}
	exp := 0
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < n && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		start := i
		for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
			if i-start >= 4 {
				return dec{}, false
			}
			exp = exp*10 + int(s[i]-'0')
		}
		if i == start {
			return dec{}, false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != n {
		return dec{}, false
	}
	if mant == 0 {
		return dec{}, true
	}
	scale := frac - exp
	for scale > 0 && mant%10 == 0 {
		mant /= 10
		scale--
	}
	if scale < 0 {
		if -scale > 19 {
			return dec{}, false
		}
		hi, lo := bits.Mul64(mant, pow10[-scale])
		if hi != 0 {
			return dec{}, false
		}
		mant, scale = lo, 0
	}
	if scale > 19 {
		return dec{}, false
	}
	d.mant, d.scale = mant, uint8(scale)
	return d, true
}

// fastNumber returns the exact value of a JSON number answer when the fast
// path knows it; ok false means: ask number (big.Rat), which also decides
// whether val is a number at all.
func fastNumber(val any) (dec, bool) {
	switch x := val.(type) {
	case json.Number:
		return parseDec(string(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return dec{}, false
		}
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			if x < 0 {
				return dec{mant: uint64(-x), neg: true}, true
			}
			return dec{mant: uint64(x)}, true
		}
		var buf [32]byte
		return parseDec(strconv.AppendFloat(buf[:0], x, 'g', -1, 64))
	case int:
		return decInt(int64(x)), true
	case int64:
		return decInt(x), true
	}
	return dec{}, false
}

func decInt(x int64) dec {
	if x < 0 {
		return dec{mant: uint64(^x) + 1, neg: true}
	}
	return dec{mant: uint64(x)}
}

// bound is a MinValue/MaxValue text parsed once: set false when the text is
// empty or no number; fast false when only big.Rat can represent it.
type bound struct {
	set, fast bool
	d         dec
}

var (
	decBounds    sync.Map // bound text → bound
	decBoundsLen atomic.Int64
)

// boundDec returns the parsed bound s, cached per distinct text.
func boundDec(s string) bound {
	if s == "" {
		return bound{}
	}
	if v, ok := decBounds.Load(s); ok {
		return v.(bound)
	}
	var b bound
	if d, ok := parseDec(s); ok {
		b = bound{set: true, fast: true, d: d}
	} else if _, ok := boundRat(s); ok {
		b = bound{set: true}
	}
	if decBoundsLen.Add(1) > maxCodeSets {
		decBounds.Clear()
		decBoundsLen.Store(1)
	}
	decBounds.Store(s, b)
	return b
}
