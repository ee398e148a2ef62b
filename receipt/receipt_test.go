// SPDX-License-Identifier: EUPL-1.2

package receipt_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rathaus/form"
	"rathaus/receipt"
	"rathaus/submission"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// pdftotext returns the text of a PDF (Debian poppler-utils).
func pdftotext(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("RATHAUS_REQUIRE_ALL") != "" {
			t.Fatal("pdftotext not installed (apt-get install poppler-utils)")
		}
		t.Skip("pdftotext not installed (apt-get install poppler-utils)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "r.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	// Normalise line ends and trailing blanks; page breaks (form feed) stay.
	var b strings.Builder
	for _, l := range strings.Split(string(out), "\n") {
		b.WriteString(strings.TrimRight(l, " ") + "\n")
	}
	return strings.TrimRight(b.String(), "\n\f") + "\n"
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./receipt -update)", err)
	}
	if got != string(want) {
		t.Errorf("text of the PDF differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// family is a small form with a repeated group and a yes/no field.
func family() *form.Model {
	f := func(id, label string, typ form.Datentyp) form.Item {
		return form.Item{Kind: form.KindField, ID: id, Version: "1", Label: label, Min: 0, Max: 1, Feldart: form.FeldInput, Datentyp: typ}
	}
	return &form.Model{ID: "S99", Version: "2", Root: []form.Item{
		{Kind: form.KindGroup, ID: "G1", Label: "Antragsteller", Min: 1, Max: 1, Items: []form.Item{f("F1", "Familienname", form.TypText), f("F2", "Verheiratet", form.TypBool)}},
		{Kind: form.KindGroup, ID: "G2", Label: "Kind", Min: 0, Max: -1, Items: []form.Item{f("F3", "Vorname", form.TypText), f("F4", "Geburtsdatum", form.TypDate)}},
		f("F5", "Bemerkung", form.TypText),
	}}
}

func TestRender(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	for _, tc := range []struct {
		name string
		r    receipt.Receipt
	}{
		{"universal_de", receipt.Receipt{
			Tenant: "Wissenschaftsstadt Darmstadt", Office: "Bürger- und Ordnungsamt", Service: "Hund anmelden",
			Reference: "DA-2026-7K3M-9QXT", SubmittedAt: at, Form: submission.UniversalForm("de"),
			Answers: form.Answers{
				"anliegen": map[string]any{"beschreibung": "Ich möchte meinen Hund „Bärbel“ anmelden. Größe: groß, Farbe: weiß; Rasse: Großer Münsterländer. Sie lebt seit Februar bei uns in der Heidestraße und ist gechipt."},
				"kontakt": map[string]any{"anrede": "herr", "vorname": "Jürgen", "nachname": "Müller-Lüdenscheidt", "email": "juergen@example.org",
					"anschrift": map[string]any{"strasse": "Heidestraße", "hausnummer": "17", "plz": "64283", "ort": "Darmstadt"}},
				"unterlagen": map[string]any{"datei": []any{
					map[string]any{"name": "Impfpass.pdf", "size": 48213, "mediaType": "application/pdf"},
					map[string]any{"name": "Foto Bärbel.jpg", "size": 1572864, "mediaType": "image/jpeg"}}},
				"einwilligung": map[string]any{"zustimmung": "ja"},
			},
			Attachments: []submission.Attachment{
				{Filename: "Impfpass.pdf", Size: 48213, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
				{Filename: "Foto Bärbel.jpg", Size: 1572864, SHA256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"},
			},
		}},
		{"family_en", receipt.Receipt{
			Lang: "en", Tenant: "Landeshauptstadt München", Service: "Kindergeld", Reference: "2026-0000-0000", SubmittedAt: at, Form: family(),
			Answers: form.Answers{
				"G1": map[string]any{"F1": "Ößtürk", "F2": true},
				"G2": []any{map[string]any{"F3": "Zoë", "F4": "2019-05-01"}, map[string]any{"F3": "Åsa"}},
			},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := receipt.Render(&buf, tc.r); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
				t.Fatal("not a PDF")
			}
			golden(t, tc.name+".txt", pdftotext(t, buf.Bytes()))
		})
	}
	t.Run("ErrNoReference", func(t *testing.T) {
		if err := receipt.Render(&bytes.Buffer{}, receipt.Receipt{}); err == nil {
			t.Error("Render without reference succeeded")
		}
	})
}

// FuzzRender feeds citizen-controlled text (answers, file names) into the
// PDF: Render must not panic and must produce a PDF.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"", "Jürgen Müller", "\x00\xff\xfe", "👍🏽 Straße", strings.Repeat("W", 5000), "a\nb\r\nc\t", "\u202e\u200b"} {
		f.Add(s, s)
	}
	m := submission.UniversalForm("de")
	f.Fuzz(func(t *testing.T, text, name string) {
		r := receipt.Receipt{Tenant: text, Service: text, Reference: "2026-0000-000J", Form: m,
			Answers:     form.Answers{"anliegen": map[string]any{"beschreibung": text}, "kontakt": map[string]any{"vorname": name, "nachname": text}},
			Attachments: []submission.Attachment{{Filename: name, Size: int64(len(text)), SHA256: text}}}
		var buf bytes.Buffer
		if err := receipt.Render(&buf, r); err != nil {
			return
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
			t.Fatal("not a PDF")
		}
	})
}
