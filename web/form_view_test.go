// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus/form"
	"rathaus/identity"
	"rathaus/submission"
)

// TestPrefill: profile values go only into fields that allow prefill
// (v3 vorbefuellung optional/verpflichtend) or into the universal form's
// contact group, never over an existing answer.
func TestPrefill(t *testing.T) {
	field := func(id, name, prefill string) form.Item {
		return form.Item{Kind: form.KindField, ID: id, Name: name, Label: name, Min: 0, Max: 1, Feldart: form.FeldInput, Datentyp: form.TypText, Prefill: prefill}
	}
	m := &form.Model{ID: "S1", Root: []form.Item{{Kind: form.KindGroup, ID: "G1", Min: 1, Max: 1, Items: []form.Item{
		field("F1", "Vorname", "optional"),
		field("F2", "Familienname", "keine"),
		field("F3", "Wohnort", "verpflichtend"),
		field("F4", "E-Mail", "optional"),
	}}}}
	p := identity.Profile{GivenName: "Erika", FamilyName: "Mustermann", City: "Darmstadt", Email: "erika@example.org"}
	ans := map[string]any{"G1": map[string]any{"F4": "eigene@example.org"}}
	got := prefill(m, ans, p, false)
	want := map[string]bool{"G1[0].F1": true, "G1[0].F3": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("filled paths (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"G1": map[string]any{"F1": "Erika", "F3": "Darmstadt", "F4": "eigene@example.org"}}, ans); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	uni := submission.UniversalForm("de")
	ua := map[string]any{}
	prefill(uni, ua, p, true)
	k, _ := ua["kontakt"].(map[string]any)
	if k["vorname"] != "Erika" || k["nachname"] != "Mustermann" || k["email"] != "erika@example.org" || ua["anliegen"] != nil {
		t.Errorf("universal contact prefill: %v", ua)
	}
}

func TestPaths(t *testing.T) {
	m := submission.UniversalForm("de")
	ans := map[string]any{}
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"kontakt[0].vorname", true},
		{"kontakt[0].anschrift[0].ort", true},
		{"unterlagen[0].datei[0]", true},
		{"unterlagen[0].datei[5]", false}, // beyond the end of the list
		{"unbekannt", false},
	} {
		if got := setPath(m, ans, tc.path, "x"); got != tc.ok {
			t.Errorf("setPath(%s) = %v", tc.path, got)
		}
	}
	want := map[string]any{
		"kontakt":    map[string]any{"vorname": "x", "anschrift": map[string]any{"ort": "x"}},
		"unterlagen": map[string]any{"datei": []any{"x"}},
	}
	if diff := cmp.Diff(want, ans); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	setPath(m, ans, "unterlagen[0].datei[0]", nil)
	if _, ok := getPath(m, ans, "unterlagen[0].datei[0]"); ok {
		t.Errorf("removed file still there: %v", ans)
	}
	if fid("kontakt[0].anschrift[0].ort") != "f-kontakt-0_anschrift-0_ort" {
		t.Errorf("fid = %s", fid("kontakt[0].anschrift[0].ort"))
	}
}

func TestParseScalar(t *testing.T) {
	num := &form.Item{Datentyp: form.TypNumCurrency}
	date := &form.Item{Datentyp: form.TypDate}
	b := &form.Item{Datentyp: form.TypBool}
	for _, tc := range []struct {
		it   *form.Item
		in   string
		want any
	}{
		{num, "12,50", "12.50"},
		{num, "1 000", "1000"},
		{num, "Inf", "Inf"},
		{date, "31.12.1980", "1980-12-31"},
		{date, "1980-12-31", "1980-12-31"},
		{date, "gestern", "gestern"},
		{b, "true", true},
		{b, "", nil},
	} {
		got := parseScalar(tc.it, tc.in)
		if s, ok := got.(interface{ String() string }); ok {
			got = s.String()
		}
		if got != tc.want {
			t.Errorf("parseScalar(%s, %q) = %#v, want %#v", tc.it.Datentyp, tc.in, got, tc.want)
		}
	}
}
