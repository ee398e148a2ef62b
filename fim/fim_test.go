// SPDX-License-Identifier: EUPL-1.2

package fim_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/fim"
	"rathaus/form"
	"rathaus/internal/testenv"
)

func hasWarning(m *form.Model, sub string) bool {
	return slices.ContainsFunc(m.Warnings, func(w string) bool { return strings.Contains(w, sub) })
}

// TestRealSchemas checks the four real XDatenfelder 2.0 schemas against the
// counts documented in fim.md and some concrete labels, constraints and rules.
func TestRealSchemas(t *testing.T) {
	tests := []struct {
		path                 string
		id, version          string
		fields, groups       int
		fieldUses, groupUses int
		rules, recognised    int
		codeLists            int
		check                func(t *testing.T, m *form.Model)
	}{
		{
			path: "fim-schemas/xdf2/S00000094V1.0/S00000094V1.0_xdf2.xml", id: "S00000094", version: "1.0",
			fields: 29, groups: 13, fieldUses: 44, groupUses: 16, rules: 13, recognised: 13, codeLists: 4,
			check: func(t *testing.T, m *form.Model) {
				if !strings.HasPrefix(m.Name, "Benachrichtigung über die Beschäftigung") {
					t.Errorf("name %q", m.Name)
				}
				plz := m.Find("F60000246")
				if plz == nil || plz.Label == "" || plz.Constraints.Pattern != "([0]{1}[1-9]{1}|[1-9]{1}[0-9]{1})[0-9]{3}" || plz.Constraints.MinLength != 5 || plz.Constraints.MaxLength != 5 {
					t.Errorf("F60000246 Postleitzahl = %+v", plz)
				} else if re := plz.Constraints.Regexp(); !re.MatchString("01067") || re.MatchString("00123") || re.MatchString("010677") {
					t.Errorf("PLZ pattern %s", re)
				}
				mail := m.Find("F60000242")
				if re := mail.Constraints.Regexp(); re == nil || !re.MatchString("info@stadt.de") || re.MatchString("info@stadt") {
					t.Errorf("E-Mail pattern (trailing $ of the source) = %v", re)
				}
				f := m.Find("F00000463")
				if f == nil || f.Feldart != form.FeldSelect || len(m.Options(f)) != 9 {
					t.Fatalf("F00000463 = %+v, options %d", f, len(m.Options(f)))
				}
				var r *form.Rule
				for i := range m.Rules {
					if m.Rules[i].ID == "R00000849" {
						r = &m.Rules[i]
					}
				}
				want := []form.Condition{{Kind: form.RequiredIf, Field: "F00000463", Op: form.OpEq, Values: []string{"009"}, Target: "F00000601"}}
				if r == nil || !cmp.Equal(r.Conditions, want) {
					t.Errorf("R00000849 = %+v", r)
				}
				if !strings.HasPrefix(r.Script, "function script()") {
					t.Errorf("script kept as text: %q", r.Script)
				}
			},
		},
		{
			path: "fim-schemas/xdf2/S00000246V1.1/S00000246v1.1_xdf2.xml", id: "S00000246", version: "1.1",
			fields: 59, groups: 34, fieldUses: 134, groupUses: 49, rules: 34, recognised: 32, codeLists: 7,
			check: func(t *testing.T, m *form.Model) {
				year := m.Find("F60000233")
				if year == nil || year.Label != "Jahr" || year.Datentyp != form.TypNumInt || year.Constraints.MinValue != "1850" || year.Constraints.MaxValue != "2080" {
					t.Errorf("F60000233 Jahr = %+v", year)
				}
				if g := m.Find("G60000091"); g == nil || g.Label != "Auslandsanschrift" || g.Kind != form.KindGroup {
					t.Errorf("G60000091 = %+v", g)
				}
				if ort := m.Find("F60000247"); ort == nil || ort.Constraints.MinLength != 1 || ort.Constraints.MaxLength != 50 || !strings.HasPrefix(ort.Help, "Geben Sie an, wie der Ort heißt.") {
					t.Errorf("F60000247 Ort = %+v", ort)
				}
				staat := m.Find("F60000261")
				if staat == nil || len(m.Options(staat)) != 197 {
					t.Errorf("Staat options: %v", staat)
				}
				files := 0
				seen := map[string]bool{}
				m.Walk(func(it *form.Item, _ *form.Item) bool {
					if it.Datentyp == form.TypFile && !seen[it.Key()] {
						seen[it.Key()] = true
						files++
					}
					return true
				})
				if files != 26 {
					t.Errorf("file fields = %d, want 26", files)
				}
				if !hasWarning(m, "R00002288") || !hasWarning(m, "R60000024") {
					t.Errorf("unrecognised rules not warned: %v", m.Warnings)
				}
				re := regexp.MustCompile(`S00000246v1\.1_xdf2\.xml:\d+:\d+: Regel R60000024 2\.0 \(Datumkorrekt\) nicht erkannt`)
				if !slices.ContainsFunc(m.Warnings, re.MatchString) {
					t.Errorf("rule warning without position: %v", m.Warnings)
				}
			},
		},
		{
			path: "fim-schemas/xdf2/S05000058V1.0/S05000058V1.0_xdf2.xml", id: "S05000058", version: "1.0",
			fields: 31, groups: 8, fieldUses: 33, groupUses: 8, rules: 2, recognised: 2, codeLists: 6,
			check: func(t *testing.T, m *form.Model) {
				want := []form.Condition{{Kind: form.RequiredIf, Field: "F05001047", Op: form.OpEq, Values: []string{"02"}, Target: "G05000499"}}
				if !cmp.Equal(m.Rules[0].Conditions, want) && !cmp.Equal(m.Rules[1].Conditions, want) {
					t.Errorf("rules = %+v", m.Rules)
				}
			},
		},
		{
			path: "fim-schemas/xdf2/S00000009/S00000009_xdatenfelder.xml", id: "S00000009", version: "",
			fields: 53, groups: 26, fieldUses: 132, groupUses: 54, rules: 0, recognised: 0, codeLists: 0,
			check: func(t *testing.T, m *form.Model) {
				labels := 0
				seen := map[string]bool{}
				m.Walk(func(it *form.Item, _ *form.Item) bool {
					if it.Feldart == form.FeldLabel && !seen[it.Key()] {
						seen[it.Key()] = true
						labels++
					}
					return true
				})
				if labels != 5 {
					t.Errorf("label fields = %d, want 5", labels)
				}
				if f := m.Find("F00000440"); f == nil || f.Constraints.Hint != "1..31" {
					t.Errorf("F00000440 hint = %+v", f)
				}
				if !hasWarning(m, "nicht gefunden") || !hasWarning(m, "kein JSON") {
					t.Errorf("warnings = %v", m.Warnings)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			m, err := fim.LoadFile(testenv.SharedData(t, tt.path))
			if err != nil {
				t.Fatal(err)
			}
			c := m.Count()
			got := []any{m.ID, m.Version, m.Format, c.Fields, c.Groups, c.FieldUses, c.GroupUses, len(m.Rules), m.RulesRecognised(), len(m.CodeLists)}
			want := []any{tt.id, tt.version, form.FormatXDF2, tt.fields, tt.groups, tt.fieldUses, tt.groupUses, tt.rules, tt.recognised, tt.codeLists}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("id, version, format, fields, groups, field uses, group uses, rules, recognised, code lists (-want +got):\n%s", diff)
			}
			tt.check(t, m)
		})
	}
}

