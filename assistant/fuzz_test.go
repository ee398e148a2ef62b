// SPDX-License-Identifier: EUPL-1.2

package assistant_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"rathaus"
	"rathaus/assistant"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

// FuzzMask: masking never panics, is idempotent and leaves no e-mail
// address behind.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"", "IBAN DE89 3704 0044 0532 0130 00", "a@b.de", "0151 23456789", "12 345 678 901", "L01X00T47", "ich wohne in 64283", "€€€ 1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		m, _ := assistant.Mask(s)
		m2, kinds := assistant.Mask(m)
		if m2 != m || len(kinds) != 0 {
			t.Fatalf("Mask not idempotent: %q → %q → %q %v", s, m, m2, kinds)
		}
		if strings.Contains(m, "@") && strings.Contains(m[strings.Index(m, "@"):], ".") {
			if mm, k := assistant.Mask(m); len(k) > 0 {
				t.Fatalf("e-mail left in %q (%q)", m, mm)
			}
		}
	})
}

// FuzzCheck: the checker never panics and never accepts an answer without
// a citation.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"Kostet 37,00 Euro [S1].", "[S1] https://x.example 5 €", "[S2]", "1.1.1 [S1]", "€ [S1] 1,2,3"} {
		f.Add(s)
	}
	src := []assistant.Source{{ID: "S1", Texts: []string{"Demo-Wert: 37,00 Euro", "https://x.example/a", "01.11.2026"}}}
	f.Fuzz(func(t *testing.T, s string) {
		err := assistant.Check(s, src)
		if err == nil && !strings.Contains(s, "[S1]") {
			t.Fatalf("accepted %q without citation", s)
		}
		_ = assistant.Numbers(s)
		_ = assistant.Amounts(s)
	})
}

// FuzzTurn: any input gives a reply (or EINVALID for overlong input) whose
// numbers and URLs are in its records, and the transcript holds no e-mail.
func FuzzTurn(f *testing.F) {
	for _, d := range dialogues {
		for _, s := range d.steps {
			f.Add(s.say)
		}
	}
	db := sqltest.Open(f, sqlstore.SQLite)
	seed(f, db)
	a := newAssistant(f, db, assistant.Options{})
	f.Fuzz(func(t *testing.T, s string) {
		st := &assistant.State{ID: assistant.NewID()}
		for _, in := range []string{"in Darmstadt", s, "Was kostet das?", s} {
			rep, err := a.Turn(context.Background(), st, in)
			if err != nil {
				if rathaus.ErrorCode(err) == rathaus.EINVALID {
					continue
				}
				t.Fatalf("Turn(%q): %v", in, err)
			}
			checkGrounded(t, rep)
		}
		for _, ex := range st.Transcript {
			if m, k := assistant.Mask(ex.User); len(k) > 0 {
				t.Fatalf("transcript keeps personal data: %q → %q", ex.User, m)
			}
		}
	})
}
