// SPDX-License-Identifier: EUPL-1.2

package casework

import (
	"fmt"

	"rathaus/form"
)

// FormLines lists answers as the form showed them: the form's order, its
// labels (output label first), group headings, option names instead of
// codes, "Ja"/"Nein" for booleans, file names for uploads. Answers the
// form does not know are left out.
func FormLines(m *form.Model, answers map[string]any) []AnswerLine {
	if m == nil {
		return nil
	}
	var out []AnswerLine
	var walk func(items []form.Item, obj map[string]any, depth int)
	walk = func(items []form.Item, obj map[string]any, depth int) {
		for i := range items {
			it := &items[i]
			val, ok := obj[it.ID]
			if !ok || val == nil || it.Kind == form.KindField && !it.Input() {
				continue
			}
			vals := []any{val}
			if arr, isArr := val.([]any); isArr {
				vals = arr
			}
			for n, v := range vals {
				label := labelOf(it)
				if len(vals) > 1 {
					label = fmt.Sprintf("%s (%d)", label, n+1)
				}
				if it.Kind == form.KindGroup {
					sub, _ := v.(map[string]any)
					if sub == nil {
						continue
					}
					out = append(out, AnswerLine{Label: label, Depth: depth})
					walk(it.Items, sub, depth+1)
					continue
				}
				out = append(out, AnswerLine{Label: label, Value: display(m, it, v), Depth: depth})
			}
		}
	}
	walk(m.Root, answers, 0)
	return out
}

func labelOf(it *form.Item) string {
	for _, s := range []string{it.OutputLabel, it.Label, it.Name} {
		if s != "" {
			return s
		}
	}
	return it.ID
}

func display(m *form.Model, it *form.Item, v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "Ja"
		}
		return "Nein"
	case string:
		if it.Feldart == form.FeldSelect || len(it.Values) > 0 {
			for _, o := range m.Options(it) {
				if o.Code == x {
					return o.Name
				}
			}
		}
		return x
	case map[string]any: // an uploaded file
		if name, ok := x["name"].(string); ok {
			return name
		}
	}
	return fmt.Sprint(v)
}
