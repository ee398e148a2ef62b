// SPDX-License-Identifier: EUPL-1.2

package form_test

import (
	"encoding/json"
	"testing"

	"rathaus/form"
)

func TestHolds(t *testing.T) {
	items := []form.Item{
		{Kind: form.KindField, ID: "art", Max: 1},
		{Kind: form.KindGroup, ID: "person", Max: 1, Items: []form.Item{{Kind: form.KindField, ID: "alter", Max: 1}}},
		{Kind: form.KindGroup, ID: "kinder", Max: -1, Items: []form.Item{{Kind: form.KindField, ID: "kname", Max: 1}}},
	}
	eq := func(field string, vs ...string) form.Condition {
		return form.Condition{Kind: form.ShowIf, Field: field, Op: form.OpEq, Values: vs}
	}
	filled := func(field string) form.Condition {
		return form.Condition{Kind: form.ShowIf, Field: field, Op: form.OpFilled}
	}
	empty := func(field string) form.Condition {
		return form.Condition{Kind: form.ShowIf, Field: field, Op: form.OpEmpty}
	}
	for _, tc := range []struct {
		name    string
		answers map[string]any
		c       form.Condition
		want    bool
	}{
		{"eq string", map[string]any{"art": "neu"}, eq("art", "neu", "ersatz"), true},
		{"eq other", map[string]any{"art": "alt"}, eq("art", "neu"), false},
		{"eq missing", map[string]any{}, eq("art", "neu"), false},
		{"eq bool", map[string]any{"art": true}, eq("art", "true"), true},
		{"eq json number", map[string]any{"art": json.Number("2")}, eq("art", "2"), true},
		{"eq float", map[string]any{"art": 2.5}, eq("art", "2.5"), true},
		{"nested group", map[string]any{"person": map[string]any{"alter": "17"}}, eq("alter", "17"), true},
		{"nested Answers value", map[string]any{"person": form.Answers{"alter": "17"}}, eq("alter", "17"), true},
		{"first repeated element", map[string]any{"kinder": []any{map[string]any{"kname": "Ida"}}}, filled("kname"), true},
		{"empty repetition", map[string]any{"kinder": []any{}}, filled("kinder"), false},
		{"empty repetition is empty", map[string]any{"kinder": []any{}}, empty("kinder"), true},
		{"filled", map[string]any{"art": "x"}, filled("art"), true},
		{"null is not filled", map[string]any{"art": nil}, filled("art"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := form.Holds(items, tc.answers, tc.c); got != tc.want {
				t.Errorf("Holds(%v, %+v) = %v, want %v", tc.answers, tc.c, got, tc.want)
			}
		})
	}
}
