// SPDX-License-Identifier: EUPL-1.2

package assistant

import (
	"regexp"
	"strings"
	"unicode"
)

// PII kinds found by Mask.
const (
	PIIEmail  = "email"
	PIIIBAN   = "iban"
	PIIPhone  = "phone"
	PIITaxID  = "steuer-id"
	PIIIDCard = "ausweisnummer"
)

var piiPatterns = []struct {
	kind string
	re   *regexp.Regexp
	ok   func(string) bool
}{
	{PIIEmail, regexp.MustCompile(`[\p{L}0-9._%+\-]+@[\p{L}0-9.\-]+\.[\p{L}]{2,}`), nil},
	{PIIIBAN, regexp.MustCompile(`\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\b`), looksLikeIBAN},
	{PIITaxID, regexp.MustCompile(`\b[0-9]{2}[ ]?[0-9]{3}[ ]?[0-9]{3}[ ]?[0-9]{3}\b`), nil},
	{PIIPhone, regexp.MustCompile(`(?:\+|\b00|\b0)[0-9][0-9 ()/\-]{5,}[0-9]`), enoughDigits(7)},
	{PIIIDCard, regexp.MustCompile(`\b[CFGHJKLMNPRTVWXYZ0-9]{9,10}\b`), idCardLike},
}

// looksLikeIBAN requires digits after the country code and checks the
// ISO 13616 mod-97 check digits, so words like "DE12 Ausweis" do not match.
func looksLikeIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	r := s[4:] + s[:4]
	mod := 0
	for _, c := range r {
		switch {
		case c >= '0' && c <= '9':
			mod = (mod*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			mod = (mod*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return mod == 1
}

func enoughDigits(n int) func(string) bool {
	return func(s string) bool {
		c := 0
		for _, r := range s {
			if r >= '0' && r <= '9' {
				c++
			}
		}
		return c >= n
	}
}

// idCardLike accepts a German ID card or passport number: upper-case
// letters and digits with at least one letter and three digits.
func idCardLike(s string) bool {
	letters, digits := 0, 0
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			digits++
		case unicode.IsUpper(r):
			letters++
		}
	}
	return letters >= 1 && digits >= 3
}

// Mask replaces personal data in s (e-mail addresses, IBANs, Steuer-IDs,
// phone numbers, ID card numbers) by a placeholder such as "[IBAN]" and
// returns the masked text and the kinds found. It runs before any logging
// or LLM call.
func Mask(s string) (string, []string) {
	var kinds []string
	for _, p := range piiPatterns {
		found := false
		s = p.re.ReplaceAllStringFunc(s, func(m string) string {
			if p.ok != nil && !p.ok(m) {
				return m
			}
			found = true
			return "[" + strings.ToUpper(p.kind) + "]"
		})
		if found {
			kinds = append(kinds, p.kind)
		}
	}
	return s, kinds
}
