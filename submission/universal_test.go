// SPDX-License-Identifier: EUPL-1.2

package submission_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"rathaus/form"
	"rathaus/submission"
)

func TestUniversalForm(t *testing.T) {
	de, en := submission.UniversalForm("de"), submission.UniversalForm("en")
	t.Run("SameStructureBothLanguages", func(t *testing.T) {
		var idsDE, idsEN []string
		de.Walk(func(it *form.Item, _ *form.Item) bool { idsDE = append(idsDE, it.ID); return true })
		en.Walk(func(it *form.Item, _ *form.Item) bool { idsEN = append(idsEN, it.ID); return true })
		if !slices.Equal(idsDE, idsEN) || de.Title == en.Title {
			t.Errorf("de %v / en %v; titles %q %q", idsDE, idsEN, de.Title, en.Title)
		}
		if len(de.Steps()) != 4 {
			t.Errorf("%d steps, want 4 (Anliegen, Kontakt, Unterlagen, Einwilligung)", len(de.Steps()))
		}
	})
	raw, err := de.JSONSchema()
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
	if err := c.AddResource("universal.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("universal.json")
	if err != nil {
		t.Fatalf("JSON Schema of the universal form does not compile: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(a form.Answers)
		codes []string
	}{
		{"OK", func(form.Answers) {}, nil},
		{"OKMinimal", func(a form.Answers) {
			delete(a, "unterlagen")
			k := a["kontakt"].(map[string]any)
			delete(k, "anschrift")
			delete(k, "anrede")
		}, nil},
		{"OKManyFiles", func(a form.Answers) {
			var files []any
			for range 30 {
				files = append(files, map[string]any{"name": "scan.png", "size": 1000, "mediaType": "image/png"})
			}
			a["unterlagen"] = map[string]any{"datei": files}
		}, nil},
		{"ErrNoRequest", func(a form.Answers) { delete(a, "anliegen") }, []string{"required"}},
		{"ErrNoConsent", func(a form.Answers) { a["einwilligung"] = map[string]any{"zustimmung": "nein"} }, []string{"not_in_list"}},
		{"ErrFileTooLarge", func(a form.Answers) {
			a["unterlagen"] = map[string]any{"datei": []any{map[string]any{"name": "x.pdf", "size": 11 << 20, "mediaType": "application/pdf"}}}
		}, []string{"file_size"}},
		{"ErrFileType", func(a form.Answers) {
			a["unterlagen"] = map[string]any{"datei": []any{map[string]any{"name": "x.exe", "size": 10, "mediaType": "application/x-msdownload"}}}
		}, []string{"media_type"}},
		{"ErrEmail", func(a form.Answers) { a["kontakt"].(map[string]any)["email"] = "erika at example" }, []string{"pattern"}},
		{"ErrUnknownKey", func(a form.Answers) { a["iban"] = "DE02120300000000202051" }, []string{"unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := validAnswers()
			tc.edit(a)
			var codes []string
			for _, fe := range de.Validate(a, form.ValidateOptions{}) {
				codes = append(codes, fe.Code)
			}
			if !slices.Equal(codes, tc.codes) {
				t.Errorf("Validate codes %v, want %v", codes, tc.codes)
			}
			b, _ := json.Marshal(a)
			inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
			if serr := schema.Validate(inst); (serr == nil) != (len(tc.codes) == 0) {
				t.Errorf("JSON Schema disagrees with Validate: %v", serr)
			}
		})
	}
}
