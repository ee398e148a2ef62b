// SPDX-License-Identifier: EUPL-1.2

package form

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"testing"
)

// decRat is the exact rational of d.
func decRat(d dec) *big.Rat {
	r := new(big.Rat).SetFrac(new(big.Int).SetUint64(d.mant), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.scale)), nil))
	if d.neg {
		r.Neg(r)
	}
	return r
}

// checkParseDec fails when parseDec claims a value that parseRat (the
// reference) does not give, or returns an unnormalised dec.
func checkParseDec(t *testing.T, s string) {
	d, ok := parseDec(s)
	if !ok {
		return
	}
	want, wantOK := parseRat(s)
	if !wantOK {
		t.Fatalf("parseDec(%q) = %+v; parseRat rejects it", s, d)
	}
	if got := decRat(d); got.Cmp(want) != 0 {
		t.Fatalf("parseDec(%q) = %s; parseRat says %s", s, got.RatString(), want.RatString())
	}
	if (d.mant == 0 && (d.neg || d.scale != 0)) || (d.scale > 0 && d.mant%10 == 0) || d.scale > 19 {
		t.Fatalf("parseDec(%q) = %+v: not normalised", s, d)
	}
	if b, ok := parseDec([]byte(s)); !ok || b != d {
		t.Fatalf("parseDec([]byte(%q)) = %+v, %v; string form %+v", s, b, ok, d)
	}
}

var decSeeds = []string{
	"0", "-0", "+0", "00", "00012", "-00012.500", "1.50", "1.5", "0.01", "-0.01", "1e3", "1E3", "1e-3", "1.5e2",
	"1e+2", "1e400", "-1e400", "1e9999", "1e99999", "0e99999", "0.0", ".5", "12.", "1.e3", "+1", " 1", "1 ", "1/2", "0x10",
	"0b1", "0o7", "1_000", "abc", "", "Inf", "NaN", "1e", "--1", "-+1", "9223372036854775807", "9223372036854775808",
	"18446744073709551615", "18446744073709551616", "9999999999999999999", "10000000000000000000", "99999999999999999999",
	"0.1234567890123456789", "0.12345678901234567890", "0.0000000000000000001", "0.00000000000000000001",
	"1234567890123456789e-19", "1e19", "1e20", "12e18", "2e19", "99999999999999999999.99", "123456.78",
	"1.7976931348623157e+308", "5e-324", "4.9e-324", "٣", "１",
}

// FuzzParseDec checks the fast decimal parser against big.Rat: whatever it
// accepts has exactly the value parseRat gives.
func FuzzParseDec(f *testing.F) {
	for _, s := range decSeeds {
		f.Add(s)
	}
	f.Fuzz(checkParseDec)
}

// TestParseDecHandles pins which spellings take the fast path (the rest
// goes to big.Rat) and that the values agree.
func TestParseDecHandles(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fast bool
	}{
		{"0", true}, {"-0", true}, {"00012", true}, {"1.50", true}, {"1e3", true}, {"-1e-3", true}, {"+1", true},
		{"18446744073709551615", false}, {"9999999999999999999", true}, {"1e20", false}, {"12.", false}, {".5", false},
		{" 1", false}, {"1/2", false}, {"0x10", false}, {"abc", false}, {"", false}, {"1e99999", false},
		{"0.0000000000000000001", true}, {"0.00000000000000000001", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if _, ok := parseDec(tc.in); ok != tc.fast {
				t.Errorf("parseDec(%q) handled = %v, want %v", tc.in, ok, tc.fast)
			}
			checkParseDec(t, tc.in)
		})
	}
}

// FuzzDecCmp checks dec.cmp against big.Rat.Cmp.
func FuzzDecCmp(f *testing.F) {
	f.Add("1.5", "1.50")
	f.Add("-0", "0")
	f.Add("9999999999999999999", "0.0000000000000000001")
	f.Add("1e19", "10000000000000000000.1")
	f.Add("-2", "-10")
	f.Fuzz(func(t *testing.T, a, b string) {
		da, okA := parseDec(a)
		db, okB := parseDec(b)
		if !okA || !okB {
			return
		}
		if got, want := da.cmp(db), decRat(da).Cmp(decRat(db)); got != want {
			t.Fatalf("cmp(%q, %q) = %d, big.Rat says %d", a, b, got, want)
		}
	})
}

// refNumberErrors is the number check of Validate before the fast path
// (big.Rat only), kept as the reference for FuzzNumberSameVerdicts.
func refNumberErrors(it *Item, val any) []string {
	c := it.Constraints
	r, ok := number(val)
	if !ok {
		return []string{ErrType}
	}
	if it.Datentyp == TypNumInt && !r.IsInt() {
		return []string{ErrType + " int"}
	}
	if it.Datentyp == TypNumCurrency && !new(big.Rat).Mul(r, hundred).IsInt() {
		return []string{ErrDecimals}
	}
	var out []string
	if lo, ok := parseRat(c.MinValue); ok && r.Cmp(lo) < 0 {
		out = append(out, ErrMinValue)
	}
	if hi, ok := parseRat(c.MaxValue); ok && r.Cmp(hi) > 0 {
		out = append(out, ErrMaxValue)
	}
	return out
}

// refFileSizeErrors is the file size check before the fast path.
func refFileSizeErrors(maxSize int64, size any) []string {
	r, ok := number(size)
	if !ok || !r.IsInt() || r.Sign() < 0 {
		return []string{ErrType}
	}
	if maxSize > 0 && r.Cmp(big.NewRat(maxSize*1024, 1)) > 0 {
		return []string{ErrFileSize}
	}
	return nil
}

