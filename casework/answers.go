// SPDX-License-Identifier: EUPL-1.2

package casework

import (
	"rathaus/form"
	"rathaus/receipt"
)

// FormLines lists answers as the form showed them: the form's order, its
// labels (output label first), group headings, option names instead of
// codes, "Ja"/"Nein" for booleans, file names for uploads. Answers the
// form does not know are left out. The walk is receipt.Lines, shared with
// the receipt PDF.
func FormLines(m *form.Model, answers map[string]any) []AnswerLine {
	var out []AnswerLine
	for _, l := range receipt.Lines(m, answers, "Ja", "Nein", nil) {
		out = append(out, AnswerLine{Label: l.Label, Value: l.Value, Depth: l.Depth})
	}
	return out
}
