// SPDX-License-Identifier: EUPL-1.2

package submission

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"rathaus"
)

// crockford is Crockford's base32 alphabet: digits and letters without I, L,
// O and U, so a reference read aloud or typed from paper is not ambiguous.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// refRandom is the number of random characters of a reference (7 × 5 = 35
// bits per tenant and year); one check character follows.
const refRandom = 7

// NewReference returns a fresh reference number: optional prefix (an office
// or tenant abbreviation of letters and digits, upper-cased), the year, and
// eight Crockford base32 characters of which the last is a check character
// over the year and the random ones (Luhn mod 32): "DA-2026-7K3M-9QXT", or
// "2026-7K3M-9QXT" without prefix.
func NewReference(prefix string, year int) string {
	var rnd [refRandom]byte
	rand.Read(rnd[:])
	var body [refRandom + 1]byte
	for i, b := range rnd {
		body[i] = crockford[b&31]
	}
	y := itoa4(year)
	body[refRandom] = checkChar(y + string(body[:refRandom]))
	ref := y + "-" + string(body[:4]) + "-" + string(body[4:])
	if p := cleanPrefix(prefix); p != "" {
		ref = p + "-" + ref
	}
	return ref
}

// RedrawReference returns a fresh reference with the prefix and year of
// ref (as NewReference made it) and new random characters: for a reference
// that turned out to be taken.
func RedrawReference(ref string) string {
	// "[PREFIX-]YYYY-XXXX-XXXX": the year is the 14th to 11th character
	// from the end.
	const tail = len("YYYY-XXXX-XXXX")
	if len(ref) < tail {
		return NewReference("", time.Now().Year())
	}
	year := 0
	for _, c := range ref[len(ref)-tail : len(ref)-tail+4] {
		if c < '0' || c > '9' {
			return NewReference("", time.Now().Year())
		}
		year = year*10 + int(c-'0')
	}
	return NewReference(strings.TrimSuffix(ref[:len(ref)-tail], "-"), year)
}

func itoa4(y int) string {
	if y < 0 || y > 9999 {
		y = 0
	}
	b := []byte{'0', '0', '0', '0'}
	for i := 3; i >= 0; i-- {
		b[i] = byte('0' + y%10)
		y /= 10
	}
	return string(b)
}

func cleanPrefix(p string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(p) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

// checkChar is the Luhn mod 32 check character of s (characters of the
// Crockford alphabet); it detects every single wrong character and every
// swap of two adjacent ones.
func checkChar(s string) byte {
	factor, sum := 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		a := strings.IndexByte(crockford, s[i])
		add := factor * a
		factor = 3 - factor
		sum += add/32 + add%32
	}
	return crockford[(32-sum%32)%32]
}

// NormalizeReference reads a reference as typed by a person: case and
// spaces do not matter, O is read as 0 and I, L as 1, hyphens are
// optional. It returns the canonical form, or EINVALID when the text is not
// a reference or its check character does not match (a typo).
func NormalizeReference(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", rathaus.Errorf(rathaus.EINVALID, "Aktenzeichen: ungültiges Zeichen %q / reference: invalid character", r)
		}
	}
	c := b.String()
	if len(c) < 4+refRandom+1 || len(c) > 8+4+refRandom+1 {
		return "", rathaus.Errorf(rathaus.EINVALID, "Aktenzeichen hat die falsche Länge / reference has the wrong length")
	}
	tail := []byte(c[len(c)-(4+refRandom+1):])
	prefix := c[:len(c)-len(tail)]
	for i, ch := range tail {
		switch ch {
		case 'O':
			tail[i] = '0'
		case 'I', 'L':
			tail[i] = '1'
		case 'U':
			return "", rathaus.Errorf(rathaus.EINVALID, "Aktenzeichen: ungültiges Zeichen %q / reference: invalid character", ch)
		}
	}
	year, body := string(tail[:4]), string(tail[4:])
	for i := 0; i < 4; i++ {
		if year[i] < '0' || year[i] > '9' {
			return "", rathaus.Errorf(rathaus.EINVALID, "Aktenzeichen: Jahr fehlt / reference: year missing")
		}
	}
	if checkChar(year+body[:refRandom]) != body[refRandom] {
		return "", rathaus.Errorf(rathaus.EINVALID, "Aktenzeichen: Prüfzeichen falsch (Tippfehler?) / reference: check character does not match (typo?)")
	}
	out := year + "-" + body[:4] + "-" + body[4:]
	if prefix != "" {
		out = prefix + "-" + out
	}
	return out, nil
}

// NewID returns a UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then
// random bits, so ids sort by creation time.
func NewID() string {
	var u [16]byte
	rand.Read(u[6:])
	ms := uint64(time.Now().UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(u[0:6], ts[2:8])
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