func gotCodes(errs []FieldError) []string {
	var out []string
	for _, e := range errs {
		code := e.Code
		if e.Code == ErrType && e.MessageEN == "Enter a whole number." {
			code += " int"
		}
		out = append(out, code)
	}
	return out
}

// FuzzNumberSameVerdicts compares Validate's number and file size checks
// with the big.Rat reference for answers given as json.Number, float64,
// int and int64, each datatype and arbitrary bounds.
func FuzzNumberSameVerdicts(f *testing.F) {
	bounds := []string{"", "0", "100", "-5", "0.5", "99.95", "-0.01", "1e3", "9223372036854775807", "99999999999999999999.99", "1/3", " 7 ", "abc", "00012"}
	for i, s := range decSeeds {
		f.Add(s, 1.5, int64(i), uint8(i), bounds[i%len(bounds)], bounds[(i*5+3)%len(bounds)], int64(i))
	}
	f.Add("1", math.Copysign(0, -1), int64(math.MinInt64), uint8(1), "-1", "1", int64(-1))
	f.Add("1", 1e21, int64(math.MaxInt64), uint8(2), "1e21", "", int64(math.MaxInt64/1024+1))
	f.Add("1", 0.005, int64(0), uint8(2), "0.005", "0.01", int64(0))
	f.Fuzz(func(t *testing.T, s string, fl float64, n int64, dtSel uint8, lo, hi string, maxSize int64) {
		dt := []Datentyp{TypNum, TypNumInt, TypNumCurrency}[int(dtSel)%3]
		it := Item{Kind: KindField, ID: "N", Max: 1, Feldart: FeldInput, Datentyp: dt, Constraints: Constraints{MinValue: lo, MaxValue: hi}}
		fileIt := Item{Kind: KindField, ID: "F", Max: 1, Feldart: FeldInput, Datentyp: TypFile, MaxSize: maxSize}
		m := &Model{Root: []Item{it, fileIt}}
		for _, val := range []any{json.Number(s), fl, n, int(n)} {
			want := refNumberErrors(&it, val)
			got := gotCodes(m.Validate(Answers{"N": val}, ValidateOptions{Partial: true}))
			if !slices.Equal(got, want) {
				t.Fatalf("%T %v (%s, [%q, %q]): Validate %v, reference %v", val, val, dt, lo, hi, got, want)
			}
			want = refFileSizeErrors(maxSize, val)
			got = gotCodes(m.Validate(Answers{"F": map[string]any{"name": "a", "size": val}}, ValidateOptions{Partial: true}))
			if !slices.Equal(got, want) {
				t.Fatalf("size %T %v (max %d KB): Validate %v, reference %v", val, val, maxSize, got, want)
			}
		}
	})
}

// TestNumberSameVerdictsTable runs the reference comparison over a grid of
// spellings, floats and bounds (what the fuzz seeds cover, in every
// combination).
func TestNumberSameVerdictsTable(t *testing.T) {
	bounds := []string{"", "0", "100", "-5", "0.5", "99.95", "-0.01", "1e3", "9223372036854775807", "99999999999999999999.99", "1/3", " 7 ", "abc", "00012", "1.5", "1.50"}
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.5, 0.01, 0.005, 1.5, 99.95, 99.951, 1e3, 1e21, 1e-7, 1e300, -1e300, 9.223372036854775807e18, math.NaN(), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64, 1 << 53, 1<<53 + 2, 123456.78}
	ints := []int64{0, 1, -1, 5, -5, 100, 101, 1000, math.MaxInt64, math.MinInt64}
	var vals []any
	for _, s := range decSeeds {
		vals = append(vals, json.Number(s))
	}
	for _, x := range floats {
		vals = append(vals, x)
	}
	for _, x := range ints {
		vals = append(vals, x, int(x))
	}
	for _, dt := range []Datentyp{TypNum, TypNumInt, TypNumCurrency} {
		for _, lo := range bounds {
			for _, hi := range bounds {
				it := Item{Kind: KindField, ID: "N", Max: 1, Feldart: FeldInput, Datentyp: dt, Constraints: Constraints{MinValue: lo, MaxValue: hi}}
				m := &Model{Root: []Item{it}}
				for _, val := range vals {
					want := refNumberErrors(&it, val)
					got := gotCodes(m.Validate(Answers{"N": val}, ValidateOptions{Partial: true}))
					if !slices.Equal(got, want) {
						t.Errorf("%T %v (%s, [%q, %q]): Validate %v, reference %v", val, val, dt, lo, hi, got, want)
					}
				}
			}
		}
	}
	for _, maxSize := range []int64{-1, 0, 1, 2, math.MaxInt64 / 1024, math.MaxInt64/1024 + 1} {
		m := &Model{Root: []Item{{Kind: KindField, ID: "F", Max: 1, Feldart: FeldInput, Datentyp: TypFile, MaxSize: maxSize}}}
		for _, val := range vals {
			t.Run(fmt.Sprintf("size %d", maxSize), func(t *testing.T) {
				want := refFileSizeErrors(maxSize, val)
				got := gotCodes(m.Validate(Answers{"F": map[string]any{"name": "a", "size": val}}, ValidateOptions{Partial: true}))
				if !slices.Equal(got, want) {
					t.Errorf("size %T %v: Validate %v, reference %v", val, val, got, want)
				}
			})
		}
	}
}
