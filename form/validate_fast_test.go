// SPDX-License-Identifier: EUPL-1.2

package form

import (
	"slices"
	"testing"
)

// TestInOptionsAgreesWithOptions checks the precomputed code sets against
// the plain scan of Model.Options for inline values, code lists with
// default and chosen columns, empty cells, missing lists and a list that
// changes after its set was built.
func TestInOptionsAgreesWithOptions(t *testing.T) {
	cl := &CodeList{
		Columns: []string{"code", "name", "alt"}, CodeColumn: "code", NameColumn: "name",
		Rows: [][]string{{"001", "Eins", "a"}, {"002", "Zwei", ""}, {"", "leer", "c"}, {"004"}},
	}
	m := &Model{CodeLists: map[string]*CodeList{"k": cl}}
	items := map[string]*Item{
		"inline":         {Values: []Value{{Code: "x"}, {Code: "y"}}},
		"list default":   {CodeList: &CodeListRef{Key: "k"}},
		"list alt":       {CodeList: &CodeListRef{Key: "k", CodeKey: "alt"}},
		"list unknown":   {CodeList: &CodeListRef{Key: "k", CodeKey: "nope"}},
		"missing list":   {CodeList: &CodeListRef{Key: "missing"}},
		"no list at all": {},
	}
	inputs := []string{"x", "y", "001", "002", "004", "a", "c", "", "Eins", "003", "z"}
	check := func(t *testing.T) {
		for name, it := range items {
			t.Run(name, func(t *testing.T) {
				opts := m.Options(it)
				for _, s := range inputs {
					wantKnown := opts != nil
					wantIn := slices.ContainsFunc(opts, func(o Value) bool { return o.Code == s })
					in, known := m.inOptions(it, s)
					if in != wantIn || known != wantKnown {
						t.Errorf("inOptions(%q) = %v, %v; Options says %v, %v", s, in, known, wantIn, wantKnown)
					}
				}
			})
		}
	}
	t.Run("before", check)
	cl.Rows = append(cl.Rows, []string{"003", "Drei", "z"})
	t.Run("after a row was added", check)
}

// TestBoundRatAgreesWithParseRat checks the cached bounds, asked twice each.
func TestBoundRatAgreesWithParseRat(t *testing.T) {
	for _, s := range []string{"", " ", "0", "-1.5", " 10 ", "1e3", "abc", "1/3", "99999999999999999999.99"} {
		t.Run(s, func(t *testing.T) {
			want, wantOK := parseRat(s)
			for range 2 {
				got, ok := boundRat(s)
				if ok != wantOK || (ok && got.Cmp(want) != 0) {
					t.Fatalf("boundRat(%q) = %v, %v; parseRat says %v, %v", s, got, ok, want, wantOK)
				}
			}
		})
	}
}
