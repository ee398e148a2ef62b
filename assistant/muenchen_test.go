// SPDX-License-Identifier: EUPL-1.2

package assistant_test

import (
	"context"
	"testing"

	"rathaus/assistant"
	"rathaus/catalog/importer"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
)

// seedMuenchen imports the real München DLDB catalog (shared data) under
// the München tenant.
func seedMuenchen(t testing.TB, db *sqlstore.DB) {
	t.Helper()
	svc := testenv.SharedData(t, "chatbot/muenchen-dldb/services_de.dev.json")
	loc := testenv.SharedData(t, "chatbot/muenchen-dldb/locations_de.json")
	ss, offices, offers, _, err := importer.ReadDLDBFiles(muenchen, loc, svc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bundesrepublik Deutschland", Inhabited: true},
		{ARS: "090000000000", Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Bayern", Inhabited: true},
		{ARS: oberbayern, Parent: "090000000000", Level: tenant.LevelRegierungsbezirk, Name: "Oberbayern", Inhabited: true},
		{ARS: muenchen, Parent: oberbayern, Level: tenant.LevelGemeinde, Name: "München, Landeshauptstadt", PLZ: "80331", Population: 1500000, Inhabited: true},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Catalog().UpsertServices(ctx, ss); err != nil {
		t.Fatal(err)
	}
	if err := db.Catalog().UpsertOffices(ctx, offices); err != nil {
		t.Fatal(err)
	}
	if err := db.Catalog().UpsertOffers(ctx, offers); err != nil {
		t.Fatal(err)
	}
}

// TestDialoguesMuenchen runs scripted conversations on the real München
// catalog (287 DLDB services); every reply must be grounded in its records.
func TestDialoguesMuenchen(t *testing.T) {
	db := sqltest.Open(t, sqlstore.SQLite)
	seedMuenchen(t, db)
	a := newAssistant(t, db, assistant.Options{})
	t.Run("move, clarify, fees, office", func(t *testing.T) {
		runScript(t, a, []step{
			{say: "ich wohne in München", intent: assistant.IntentSetMunicipality, muni: muenchen},
			{say: "Ich bin umgezogen", intent: assistant.IntentClarify, contains: []string{"Wohnsitzanmeldung"}, choices: 2},
			{say: "Wie lange dauert das?", intent: assistant.IntentClarify, choices: 2},
			{say: "Wohnsitzanmeldung", intent: assistant.IntentAskAttribute, service: "99115005000000"},
			{say: "Was kostet das?", intent: assistant.IntentAskAttribute, service: "99115005000000"},
			{say: "Wo ist das?", intent: assistant.IntentAskAttribute, contains: []string{"München"}},
		})
	})
	t.Run("lost wallet", func(t *testing.T) {
		runScript(t, a, []step{
			{say: "Geldbörse verloren in 80331", intent: assistant.IntentClarify, muni: muenchen, choices: 2, contains: []string{"Fundsache"}},
			{say: "Fundsache abholen", service: "99089017152000"},
			{say: "Welche Unterlagen brauche ich?", intent: assistant.IntentAskAttribute},
		})
	})
}
