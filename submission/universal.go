// SPDX-License-Identifier: EUPL-1.2

package submission

import "rathaus/form"

// Universal form identity: every application made with it keeps this id and
// version.
const (
	UniversalFormID      = "rathaus-universal"
	UniversalFormVersion = "1.0"
	// UniversalMaxFileKB is the size limit of one upload of the universal form.
	UniversalMaxFileKB = 10240
)

// UniversalMediaTypes are the file types the universal form accepts.
var UniversalMediaTypes = []string{"application/pdf", "image/jpeg", "image/png"}

// UniversalForm returns the universal application form in lang ("de",
// anything else gives English): a free-text request (Anliegen), contact
// details with an optional postal address, any number of uploads (PDF, JPEG,
// PNG, at most UniversalMaxFileKB each) and the consent to the processing of
// the data. With it every service of the catalog can be applied for online
// before it has a FIM schema. It follows the idea of service-bw's generic
// form (personal data, address, free request) but is rathaus' own model.
//
// Answers look like:
//
//	{"anliegen": {"beschreibung": "…"},
//	 "kontakt": {"vorname": "…", "nachname": "…", "email": "…",
//	             "anschrift": {"strasse": "…", "hausnummer": "…", "plz": "…", "ort": "…"}},
//	 "unterlagen": {"datei": [{"name": "a.pdf", "size": 1234, "mediaType": "application/pdf"}]},
//	 "einwilligung": {"zustimmung": "ja"}}
func UniversalForm(lang string) *form.Model {
	de := lang == "de" || lang == ""
	t := func(g, e string) string {
		if de {
			return g
		}
		return e
	}
	field := func(id, label, help string, typ form.Datentyp, min int, c form.Constraints) form.Item {
		return form.Item{Kind: form.KindField, ID: id, Version: UniversalFormVersion, Name: id, Label: label, Help: help,
			Min: min, Max: 1, Feldart: form.FeldInput, Datentyp: typ, Constraints: c}
	}
	group := func(id, label, help string, min int, items ...form.Item) form.Item {
		return form.Item{Kind: form.KindGroup, ID: id, Version: UniversalFormVersion, Name: id, Label: label, Help: help, Min: min, Max: 1, Items: items}
	}
	anrede := field("anrede", t("Anrede", "Salutation"), "", form.TypText, 0, form.Constraints{})
	anrede.Feldart = form.FeldSelect
	anrede.Values = []form.Value{
		{Code: "frau", Name: t("Frau", "Ms")}, {Code: "herr", Name: t("Herr", "Mr")},
		{Code: "divers", Name: t("Divers", "Diverse")}, {Code: "keine", Name: t("Keine Angabe", "Not specified")},
	}
	datei := field("datei", t("Datei", "File"),
		t("PDF, JPEG oder PNG, höchstens 10 MB je Datei. Sie können beliebig viele Dateien hochladen.",
			"PDF, JPEG or PNG, at most 10 MB per file. You can upload any number of files."), form.TypFile, 0, form.Constraints{})
	datei.Max = -1
	datei.MaxSize = UniversalMaxFileKB
	datei.MediaTypes = UniversalMediaTypes
	zustimmung := field("zustimmung", t("Einwilligung", "Consent"),
		t("Ihre Angaben werden nur zur Bearbeitung dieses Antrags verwendet (Art. 6 Abs. 1 lit. e DSGVO).",
			"Your data is used only to process this application (Art. 6(1)(e) GDPR)."), form.TypText, 1, form.Constraints{})
	zustimmung.Feldart = form.FeldSelect
	zustimmung.Values = []form.Value{{Code: "ja", Name: t(
		"Ich willige ein, dass meine Angaben zur Bearbeitung meines Anliegens verarbeitet werden, und versichere, dass sie richtig sind.",
		"I agree that my data is processed to handle my request, and I confirm that it is correct.")}}

	return &form.Model{
		ID: UniversalFormID, Version: UniversalFormVersion, Name: "universalantrag",
		Title: t("Allgemeiner Antrag", "General application"),
		Help: t("Beschreiben Sie Ihr Anliegen und fügen Sie Unterlagen bei. Die zuständige Stelle meldet sich bei Ihnen.",
			"Describe your request and attach documents. The responsible office will contact you."),
		Status: "aktiv",
		Root: []form.Item{
			group("anliegen", t("Ihr Anliegen", "Your request"), "", 1,
				field("beschreibung", t("Beschreibung Ihres Anliegens", "Description of your request"),
					t("Was möchten Sie beantragen oder mitteilen?", "What would you like to apply for or tell us?"),
					form.TypText, 1, form.Constraints{MaxLength: 10000})),
			group("kontakt", t("Kontaktdaten", "Contact details"), "", 1,
				anrede,
				field("vorname", t("Vorname", "Given name"), "", form.TypTextLatin, 1, form.Constraints{MaxLength: 120}),
				field("nachname", t("Nachname", "Family name"), "", form.TypTextLatin, 1, form.Constraints{MaxLength: 120}),
				field("geburtsdatum", t("Geburtsdatum", "Date of birth"), "", form.TypDate, 0, form.Constraints{}),
				field("email", t("E-Mail-Adresse", "Email address"), t("Für Rückfragen zu Ihrem Antrag.", "For questions about your application."),
					form.TypText, 1, form.Constraints{MaxLength: 254, Pattern: `[^@\s]+@[^@\s]+\.[^@\s]+`}),
				field("telefon", t("Telefonnummer", "Phone number"), "", form.TypText, 0, form.Constraints{MaxLength: 30, Pattern: `\+?[0-9 ()/\-]{5,30}`}),
				group("anschrift", t("Anschrift", "Postal address"), "", 0,
					field("strasse", t("Straße", "Street"), "", form.TypTextLatin, 1, form.Constraints{MaxLength: 120}),
					field("hausnummer", t("Hausnummer", "House number"), "", form.TypText, 0, form.Constraints{MaxLength: 20}),
					field("plz", t("Postleitzahl", "Postcode"), "", form.TypText, 1, form.Constraints{MaxLength: 10, Pattern: `[0-9A-Za-z \-]{3,10}`}),
					field("ort", t("Ort", "City"), "", form.TypTextLatin, 1, form.Constraints{MaxLength: 120}),
					field("staat", t("Staat", "Country"), t("Leer lassen für Deutschland.", "Leave empty for Germany."), form.TypTextLatin, 0, form.Constraints{MaxLength: 120}),
				),
			),
			group("unterlagen", t("Unterlagen", "Documents"), t("Optional: Nachweise und Dokumente zu Ihrem Anliegen.", "Optional: evidence and documents for your request."), 0, datei),
			group("einwilligung", t("Einwilligung", "Consent"), "", 1, zustimmung),
		},
	}
}
