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

// FuzzAppendStringMap: AppendStringMap writes what encoding/json writes for
// nil, empty and filled maps.
func FuzzAppendStringMap(f *testing.F) {
	f.Add("reference", "DA-2026-7K3M-9QXT", "<k>", "v\n", 2)
	f.Add("", "", "", "", 0)
	f.Add("a", "\xff", "a", "dup", 1)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, mode int) {
		var m map[string]string
		switch mode % 3 {
		case 1:
			m = map[string]string{}
		case 2:
			m = map[string]string{k1: v1, k2: v2, "z": "last"}
		}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendStringMap([]byte("x"), m); string(got) != "x"+string(want) {
			t.Fatalf("AppendStringMap(%q) = %s, want x%s", m, got, want)
		}
	})
}
