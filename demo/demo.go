// SPDX-License-Identifier: EUPL-1.2

// Package demo holds the team's own sample content for demonstrations and
// tests: a small part of the administrative tree (Hessen with Darmstadt and
// the Landkreis Darmstadt-Dieburg with Weiterstadt; Bayern with Regensburg),
// about ten everyday services with German texts written for rathaus, the
// offices that provide them, and the demo logins (Users).
//
// Keys and names of the places and the LeiKa keys are real; every text, fee,
// address detail, phone number and e-mail address is a demo value (e-mail
// and web addresses use .example domains). The content shows Einer für Alle:
// Wohngeld and Führungszeugnis are described once by the Land Hessen and
// inherited below it; Darmstadt overrides the Wohngeld text; Sperrmüll is
// described once by the Landkreis for all its Gemeinden.
package demo

import (
	"context"
	"time"

	"rathaus/catalog"
	"rathaus/tenant"
)

// ARS of the demo tenants.
const (
	Hessen           = "060000000000"
	RBDarmstadt      = "064000000000"
	Darmstadt        = "064110000000" // kreisfreie Stadt: Kreis and Gemeinde at once
	DarmstadtDieburg = "064320000000" // Landkreis
	WeiterstadtVB    = "064320023000" // Gemeindeverband of Weiterstadt (verbandsfrei)
	Weiterstadt      = "064320023023"
	Bayern           = "090000000000"
	Oberpfalz        = "093000000000"
	Regensburg       = "093620000000" // kreisfreie Stadt
)

// LeiKa keys of the demo services (from the LeiKa catalogue).
const (
	KeyPersonalausweis    = "99008001012000" // Personalausweis Ausstellung
	KeyReisepass          = "99085001012000" // Reisepass Ausstellung
	KeyWohnsitzAnmeldung  = "99115005104000" // Wohnsitz Anmeldung
	KeyHundesteuer        = "99102013000000" // Hundesteuer
	KeyBewohnerparken     = "99108001001000" // Bewohnerparkausweis Erteilung
	KeyGeburtsurkunde     = "99027002012000" // Geburtsurkunde Ausstellung
	KeyGewerbeAnmeldung   = "99050012104000" // Gewerbe Anmeldung
	KeyWohngeld           = "99107023017000" // Wohngeld Bewilligung
	KeyFuehrungszeugnis   = "99049001001001" // Führungszeugnis Erteilung einfach
	KeyKitaPlatz          = "99041004034000" // Kindertagesstätte Aufnahme
	KeySperrmuellAbholung = "99001009004002" // Sperrmüll Entsorgung durch Abholung
)

