// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlainLead(t *testing.T) {
	for _, c := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"tags and entities", "<p>Hunde &amp; Katzen</p><p>melden</p>", 100, "Hunde & Katzen melden"},
		{"cut on a word", "<p>eins zwei drei vier fünf</p>", 12, "eins zwei …"},
		{"script text stays text", "<script>alert(1)</script>", 50, "alert(1)"},
		{"empty", "", 10, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := plainLead(c.in, c.n); got != c.want {
				t.Errorf("plainLead(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
			}
		})
	}
}

// FuzzPlainLead: any valid UTF-8 input gives valid UTF-8
// of at most n runes plus the ellipsis.
func FuzzPlainLead(f *testing.F) {
	for _, s := range []string{"<p>Hund</p>", "a < b > c", "&lt;b&gt;", "äöü ß <br/> x", "<<<>>>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		got := plainLead(s, 40)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		if n := utf8.RuneCountInString(strings.TrimSuffix(got, " …")); n > 40 {
			t.Fatalf("%d runes > 40: %q", n, got)
		}
	})
}
