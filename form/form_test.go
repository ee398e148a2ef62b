// SPDX-License-Identifier: EUPL-1.2

package form_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"rathaus/fim"
	"rathaus/form"
	"rathaus/internal/testenv"
)

func field(id string, min, max int, dt form.Datentyp, mod ...func(*form.Item)) form.Item {
	it := form.Item{Kind: form.KindField, ID: id, Version: "1.0", Label: "Feld " + id, Min: min, Max: max, Feldart: form.FeldInput, Datentyp: dt}
	for _, f := range mod {
		f(&it)
	}
	return it
}

// testModel covers every Datentyp, a label, a select with inline values and
// one with a code list, a repeatable group and all condition kinds.
func testModel() *form.Model {
	return &form.Model{
		ID: "S1", Version: "1.0", Format: form.FormatXDF3, Name: "Test", Title: "Testantrag",
		Root: []form.Item{
			field("F1", 1, 1, form.TypText, func(it *form.Item) {
				it.Feldart = form.FeldSelect
				it.Values = []form.Value{{Code: "01", Name: "privat"}, {Code: "02", Name: "gewerblich"}}
			}),
			field("F2", 1, 1, form.TypFile, func(it *form.Item) { it.MaxSize = 1; it.MediaTypes = []string{"application/pdf"} }),
			{Kind: form.KindGroup, ID: "G1", Version: "1.0", Label: "Person", Min: 1, Max: 1,
				Rules: []form.Rule{{ID: "R1", Owner: "G1", Conditions: []form.Condition{{Kind: form.AtLeastOne, Targets: []string{"F4", "F6"}}}}},
				Items: []form.Item{
					field("F3", 1, 1, form.TypTextLatin, func(it *form.Item) { it.Constraints.MinLength = 2; it.Constraints.MaxLength = 10 }),
					field("F4", 0, 1, form.TypText, func(it *form.Item) { it.Constraints.Pattern = "([0]{1}[1-9]{1}|[1-9]{1}[0-9]{1})[0-9]{3}" }),
					field("F5", 0, 1, form.TypDate, func(it *form.Item) { it.Constraints.MinValue = "2024-01-01" }),
					field("F6", 0, 1, form.TypBool),
					field("F7", 0, 1, form.TypNumInt, func(it *form.Item) { it.Constraints.MinValue = "1"; it.Constraints.MaxValue = "10" }),
					field("F8", 0, 1, form.TypNumCurrency),
					field("F9", 0, 1, form.TypTime),
					field("F10", 0, 1, form.TypDateTime),
					field("F11", 1, 1, form.TypText, func(it *form.Item) { it.Feldart = form.FeldLabel; it.Inhalt = "Hinweis" }),
					field("F12", 0, 1, form.TypText, func(it *form.Item) {
						it.Feldart = form.FeldSelect
						it.CodeList = &form.CodeListRef{Key: "urn:gl_1"}
					}),
				}},
			{Kind: form.KindGroup, ID: "G2", Version: "1.0", Min: 0, Max: -1,
				Rules: []form.Rule{{ID: "R2", Owner: "G2", Conditions: []form.Condition{{Kind: form.RequiredIf, Field: "F20", Op: form.OpEq, Values: []string{"x"}, Target: "F21"}}}},
				Items: []form.Item{field("F20", 1, 1, form.TypText), field("F21", 0, 1, form.TypNum)}},
			{Kind: form.KindGroup, ID: "G3", Version: "1.0", Min: 0, Max: 1,
				Rules: []form.Rule{{ID: "R3", Owner: "G3", Conditions: []form.Condition{{Kind: form.OneOf, Targets: []string{"F30", "F31"}}}}},
				Items: []form.Item{field("F30", 0, 1, form.TypText), field("F31", 0, 1, form.TypText)}},
		},
		Rules: []form.Rule{{ID: "R0", Owner: "S1", Conditions: []form.Condition{
			{Kind: form.RequiredIf, Field: "F1", Op: form.OpEq, Values: []string{"02"}, Target: "F2"},
			{Kind: form.ShowIf, Field: "F1", Op: form.OpEq, Values: []string{"02"}, Target: "F2"},
		}}},
		CodeLists: map[string]*form.CodeList{"urn:gl_1": {Columns: []string{"code", "name"}, CodeColumn: "code", NameColumn: "name", Rows: [][]string{{"a", "A"}, {"b", "B"}}}},
	}
}

