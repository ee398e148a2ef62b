// SPDX-License-Identifier: EUPL-1.2

package form

import (
	"encoding/json"
	"slices"
	"strconv"
)

type obj = map[string]any

// JSONSchema returns a JSON Schema (draft 2020-12) of the answers (the
// Fachdaten), equivalent to Validate for the cases JSON Schema can say:
// structure, multiplicity, types, lengths, numeric ranges, patterns, code
// lists, DIN 91379, file size/media type, and the recognised conditions
// whose fields are reachable without crossing a repeatable group. Not
// expressed: min/max of date fields. Date and date-time use "format", so
// validate with format assertions on.
func (m *Model) JSONSchema() ([]byte, error) {
	var rules []Rule
	for _, r := range m.Rules {
		if r.Owner == m.ID {
			rules = append(rules, r)
		}
	}
	for _, it := range m.Root {
		if it.Kind == KindField {
			rules = append(rules, it.Rules...)
		}
	}
	s := m.objectSchema(m.Root, rules, map[string]bool{})
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	id := "urn:rathaus:form:" + m.ID
	if m.Version != "" {
		id += ":" + m.Version
	}
	s["$id"] = id
	if m.Title != "" {
		s["title"] = m.Title
	} else if m.Name != "" {
		s["title"] = m.Name
	}
	return json.MarshalIndent(s, "", "  ")
}

func (m *Model) objectSchema(items []Item, rules []Rule, conditional map[string]bool) obj {
	conditional = maps2(conditional)
	for _, r := range rules {
		for _, c := range r.Conditions {
			if c.Kind == ShowIf {
				conditional[c.Target] = true
			}
		}
	}
	props := obj{}
	required := []string{}
	for i := range items {
		it := &items[i]
		if it.Kind == KindField && !it.Input() {
			continue
		}
		s := m.itemSchema(it, conditional)
		if it.Repeatable() {
			arr := obj{"type": "array", "items": s}
			if it.Min > 0 {
				arr["minItems"] = it.Min
			}
			if it.Max > 0 {
				arr["maxItems"] = it.Max
			}
			s = arr
		}
		props[it.ID] = s
		if it.Min >= 1 && !conditional[it.ID] && !slices.Contains(required, it.ID) {
			required = append(required, it.ID)
		}
	}
	s := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	var all []any
	for _, r := range rules {
		for _, c := range r.Conditions {
			if x := conditionSchema(items, c); x != nil {
				all = append(all, x)
			}
		}
	}
	if len(all) > 0 {
		s["allOf"] = all
	}
	return s
}

func (m *Model) itemSchema(it *Item, conditional map[string]bool) obj {
	var s obj
	if it.Kind == KindGroup {
		var rules []Rule
		rules = append(rules, scopeRules(it)...)
		s = m.objectSchema(it.Items, rules, conditional)
	} else {
		s = m.fieldSchema(it)
	}
	if it.Label != "" {
		s["title"] = it.Label
	}
	if it.Help != "" {
		s["description"] = it.Help
	}
	return s
}