// TestAllSharedFiles walks the whole fim-schemas tree: every schema parses
// except the XDatenfelder 1 file and the intentionally broken fixtures,
// which fail with the decided clear errors; every genericode file parses.
func TestAllSharedFiles(t *testing.T) {
	root := testenv.SharedData(t, "fim-schemas")
	// Decisions for the broken fixtures: error substrings, or warnings.
	wantErr := map[string]string{
		"xdf1/S00000036/S00000036_xdf1_WaBeKa.xml":       "XDatenfelder 1 wird nicht unterstützt",
		"fixtures-flxbe/v2/unknown-namespace.xml":        `:2:1: unbekannter Namensraum "urn:xoev-de:fim:standard:xdatenfelder_unknown"`,
		"fixtures-flxbe/v3/unknown-namespace.xml":        `:2:1: unbekannter Namensraum`,
		"fixtures-flxbe/v2/duplicate-required-value.xml": ":13:9: Element <name> doppelt",
		"fixtures-flxbe/v3/duplicate-id-node.xml":        ":11:13: <id> doppelt",
		"fixtures-flxbe/v3/empty-id-node.xml":            ":10:13: <id> ist leer",
		"fixtures-flxbe/v3/missing-id-node.xml":          ":9:9: <id> fehlt",
	}
	wantWarn := map[string]string{
		"fixtures-flxbe/v2/duplicate-optional-value.xml": "Element <beschreibung> doppelt",
		"fixtures-flxbe/v3/invalid-freigabestatus.xml":   `ungültiger Freigabestatus "10"`,
		"fixtures-flxbe/v3/unexpected-node.xml":          "unbekanntes Element <unknown>",
		"fixtures-flxbe/v3/input.xml":                    "leere Codelisten-Referenz",
		"fixtures-flxbe/v2/select.xml":                   "select.xml:60:21: Codeliste urn:de:example_1 (C123) für F123 nicht gefunden",
		"fixtures-flxbe/v2/rule.xml":                     "Regel R60000037 1.2 (MindestEineAngabe) nicht erkannt",
	}
	schemas, lists := 0, 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".xml" {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if fim.IsCodeList(data) {
				lists++
				cl, err := fim.ParseCodeList(data)
				if err != nil {
					t.Fatal(err)
				}
				if len(cl.Rows) == 0 || cl.Column(cl.CodeColumn) < 0 || cl.Column(cl.NameColumn) < 0 {
					t.Errorf("code list %s: %d rows, code %q, name %q", rel, len(cl.Rows), cl.CodeColumn, cl.NameColumn)
				}
				return
			}
			schemas++
			m, err := fim.LoadFile(p)
			if sub, ok := wantErr[rel]; ok {
				if err == nil || !strings.Contains(err.Error(), sub) || rathaus.ErrorCode(err) != rathaus.EINVALID {
					t.Fatalf("error = %v, want one containing %q", err, sub)
				}
				if !strings.Contains(err.Error(), rel) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sub, ok := wantWarn[rel]; ok && !hasWarning(m, sub) {
				t.Errorf("warnings %q lack %q", m.Warnings, sub)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if schemas != 23 || lists != 17 {
		t.Errorf("walked %d schemas and %d code lists, want 23 and 17", schemas, lists)
	}
}

func TestV3Fixture(t *testing.T) {
	m, err := fim.LoadFile("testdata/v3-antrag.xml")
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != form.FormatXDF3 || m.ID != "S99000000001" || m.Title != "Antrag auf Test" || m.Help == "" || m.Status != "6" {
		t.Errorf("model header = %+v", m)
	}
	name := m.Find("F99000000002")
	if name.Datentyp != form.TypTextLatin || name.Constraints.MaxLength != 120 || name.Prefill != "optional" {
		t.Errorf("Familienname = %+v", name)
	}
	art := m.Find("F99000000001")
	if diff := cmp.Diff([]form.Value{{Code: "01", Name: "privat"}, {Code: "02", Name: "gewerblich", Help: "für Betriebe"}}, art.Values); diff != "" {
		t.Errorf("werte (-want +got):\n%s", diff)
	}
	sex := m.Find("F99000000007")
	opts := m.Options(sex)
	if len(opts) != 4 || opts[1] != (form.Value{Code: "m", Name: "männlich"}) {
		t.Errorf("geschlecht options via codeKey/nameKey = %+v", opts)
	}
	file := m.Find("F99000000004")
	if file.MaxSize != 2048 || !cmp.Equal(file.MediaTypes, []string{"application/pdf", "image/jpeg"}) {
		t.Errorf("file = %+v", file)
	}
	if got := m.Find("F99000000010").Inhalt; got != "Angaben & Nachweise werden vertraulich behandelt." {
		t.Errorf("label Inhalt = %q", got)
	}
	if d := m.Find("F99000000008"); d.Min != 0 || d.Max != 3 || d.Constraints.MinValue != "2024-01-01" {
		t.Errorf("Termin = %+v", d)
	}
	wantRules := map[string][]form.Condition{
		// the v2-style id F99000001 in the text is mapped to F99000000001
		"R99000000001": {
			{Kind: form.RequiredIf, Field: "F99000000001", Op: form.OpEq, Values: []string{"02"}, Target: "F99000000004"},
			{Kind: form.ShowIf, Field: "F99000000001", Op: form.OpEq, Values: []string{"02"}, Target: "F99000000004"},
		},
		"R99000000002": {{Kind: form.AtLeastOne, Targets: []string{"F99000000005", "F99000000006"}}},
	}
	for _, r := range m.Rules {
		if diff := cmp.Diff(wantRules[r.ID], r.Conditions); diff != "" {
			t.Errorf("%s conditions (-want +got):\n%s", r.ID, diff)
		}
	}
	if m.Rules[0].Type != "V" || m.Rules[0].Script == "" {
		t.Errorf("rule typ/skript = %+v", m.Rules[0])
	}
	for _, w := range []string{"unbekanntes Element <zukunft>", "Muster bei F99000000006 kann nicht geprüft werden"} {
		if !hasWarning(m, w) {
			t.Errorf("warnings %q lack %q", m.Warnings, w)
		}
	}
	steps := m.Steps()
	if len(steps) != 2 || steps[0].ID != "G99000000001" || steps[0].Title != "Angaben zur Person" || steps[1].ID != "" || len(steps[1].Items) != 5 {
		t.Errorf("steps = %+v", steps)
	}
}

func TestParseErrors(t *testing.T) {
	const ns2 = `xmlns:x="urn:xoev-de:fim:standard:xdatenfelder_2"`
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "f.xml:1:1: XML fehlerhaft: kein Wurzelelement"},
		{"unclosed", "<a>\n  <b>\n</a>", "f.xml:3:1: XML fehlerhaft: End-Tag </a> passt nicht zu <b>"},
		{"bad entity", "<a>\n &foo;</a>", "f.xml:2:2: XML fehlerhaft: unbekannte Entität &foo;"},
		{"undeclared prefix", "<x:a/>", "f.xml:1:2: XML fehlerhaft: Namensraum-Präfix \"x\" nicht deklariert"},
		{"doctype", `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>`, "f.xml:1:1: XML fehlerhaft: DOCTYPE wird nicht unterstützt"},
		{"two roots", "<a/><b/>", "f.xml:1:5: XML fehlerhaft: mehr als ein Wurzelelement"},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, "Zeichenkodierung \"ISO-8859-1\" wird nicht unterstützt"},
		{"invalid utf8", "<a>\n\xff</a>", "f.xml:2:1: XML fehlerhaft: ungültiges UTF-8"},
		{"unquoted attr", "<a b=c/>", "f.xml:1:6: XML fehlerhaft: Attributwert muss in Anführungszeichen stehen"},
		{"not xdf", "<html/>", "keine XDatenfelder-Nachricht"},
		{"codeliste message", `<x:xdatenfelder.codeliste.0105 ` + ns2 + `/>`, "Nachrichtentyp <xdatenfelder.codeliste.0105> wird nicht unterstützt"},
		{"no schema", `<x:xdatenfelder.stammdatenschema.0102 ` + ns2 + `/>`, "<stammdatenschema> fehlt"},
		{"bad anzahl", `<x:xdatenfelder.stammdatenschema.0102 ` + ns2 + `><x:stammdatenschema><x:identifikation><x:id>S1</x:id></x:identifikation><x:name>n</x:name><x:struktur>
<x:anzahl>eins</x:anzahl></x:struktur></x:stammdatenschema></x:xdatenfelder.stammdatenschema.0102>`, `f.xml:2:1: ungültige Anzahl "eins"`},
		{"genericode", `<CodeList xmlns="http://docs.oasis-open.org/codelist/ns/genericode/1.0/"/>`, "genericode-Codeliste, kein Datenschema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fim.Parse([]byte(tt.in), fim.Options{Name: "f.xml"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("code = %q", rathaus.ErrorCode(err))
			}
		})
	}
}

