// SPDX-License-Identifier: EUPL-1.2

package form

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// DIN SPEC 91379 "String.Latin+" (version 1.2) — what IsLatin covers.
//
// Letters (normative group A), as single code points:
//
//	0041–005A, 0061–007A          Basic Latin letters
//	00C0–00D6, 00D8–00F6, 00F8–00FF  Latin-1 letters
//	0100–017F                     Latin Extended-A
//	0187 0188 018F 0192 01A0 01A1 01AF 01B0 01B7 01C4–01DC 01DE 01DF
//	01E2–01F5 01F8–01FF 0212 0213 0218–021B 021E 021F
//	0227–0233 0259 0292           the listed Latin Extended-B / IPA letters
//	02B9 02BA 02BE 02BF 02C8 02CC modifier letters (primes, ayin/alif, stress)
//	1E02–1EF9                     Latin Extended Additional (accepted as a
//	                              block: a superset of the normative subset)
//	1E9E                          capital sharp s
//
// Letters as combining sequences: a letter above followed by one or two
// combining marks out of 0300 0301 0302 0303 0304 0306 0307 0308 030B 030C
// 0310 0315 031B 0323 0325 0326 0327 0328 0331 — the marks used by the
// normative sequences (e.g. C̨̆, Ḳ̄, L̥̄, S̛̄, T̈). This admits every
// normative sequence; it also admits some base+mark pairs the standard
// does not list (a documented superset, as the sequence list is long).
//
// Non-letters (groups N1/N2) and spaces: 0020–007E (printable ASCII), 00A0–
// 00BF, 00D7, 00F7, 2018 2019 201A 201C 201D 201E 2013 2014 2026 20AC, and the
// control characters TAB, LF, CR of multi-line texts. Greek and Cyrillic
// (data types C–E) are not accepted.

var latinSingles = [][2]rune{
	{0x09, 0x0A}, {0x0D, 0x0D},
	{0x20, 0x7E}, {0xA0, 0xFF}, {0x100, 0x17F},
	{0x187, 0x188}, {0x18F, 0x18F}, {0x192, 0x192}, {0x1A0, 0x1A1}, {0x1AF, 0x1B0}, {0x1B7, 0x1B7},
	{0x1C4, 0x1DC}, {0x1DE, 0x1DF}, {0x1E2, 0x1F5}, {0x1F8, 0x1FF},
	{0x212, 0x213}, {0x218, 0x21B}, {0x21E, 0x21F}, {0x227, 0x233}, {0x259, 0x259}, {0x292, 0x292},
	{0x2B9, 0x2BA}, {0x2BE, 0x2BF}, {0x2C8, 0x2C8}, {0x2CC, 0x2CC},
	{0x1E02, 0x1EF9}, {0x1E9E, 0x1E9E},
	{0x2013, 0x2014}, {0x2018, 0x201A}, {0x201C, 0x201E}, {0x2026, 0x2026}, {0x20AC, 0x20AC},
}

var latinMarks = []rune{0x300, 0x301, 0x302, 0x303, 0x304, 0x306, 0x307, 0x308, 0x30B, 0x30C, 0x310, 0x315, 0x31B, 0x323, 0x325, 0x326, 0x327, 0x328, 0x331}

func inRanges(r rune, rs [][2]rune) bool {
	for _, x := range rs {
		if r >= x[0] && r <= x[1] {
			return true
		}
	}
	return false
}

func isLatinMark(r rune) bool {
	for _, m := range latinMarks {
		if r == m {
			return true
		}
	}
	return false
}

// isLatinLetter reports whether r may carry combining marks.
func isLatinLetter(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		return true
	case r == 0xD7 || r == 0xF7:
		return false
	case r >= 0xC0 && r <= 0x233:
		return inRanges(r, latinSingles)
	case r >= 0x1E02 && r <= 0x1EF9:
		return true
	}
	return false
}

// IsLatin reports whether s consists only of DIN SPEC 91379 String.Latin+
// characters (letters, combining sequences, non-letters; see the comment
// above for the exact coverage).
func IsLatin(s string) bool {
	marks := 0
	letter := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		i += n
		switch {
		case isLatinMark(r):
			if !letter || marks >= 2 {
				return false
			}
			marks++
		case inRanges(r, latinSingles):
			letter, marks = isLatinLetter(r), 0
		default:
			return false
		}
	}
	return true
}

// latinPattern is the same check as an RE2/ECMA-262 compatible regular
// expression (for the JSON Schema export).
var latinPattern = func() string {
	cls := func(pred func(rune) bool) string {
		var b strings.Builder
		b.WriteString("[")
		for _, rg := range latinSingles {
			start := rune(-1)
			for r := rg[0]; r <= rg[1]+1; r++ {
				ok := r <= rg[1] && pred(r)
				if ok && start < 0 {
					start = r
				}
				if !ok && start >= 0 {
					fmt.Fprintf(&b, `\x{%x}-\x{%x}`, start, r-1)
					start = -1
				}
			}
		}
		b.WriteString("]")
		return b.String()
	}
	var m strings.Builder
	m.WriteString("[")
	for _, r := range latinMarks {
		fmt.Fprintf(&m, `\x{%x}`, r)
	}
	m.WriteString("]")
	letters := cls(isLatinLetter)
	others := cls(func(r rune) bool { return !isLatinLetter(r) })
	return `^(?:` + others + `|` + letters + m.String() + `{0,2})*$`
}()

// LatinPattern returns a regular expression (Go RE2 syntax with \x{…}
// escapes) equivalent to IsLatin.
func LatinPattern() string { return latinPattern }
