// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus/internal/testenv"
)

func TestDecompoundDictionary(t *testing.T) {
	dict, err := LoadDictionary(testenv.SharedData(t, "chatbot/decompound/dictionary-de.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The catalog's own vocabulary (service names) supplies parts the
	// dictionary lacks, e.g. "Kfz" or "Zulassung".
	catalog := NewDictionary("Personalausweis", "Kfz", "Zulassung", "Wohngeld", "Führerschein")
	dc := NewDecompounder(dict, catalog)
	tests := []struct {
		word string
		want []string
	}{
		{"Personalausweisantrag", []string{"personalausweis", "antrag"}},
		{"Meldebescheinigung", []string{"melde", "bescheinigung"}},
		{"Führerscheinumtausch", []string{"fuhrerschein", "umtausch"}},
		{"Fuehrerscheinumtausch", []string{"fuhrerschein", "umtausch"}},
		{"Wohngeldantrag", []string{"wohngeld", "antrag"}},
		{"Hundesteuer", []string{"hunde", "steuer"}},
		{"Kfz-Zulassung", []string{"kfz", "zulassung"}},
		{"Elterngeld", []string{"eltern", "geld"}},
		{"Geldbörse", []string{"geld", "borse"}},
		{"Hundesteuern", []string{"hunde", "steuern"}},
		{"Ausweis", nil},           // a part itself: nothing to split
		{"Xylofonqwertz", nil},     // no full cover: nothing
		{"Abc", nil},               // too short
		{"Personenstand2024", nil}, // digits are never split
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			got := dc.Split(Fold(tt.word))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Split(%q) (-want +got):\n%s", tt.word, diff)
			}
		})
	}
}

func TestDecompoundFewestParts(t *testing.T) {
	dc := NewDecompounder(NewDictionary("personal", "ausweis", "personalausweis", "antrag", "laus", "per", "sonal"))
	got := dc.Split("personalausweisantrag")
	if diff := cmp.Diff([]string{"personalausweis", "antrag"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadDictionaryBadLine(t *testing.T) {
	_, err := ReadDictionary(strings.NewReader("# c\nabc\nzwei worte\n"), "d.txt")
	if err == nil || !strings.Contains(err.Error(), "d.txt:3") {
		t.Fatalf("err = %v, want file:line", err)
	}
}

func FuzzDecompound(f *testing.F) {
	dc := NewDecompounder(NewDictionary("hund", "steuer", "melde", "schein", "kfz", "eltern", "geld"))
	for _, s := range []string{"Hundesteuer", "Kfz-Zulassung", "", "ßßß", "Elterngeldes", "a-b-c", "meldeschein"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w := Fold(s)
		parts := dc.Split(w)
		if parts != nil && len(parts) < 2 {
			t.Fatalf("Split(%q) = %q: fewer than two parts", w, parts)
		}
		for _, p := range parts {
			if !strings.Contains(w, p) {
				t.Fatalf("Split(%q): part %q not in word", w, p)
			}
		}
		_ = Words(s)
		_ = Stem(w)
	})
}
