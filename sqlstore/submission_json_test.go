// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"encoding/json"
	"testing"

	"rathaus/submission"
)

// TestIntakeJSONWithoutReflection checks the hand-written JSON of audit
// details and job arguments against encoding/json, byte for byte.
func TestIntakeJSONWithoutReflection(t *testing.T) {
	for _, s := range []string{"", "064110000000", "DA-2026-ABCD", "ü", "<&>", "a\"b\\c\n\x01", "\xff", "\u2028"} {
		t.Run("details/"+s, func(t *testing.T) {
			d := map[string]string{"reference": s, "service": "99010003000000", "form": "S00000246:1.1", s: "k"}
			want, _ := json.Marshal(d)
			if got := detailsJSON(d); got != string(want) {
				t.Errorf("detailsJSON = %s, want %s", got, want)
			}
		})
		t.Run("job/"+s, func(t *testing.T) {
			j := submission.Job{Kind: submission.JobProcessStart, Args: submission.JobArgs{Tenant: s, ApplicationID: "id-" + s, ServiceKey: "k"}}
			want, _ := json.Marshal(j.Args)
			if got, err := jobArgsJSON(j); err != nil || got != string(want) {
				t.Errorf("jobArgsJSON = %s, %v; want %s", got, err, want)
			}
		})
	}
	if got := detailsJSON(nil); got != "null" {
		t.Errorf("detailsJSON(nil) = %s, want null", got)
	}
	if got, err := jobArgsJSON(submission.Job{Kind: "x", Args: map[string]int{"a": 1}}); err != nil || got != `{"a":1}` {
		t.Errorf("jobArgsJSON(other args) = %s, %v", got, err)
	}
}
