// SPDX-License-Identifier: EUPL-1.2

package scan

import (
	"testing"

	"rathaus"
)

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		in    string
		clean bool
		sig   string
		code  string
	}{
		{"stream: OK\x00", true, "", ""},
		{"stream: Eicar-Test-Signature FOUND\x00", false, "Eicar-Test-Signature", ""},
		{"INSTREAM size limit exceeded. ERROR\x00", false, "", rathaus.EUNAVAILABLE},
		{"", false, "", rathaus.EUNAVAILABLE},
	} {
		t.Run(tc.in, func(t *testing.T) {
			res, err := parseReply([]byte(tc.in))
			if rathaus.ErrorCode(err) != tc.code || res.Clean != tc.clean || res.Signature != tc.sig {
				t.Errorf("parseReply(%q) = %+v, %v", tc.in, res, err)
			}
		})
	}
}

// FuzzParseReply: a reply is clean only when clamd said exactly OK;
// anything unknown is an error (fail closed).
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"stream: OK\x00", "stream: X FOUND\x00", "ERROR", "OK FOUND", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := parseReply(b)
		if err == nil && !res.Clean && res.Signature == "" && string(b) != "stream:  FOUND" {
			// a FOUND reply always names something, unless clamd sent an empty name
			t.Logf("empty signature for %q", b)
		}
		if res.Clean && err != nil {
			t.Fatalf("clean with error for %q", b)
		}
	})
}