func TestParseCodeList(t *testing.T) {
	tests := []struct {
		file       string
		code, name string
		values     []form.Value
	}{
		{"testdata/geschlecht.gc.xml", "key", "name", []form.Value{{Code: "d", Name: "divers"}, {Code: "m", Name: "männlich"}, {Code: "w", Name: "weiblich"}, {Code: "x", Name: "keine Angabe"}}},
		{"testdata/staat-prefixed.gc.xml", "schluessel-staat", "suchbegriff", []form.Value{{Code: "000", Name: "Deutschland"}, {Code: "129", Name: "Frankreich"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			cl, err := fim.ParseCodeList(data)
			if err != nil {
				t.Fatal(err)
			}
			if cl.CodeColumn != tt.code || cl.NameColumn != tt.name {
				t.Errorf("columns = %q, %q", cl.CodeColumn, cl.NameColumn)
			}
			if diff := cmp.Diff(tt.values, cl.Values("", "", "")); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("iso-2 column by key", func(t *testing.T) {
		data, _ := os.ReadFile("testdata/staat-prefixed.gc.xml")
		cl, _ := fim.ParseCodeList(data)
		if got := cl.Values("iso-2", "", ""); got[1] != (form.Value{Code: "FR", Name: "Frankreich"}) {
			t.Errorf("values by iso-2 = %+v", got)
		}
	})
	for _, bad := range []struct{ name, in, want string }{
		{"not genericode", `<CodeList/>`, "keine genericode-Codeliste"},
		{"no columns", `<CodeList xmlns="http://docs.oasis-open.org/codelist/ns/genericode/1.0/"><Identification/><ColumnSet/></CodeList>`, "keine Spalten"},
		{"unknown column", `<CodeList xmlns="http://docs.oasis-open.org/codelist/ns/genericode/1.0/"><Identification/><ColumnSet><Column Id="a"/></ColumnSet><SimpleCodeList><Row><Value ColumnRef="b"/></Row></SimpleCodeList></CodeList>`, `unbekannte Spalte "b"`},
	} {
		t.Run(bad.name, func(t *testing.T) {
			if _, err := fim.ParseCodeList([]byte(bad.in)); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("error = %v, want %q", err, bad.want)
			}
		})
	}
}

func TestLoadDir(t *testing.T) {
	m, err := fim.LoadDir(testenv.SharedData(t, "fim-schemas/xdf2/S05000058V1.0"))
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "S05000058" || len(m.CodeLists) != 6 || len(m.Warnings) != 0 {
		t.Errorf("LoadDir = %s, %d lists, warnings %v", m.ID, len(m.CodeLists), m.Warnings)
	}
	if _, err := fim.LoadDir(testenv.SharedData(t, "fim-schemas/fixtures-flxbe/v2")); err == nil || !strings.Contains(err.Error(), "mehrere Schemata") {
		t.Errorf("dir with many schemas: %v", err)
	}
	if _, err := fim.LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "kein XDatenfelder-Schema") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestResolveAndMapOptions(t *testing.T) {
	data, _ := os.ReadFile("testdata/v3-antrag.xml")
	gc, _ := os.ReadFile("testdata/geschlecht.gc.xml")
	m, err := fim.Parse(data, fim.Options{CodeLists: map[string][]byte{"g": gc}})
	if err != nil || len(m.Options(m.Find("F99000000007"))) != 4 {
		t.Fatalf("CodeLists option: %v", err)
	}
	asked := 0
	m, err = fim.Parse(data, fim.Options{Resolve: func(ref form.CodeListRef) (*form.CodeList, error) {
		asked++
		if ref.Canonical != "urn:xpersonenstand:schluesseltabelle:geschlecht" || ref.Version != "3" {
			t.Errorf("ref = %+v", ref)
		}
		return fim.ParseCodeList(gc)
	}})
	if err != nil || asked != 1 || len(m.Options(m.Find("F99000000007"))) != 4 {
		t.Fatalf("Resolve option: %v, asked %d", err, asked)
	}
	m, _ = fim.Parse(data, fim.Options{})
	if !hasWarning(m, "urn:xpersonenstand:schluesseltabelle:geschlecht_3") {
		t.Errorf("missing list not warned: %v", m.Warnings)
	}
}

// TestReaderMatchesEncodingXML compares the fast reader with encoding/xml
// on the real files: same number of elements and same character data.
func TestReaderMatchesEncodingXML(t *testing.T) {
	for _, rel := range []string{
		"fim-schemas/xdf2/S00000009/S00000009_xdatenfelder.xml",
		"fim-schemas/xdf2/S00000246V1.1/S00000246v1.1_xdf2.xml",
	} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			data, err := os.ReadFile(testenv.SharedData(t, rel))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			d := xml.NewDecoder(strings.NewReader(string(data)))
			var stack []string
			for {
				tok, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				switch x := tok.(type) {
				case xml.StartElement:
					want[x.Name.Space+" "+x.Name.Local]++
					stack = append(stack, "")
				case xml.CharData:
					if len(stack) > 0 {
						stack[len(stack)-1] += string(x)
					}
				case xml.EndElement:
					if s := strings.TrimSpace(stack[len(stack)-1]); s != "" {
						want["text "+s]++
					}
					stack = stack[:len(stack)-1]
				}
			}
			got := fim.ElementCensus(data)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("census (-encoding/xml +fim):\n%s", diff)
			}
		})
	}
}

