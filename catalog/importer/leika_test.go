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
	// 58 Lebenslagen, of which 3 test rows without OZG-Leistung are dropped.
	if len(owarns) != 3 || len(oc.Lebenslagen) != 55 || len(oc.Leistungen) != 557 {
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

func TestReadOZG(t *testing.T) {
	write := func(t *testing.T, dir, name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	write(t, dir, "themenfelder.csv", "themenfeld_id,themenfeld,hidden\n1,Familie & Kind,0\n2,Querschnitt ,0\n")
	write(t, dir, "lebenslagen.csv", "lebenslage_id,lebenslage,themenfeld_id,themenfeld,hidden\n"+
		"26,Geburt,1,Familie & Kind,0\n37,Querschnitt Bürger,2,Querschnitt ,0\n40,Umzug,9,Bauen & Wohnen,0\n64,aaaaabbbbb,1,Familie & Kind,0\n")
	write(t, dir, "ozg-leistungen.csv", "db_id,ozg_id,ozg_leistung,lebenslage_id,lebenslage,themenfeld,prioritaet,status,anzahl_leika_leistungen,hidden\n"+
		"1,10557,Geburtsurkunde,26,Geburt,Familie & Kind,x,offen,1,0\n"+
		"2,10119,Personalausweis,37,Querschnitt Bürger,Querschnitt ,x,offen,1,0\n"+
		"3,10119,Personalausweis doppelt,37,Querschnitt Bürger,Querschnitt ,x,offen,1,0\n"+
		"4,10124,Wohnsitzmeldungen,40,Umzug,Bauen & Wohnen,x,offen,1,0\n")
	oc, warns, err := importer.ReadOZG(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.Lebenslage{
		{ID: "40", Name: "Umzug", Themenfeld: "Bauen & Wohnen"},
		{ID: "26", Name: "Geburt", Themenfeld: "Familie & Kind"},
		{ID: "37", Name: "Querschnitt Bürger", Themenfeld: "Querschnitt"},
	}
	if d := cmp.Diff(want, oc.Lebenslagen); d != "" {
		t.Errorf("Lebenslagen (-want +got):\n%s", d)
	}
	var got []string
	for _, w := range warns {
		got = append(got, filepath.Base(w.File)+":"+w.Field)
	}
	if d := cmp.Diff([]string{"lebenslagen.csv:themenfeld_id", "ozg-leistungen.csv:ozg_id", "lebenslagen.csv:lebenslage_id"}, got); d != "" {
		t.Errorf("warnings (-want +got):\n%s\n%v", d, warns)
	}
	ss := []catalog.Service{{Key: "a", OZGID: "10119"}, {Key: "b", OZGID: "99999"}, {Key: "c"}}
	aw := oc.Attach(ss)
	if ss[0].Themenfeld != "Querschnitt" || ss[0].OZGName != "Personalausweis" || len(ss[0].Lebenslagen) != 1 || len(aw) != 1 || ss[1].Themenfeld != "" {
		t.Errorf("attached %+v, warnings %v", ss, aw)
	}

	t.Run("MissingFile", func(t *testing.T) {
		empty := t.TempDir()
		_, _, err := importer.ReadOZG(empty)
		if rathaus.ErrorCode(err) != rathaus.EINVALID || !strings.Contains(rathaus.ErrorMessage(err), "themenfelder.csv: cannot open") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("BadRow", func(t *testing.T) {
		write(t, dir, "ozg-leistungen.csv", "db_id,ozg_id,ozg_leistung,lebenslage_id,lebenslage,themenfeld,prioritaet,status,anzahl_leika_leistungen,hidden\n1,1o557,X,26,Geburt,F,x,offen,1,0\n")
		_, _, err := importer.ReadOZG(dir)
		if !strings.HasSuffix(strings.SplitN(rathaus.ErrorMessage(err), ": ", 2)[0], "ozg-leistungen.csv:2") {
			t.Errorf("err = %v", err)
		}
	})
}
