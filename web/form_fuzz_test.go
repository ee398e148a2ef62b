// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"rathaus/form"
	"rathaus/submission"
)

// FuzzSanitizeFilename: the stored name never has path separators or
// control characters, is never empty and stays short.
func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"nachweis.pdf", "../../etc/passwd", "C:\\x\\y.jpg", "a\x00b.png", "", ".", "..", strings.Repeat("ä", 300) + ".pdf", "\u202eexe.pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := sanitizeFilename(in)
		if out == "" || strings.ContainsAny(out, "/\\\x00") || utf8.RuneCountInString(out) > 120 {
			t.Fatalf("sanitizeFilename(%q) = %q", in, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in %q", out)
			}
		}
	})
}

// FuzzParseStep: any posted form (names, counts, actions) parses into
// answers without panicking, and setPath/getPath agree on those paths.
func FuzzParseStep(f *testing.F) {
	m := submission.UniversalForm("de")
	f.Add("anliegen[0].beschreibung=x&action=weiter")
	f.Add("count:unterlagen[0].datei=999999&kontakt[0].anschrift[0].plz=1&kontakt[0].geburtsdatum=31.12.1980")
	f.Add("kontakt[-1].vorname=a&kontakt[0].anrede=frau&count:kontakt=-3")
	f.Fuzz(func(t *testing.T, q string) {
		vals, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		for _, st := range m.Steps() {
			ans := map[string]any{}
			parseStep(m, st, vals, ans, map[string]int{})
			dropHidden(m, ans)
			_ = m.Validate(form.Answers(ans), form.ValidateOptions{Items: []string{st.ID}})
		}
		for k := range vals {
			ans := map[string]any{}
			if setPath(m, ans, k, "v") {
				if v, ok := getPath(m, ans, k); !ok || v != "v" {
					t.Fatalf("setPath(%q) then getPath = %v, %v", k, v, ok)
				}
			}
		}
	})
}