func TestRecognise(t *testing.T) {
	tests := []struct {
		text string
		want []form.Condition
	}{
		{`Wenn im Datenfeld F00000462 der Wert 001 angegeben wurde, dann soll F00000467 zum Pflichtfeld werden.`,
			[]form.Condition{{Kind: form.RequiredIf, Field: "F00000462", Op: form.OpEq, Values: []string{"001"}, Target: "F00000467"}}},
		{` Wenn im Datenfeld F60000240 der Wert "" angegeben wurde, dann soll F60000242 zum Pflichtfeld werden.`,
			[]form.Condition{{Kind: form.RequiredIf, Field: "F60000240", Op: form.OpEmpty, Target: "F60000242"}}},
		{`Wenn im Datenfeld F60000242 nicht der Wert "" angegeben wurde, dann soll F00002408 zum Pflichtfeld werden.`,
			[]form.Condition{{Kind: form.RequiredIf, Field: "F60000242", Op: form.OpFilled, Target: "F00002408"}}},
		{"Wenn das Feld F60000352 \"Vertretung\" = 003 \"Ja, jur.\" ODER = 005 \"Ja, Bevollm.\", dann muss die Datenfeldgruppe \u00a0 G60000223 \"GV\" befüllt sein. \r\nWenn das Feld F60000352 \"Vertretung\" <> 003 \"Ja, jur.\" UND <> 005 \"Ja, Bevollm.\", dann darf die Datenfeldgruppe G60000223 \"GV\" nicht befüllt sein.",
			[]form.Condition{
				{Kind: form.RequiredIf, Field: "F60000352", Op: form.OpEq, Values: []string{"003", "005"}, Target: "G60000223"},
				{Kind: form.ShowIf, Field: "F60000352", Op: form.OpEq, Values: []string{"003", "005"}, Target: "G60000223"},
			}},
		{`Wenn das Feld F00002920 "Art"= 015 "BFD", dann muss das Feld F00003279 "Vertrag" befüllt werden.`,
			[]form.Condition{{Kind: form.RequiredIf, Field: "F00002920", Op: form.OpEq, Values: []string{"015"}, Target: "F00003279"}}},
		{`Wenn bei F05001047 "02 Das Fahrzeug ist auf einen anderen Halter zugelassen." angegeben wird, dann         wird G05000499 zur Pflichtangabe.       `,
			[]form.Condition{{Kind: form.RequiredIf, Field: "F05001047", Op: form.OpEq, Values: []string{"02"}, Target: "G05000499"}}},
		{`Es muss entweder Feldgruppe G60000086 "Straße" oder Feldgruppe G60000087 "Postfach" befüllt werden.`,
			[]form.Condition{{Kind: form.OneOf, Targets: []string{"G60000086", "G60000087"}}}},
		{`Es muss mindestens eines der Felder F60000240 "Telefon", F60000241 "Telefax",   F60000242 "E-Mail" oder F60000345 "De-Mail-Adresse" befüllt sein.`,
			[]form.Condition{{Kind: form.AtLeastOne, Targets: []string{"F60000240", "F60000241", "F60000242", "F60000345"}}}},
		{`Wenn F60000231 "Tag (ohne Monat und Jahr)" nicht leer, dann darf F60000232 "Monat" nicht leer sein.`,
			[]form.Condition{{Kind: form.RequiredIf, Field: "F60000231", Op: form.OpFilled, Target: "F60000232"}}},
		// not recognised
		{`Es muss entweder das Feld F00002929 "A" oder (das Feld F00002936 "B" und das Feld F00002937 "C") befüllt sein.`, nil},
		{`Wenn alle drei Felder F60000231, F60000232 und F60000233 befüllt sind, muss die Validität sichergestellt werden.`, nil},
		{`Wenn das Feld F1 = 1, dann muss das Feld F00000002 befüllt sein.`, nil},
		{`Wenn das Feld F60000352 = 003, dann muss das Feld F60000350 befüllt sein. Wenn das Feld F60000352 <> 004, dann darf das Feld F60000350 nicht befüllt sein.`, nil},
		{`Eine Definition`, nil},
		{``, nil},
	}
	for _, tt := range tests {
		name := tt.text
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, fim.Recognise(tt.text)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/v3-antrag.xml", "testdata/geschlecht.gc.xml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<x:xdatenfelder.stammdatenschema.0102 xmlns:x="urn:xoev-de:fim:standard:xdatenfelder_2"><x:stammdatenschema><x:identifikation><x:id>S1</x:id></x:identifikation><x:name>n</x:name><x:struktur><x:anzahl>0:*</x:anzahl><x:enthaelt><x:datenfeld><x:identifikation><x:id>F1</x:id></x:identifikation><x:feldart><code>input</code></x:feldart><x:datentyp><code>text</code></x:datentyp><x:praezisierung>{"pattern":"[a-z]+","minLength":"1"}</x:praezisierung></x:datenfeld></x:enthaelt></x:struktur></x:stammdatenschema></x:xdatenfelder.stammdatenschema.0102>`))
	f.Add([]byte(`<a b='&#x41;&amp;'><![CDATA[x<y]]><!--c--><?pi x?></a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := fim.Parse(data, fim.Options{Name: "fuzz.xml"})
		if err != nil {
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("error code %q: %v", rathaus.ErrorCode(err), err)
			}
			return
		}
		// The model must be usable: counts, steps, schema and validation.
		m.Count()
		m.Steps()
		if _, err := m.JSONSchema(); err != nil {
			t.Fatal(err)
		}
		m.Validate(form.Answers{"x": "y"}, form.ValidateOptions{})
	})
}