func (m *Model) fieldSchema(it *Item) obj {
	if it.Feldart == FeldSelect || len(it.Values) > 0 {
		s := obj{"type": "string"}
		if opts := m.Options(it); opts != nil {
			codes := make([]any, len(opts))
			for i, o := range opts {
				codes[i] = o.Code
			}
			s["enum"] = codes
		}
		return s
	}
	c := it.Constraints
	switch it.Datentyp {
	case TypBool:
		return obj{"type": "boolean"}
	case TypNum, TypNumInt, TypNumCurrency:
		s := obj{"type": "number"}
		if it.Datentyp == TypNumInt {
			s["type"] = "integer"
		}
		if it.Datentyp == TypNumCurrency {
			s["multipleOf"] = json.Number("0.01")
		}
		if _, ok := parseRat(c.MinValue); ok {
			if f, err := strconv.ParseFloat(c.MinValue, 64); err == nil {
				s["minimum"] = json.Number(strconv.FormatFloat(f, 'f', -1, 64))
			}
		}
		if _, ok := parseRat(c.MaxValue); ok {
			if f, err := strconv.ParseFloat(c.MaxValue, 64); err == nil {
				s["maximum"] = json.Number(strconv.FormatFloat(f, 'f', -1, 64))
			}
		}
		return s
	case TypFile, TypObj:
		size := obj{"type": "integer", "minimum": 0}
		if it.MaxSize > 0 {
			size["maximum"] = it.MaxSize * 1024
		}
		mt := obj{"type": "string"}
		req := []string{"name"}
		if len(it.MediaTypes) > 0 {
			mt["enum"] = it.MediaTypes
			req = append(req, "mediaType")
		}
		return obj{"type": "object", "required": req, "properties": obj{
			"name": obj{"type": "string", "minLength": 1}, "size": size, "mediaType": mt}}
	case TypDate:
		return obj{"type": "string", "format": "date", "pattern": reDate.String()}
	case TypTime:
		return obj{"type": "string", "pattern": reTime.String()}
	case TypDateTime:
		return obj{"type": "string", "format": "date-time", "pattern": reDateTime.String()}
	}
	s := obj{"type": "string", "minLength": max(1, c.MinLength)}
	if c.MaxLength > 0 {
		s["maxLength"] = c.MaxLength
	}
	var pats []string
	if c.Pattern != "" && c.Regexp() != nil {
		pats = append(pats, anchoredPattern(c.Pattern))
	}
	if it.Datentyp == TypTextLatin {
		pats = append(pats, latinPattern)
	}
	switch len(pats) {
	case 1:
		s["pattern"] = pats[0]
	case 2:
		s["allOf"] = []any{obj{"pattern": pats[0]}, obj{"pattern": pats[1]}}
	}
	return s
}

// pathTo returns the ids from items down to the first element with id,
// refusing paths through repeatable groups.
func pathTo(items []Item, id string) ([]string, *Item) {
	for i := range items {
		it := &items[i]
		if it.ID == id {
			return []string{id}, it
		}
		if it.Kind == KindGroup {
			if p, t := pathTo(it.Items, id); p != nil {
				if it.Repeatable() {
					return nil, nil
				}
				return append([]string{it.ID}, p...), t
			}
		}
	}
	return nil, nil
}

// strict requires every element on path and applies leaf to the last.
func strict(path []string, leaf obj) obj {
	s := obj{"required": []string{path[len(path)-1]}}
	if leaf != nil {
		s["properties"] = obj{path[len(path)-1]: leaf}
	}
	for i := len(path) - 2; i >= 0; i-- {
		s = obj{"required": []string{path[i]}, "properties": obj{path[i]: s}}
	}
	return s
}

// soft applies leaf inside the groups on path where they are present.
func soft(path []string, leaf obj) obj {
	s := leaf
	for i := len(path) - 2; i >= 0; i-- {
		s = obj{"properties": obj{path[i]: s}}
	}
	return s
}

func conditionSchema(items []Item, c Condition) obj {
	switch c.Kind {
	case RequiredIf, ShowIf:
		pf, _ := pathTo(items, c.Field)
		pt, target := pathTo(items, c.Target)
		if pf == nil || pt == nil {
			return nil
		}
		var ifs obj
		switch c.Op {
		case OpFilled:
			ifs = strict(pf, nil)
		case OpEmpty:
			ifs = obj{"not": strict(pf, nil)}
		default:
			var enum []any
			for _, v := range c.Values {
				enum = append(enum, v)
				if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
					enum = append(enum, b)
				}
			}
			ifs = strict(pf, obj{"enum": enum})
		}
		last := pt[len(pt)-1]
		if c.Kind == RequiredIf {
			return obj{"if": ifs, "then": soft(pt, obj{"required": []string{last}})}
		}
		s := obj{"if": ifs, "else": soft(pt, obj{"not": obj{"required": []string{last}}})}
		if target.Min >= 1 {
			s["then"] = soft(pt, obj{"required": []string{last}})
		}
		return s
	case OneOf, AtLeastOne:
		var alts []any
		for _, t := range c.Targets {
			p, _ := pathTo(items, t)
			if p == nil {
				return nil
			}
			alts = append(alts, strict(p, nil))
		}
		if len(alts) == 0 {
			return nil
		}
		if c.Kind == OneOf {
			return obj{"oneOf": alts}
		}
		return obj{"anyOf": alts}
	}
	return nil
}