// Tenants returns the demo part of the tree, parents first.
func Tenants() []tenant.Tenant {
	return []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bundesrepublik Deutschland", Inhabited: true},
		{ARS: Hessen, Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Hessen", Inhabited: true},
		{ARS: Bayern, Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Bayern", Inhabited: true},
		{ARS: RBDarmstadt, Parent: Hessen, Level: tenant.LevelRegierungsbezirk, Name: "Reg.-Bez. Darmstadt", Inhabited: true},
		{ARS: Oberpfalz, Parent: Bayern, Level: tenant.LevelRegierungsbezirk, Name: "Oberpfalz", Inhabited: true},
		{ARS: Darmstadt, Parent: RBDarmstadt, Level: tenant.LevelGemeinde, Name: "Darmstadt, Wissenschaftsstadt",
			AGS: "06411000", PLZ: "64283", Population: 159000, Area: 122.07, Lat: 49.8728, Lon: 8.6512, Inhabited: true},
		{ARS: DarmstadtDieburg, Parent: RBDarmstadt, Level: tenant.LevelKreis, Name: "Darmstadt-Dieburg", Inhabited: true},
		{ARS: WeiterstadtVB, Parent: DarmstadtDieburg, Level: tenant.LevelGemeindeverband, Name: "Weiterstadt, Stadt", Inhabited: true},
		{ARS: Weiterstadt, Parent: WeiterstadtVB, Level: tenant.LevelGemeinde, Name: "Weiterstadt, Stadt",
			AGS: "06432023", PLZ: "64331", Population: 26000, Area: 34.4, Lat: 49.9039, Lon: 8.5883, Inhabited: true},
		{ARS: Regensburg, Parent: Oberpfalz, Level: tenant.LevelGemeinde, Name: "Regensburg",
			AGS: "09362000", PLZ: "93047", Population: 153000, Area: 80.86, Lat: 49.0134, Lon: 12.1016, Inhabited: true},
	}
}

// Lebenslagen used by the demo services (names as in the OZG catalogue).
const (
	llQuerschnitt  = "Querschnitt Bürger"
	llAusland      = "Auslandsaufenthalt"
	llUmzug        = "Wohnen & Umzug"
	llTiere        = "Tierhaltung"
	llKfz          = "Kfz-Besitz"
	llGeburt       = "Geburt"
	llGruendung    = "Unternehmensstart & Gewerbezulassung"
	llFinanzen     = "Finanzielle Existenzsicherung/Unterstützung bei finanziellen Problemen"
	llKinder       = "Kinderbetreuung"
	llQuerUnternom = "Querschnitt Unternehmen"
)

// updated is the fixed "last changed" time of the demo texts (idempotent seeds).
var updated = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func svc(ten, key, name string) catalog.Service {
	return catalog.Service{Tenant: ten, Key: key, LeiKa: key, Source: "demo", SourceID: key, Name: name, UpdatedAt: updated}
}

// personalausweis describes the ID card service for a city.
func personalausweis(ten, stadt, url string) catalog.Service {
	s := svc(ten, KeyPersonalausweis, "Personalausweis beantragen")
	s.Summary = "Ab 16 Jahren brauchen Sie einen gültigen Personalausweis oder Reisepass. Den Personalausweis beantragen Sie persönlich im Bürgerbüro " + stadt + "."
	s.Description = "<p>Der Personalausweis weist Ihre Identität nach und ist in der EU als Reisedokument anerkannt. " +
		"Er enthält einen Chip mit der Online-Ausweisfunktion, mit der Sie sich auch bei Online-Diensten wie diesem Portal ausweisen können.</p>" +
		"<p>Beantragen Sie den Ausweis rechtzeitig: Die Herstellung bei der Bundesdruckerei dauert einige Wochen. " +
		"Bei der Antragstellung werden Ihre Fingerabdrücke aufgenommen; kommen Sie daher persönlich.</p>"
	s.Prerequisites = "<ul><li>Sie haben Ihren Hauptwohnsitz in " + stadt + ".</li><li>Sie sind Deutsche oder Deutscher.</li></ul>"
	s.Documents = []string{"bisheriger Personalausweis oder Reisepass", "ein aktuelles biometrisches Passfoto", "bei Minderjährigen: Zustimmung aller Sorgeberechtigten"}
	s.Fees = "<p>Demo-Wert: 37,00 Euro (unter 24 Jahren: 22,80 Euro).</p>"
	s.Duration = "etwa 3 bis 4 Wochen"
	s.LegalBasis = "Personalausweisgesetz (PAuswG); Personalausweisgebührenverordnung (PAuswGebV)"
	s.Typisierung = "2/3"
	s.OZGID, s.OZGName = "10119", "Personalausweis"
	s.Lebenslagen, s.Themenfeld = []string{llQuerschnitt}, "Querschnitt"
	s.Keywords = []string{"Ausweis", "Perso", "Personalausweis", "Online-Ausweis", "eID", "Ausweis verloren"}
	s.URL = url
	return s
}

func reisepass(ten, stadt, url string) catalog.Service {
	s := svc(ten, KeyReisepass, "Reisepass beantragen")
	s.Summary = "Für Reisen in viele Länder außerhalb der EU brauchen Sie einen Reisepass. Sie beantragen ihn persönlich im Bürgerbüro " + stadt + "."
	s.Description = "<p>Der Reisepass ist zehn Jahre gültig (bei Personen unter 24 Jahren sechs Jahre). " +
		"Prüfen Sie vor einer Reise, welche Gültigkeit das Zielland verlangt. Für eilige Fälle gibt es einen Express-Pass oder einen vorläufigen Reisepass.</p>"
	s.Prerequisites = "<ul><li>Sie haben Ihren Hauptwohnsitz in " + stadt + ".</li></ul>"
	s.Documents = []string{"Personalausweis oder bisheriger Reisepass", "ein aktuelles biometrisches Passfoto", "bei Minderjährigen: Geburtsurkunde und Zustimmung der Sorgeberechtigten"}
	s.Fees = "<p>Demo-Wert: 70,00 Euro (unter 24 Jahren: 37,50 Euro); Express-Zuschlag 32,00 Euro.</p>"
	s.Duration = "etwa 4 bis 6 Wochen, Express 3 Werktage"
	s.LegalBasis = "Passgesetz (PassG); Passverordnung (PassV)"
	s.Typisierung = "2/3"
	s.OZGID, s.OZGName = "10177", "Reisepass"
	s.Lebenslagen, s.Themenfeld = []string{llAusland}, "Mobilität & Reisen"
	s.Keywords = []string{"Pass", "Reisepass", "Urlaub", "Reise", "Express-Pass"}
	s.URL = url
	return s
}

func wohnsitz(ten, stadt, url string) catalog.Service {
	s := svc(ten, KeyWohnsitzAnmeldung, "Wohnsitz anmelden (Ummeldung)")
	s.Summary = "Wenn Sie nach " + stadt + " ziehen oder innerhalb der Stadt umziehen, melden Sie sich innerhalb von zwei Wochen nach dem Einzug an."
	s.Description = "<p>Die Anmeldung gilt für den Zuzug aus einer anderen Gemeinde ebenso wie für einen Umzug innerhalb von " + stadt + " (Ummeldung). " +
		"Eine Abmeldung bei der alten Gemeinde ist bei einem Umzug innerhalb Deutschlands nicht nötig.</p>" +
		"<p>Sie können die Anmeldung online mit Ihrem Online-Ausweis erledigen oder im Bürgerbüro. Die Adresse auf Ihrem Personalausweis wird dabei geändert.</p>"
	s.Prerequisites = "<ul><li>Sie sind in eine Wohnung in " + stadt + " eingezogen.</li><li>Der Einzug liegt höchstens zwei Wochen zurück.</li></ul>"
	s.Documents = []string{"Personalausweis oder Reisepass aller umziehenden Personen", "Wohnungsgeberbestätigung des Vermieters"}
	s.Fees = "<p>Demo-Wert: gebührenfrei.</p>"
	s.Deadlines = "innerhalb von zwei Wochen nach dem Einzug"
	s.Duration = "sofort"
	s.LegalBasis = "§ 17 Absatz 1 Bundesmeldegesetz (BMG)"
	s.Typisierung = "2/3"
	s.OZGID, s.OZGName = "10124", "Wohnsitzmeldungen"
	s.Lebenslagen, s.Themenfeld = []string{llUmzug}, "Bauen & Wohnen"
	s.Keywords = []string{"Anmeldung", "Ummeldung", "Umzug", "Wohnsitz", "Meldebescheinigung", "Adresse ändern", "Zuzug"}
	s.URL = url
	return s
}

func hundesteuer(ten, stadt, betrag, url string) catalog.Service {
	s := svc(ten, KeyHundesteuer, "Hundesteuer anmelden")
	s.Summary = "Wer in " + stadt + " einen Hund hält, meldet ihn innerhalb eines Monats zur Hundesteuer an und erhält eine Hundesteuermarke."
	s.Description = "<p>Die Hundesteuer ist eine Gemeindesteuer. Melden Sie Ihren Hund an, sobald er bei Ihnen lebt oder drei Monate alt ist. " +
		"Sie erhalten einen Steuerbescheid und eine Steuermarke, die der Hund außerhalb der Wohnung tragen muss.</p>" +
		"<p>Für Blindenführhunde und andere Assistenzhunde können Sie eine Befreiung beantragen.</p>"
	s.Documents = []string{"Angaben zum Hund (Rasse, Geburtsdatum, Chipnummer)", "bei Befreiung: Nachweis, z. B. Schwerbehindertenausweis"}
	s.Fees = "<p>Demo-Wert: " + betrag + "</p>"
	s.Deadlines = "innerhalb eines Monats nach Beginn der Hundehaltung"
	s.LegalBasis = "Hessisches Gesetz über kommunale Abgaben (KAG); Hundesteuersatzung der Stadt"
	s.Typisierung = "4"
	s.OZGID, s.OZGName = "10160", "Hundehaltung"
	s.Lebenslagen, s.Themenfeld = []string{llTiere}, "Engagement & Hobby"
	s.Keywords = []string{"Hund", "Hundesteuer", "Steuermarke", "Hundemarke", "Hund anmelden"}
	s.URL = url
	return s
}

// Services returns the demo service descriptions.
func Services() []catalog.Service {
	var out []catalog.Service

	// Land Hessen describes two services once for everyone below (EfA).
	wg := svc(Hessen, KeyWohngeld, "Wohngeld beantragen")
	wg.Summary = "Wohngeld ist ein Zuschuss zur Miete oder zu den Kosten für selbst genutztes Wohneigentum für Haushalte mit geringem Einkommen."
	wg.Description = "<p>Ob und wie viel Wohngeld Sie bekommen, hängt von der Zahl der Haushaltsmitglieder, dem Einkommen und der Miete ab. " +
		"Wohngeld wird in der Regel für zwölf Monate bewilligt; danach stellen Sie einen Weiterleistungsantrag.</p>" +
		"<p>Den Antrag stellen Sie bei der Wohngeldbehörde Ihrer Stadt oder Ihres Landkreises – in Hessen auch online.</p>"
	wg.Prerequisites = "<ul><li>Sie wohnen zur Miete oder im eigenen Wohneigentum.</li><li>Sie erhalten kein Bürgergeld und keine Grundsicherung.</li></ul>"
	wg.Documents = []string{"Mietvertrag und aktuelle Mietbescheinigung", "Einkommensnachweise aller Haushaltsmitglieder", "Personalausweis"}
	wg.Fees = "<p>Demo-Wert: gebührenfrei.</p>"
	wg.Duration = "etwa 6 bis 8 Wochen"
	wg.LegalBasis = "§§ 22 ff. Wohngeldgesetz (WoGG)"
	wg.Typisierung = "2/3"
	wg.OZGID, wg.OZGName = "10092", "Wohngeld"
	wg.Lebenslagen, wg.Themenfeld = []string{llFinanzen, llUmzug}, "Arbeit & Ruhestand"
	wg.Keywords = []string{"Wohngeld", "Mietzuschuss", "Lastenzuschuss", "Miete zu hoch"}
	wg.URL = "https://hessen.example/wohngeld"
	out = append(out, wg)

	fz := svc(Hessen, KeyFuehrungszeugnis, "Führungszeugnis beantragen")
	fz.Summary = "Ein Führungszeugnis zeigt, ob Sie vorbestraft sind. Arbeitgeber oder Vereine verlangen es oft. Sie beantragen es bei Ihrer Meldebehörde oder online beim Bundesamt für Justiz."
	fz.Description = "<p>Das Führungszeugnis wird vom Bundesamt für Justiz ausgestellt und Ihnen per Post geschickt oder direkt an eine Behörde gesandt. " +
		"Für Tätigkeiten mit Kindern und Jugendlichen brauchen Sie ein <strong>erweitertes Führungszeugnis</strong> mit einer Bestätigung des Arbeitgebers oder Vereins.</p>"
	fz.Documents = []string{"Personalausweis oder Reisepass", "für das erweiterte Führungszeugnis: schriftliche Aufforderung des Arbeitgebers oder Vereins"}
	fz.Fees = "<p>Demo-Wert: 13,00 Euro; für ehrenamtlich Tätige gebührenfrei.</p>"
	fz.Duration = "etwa 2 Wochen"
	fz.LegalBasis = "§§ 30 ff. Bundeszentralregistergesetz (BZRG)"
	fz.Typisierung = "2/3"
	fz.OZGID, fz.OZGName = "10562", "Führungszeugnis"
	fz.Lebenslagen, fz.Themenfeld = []string{llQuerUnternom, llQuerschnitt}, "Querschnitt"
	fz.Keywords = []string{"Führungszeugnis", "polizeiliches Führungszeugnis", "erweitertes Führungszeugnis", "Vorstrafen"}
	fz.URL = "https://hessen.example/fuehrungszeugnis"
	out = append(out, fz)

	// Darmstadt: its own texts, and its own Wohngeld text (override).
	out = append(out,
		personalausweis(Darmstadt, "Darmstadt", "https://darmstadt.example/personalausweis"),
		reisepass(Darmstadt, "Darmstadt", "https://darmstadt.example/reisepass"),
		wohnsitz(Darmstadt, "Darmstadt", "https://darmstadt.example/anmeldung"),
		hundesteuer(Darmstadt, "Darmstadt", "120 Euro im Jahr für den ersten Hund, 180 Euro für jeden weiteren.", "https://darmstadt.example/hundesteuer"),
	)
	wgDA := wg
	wgDA.Tenant = Darmstadt
	wgDA.Summary = "In Darmstadt beantragen Sie Wohngeld beim Amt für Wohnungswesen – online oder mit Termin. Wohngeld ist ein Zuschuss zur Miete für Haushalte mit geringem Einkommen."
	wgDA.Description = "<p>Das Amt für Wohnungswesen der Wissenschaftsstadt Darmstadt berät Sie gern, bevor Sie den Antrag stellen. " +
		"Nutzen Sie den Wohngeldrechner, um vorab abzuschätzen, ob sich ein Antrag lohnt.</p>" + wg.Description
	wgDA.URL = "https://darmstadt.example/wohngeld"
	out = append(out, wgDA)

	bp := svc(Darmstadt, KeyBewohnerparken, "Bewohnerparkausweis beantragen")
	bp.Summary = "Wer in einer Bewohnerparkzone in Darmstadt wohnt und ein Auto hat, kann einen Bewohnerparkausweis für seine Zone beantragen."
	bp.Description = "<p>Mit dem Ausweis parken Sie in Ihrer Zone ohne Parkschein. Er gilt für ein Fahrzeug und höchstens ein Jahr. " +
		"Das Fahrzeug muss auf Sie zugelassen sein oder Ihnen dauerhaft zur Verfügung stehen (z. B. Firmenwagen).</p>"
	bp.Prerequisites = "<ul><li>Hauptwohnsitz in einer Bewohnerparkzone</li><li>kein eigener Stellplatz</li></ul>"
	bp.Documents = []string{"Fahrzeugschein (Zulassungsbescheinigung Teil I)", "bei Firmenwagen: Bestätigung des Arbeitgebers"}
	bp.Fees = "<p>Demo-Wert: 120,00 Euro im Jahr.</p>"
	bp.Duration = "sofort bei Online-Antrag"
	bp.LegalBasis = "§ 45 Absatz 1b Straßenverkehrs-Ordnung (StVO); Gebührenordnung der Stadt"
	bp.Typisierung = "2/3"
	bp.OZGID, bp.OZGName = "10173", "Parkausweise und Zufahrtsberechtigungen"
	bp.Lebenslagen, bp.Themenfeld = []string{llKfz}, "Mobilität & Reisen"
	bp.Keywords = []string{"Anwohnerparken", "Parkausweis", "Bewohnerparken", "Parken", "Anwohnerparkausweis"}
	bp.URL = "https://darmstadt.example/bewohnerparken"
	out = append(out, bp)

	gu := svc(Darmstadt, KeyGeburtsurkunde, "Geburtsurkunde beantragen")
	gu.Summary = "Eine Geburtsurkunde stellt das Standesamt des Geburtsorts aus. Sie brauchen sie zum Beispiel für die Eheschließung, für Elterngeld oder Kindergeld."
	gu.Description = "<p>Nach der Geburt Ihres Kindes erhalten Sie Geburtsurkunden für Elterngeld, Kindergeld und die Krankenkasse gebührenfrei. " +
		"Weitere Urkunden können Sie jederzeit beim Standesamt Darmstadt bestellen, wenn die Geburt in Darmstadt beurkundet wurde – auch mehrsprachig.</p>"
	gu.Prerequisites = "<ul><li>Sie sind die Person selbst, Ehegatte, Eltern, Kinder oder haben ein rechtliches Interesse.</li></ul>"
	gu.Documents = []string{"Personalausweis oder Reisepass", "bei Vertretung: Vollmacht"}
	gu.Fees = "<p>Demo-Wert: 12,00 Euro je Urkunde, jede weitere gleichzeitig 6,00 Euro.</p>"
	gu.Duration = "etwa 1 Woche"
	gu.LegalBasis = "§ 55 Absatz 1 Nummer 4 und § 59 Personenstandsgesetz (PStG)"
	gu.Typisierung = "2/3"
	gu.OZGID, gu.OZGName = "10557", "Geburtsurkunde und -bescheinigung"
	gu.Lebenslagen, gu.Themenfeld = []string{llGeburt, llQuerschnitt}, "Familie & Kind"
	gu.Keywords = []string{"Geburtsurkunde", "Urkunde", "Standesamt", "Geburt", "Personenstand"}
	gu.URL = "https://darmstadt.example/geburtsurkunde"
	out = append(out, gu)

	gw := svc(Darmstadt, KeyGewerbeAnmeldung, "Gewerbe anmelden")
	gw.Summary = "Wer in Darmstadt ein Gewerbe beginnt, zeigt das beim Gewerbeamt an – spätestens mit Beginn der Tätigkeit. Die Anmeldung geht auch online."
	gw.Description = "<p>Die Gewerbeanzeige ist für Haupt- und Nebenerwerb nötig, auch für Einzelunternehmen und Gesellschaften. " +
		"Das Gewerbeamt informiert Finanzamt, Industrie- und Handelskammer oder Handwerkskammer und weitere Stellen.</p>" +
		"<p>Freie Berufe (z. B. Ärztinnen, Architekten, Künstlerinnen) melden kein Gewerbe an, sondern nur beim Finanzamt.</p>"
	gw.Prerequisites = "<ul><li>Betriebsstätte in Darmstadt</li><li>für erlaubnispflichtige Gewerbe: die Erlaubnis</li></ul>"
	gw.Documents = []string{"Personalausweis oder Reisepass", "bei Gesellschaften: Handelsregisterauszug", "bei erlaubnispflichtigen Tätigkeiten: Erlaubnis oder Handwerkskarte"}
	gw.Fees = "<p>Demo-Wert: 26,00 Euro (online 20,00 Euro).</p>"
	gw.Deadlines = "spätestens mit Beginn der Tätigkeit"
	gw.Duration = "sofort bis 1 Woche"
	gw.LegalBasis = "§ 14 Gewerbeordnung (GewO)"
	gw.Typisierung = "2/3"
	gw.OZGID, gw.OZGName = "10294", "Unternehmensanmeldung und -genehmigung"
	gw.Lebenslagen, gw.Themenfeld = []string{llGruendung}, "Unternehmensführung & -entwicklung"
	gw.Keywords = []string{"Gewerbeanmeldung", "Gewerbeschein", "Gewerbe", "Selbstständigkeit", "Existenzgründung", "Firma gründen"}
	gw.URL = "https://darmstadt.example/gewerbe"
	out = append(out, gw)

	kita := svc(Darmstadt, KeyKitaPlatz, "Kita-Platz beantragen (Kindertagesbetreuung)")
	kita.Summary = "Ab dem ersten Geburtstag hat Ihr Kind einen Anspruch auf einen Betreuungsplatz. In Darmstadt melden Sie Ihren Bedarf zentral über den Kita-Service an."
	kita.Description = "<p>Melden Sie Ihr Kind möglichst früh an, am besten sechs Monate vor dem gewünschten Beginn. " +
		"Sie können mehrere Wunsch-Einrichtungen angeben – städtische, kirchliche und freie Träger. Über die Zusage entscheidet die Einrichtung.</p>" +
		"<p>Für Kinder ab drei Jahren ist die Betreuung bis zu sechs Stunden am Tag in Hessen beitragsfrei.</p>"
	kita.Prerequisites = "<ul><li>Ihr Kind wohnt mit Hauptwohnsitz in Darmstadt.</li></ul>"
	kita.Documents = []string{"Geburtsurkunde oder Meldebescheinigung des Kindes", "Nachweis über den Masernschutz"}
	kita.Fees = "<p>Demo-Wert: Anmeldung gebührenfrei; Elternbeiträge nach der Gebührensatzung.</p>"
	kita.Deadlines = "möglichst 6 Monate vor Betreuungsbeginn"
	kita.LegalBasis = "§ 24 Sozialgesetzbuch Achtes Buch (SGB VIII); Hessisches Kinder- und Jugendhilfegesetzbuch (HKJGB)"
	kita.Typisierung = "2/3"
	kita.OZGID, kita.OZGName = "10019", "Kindertagesbetreuung"
	kita.Lebenslagen, kita.Themenfeld = []string{llKinder}, "Familie & Kind"
	kita.Keywords = []string{"Kita", "Kindergarten", "Krippe", "Kinderbetreuung", "Betreuungsplatz", "U3", "Kita-Platz"}
	kita.URL = "https://darmstadt.example/kita"
	out = append(out, kita)

	sp := svc(Darmstadt, KeySperrmuellAbholung, "Sperrmüll abholen lassen")
	sp.Summary = "Große Gegenstände aus dem Haushalt wie Möbel oder Matratzen holt der Entsorgungsbetrieb in Darmstadt nach Anmeldung ab."
	sp.Description = "<p>Melden Sie die Abholung online oder telefonisch an und stellen Sie die Gegenstände am Abholtag bis 6 Uhr an den Straßenrand. " +
		"Elektrogeräte, Bauschutt und Sondermüll gehören nicht zum Sperrmüll.</p>"
	sp.Fees = "<p>Demo-Wert: zwei Abholungen im Jahr bis 3 m³ gebührenfrei, jede weitere 30,00 Euro.</p>"
	sp.Duration = "Abholung in der Regel innerhalb von 2 Wochen"
	sp.LegalBasis = "Abfallsatzung der Wissenschaftsstadt Darmstadt"
	sp.Typisierung = "5"
	sp.OZGID, sp.OZGName = "10110", "Abfallentsorgung"
	sp.Lebenslagen, sp.Themenfeld = []string{llUmzug}, "Bauen & Wohnen"
	sp.Keywords = []string{"Sperrmüll", "Sperrgut", "Möbel entsorgen", "Entrümpelung", "Abfall"}
	sp.URL = "https://darmstadt.example/sperrmuell"
	out = append(out, sp)

	// Landkreis Darmstadt-Dieburg: Sperrmüll for all its Gemeinden.
	spK := sp
	spK.Tenant = DarmstadtDieburg
	spK.Summary = "Im Landkreis Darmstadt-Dieburg holt der Zweckverband Abfall Sperrmüll auf Abruf ab – für alle Städte und Gemeinden des Kreises."
	spK.Description = "<p>Bestellen Sie die Abholung mit der Sperrmüllkarte, online oder telefonisch beim Zweckverband. " +
		"Sie erhalten den Abholtermin schriftlich. Elektrogeräte werden getrennt abgeholt.</p>"
	spK.Fees = "<p>Demo-Wert: vier Abholungen im Jahr bis 2 m³ mit der Abfallgebühr abgegolten.</p>"
	spK.LegalBasis = "Abfallsatzung des Zweckverbands Abfall im Landkreis Darmstadt-Dieburg"
	spK.URL = "https://ladadi.example/sperrmuell"
	out = append(out, spK)

	// Weiterstadt and Regensburg: their own basic services.
	out = append(out,
		personalausweis(Weiterstadt, "Weiterstadt", "https://weiterstadt.example/personalausweis"),
		wohnsitz(Weiterstadt, "Weiterstadt", "https://weiterstadt.example/anmeldung"),
		hundesteuer(Weiterstadt, "Weiterstadt", "84 Euro im Jahr für den ersten Hund.", "https://weiterstadt.example/hundesteuer"),
		personalausweis(Regensburg, "Regensburg", "https://regensburg.example/personalausweis"),
		reisepass(Regensburg, "Regensburg", "https://regensburg.example/reisepass"),
		wohnsitz(Regensburg, "Regensburg", "https://regensburg.example/anmeldung"),
	)
	return out
}

// Lebenslagen returns the OZG life situations the demo services use, with
// the ids and names of the OZG catalogue (an OZG import updates the same rows).
func Lebenslagen() []catalog.Lebenslage {
	return []catalog.Lebenslage{
		{ID: "10", Name: llAusland, Themenfeld: "Mobilität & Reisen"},
		{ID: "21", Name: llFinanzen, Themenfeld: "Arbeit & Ruhestand"},
		{ID: "26", Name: llGeburt, Themenfeld: "Familie & Kind"},
		{ID: "31", Name: llKfz, Themenfeld: "Mobilität & Reisen"},
		{ID: "32", Name: llKinder, Themenfeld: "Familie & Kind"},
		{ID: "37", Name: llQuerschnitt, Themenfeld: "Querschnitt"},
		{ID: "38", Name: llQuerUnternom, Themenfeld: "Querschnitt"},
		{ID: "47", Name: llTiere, Themenfeld: "Engagement & Hobby"},
		{ID: "50", Name: llGruendung, Themenfeld: "Unternehmensführung & -entwicklung"},
		{ID: "55", Name: llUmzug, Themenfeld: "Bauen & Wohnen"},
	}
}

const werktags = "Mo, Di, Fr 8:00–12:00; Do 14:00–18:00; Mi geschlossen"

// Offices returns the demo offices.
func Offices() []catalog.Office {
	da := func(id, name, org, street, no string) catalog.Office {
		return catalog.Office{Tenant: Darmstadt, ID: id, Name: name, Organization: org, Street: street, HouseNumber: no,
			PostalCode: "64283", City: "Darmstadt", Phone: "+49 6151 0000-000", Email: id + "@darmstadt.example",
			URL: "https://darmstadt.example/" + id, OpeningHours: werktags, Lat: 49.8727, Lon: 8.6512}
	}
	out := []catalog.Office{
		da("buergerbuero", "Bürgerbüro Darmstadt", "Wissenschaftsstadt Darmstadt, Bürger- und Ordnungsamt", "Luisenplatz", "5"),
		da("standesamt", "Standesamt Darmstadt", "Wissenschaftsstadt Darmstadt", "Frankfurter Straße", "3"),
		da("gewerbeamt", "Gewerbeamt", "Wissenschaftsstadt Darmstadt, Bürger- und Ordnungsamt", "Grafenstraße", "30"),
		da("wohnungswesen", "Amt für Wohnungswesen – Wohngeldstelle", "Wissenschaftsstadt Darmstadt", "Frankfurter Straße", "71"),
		da("kita-service", "Kita-Service", "Wissenschaftsstadt Darmstadt, Jugendamt", "Frankfurter Straße", "71"),
		da("strassenverkehr", "Straßenverkehrsbehörde – Bewohnerparken", "Wissenschaftsstadt Darmstadt, Mobilitätsamt", "Bessunger Straße", "125"),
		da("kasse-steuern", "Steueramt – Hundesteuer", "Wissenschaftsstadt Darmstadt, Kämmerei", "Luisenplatz", "5"),
		da("entsorgung", "Entsorgungsbetrieb – Sperrmüll", "Eigenbetrieb für kommunale Aufgaben und Dienstleistungen", "Sensfelderweg", "33"),
		{Tenant: DarmstadtDieburg, ID: "za-abfall", Name: "Zweckverband Abfall – Sperrmüll-Service", Organization: "Landkreis Darmstadt-Dieburg",
			Street: "Albinistraße", HouseNumber: "23", PostalCode: "64807", City: "Dieburg", Phone: "+49 6071 0000-000", Email: "sperrmuell@ladadi.example",
			URL: "https://ladadi.example/sperrmuell", OpeningHours: "Mo–Fr 8:00–16:00 (telefonisch)", Lat: 49.8983, Lon: 8.8433},
		{Tenant: DarmstadtDieburg, ID: "wohngeld", Name: "Wohngeldstelle des Landkreises", Organization: "Kreisverwaltung Darmstadt-Dieburg",
			Street: "Jägertorstraße", HouseNumber: "207", PostalCode: "64289", City: "Darmstadt", Phone: "+49 6151 0000-111", Email: "wohngeld@ladadi.example",
			URL: "https://ladadi.example/wohngeld", OpeningHours: "Mo, Di, Do 8:00–12:00; Do 14:00–17:30", Lat: 49.8800, Lon: 8.6850},
		{Tenant: Weiterstadt, ID: "buergerbuero", Name: "Bürgerbüro Weiterstadt", Organization: "Stadt Weiterstadt",
			Street: "Riedbahnstraße", HouseNumber: "6", PostalCode: "64331", City: "Weiterstadt", Phone: "+49 6150 0000-000", Email: "buergerbuero@weiterstadt.example",
			URL: "https://weiterstadt.example/buergerbuero", OpeningHours: "Mo–Fr 7:30–12:00; Do 14:00–18:00; Sa 9:00–12:00", Lat: 49.9039, Lon: 8.5883},
		{Tenant: Regensburg, ID: "buergerbuero", Name: "Bürgerbüro Mitte", Organization: "Stadt Regensburg, Amt für Einwohnerwesen",
			Street: "D.-Martin-Luther-Straße", HouseNumber: "3", PostalCode: "93047", City: "Regensburg", Phone: "+49 941 0000-000", Email: "buergerbuero@regensburg.example",
			URL: "https://regensburg.example/buergerbuero", OpeningHours: "Mo–Mi 7:30–15:00; Do 7:30–17:30; Fr 7:30–12:00", Lat: 49.0170, Lon: 12.0990},
	}
	return out
}

// Offers returns which office handles which service for which subtree.
func Offers() []catalog.Offer {
	o := func(ten, key, office string) catalog.Offer {
		return catalog.Offer{Tenant: ten, ServiceKey: key, OfficeID: office}
	}
	return []catalog.Offer{
		o(Darmstadt, KeyPersonalausweis, "buergerbuero"),
		o(Darmstadt, KeyReisepass, "buergerbuero"),
		o(Darmstadt, KeyWohnsitzAnmeldung, "buergerbuero"),
		o(Darmstadt, KeyFuehrungszeugnis, "buergerbuero"),
		o(Darmstadt, KeyHundesteuer, "kasse-steuern"),
		o(Darmstadt, KeyBewohnerparken, "strassenverkehr"),
		o(Darmstadt, KeyGeburtsurkunde, "standesamt"),
		o(Darmstadt, KeyGewerbeAnmeldung, "gewerbeamt"),
		o(Darmstadt, KeyWohngeld, "wohnungswesen"),
		o(Darmstadt, KeyKitaPlatz, "kita-service"),
		o(Darmstadt, KeySperrmuellAbholung, "entsorgung"),
		o(DarmstadtDieburg, KeySperrmuellAbholung, "za-abfall"),
		o(DarmstadtDieburg, KeyWohngeld, "wohngeld"),
		o(Weiterstadt, KeyPersonalausweis, "buergerbuero"),
		o(Weiterstadt, KeyWohnsitzAnmeldung, "buergerbuero"),
		o(Weiterstadt, KeyHundesteuer, "buergerbuero"),
		o(Weiterstadt, KeyFuehrungszeugnis, "buergerbuero"),
		o(Regensburg, KeyPersonalausweis, "buergerbuero"),
		o(Regensburg, KeyReisepass, "buergerbuero"),
		o(Regensburg, KeyWohnsitzAnmeldung, "buergerbuero"),
	}
}

// Seed stores the demo tenants, Lebenslagen, services, offices and offers. It is
// idempotent: seeding again changes nothing. Each store call is its own
// transaction; pass a ctx from sqlstore.DB.Atomic to make it one.
func Seed(ctx context.Context, tenants tenant.Store, cat catalog.Store) error {
	if err := tenants.UpsertTenants(ctx, Tenants()); err != nil {
		return err
	}
	if err := cat.UpsertLebenslagen(ctx, Lebenslagen()); err != nil {
		return err
	}
	if err := cat.UpsertServices(ctx, Services()); err != nil {
		return err
	}
	if err := cat.UpsertOffices(ctx, Offices()); err != nil {
		return err
	}
	return cat.UpsertOffers(ctx, Offers())
}
