// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"rathaus"
)

func TestLogText(t *testing.T) {
	// A rejection reason of a remote goes through logText as it is.
	if got := logText("Abgelehnt: \xc3"); got != "Abgelehnt: \uFFFD" {
		t.Errorf("logText = %q", got)
	}
	if got := logText(strings.Repeat("ß", 600)); len(got) != 1000 || !utf8.ValidString(got) {
		t.Errorf("logText of 1200 bytes: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func TestSafeMessage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		want   string // "" = only check the invariants
		maxLen int
	}{
		{"nil", nil, "", 0},
		{"safe message", rathaus.Errorf(rathaus.EUNAVAILABLE, "Empfänger nicht erreichbar"), "Empfänger nicht erreichbar", 100},
		{"internal keeps the cause", rathaus.Wrap(rathaus.EINTERNAL, errors.New("tls: bad certificate"), "send"), "", 1000},
		// 999 ASCII bytes and then "ä" (2 bytes): a byte cut at 1000 would
		// leave half a character, which PostgreSQL refuses.
		{"cut at a rune boundary", errors.New(strings.Repeat("x", 999) + "äöü"), strings.Repeat("x", 999), 1000},
		{"invalid UTF-8 from a remote", errors.New("HTTP 500: \xff\xfe kaputt"), "HTTP 500: \uFFFD kaputt", 100},
		{"invalid UTF-8 at the cut", errors.New(strings.Repeat("x", 998) + "\xff\xfe\xfd"), strings.Repeat("x", 998), 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := safeMessage(tc.err)
			if !utf8.ValidString(got) {
				t.Errorf("safeMessage = %q: not valid UTF-8", got)
			}
			if len(got) > tc.maxLen {
				t.Errorf("safeMessage: %d bytes, want at most %d", len(got), tc.maxLen)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("safeMessage = %q, want %q", got, tc.want)
			}
			if tc.err != nil && got == "" {
				t.Errorf("safeMessage of %v is empty", tc.err)
			}
		})
	}
}
