// SPDX-License-Identifier: EUPL-1.2

package assistant_test

import (
	"context"
	"testing"

	"rathaus/assistant"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

// TestOutOfScopeMuenchen: questions the catalog cannot answer are handed
// over to 115 instead of answered with a service that only shares a
// generic word; in-scope questions still find a service. Run on the real
// München catalog; the false-answer rate on this set must stay ≤ 5 %
// (assistant.md §3.3), in-scope questions must keep ≥ 90 % answers. (The
// München development export has no Wohngeld service and its
// Geburtsurkunde only in descriptions; those questions rightly go to 115.)
func TestOutOfScopeMuenchen(t *testing.T) {
	db := sqltest.Open(t, sqlstore.SQLite)
	seedMuenchen(t, db)
	a := newAssistant(t, db, assistant.Options{})
	outOfScope := []string{"Wer ist der Bundeskanzler", "Wie alt ist der Mond", "Pizza bestellen", "Flug nach Mallorca buchen",
		"Netflix kündigen", "Bundesliga Ergebnisse", "Rezept für Apfelkuchen", "Mein Computer ist kaputt", "Wo kann ich gut essen gehen",
		"Liebeskummer", "Wie wird das Wetter morgen?", "Erzähl mir einen Witz", "Welche Aktien soll ich kaufen?", "Wann fährt die nächste U-Bahn?",
		"Ich suche einen Zahnarzt", "Spotify Abo", "Fußball Ergebnisse", "Handy Reparatur", "Was ist die Hauptstadt von Frankreich?", "Urlaub in Italien"}
	inScope := []string{"Personalausweis", "Reisepass verloren", "heiraten", "Kind geboren", "Rente beantragen", "Parkausweis",
		"Ich bin umgezogen", "Führerschein", "Hund anmelden", "Wohnsitz abmelden", "Abmeldung", "Gewerbe anmelden", "Führungszeugnis",
		"Fundsache abholen", "Aufenthaltstitel", "Einbürgerung", "Fahrzeug abmelden", "Meldebescheinigung", "Personalausweis beantragen", "Katze"}
	answered := func(q string) bool {
		st := &assistant.State{}
		if err := a.SetMunicipality(context.Background(), st, muenchen); err != nil {
			t.Fatal(err)
		}
		rep, err := a.Turn(context.Background(), st, q)
		if err != nil {
			t.Fatal(err)
		}
		return !rep.Handoff && rep.Intent != assistant.IntentAbuse
	}
	wrong := 0
	for _, q := range outOfScope {
		if answered(q) {
			wrong++
			t.Logf("out of scope but answered: %q", q)
		}
	}
	right := 0
	for _, q := range inScope {
		if answered(q) {
			right++
		} else {
			t.Logf("in scope but handed over: %q", q)
		}
	}
	t.Logf("false answers %d/%d, in-scope answered %d/%d", wrong, len(outOfScope), right, len(inScope))
	if wrong*100 > 5*len(outOfScope) {
		t.Errorf("false-answer rate %d/%d > 5 %%", wrong, len(outOfScope))
	}
	if right*100 < 90*len(inScope) {
		t.Errorf("in-scope answered %d/%d < 90 %%", right, len(inScope))
	}
}
