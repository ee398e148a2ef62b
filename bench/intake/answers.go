// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"rathaus/form"
)

// fill returns answers for every input element of items (one of each
// repeatable), with values that satisfy the usual constraints; conditions
// and patterns are repaired afterwards from Validate's errors.
func fill(m *form.Model, items []form.Item) map[string]any {
	out := map[string]any{}
	for i := range items {
		it := &items[i]
		var v any
		switch {
		case it.Kind == form.KindGroup:
			v = fill(m, it.Items)
		case !it.Input() || it.Feldart == form.FeldHidden:
			continue
		default:
			v = value(m, it)
		}
		if it.Repeatable() {
			v = []any{v}
		}
		out[it.ID] = v
	}
	return out
}

func value(m *form.Model, it *form.Item) any {
	if opts := m.Options(it); len(opts) > 0 {
		return opts[0].Code
	}
	switch it.Datentyp {
	case form.TypBool:
		return true
	case form.TypNum, form.TypNumInt, form.TypNumCurrency:
		if it.Constraints.MinValue != "" {
			return json.Number(it.Constraints.MinValue)
		}
		return json.Number("1")
	case form.TypDate:
		if it.Constraints.MinValue != "" {
			return it.Constraints.MinValue
		}
		return "2000-01-01"
	case form.TypTime:
		return "12:00"
	case form.TypDateTime:
		return "2026-01-01T12:00:00Z"
	case form.TypFile, form.TypObj:
		mt := "application/pdf"
		if len(it.MediaTypes) > 0 {
			mt = it.MediaTypes[0]
		}
		return map[string]any{"name": "nachweis.pdf", "size": 1024, "mediaType": mt}
	}
	c := it.Constraints
	if re := c.Regexp(); re != nil {
		for _, cand := range samples {
			if re.MatchString(cand) {
				return cand
			}
		}
	}
	s := "Müller-Lüdenscheidt Straße"
	if c.MaxLength > 0 && len([]rune(s)) > c.MaxLength {
		s = string([]rune(s)[:c.MaxLength])
	}
	for c.MinLength > 0 && len([]rune(s)) < c.MinLength {
		s += "x"
	}
	return s
}

// samples are tried, in order, for fields with a pattern.
var samples = []string{"64283", "erika.mustermann@example.org", "Müller", "DE02120300000000202051", "+49 6151 12345", "D", "1", "2026"}

// validAnswers fills the model and then repairs the answers from Validate's
// errors: answers that are not allowed, or do not match their pattern, are
// removed; of a one-of choice only the first alternative is kept.
func validAnswers(m *form.Model) (form.Answers, []form.FieldError) {
	a := form.Answers(fill(m, m.Root))
	var errs []form.FieldError
	for round := 0; round < 10; round++ {
		errs = m.Validate(a, form.ValidateOptions{})
		if len(errs) == 0 {
			return a, nil
		}
		changed := false
		for _, e := range errs {
			switch e.Code {
			case form.ErrOneOf:
				parent := lookup(a, e.Path)
				obj, _ := parent.(map[string]any)
				kept := false
				for _, id := range idsIn(e.Message) {
					if _, ok := obj[id]; ok {
						if kept {
							delete(obj, id)
							changed = true
						}
						kept = true
					}
				}
			case form.ErrRequired, form.ErrMinItems, form.ErrAtLeastOne:
			default:
				changed = remove(a, e.Path) || changed
			}
		}
		if !changed {
			break
		}
	}
	return a, errs
}

// segments splits "G1[0].F2" into ("G1", 0), ("F2", -1).
func segments(path string) (ids []string, idx []int) {
	for _, s := range strings.Split(path, ".") {
		i := -1
		if b := strings.IndexByte(s, '['); b >= 0 {
			i, _ = strconv.Atoi(strings.TrimSuffix(s[b+1:], "]"))
			s = s[:b]
		}
		ids, idx = append(ids, s), append(idx, i)
	}
	return ids, idx
}

func step(v any, id string, i int) any {
	obj, _ := v.(map[string]any)
	if obj == nil {
		return nil
	}
	v = obj[id]
	if arr, ok := v.([]any); ok && i >= 0 && i < len(arr) {
		return arr[i]
	}
	return v
}

func lookup(a form.Answers, path string) any {
	var v any = map[string]any(a)
	ids, idx := segments(path)
	for k := range ids {
		v = step(v, ids[k], idx[k])
	}
	return v
}

func remove(a form.Answers, path string) bool {
	ids, idx := segments(path)
	var v any = map[string]any(a)
	for k := 0; k < len(ids)-1; k++ {
		v = step(v, ids[k], idx[k])
	}
	obj, _ := v.(map[string]any)
	last := ids[len(ids)-1]
	if _, ok := obj[last]; !ok {
		return false
	}
	delete(obj, last)
	return true
}

var reID = regexp.MustCompile(`\b[FG][0-9]{5,}\b`)

func idsIn(msg string) []string { return reID.FindAllString(msg, -1) }
