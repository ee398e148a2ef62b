// SPDX-License-Identifier: EUPL-1.2

package jsonw

import (
	"encoding/json"
	"testing"
)

// FuzzAppendString: AppendString writes what encoding/json writes.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "DA-2026-7K3M", `"quoted"`, `back\slash`, "<a&b>", "Jürgen Müller", "tab\tnew\nline", "\x00", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("AppendString(%q) = %s, want x%s", s, got, want)
		}
	})
}
