// SPDX-License-Identifier: EUPL-1.2

// Package jsonw holds the small pieces of hand-written JSON output that hot
// paths (the intake writer, the intake API's answer) share: they append to
// a byte slice what encoding/json would write, without reflection.
package jsonw

import (
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// AppendString appends s as a JSON string exactly as encoding/json writes
// it (which also escapes <, > and &, and repairs invalid UTF-8); plain
// ASCII without those characters is copied as is, anything else goes
// through encoding/json.
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendStringMap appends m as encoding/json writes a map[string]string:
// keys sorted, "null" for a nil map.
func AppendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, k)
		b = append(b, ':')
		b = AppendString(b, m[k])
	}
	return append(b, '}')
}
