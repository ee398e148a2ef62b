// SPDX-License-Identifier: EUPL-1.2

package receipt

import (
	"fmt"

	"rathaus/form"
)

// Line is one answer as the form showed it: a group heading (Group, no
// Value) or a field with its displayed value; Depth is the group nesting.
type Line struct {
	Label, Value string
	Depth        int
	Group        bool
}

// Lines lists answers as the form showed them, for the receipt and the
// caseworker's case page (casework.FormLines): the form's order, its labels
// (output label first), group headings, repeated entries numbered "(n)",
// option names instead of codes, yes/no for booleans, and for uploads
// file(upload) — or the file name when file is nil. Answers the form does
// not know are left out; a nil model lists nothing.
func Lines(m *form.Model, answers map[string]any, yes, no string, file func(upload map[string]any) string) []Line {
	if m == nil {
		return nil
	}
	var out []Line
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
					out = append(out, Line{Label: label, Depth: depth, Group: true})
					walk(it.Items, sub, depth+1)
					continue
				}
				out = append(out, Line{Label: label, Value: display(m, it, v, yes, no, file), Depth: depth})
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

// display renders one field answer as text.
func display(m *form.Model, it *form.Item, v any, yes, no string, file func(map[string]any) string) string {
	switch x := v.(type) {
	case bool:
		if x {
			return yes
		}
		return no
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
		if file != nil {
			return file(x)
		}
		if name, ok := x["name"].(string); ok {
			return name
		}
	}
	return fmt.Sprint(v)
}