func FuzzParseCodeList(f *testing.F) {
	for _, p := range []string{"testdata/geschlecht.gc.xml", "testdata/staat-prefixed.gc.xml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cl, err := fim.ParseCodeList(data)
		if err != nil {
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("error code %q: %v", rathaus.ErrorCode(err), err)
			}
			return
		}
		for _, r := range cl.Rows {
			if len(r) != len(cl.Columns) {
				t.Fatalf("row width %d, columns %d", len(r), len(cl.Columns))
			}
		}
		cl.Values("", "", "")
	})
}

// BenchmarkParse parses the real XDatenfelder 2.0 schemas with their code
// lists (as LoadFile does, but from memory).
func BenchmarkParse(b *testing.B) {
	type input struct {
		name  string
		data  []byte
		lists map[string][]byte
	}
	var inputs []input
	for _, rel := range []string{
		"fim-schemas/xdf2/S00000094V1.0/S00000094V1.0_xdf2.xml",
		"fim-schemas/xdf2/S00000246V1.1/S00000246v1.1_xdf2.xml",
		"fim-schemas/xdf2/S05000058V1.0/S05000058V1.0_xdf2.xml",
		"fim-schemas/xdf2/S00000009/S00000009_xdatenfelder.xml",
	} {
		p := testenv.SharedData(b, rel)
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		lists := map[string][]byte{}
		entries, _ := os.ReadDir(filepath.Dir(p))
		for _, e := range entries {
			if d, _ := os.ReadFile(filepath.Join(filepath.Dir(p), e.Name())); fim.IsCodeList(d) {
				lists[e.Name()] = d
			}
		}
		inputs = append(inputs, input{p, data, lists})
	}
	for _, withLists := range []bool{false, true} {
		name := "schemas"
		if withLists {
			name = "schemas+codelists"
		}
		b.Run(name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				for _, in := range inputs {
					opts := fim.Options{Name: in.name}
					if withLists {
						opts.CodeLists = in.lists
					}
					if _, err := fim.Parse(in.data, opts); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "files/s")
		})
	}
}

