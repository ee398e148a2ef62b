// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzLocalPath checks that a return address from a form never leaves the
// site (open redirect).
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"", "/", "/konto", "//evil.example", "/\\evil.example", "https://evil.example/", "/a\r\nSet-Cookie: x", "javascript:alert(1)", "/%2F%2Fevil",
		"/\t/evil.example", "/\n/evil.example", "/\x00/evil.example", "/\x7f", "/ok\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p := localPath(in)
		// A browser drops tabs and newlines from a URL before it parses
		// it (WHATWG URL); what remains must still be a local path.
		seen := strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(p)
		if p == "" || p[0] != '/' || strings.HasPrefix(seen, "//") || strings.ContainsAny(p, "\\") || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("localPath(%q) = %q leaves the site", in, p)
		}
		if p != "/" && p != in {
			t.Fatalf("localPath(%q) = %q changed an accepted path", in, p)
		}
	})
}

// FuzzLanguage checks the language choice from query, cookie and
// Accept-Language: always "de" or "en", never a panic.
func FuzzLanguage(f *testing.F) {
	for _, s := range [][3]string{{"en", "", ""}, {"", "en", ""}, {"", "", "en-GB,en;q=0.9"}, {"fr", "xx", "fr-CH, fr;q=0.9, *;q=0.5"}, {"", "", ";;;q=abc,,"}} {
		f.Add(s[0], s[1], s[2])
	}
	tr, err := newTranslator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q, cookie, accept string) {
		r, err := http.NewRequest(http.MethodGet, "http://x/", nil)
		if err != nil {
			t.Skip()
		}
		r.URL.RawQuery = "lang=" + q
		r.Header.Set("Accept-Language", accept)
		r.Header.Set("Cookie", "lang="+cookie)
		lang, _ := tr.pick(r)
		if lang != "de" && lang != "en" {
			t.Fatalf("pick = %q", lang)
		}
	})
}

// FuzzRequestID checks that only short, header-safe ids are accepted.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"abc-123", "", "a b", strings.Repeat("x", 65), "id\r\nX-Evil: 1", "ä"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !validRequestID(id) {
			return
		}
		if len(id) > 64 || strings.ContainsAny(id, " \r\n\t:") {
			t.Fatalf("accepted %q", id)
		}
	})
}
