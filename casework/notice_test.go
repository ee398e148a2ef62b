// SPDX-License-Identifier: EUPL-1.2

package casework

import (
	"bytes"
	"testing"
	"time"

	"rathaus"
)

func TestRenderNotice(t *testing.T) {
	date := time.Date(2026, 11, 28, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		n    Notice
		code string // "" = renders
	}{
		{"approval", Notice{Letterhead: "Stadt Musterstadt – Bürgeramt", Reference: "DA-2026-7K3M-9QXT", Service: "Wohngeld", Applicant: "Erika Mustermann", Decision: DecisionApprove, Reason: "Voraussetzungen erfüllt.", Date: date}, ""},
		{"rejection", Notice{Reference: "DA-1", Decision: DecisionReject, Reason: "Unterlagen fehlen.", Date: date}, ""},
		{"summary without decision", Notice{Reference: "DA-1", Date: date}, ""},
		// Citizen and caseworker texts with characters the embedded font
		// cannot draw used to fail the whole decision step.
		{"emoji, bidi override, control and invalid UTF-8", Notice{Letterhead: "Amt \U0001F3DB", Reference: "DA-\u202e1", Service: "Wohngeld \x01",
			Applicant: "Erika 😀 Mustermann", Decision: DecisionApprove, Reason: "ok 𝔘 \xff\xfe", Date: date}, ""},
		{"no reference", Notice{Decision: DecisionApprove}, rathaus.EINVALID},
		{"unknown decision", Notice{Reference: "DA-1", Decision: "maybe"}, rathaus.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := RenderNotice(&b, tc.n)
			if tc.code != "" {
				if rathaus.ErrorCode(err) != tc.code {
					t.Fatalf("error %v, want code %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) || !bytes.Contains(b.Bytes(), []byte("%%EOF")) {
				t.Errorf("not a complete PDF (%d bytes)", b.Len())
			}
		})
	}
}