// TestModelsDoNotShareParseMemory parses two schemas one after the other
// (the second reuses the pooled arena of the first) and checks that the
// first model is unchanged, also when its input buffer is overwritten.
func TestModelsDoNotShareParseMemory(t *testing.T) {
	in, err := os.ReadFile("testdata/v3-antrag.xml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := fim.Parse(in, fim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(a)
	clear(in) // the model must not alias its input either
	for _, rel := range []string{"fim-schemas/xdf2/S00000246V1.1/S00000246v1.1_xdf2.xml", "fim-schemas/xdf2/S05000058V1.0/S05000058V1.0_xdf2.xml"} {
		data, err := os.ReadFile(testenv.SharedData(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fim.Parse(data, fim.Options{}); err != nil {
			t.Fatal(err)
		}
		clear(data)
	}
	after, _ := json.Marshal(a)
	if string(before) != string(after) {
		t.Error("model changed after later parses")
	}
}

// TestParseConcurrently parses in parallel (pooled arenas, shared caches);
// run with -race.
func TestParseConcurrently(t *testing.T) {
	var inputs [][]byte
	for _, rel := range []string{"fim-schemas/xdf2/S00000094V1.0/S00000094V1.0_xdf2.xml", "fim-schemas/xdf2/S05000058V1.0/S05000058V1.0_xdf2.xml"} {
		data, err := os.ReadFile(testenv.SharedData(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, data)
	}
	want := []int{29, 31}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 5 {
				k := (g + i) % len(inputs)
				m, err := fim.Parse(inputs[k], fim.Options{})
				if err == nil && m.Count().Fields != want[k] {
					err = fmt.Errorf("input %d: %d fields", k, m.Count().Fields)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
