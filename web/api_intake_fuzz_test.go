// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"encoding/json"
	"testing"

	"rathaus"
)

// FuzzDecodeAPIAnswers checks the body parser of the JSON intake: it never
// panics, accepts exactly one JSON object (answers that marshal back to
// valid JSON) and refuses everything else with EINVALID.
func FuzzDecodeAPIAnswers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":{"b":1.50}}`, `[]`, `null`, `{"a":1}{}`, `{"a":`, ``, `"x"`, `{"a":1} `, `{"a":1e400}`, "{\"\\u0000\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeAPIAnswers(body)
		if err != nil {
			if rathaus.ErrorCode(err) != rathaus.EINVALID || a != nil {
				t.Fatalf("decodeAPIAnswers(%q) = %v, %v; want nil and EINVALID", body, a, err)
			}
			return
		}
		if a == nil {
			t.Fatalf("decodeAPIAnswers(%q) = nil answers without error", body)
		}
		out, err := json.Marshal(a)
		if err != nil || !json.Valid(out) {
			t.Fatalf("answers of %q do not marshal back: %v", body, err)
		}
	})
}
