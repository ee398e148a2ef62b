// SPDX-License-Identifier: EUPL-1.2

package delivery_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"

	"rathaus/delivery"
	"rathaus/submission"
)

// FuzzExportXML: whatever the answers hold (keys that are no XML names,
// control characters, nesting), the export is well-formed XML.
func FuzzExportXML(f *testing.F) {
	f.Add("kontakt", "vorname", "Jürgen", true)
	f.Add("1 bad key", "<tag>", "\x00\x01 & ]]>", false)
	f.Add("xmlns", "a:b", "\uFFFE", true)
	f.Fuzz(func(t *testing.T, group, field, value string, withModel bool) {
		app := &delivery.Application{Tenant: "064110000000", ID: "id", Reference: value, FormID: group,
			Answers:     map[string]any{group: map[string]any{field: value, "liste": []any{value, 1.5, true, nil}}, "kontakt": map[string]any{field: value}},
			Attachments: []delivery.Attachment{{ID: "a", Filename: value, Content: []byte(value)}}}
		if withModel {
			app.Form = submission.UniversalForm("de")
		}
		b, err := delivery.ExportXML(app)
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(b))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("export is not well-formed XML: %v\n%s", err, b)
			}
		}
	})
}
