// SPDX-License-Identifier: EUPL-1.2

package casework_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus/casework"
	"rathaus/form"
)

// TestFormLines shows answers in form order with labels, option names,
// booleans and groups; unknown answers and labels without input are left
// out.
func TestFormLines(t *testing.T) {
	m := &form.Model{Root: []form.Item{
		{ID: "name", Kind: form.KindField, Label: "Name"},
		{ID: "hint", Kind: form.KindField, Feldart: form.FeldLabel, Label: "Hinweis"},
		{ID: "art", Kind: form.KindField, Label: "Art", Feldart: form.FeldSelect, Values: []form.Value{{Code: "h", Name: "Hund"}, {Code: "k", Name: "Katze"}}},
		{ID: "adresse", Kind: form.KindGroup, Label: "Anschrift", Items: []form.Item{{ID: "ort", Kind: form.KindField, Label: "Ort", OutputLabel: "Wohnort"}}},
		{ID: "ok", Kind: form.KindField, Label: "Einverstanden"},
	}}
	got := casework.FormLines(m, map[string]any{"ok": true, "art": "h", "name": "Erika", "hint": "x", "extra": "y", "adresse": map[string]any{"ort": "Darmstadt"}})
	want := []casework.AnswerLine{
		{Label: "Name", Value: "Erika"}, {Label: "Art", Value: "Hund"}, {Label: "Anschrift"},
		{Label: "Wohnort", Value: "Darmstadt", Depth: 1}, {Label: "Einverstanden", Value: "Ja"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if casework.FormLines(nil, map[string]any{"a": 1}) != nil {
		t.Error("no form: want nil")
	}
}
