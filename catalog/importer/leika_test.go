// SPDX-License-Identifier: EUPL-1.2

package importer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/catalog"
	"rathaus/catalog/importer"
	"rathaus/internal/testenv"
	"rathaus/tenant"
)

const leikaHeader = "db_id,leika_schluessel,leistungsbezeichnung,typisierung,ozg_id,ozg_leistung,rechtsgrundlage,gesetze,gesetz_kuerzel,beschreibung,hidden\n"

func TestReadLeiKa(t *testing.T) {
	in := leikaHeader +
		"1,nicht im LeiKa,Prüfung von Dingen,1,10478,Produktzulassung,,Dinggesetz,DingG,,0\n" +
		"2,99012001000000,Abbruchgenehmigung,4,10513,Abbruchgenehmigung,,,,,0\n" +
		"3,99012001000000,Abbruchgenehmigung (doppelt),4,10513,Abbruchgenehmigung,§ 1 BauO,,,Text,0\n" +
		"4,3233,Test 4,44,10513,Abbruchgenehmigung,x,,,,0\n" +
		"5,99046029000000,Abdrucke,2/3,,,\"§ 882g ZPO [http://example.org]\",Zivilprozessordnung,ZPO,,1\n"
	ss, warns, err := importer.ReadLeiKa(strings.NewReader(in), "l.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.Service{
		{Tenant: tenant.Bund, Key: "leika-db-1", Source: "leika", SourceID: "1", Name: "Prüfung von Dingen", Typisierung: "1", OZGID: "10478", OZGName: "Produktzulassung", LegalBasis: "Dinggesetz", Keywords: []string{"DingG"}},
		{Tenant: tenant.Bund, Key: "99012001000000", LeiKa: "99012001000000", Source: "leika", SourceID: "2", Name: "Abbruchgenehmigung", Summary: "Text", Typisierung: "4", OZGID: "10513", OZGName: "Abbruchgenehmigung", LegalBasis: "§ 1 BauO"},
		{Tenant: tenant.Bund, Key: "leika-db-4", Source: "leika", SourceID: "4", Name: "Test 4", Typisierung: "44", OZGID: "10513", OZGName: "Abbruchgenehmigung", LegalBasis: "x"},
	}
	if d := cmp.Diff(want, ss); d != "" {
		t.Errorf("services (-want +got):\n%s", d)
	}
	var lines []int
	for _, w := range warns {
		lines = append(lines, w.Line)
	}
	if d := cmp.Diff([]int{4, 5, 6}, lines); d != "" {
		t.Errorf("warning lines (-want +got):\n%s\n%v", d, warns)
	}
}

func TestReadLeiKaErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"DuplicateDBID", leikaHeader + "1,99012001000000,A,4,,,,,,,0\n1,99012001001000,B,4,,,,,,,0\n", "l.csv:3: db_id: duplicate db_id 1 (first on line 2)"},
		{"BadDBID", leikaHeader + "x,99012001000000,A,4,,,,,,,0\n", "l.csv:2: db_id: want a number"},
		{"EmptyName", leikaHeader + "1,99012001000000,,4,,,,,,,0\n", "l.csv:2: leistungsbezeichnung: empty name"},
		{"MissingColumn", strings.Replace(leikaHeader, ",hidden", "", 1) + "1,99012001000000,A,4,,,,,,\n", "l.csv:1: header: missing column \"hidden\""},
		{"Truncated", leikaHeader + "1,99012001000000,A,4,,,,", "l.csv:2: row: wrong number of columns"},
		{"Latin1", leikaHeader + "1,99012001000000,Pr\xfcfung,4,,,,,,,0\n", "l.csv:2: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, _, err := importer.ReadLeiKa(strings.NewReader(tt.in), "l.csv")
			if err == nil || ss != nil {
				t.Fatalf("got %d services, err %v; want an error", len(ss), err)
			}
			if msg := rathaus.ErrorMessage(err); rathaus.ErrorCode(err) != rathaus.EINVALID || !strings.HasPrefix(msg, tt.want) {
				t.Errorf("error %q (%s), want prefix %q", msg, rathaus.ErrorCode(err), tt.want)
			}
		})
	}
}

func TestReadLeiKaAndOZGRealFiles(t *testing.T) {
	path := testenv.SharedData(t, "leika/leika-leistungen.csv")
	dir := testenv.SharedData(t, "ozg-katalog")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ss, warns, err := importer.ReadLeiKa(f, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 5251 {
		t.Errorf("got %d services, want 5251", len(ss))
	}
	withKey, keys := 0, map[string]bool{}
	for _, s := range ss {
		if keys[s.Key] {
			t.Errorf("duplicate key %s", s.Key)
		}
		keys[s.Key] = true
		if s.LeiKa != "" {
			withKey++
		}
	}
	// 4813 14-digit keys; the 2 test rows ("25323525", "3233") warn.
	if withKey != 4813 || len(warns) != 2 {
		t.Errorf("services with LeiKa key = %d (want 4813), warnings = %v", withKey, warns)
	}
	oc, owarns, err := importer.ReadOZG(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(owarns) != 0 || len(oc.Lebenslagen) != 58 || len(oc.Leistungen) != 557 {
		t.Errorf("OZG: %d Lebenslagen, %d Leistungen, warnings %v", len(oc.Lebenslagen), len(oc.Leistungen), owarns)
	}
	if aw := oc.Attach(ss); len(aw) != 0 {
		t.Errorf("attach warnings: %v", aw)
	}
	var abbruch catalog.Service
	themen := map[string]bool{}
	for _, s := range ss {
		if s.Key == "99012001000000" {
			abbruch = s
		}
		themen[s.Themenfeld] = true
	}
	if abbruch.Name != "Abbruchgenehmigung" || abbruch.OZGID != "10513" || abbruch.Themenfeld != "Bauen & Wohnen" ||
		len(abbruch.Lebenslagen) != 1 || abbruch.Lebenslagen[0] != "Bauen & Immobilien" || abbruch.Typisierung != "4" {
		t.Errorf("Abbruchgenehmigung = %+v", abbruch)
	}
	if !themen["Querschnitt"] || themen["Querschnitt "] {
		t.Errorf("Themenfeld names not trimmed: %v", themen)
	}
}

func FuzzReadLeiKa(f *testing.F) {
	f.Add(leikaHeader + "1,nicht im LeiKa,A,1,10478,P,,G,K,,0\n2,99012001000000,B,4,10513,A,,,,,0\n")
	f.Add(leikaHeader + "2,99012001000000,B,4,10513,A,\"x\"\"y\",,,,0\n")
	f.Fuzz(func(t *testing.T, in string) {
		ss, _, err := importer.ReadLeiKa(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("code %q: %v", rathaus.ErrorCode(err), err)
			}
			return
		}
		keys := map[string]bool{}
		for _, s := range ss {
			if s.Key == "" || keys[s.Key] || s.Tenant != tenant.Bund {
				t.Fatalf("bad service %+v", s)
			}
			keys[s.Key] = true
		}
	})
}