const validBase = `{"F1":"01","G1":{"F3":"Müller","F4":"01234"}}`

// validationCases are answers with the expected errors ("path code"). The
// same cases check that the JSON Schema agrees with Validate.
var validationCases = []struct {
	name         string
	answers      string
	want         []string
	noJSONSchema bool // a rule JSON Schema does not express (documented)
}{
	{"valid minimal", validBase, nil, false},
	{"valid full", `{"F1":"02","F2":{"name":"a.pdf","size":1024,"mediaType":"application/pdf"},
		"G1":{"F3":"Ḳ̄rüger","F5":"2024-02-29","F6":false,"F7":10,"F8":12.5,"F9":"08:30","F10":"2024-01-02T10:00:00+01:00","F12":"b"},
		"G2":[{"F20":"x","F21":1.5},{"F20":"y"}],"G3":{"F31":"z"}}`, nil, false},
	{"missing required", `{"G1":{"F4":"01234"}}`, []string{"F1 required", "G1[0].F3 required"}, false},
	{"missing group", `{"F1":"01"}`, []string{"G1 required"}, false},
	{"unknown key", `{"F1":"01","X":1,"G1":{"F3":"Ab","F4":"01234","Y":2}}`, []string{"G1[0].Y unknown", "X unknown"}, false},
	{"label not answerable", `{"F1":"01","G1":{"F3":"Ab","F4":"01234","F11":"x"}}`, []string{"G1[0].F11 not_allowed"}, false},
	{"not in inline list", `{"F1":"03","G1":{"F3":"Ab","F4":"01234"}}`, []string{"F1 not_in_list"}, false},
	{"not in code list", `{"F1":"01","G1":{"F3":"Ab","F4":"01234","F12":"c"}}`, []string{"G1[0].F12 not_in_list"}, false},
	{"lengths", `{"F1":"01","G1":{"F3":"A","F4":"01234"}}`, []string{"G1[0].F3 min_length"}, false},
	{"max length", `{"F1":"01","G1":{"F3":"Abcdefghijk","F4":"01234"}}`, []string{"G1[0].F3 max_length"}, false},
	{"empty string", `{"F1":"01","G1":{"F3":"Ab","F4":""}}`, []string{"G1[0].F4 empty"}, false},
	{"pattern anchored", `{"F1":"01","G1":{"F3":"Ab","F4":"012345"}}`, []string{"G1[0].F4 pattern"}, false},
	{"latin", `{"F1":"01","G1":{"F3":"Пётр","F4":"01234"}}`, []string{"G1[0].F3 latin"}, false},
	{"bad date", `{"F1":"01","G1":{"F3":"Ab","F4":"01234","F5":"2023-02-30"}}`, []string{"G1[0].F5 date"}, false},
	{"date before min", `{"F1":"01","G1":{"F3":"Ab","F4":"01234","F5":"2023-12-31"}}`, []string{"G1[0].F5 min_value"}, true},
	{"bool type", `{"F1":"01","G1":{"F3":"Ab","F6":"ja"}}`, []string{"G1[0].F6 type"}, false},
	{"int", `{"F1":"01","G1":{"F3":"Ab","F4":"01234","F7":2.5}}`, []string{"G1[0].F7 type"}, false},
	{"int range", `{"F1":"01","G1":{"F3":"Ab","F4":"01234","F7":11}}`, []string{"G1[0].F7 max_value"}, false},
	{"currency decimals", `{"F1":"01","G1":{"F3":"Ab","F4":"01234","F8":1.005}}`, []string{"G1[0].F8 decimals"}, false},
	{"time", `{"F1":"01","G1":{"F3":"Ab","F4":"01234","F9":"24:00"}}`, []string{"G1[0].F9 time"}, false},
	{"datetime", `{"F1":"01","G1":{"F3":"Ab","F4":"01234","F10":"2024-01-02 10:00"}}`, []string{"G1[0].F10 datetime"}, false},
	{"at least one", `{"F1":"01","G1":{"F3":"Ab"}}`, []string{"G1[0] at_least_one"}, false},
	{"required if (shown)", `{"F1":"02","G1":{"F3":"Ab","F4":"01234"}}`, []string{"F2 required"}, false},
	{"show if (hidden but given)", `{"F1":"01","F2":{"name":"a.pdf","mediaType":"application/pdf"},"G1":{"F3":"Ab","F4":"01234"}}`, []string{"F2 not_allowed"}, false},
	{"file size and type", `{"F1":"02","F2":{"name":"a.exe","size":2048,"mediaType":"application/x-msdownload"},"G1":{"F3":"Ab","F4":"01234"}}`, []string{"F2 file_size", "F2 media_type"}, false},
	{"repeat must be array", `{"F1":"01","G1":{"F3":"Ab","F4":"01234"},"G2":{"F20":"x"}}`, []string{"G2 type"}, false},
	{"single must not be array", `{"F1":"01","G1":[{"F3":"Ab","F4":"01234"}]}`, []string{"G1 type"}, false},
	{"required if in repeat", `{"F1":"01","G1":{"F3":"Ab","F4":"01234"},"G2":[{"F20":"y"},{"F20":"x"}]}`, []string{"G2[1].F21 required"}, false},
	{"one of: none", `{"F1":"01","G1":{"F3":"Ab","F4":"01234"},"G3":{}}`, []string{"G3[0] one_of"}, false},
	{"one of: both", `{"F1":"01","G1":{"F3":"Ab","F4":"01234"},"G3":{"F30":"a","F31":"b"}}`, []string{"G3[0] one_of"}, false},
	{"group not object", `{"F1":"01","G1":"x"}`, []string{"G1[0] type"}, false},
}

func codes(errs []form.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Path+" "+e.Code)
		if e.Message == "" || e.MessageEN == "" {
			out = append(out, "missing message for "+e.Path)
		}
	}
	slices.Sort(out)
	return out
}

func decode(t *testing.T, s string) form.Answers {
	t.Helper()
	var a form.Answers
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		t.Fatalf("answers %s: %v", s, err)
	}
	return a
}

func TestValidate(t *testing.T) {
	m := testModel()
	for _, tt := range validationCases {
		t.Run(tt.name, func(t *testing.T) {
			got := codes(m.Validate(decode(t, tt.answers), form.ValidateOptions{}))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateOptions(t *testing.T) {
	m := testModel()
	t.Run("partial skips missing", func(t *testing.T) {
		got := codes(m.Validate(decode(t, `{"G1":{"F3":"A"}}`), form.ValidateOptions{Partial: true}))
		if diff := cmp.Diff([]string{"G1[0].F3 min_length"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("one step", func(t *testing.T) {
		got := codes(m.Validate(decode(t, `{"G1":{"F3":"Ab","F4":"01234"}}`), form.ValidateOptions{Items: []string{"G1"}}))
		if len(got) != 0 {
			t.Errorf("step G1: %v", got)
		}
	})
	t.Run("step sees conditions of other steps", func(t *testing.T) {
		// F2 (top-level step) is required because F1 = 02.
		got := codes(m.Validate(decode(t, `{"F1":"02"}`), form.ValidateOptions{Items: []string{"F2"}}))
		if diff := cmp.Diff([]string{"F2 required"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("compact", func(t *testing.T) {
		a := decode(t, `{"F1":"01","F2":null,"G1":{"F3":"Ab","F4":"01234","F5":""},"G3":{"F30":""},"G2":[]}`).Compact()
		if got := codes(m.Validate(a, form.ValidateOptions{})); len(got) != 0 {
			t.Errorf("compacted answers: %v (%v)", got, a)
		}
	})
	t.Run("messages", func(t *testing.T) {
		errs := m.Validate(decode(t, `{}`), form.ValidateOptions{})
		if errs[0].Message != "Bitte machen Sie hier eine Angabe." || errs[0].MessageEN != "This answer is required." {
			t.Errorf("messages = %+v", errs[0])
		}
	})
}

func compileSchema(t *testing.T, m *form.Model) *jsonschema.Schema {
	t.Helper()
	raw, err := m.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("form.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("form.json")
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, raw)
	}
	return s
}

func schemaValid(t *testing.T, s *jsonschema.Schema, answers string) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(answers))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

// TestJSONSchemaAgrees validates every case with the exported JSON Schema
// (santhosh-tekuri/jsonschema, draft 2020-12, formats asserted) and checks
// that it accepts exactly the answers Validate accepts.
func TestJSONSchemaAgrees(t *testing.T) {
	m := testModel()
	s := compileSchema(t, m)
	for _, tt := range validationCases {
		if tt.noJSONSchema {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			errs := m.Validate(decode(t, tt.answers), form.ValidateOptions{})
			serr := schemaValid(t, s, tt.answers)
			if (len(errs) == 0) != (serr == nil) {
				t.Errorf("Validate: %v; JSON Schema: %v", codes(errs), serr)
			}
		})
	}
}

// TestJSONSchemaRealForms exports the real schemas and the v3 fixture:
// the schemas compile, reject empty answers and unknown keys like
// Validate, and accept the answers generated from the model.
func TestJSONSchemaRealForms(t *testing.T) {
	paths := []string{
		testenv.SharedData(t, "fim-schemas/xdf2/S00000094V1.0/S00000094V1.0_xdf2.xml"),
		testenv.SharedData(t, "fim-schemas/xdf2/S00000246V1.1/S00000246v1.1_xdf2.xml"),
		testenv.SharedData(t, "fim-schemas/xdf2/S05000058V1.0/S05000058V1.0_xdf2.xml"),
		testenv.SharedData(t, "fim-schemas/xdf2/S00000009/S00000009_xdatenfelder.xml"),
		"../fim/testdata/v3-antrag.xml",
	}
	for _, p := range paths {
		m, err := fim.LoadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(m.ID, func(t *testing.T) {
			s := compileSchema(t, m)
			for _, answers := range []string{`{}`, `{"X":1}`} {
				errs := m.Validate(decode(t, answers), form.ValidateOptions{})
				serr := schemaValid(t, s, answers)
				if len(errs) == 0 || serr == nil {
					t.Errorf("%s: Validate %v, schema %v; want both to reject", answers, codes(errs), serr)
				}
			}
			// Generated answers: required elements only, and everything.
			for _, all := range []bool{false, true} {
				raw, _ := json.Marshal(sampleAnswers(m, m.Root, all))
				errs := m.Validate(decode(t, string(raw)), form.ValidateOptions{})
				serr := schemaValid(t, s, string(raw))
				if (len(errs) == 0) != (serr == nil) {
					t.Errorf("all=%v: generated answers %s\nValidate: %v\nschema: %v", all, raw, codes(errs), serr)
				}
				if m.ID == "S05000058" && all && len(errs) != 0 {
					t.Errorf("complete answers to S05000058 rejected: %v", codes(errs))
				}
			}
		})
	}
}

// sampleAnswers fills every required element (with all, every element)
// with a valid value; rules are not considered.
func sampleAnswers(m *form.Model, items []form.Item, all bool) map[string]any {
	out := map[string]any{}
	for i := range items {
		it := &items[i]
		if (it.Min == 0 && !all) || (it.Kind == form.KindField && !it.Input()) {
			continue
		}
		var v any
		if it.Kind == form.KindGroup {
			v = sampleAnswers(m, it.Items, all)
		} else {
			v = sampleValue(m, it)
		}
		if it.Repeatable() {
			arr := []any{}
			for range max(it.Min, 1) {
				arr = append(arr, v)
			}
			v = arr
		}
		out[it.ID] = v
	}
	return out
}

func sampleValue(m *form.Model, it *form.Item) any {
	if opts := m.Options(it); it.Feldart == form.FeldSelect {
		if len(opts) > 0 {
			return opts[0].Code
		}
		return "x"
	}
	switch it.Datentyp {
	case form.TypBool:
		return true
	case form.TypNum, form.TypNumInt, form.TypNumCurrency:
		if it.Constraints.MinValue != "" {
			var f float64
			fmt.Sscan(it.Constraints.MinValue, &f)
			return f
		}
		return 1
	case form.TypDate:
		return "2024-05-01"
	case form.TypFile, form.TypObj:
		return map[string]any{"name": "nachweis.pdf", "size": 1, "mediaType": "application/pdf"}
	}
	s := "Abc"
	if it.Constraints.Pattern != "" {
		for _, cand := range []string{"12345", "01234", "a@b.de", "Abc", "1", "DE"} {
			if re := it.Constraints.Regexp(); re != nil && re.MatchString(cand) {
				s = cand
				break
			}
		}
	}
	for len([]rune(s)) < it.Constraints.MinLength {
		s += "x"
	}
	if n := it.Constraints.MaxLength; n > 0 && len(s) > n {
		s = s[:n]
	}
	return s
}

func TestValidateRealForm(t *testing.T) {
	m, err := fim.LoadFile(testenv.SharedData(t, "fim-schemas/xdf2/S00000246V1.1/S00000246v1.1_xdf2.xml"))
	if err != nil {
		t.Fatal(err)
	}
	// R00002262…R00002282 hang on G00002069: F00002920 "Art der
	// Aufenthaltserlaubnis" = 001 requires group G00002073 and hides the
	// others; = 003 requires field F00002950 (R00002264).
	top := findTop(m, "F00002920")
	if top != "G00002069" {
		t.Fatalf("F00002920 is in %q", top)
	}
	run := func(code string, extra map[string]any) []string {
		a := sampleAnswers(m, m.Root, false)
		g := a[top].(map[string]any)
		g["F00002920"] = code
		for k, v := range extra {
			g[k] = v
		}
		return codes(m.Validate(form.Answers(a), form.ValidateOptions{}))
	}
	has := func(errs []string, s string) bool { return slices.Contains(errs, s) }
	e001 := run("001", nil)
	if !has(e001, "G00002069[0].G00002073 required") || has(e001, "G00002069[0].F00002950 required") {
		t.Errorf("001: %v", e001)
	}
	e003 := run("003", nil)
	if has(e003, "G00002069[0].G00002073 required") || !has(e003, "G00002069[0].F00002950 required") {
		t.Errorf("003: %v", e003)
	}
	file := map[string]any{"name": "vertrag.pdf"}
	e003b := run("003", map[string]any{"F00002950": file, "G00002073": map[string]any{}})
	if has(e003b, "G00002069[0].F00002950 required") || !has(e003b, "G00002069[0].G00002073 not_allowed") {
		t.Errorf("003 with contract and a hidden group: %v", e003b)
	}
}

// findTop returns the id of the top-level group holding id directly.
func findTop(m *form.Model, id string) string {
	for _, it := range m.Root {
		for _, c := range it.Items {
			if c.ID == id {
				return it.ID
			}
		}
	}
	return ""
}

func TestSteps(t *testing.T) {
	m := testModel()
	var got []string
	for _, s := range m.Steps() {
		var ids []string
		for _, it := range s.Items {
			ids = append(ids, it.ID)
		}
		got = append(got, s.ID+"|"+s.Title+"|"+strings.Join(ids, ","))
	}
	want := []string{"|Testantrag|F1,F2", "G1|Person|G1", "G2||G2", "G3||G3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

func TestCompilePattern(t *testing.T) {
	tests := []struct {
		pattern, in string
		match       bool
		bad         bool
	}{
		{"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{1,63}$", "a@b.de", true, false},
		{"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{1,63}$", "x a@b.de", false, false},
		{"[\\p{L}0-9. ]*", "Straße 5", true, false},
		{"[0-9]{5}", "123456", false, false},
		{"a|b", "ab", false, false},
		{"(?=a)a", "a", false, true},
		{"[a-z-[aeiou]]", "b", false, true},
		{"(a)\\1", "aa", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.in, func(t *testing.T) {
			re, err := form.CompilePattern(tt.pattern)
			if tt.bad {
				if err == nil {
					t.Fatal("want an error")
				}
				if (form.Constraints{Pattern: tt.pattern}).Regexp() != nil {
					t.Error("Regexp of a bad pattern must be nil")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if re.MatchString(tt.in) != tt.match {
				t.Errorf("match %q = %v", tt.in, !tt.match)
			}
		})
	}
}

func TestIsLatin(t *testing.T) {
	re := regexp.MustCompile(form.LatinPattern())
	tests := []struct {
		in   string
		want bool
	}{
		{"Müller-Lüdenscheidt", true},
		{"Łukasz Żółć", true},
		{"Ǆemal Đorđević", true},
		{"ẞ GROSS", true},
		{"C\u0328\u0306", true}, // C̨̆ normative sequence
		{"\u1E32\u0304", true},  // Ḳ̄
		{"L\u0325\u0304", true}, // L̥̄
		{"Zeile 1\nZeile 2\t€ 5,00 «Zitat» ’", true},
		{"O'Brien & Söhne (GmbH) #1", true},
		{"\u0301a", false},             // mark without base letter
		{"a\u0301\u0301\u0301", false}, // three marks
		{"1\u0301", false},             // mark after a digit
		{"Пётр", false},                // Cyrillic
		{"Ωmega", false},               // Greek
		{"日本", false},
		{"emoji 😀", false},
		{"\x00", false},
		{"ǅ", true},
		{"ʹ", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := form.IsLatin(tt.in); got != tt.want {
				t.Errorf("IsLatin(%q) = %v", tt.in, got)
			}
			if got := re.MatchString(tt.in); got != tt.want {
				t.Errorf("LatinPattern matches %q = %v", tt.in, got)
			}
		})
	}
}

func FuzzIsLatinAgreesWithPattern(f *testing.F) {
	re := regexp.MustCompile(form.LatinPattern())
	for _, s := range []string{"Müller", "C\u0328\u0306", "Пётр", "a\u0301\u0301\u0301", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if form.IsLatin(s) != re.MatchString(s) {
			t.Errorf("IsLatin(%q) = %v, pattern disagrees", s, form.IsLatin(s))
		}
	})
}

func TestModelJSONRoundTrip(t *testing.T) {
	m := testModel()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back form.Model
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for _, tt := range validationCases {
		a := codes(m.Validate(decode(t, tt.answers), form.ValidateOptions{}))
		b := codes(back.Validate(decode(t, tt.answers), form.ValidateOptions{}))
		if !cmp.Equal(a, b) {
			t.Errorf("%s: stored model validates differently: %v vs %v", tt.name, a, b)
		}
	}
}

// agreesWithSchema returns a fuzz function that checks that m.Validate and
// m's exported JSON Schema accept the same JSON answers.
func agreesWithSchema(m *form.Model) func(t *testing.T, answers string) {
	var s *jsonschema.Schema
	return func(t *testing.T, answers string) {
		if s == nil {
			s = compileSchema(t, m)
		}
		var a form.Answers
		if err := json.Unmarshal([]byte(answers), &a); err != nil || a == nil {
			return
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(answers))
		if err != nil {
			return
		}
		errs := m.Validate(a, form.ValidateOptions{})
		serr := s.Validate(inst)
		if (len(errs) == 0) != (serr == nil) {
			t.Errorf("answers %s\nValidate: %v\nschema: %v", answers, codes(errs), serr)
		}
	}
}

// FuzzValidateAgreesWithJSONSchema feeds arbitrary JSON answers to the test
// model and checks that Validate and the exported JSON Schema accept the
// same answers (date ranges, which the schema does not express, are left
// out of the model).
func FuzzValidateAgreesWithJSONSchema(f *testing.F) {
	for _, c := range validationCases {
		f.Add(c.answers)
	}
	m := testModel()
	m.Root[2].Items[2].Constraints.MinValue = ""
	f.Fuzz(agreesWithSchema(m))
}

// FuzzV3FormAgreesWithJSONSchema does the same on the parsed v3 fixture
// (inline values, code list, file limits, show-if/required-if/at-least-one
// rules); its date range is dropped as above.
func FuzzV3FormAgreesWithJSONSchema(f *testing.F) {
	m, err := fim.LoadFile("../fim/testdata/v3-antrag.xml")
	if err != nil {
		f.Fatal(err)
	}
	for i := range m.Root {
		if m.Root[i].Datentyp == form.TypDate {
			m.Root[i].Constraints.MinValue, m.Root[i].Constraints.MaxValue = "", ""
		}
	}
	f.Add(`{"F99000000001":"02","F99000000004":{"name":"a.pdf","size":10,"mediaType":"application/pdf"},"G99000000001":{"F99000000002":"Ǆemal","F99000000005":"+49 30 123","F99000000007":"w"},"F99000000008":["2024-02-29"],"F99000000009":12.34}`)
	f.Add(`{"F99000000001":"01","F99000000004":{"name":"a.pdf"},"G99000000001":{"F99000000002":"A","F99000000006":"x"}}`)
	f.Fuzz(agreesWithSchema(m))
}
