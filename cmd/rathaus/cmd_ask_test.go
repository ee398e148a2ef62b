// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"rathaus/catalog"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
	"rathaus/tenant"
)

func TestAsk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir() + "/data"
	env := map[string]string{"RATHAUS_DATA": dir}
	if code, _, errs := runMain(t, env, "ask", "Perso"); code != 1 || !strings.Contains(errs, "catalog is empty") {
		t.Fatalf("ask on empty catalog = %d, %q", code, errs)
	}
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	const muc, koeln = "091620000000", "053150000000"
	if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bund", Inhabited: true},
		{ARS: "090000000000", Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Bayern", Inhabited: true},
		{ARS: "050000000000", Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Nordrhein-Westfalen", Inhabited: true},
		{ARS: muc, Parent: "090000000000", Level: tenant.LevelGemeinde, Name: "München", Inhabited: true},
		{ARS: koeln, Parent: "050000000000", Level: tenant.LevelGemeinde, Name: "Köln", Inhabited: true},
	}); err != nil {
		t.Fatal(err)
	}
	svc := []catalog.Service{
		{Tenant: tenant.Bund, Key: "99050012104000", LeiKa: "99050012104000", Source: "leika", SourceID: "1", Name: "Gewerbeanmeldung"},
		{Tenant: tenant.Bund, Key: "99102013001000", LeiKa: "99102013001000", Source: "leika", SourceID: "2", Name: "Personalausweis beantragen"},
		{Tenant: muc, Key: "99102013001000", LeiKa: "99102013001000", Source: "dldb", SourceID: "1063441", Name: "Personalausweis", Keywords: []string{"Ausweis"}, Description: "<p>Den <b>Personalausweis</b> beantragen Sie im Bürgerbüro.</p>"},
		{Tenant: muc, Key: "dldb-1063475", Source: "dldb", SourceID: "1063475", Name: "Wohnsitzanmeldung", Description: "Anmeldung nach dem Umzug"},
		{Tenant: koeln, Key: "dldb-9", Source: "dldb", SourceID: "9", Name: "Hundesteuer", Description: "Hund anmelden"},
	}
	if err := db.Catalog().UpsertServices(ctx, svc); err != nil {
		t.Fatal(err)
	}
	db.Close()

	tests := []struct {
		name  string
		args  []string
		code  int
		first string // source_id of the first service ("" = none)
		not   string // a source_id that must not appear
	}{
		{"Synonym", []string{"ask", "Perso", "--json"}, 0, "1063441", ""},
		{"MunicipalityNearestWins", []string{"ask", "--municipality", muc, "Personalausweis", "--json"}, 0, "1063441", "2"},
		{"OtherMunicipality", []string{"ask", "--municipality", koeln, "Personalausweis", "--json"}, 0, "2", "1063441"},
		{"LifeEvent", []string{"ask", "--json", "--municipality", muc, "Ich bin umgezogen"}, 0, "1063475", "9"},
		{"Typo", []string{"ask", "--json", "Gewerbeanmeldnug"}, 0, "1", ""},
		{"NotVisible", []string{"ask", "--json", "--municipality", muc, "Hundesteuer"}, 0, "", "9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runMain(t, env, tt.args...)
			if code != tt.code {
				t.Fatalf("code = %d, want %d; stderr %q", code, tt.code, errs)
			}
			var res askResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("output %q: %v", out, err)
			}
			if tt.first == "" {
				if len(res.Services) > 0 && res.Services[0].SourceID == tt.not {
					t.Errorf("first = %+v, want none", res.Services[0])
				}
			} else if len(res.Services) == 0 || res.Services[0].SourceID != tt.first {
				t.Errorf("services = %+v, want first %s", res.Services, tt.first)
			}
			for _, s := range res.Services {
				if tt.not != "" && s.SourceID == tt.not {
					t.Errorf("service %s must not be visible: %+v", tt.not, res.Services)
				}
			}
		})
	}

	t.Run("Batch", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "q.jsonl")
		if err := os.WriteFile(f, []byte(`{"query":"Perso"}`+"\n\n"+`{"query":"Gewerbe anmelden"}`+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errs := runMain(t, env, "ask", "--batch", f)
		if code != 0 {
			t.Fatalf("code %d: %s", code, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("got %d lines: %q", len(lines), out)
		}
		for i, want := range []string{"1063441", "1"} {
			var res askResult
			if err := json.Unmarshal([]byte(lines[i]), &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Services) == 0 || res.Services[0].SourceID != want {
				t.Errorf("line %d: %+v, want first %s", i+1, res.Services, want)
			}
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "q.jsonl")
		if err := os.WriteFile(f, []byte(`{"query":"Perso"}`+"\n"+`{"q":1}`+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"ask"}, 2, "QUESTION"},
			{[]string{"ask", "--municipality", "123", "x"}, 2, "12-digit ARS"},
			{[]string{"ask", "--batch", f}, 1, "q.jsonl:2: field query"},
			{[]string{"ask", "--batch", f, "also a question"}, 2, "not both"},
		} {
			code, _, errs := runMain(t, env, c.args...)
			if code != c.code || !strings.Contains(errs, c.msg) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("%v = %d, %q; want %d with %q on one line", c.args, code, errs, c.code, c.msg)
			}
		}
	})
}

// TestAskMuenchenDevSet runs the product path end to end: the München DLDB
// export imported with `import dldb`, then `ask --batch` over the development
// keywords, scored by S@1 and S@5 (regression guard; bench/RESULTS.md has
// the numbers).
func TestAskMuenchenDevSet(t *testing.T) {
	services := testenv.SharedData(t, "chatbot/muenchen-dldb/services_de.dev.json")
	locations := testenv.SharedData(t, "chatbot/muenchen-dldb/locations_de.json")
	queries := testenv.SharedData(t, "chatbot/muenchen-dldb/keyword_queries.dev.jsonl")
	dict := testenv.SharedData(t, "chatbot/decompound/dictionary-de.txt")
	ctx := context.Background()
	dir := t.TempDir() + "/data"
	db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	const muc = "091620000000"
	if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bund", Inhabited: true},
		{ARS: "090000000000", Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Bayern", Inhabited: true},
		{ARS: muc, Parent: "090000000000", Level: tenant.LevelGemeinde, Name: "München", Inhabited: true},
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	env := map[string]string{"RATHAUS_DATA": dir, "RATHAUS_DICTIONARY": dict}
	if code, _, errs := runMain(t, env, "import", "dldb", services, locations, "--tenant", muc); code != 0 {
		t.Fatalf("import dldb = %d: %s", code, errs)
	}
	code, out, errs := runMain(t, env, "ask", "--batch", queries, "--municipality", muc)
	if code != 0 {
		t.Fatalf("ask --batch = %d: %s", code, errs)
	}
	qf, err := os.ReadFile(queries)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSpace(string(qf)), "\n")
	got := strings.Split(strings.TrimSpace(out), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d answer lines for %d queries", len(got), len(want))
	}
	var s1, s5 int
	for i := range want {
		var q struct {
			Query    string   `json:"query"`
			Expected []string `json:"expected_service_ids"`
		}
		var res askResult
		if err := json.Unmarshal([]byte(want[i]), &q); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(got[i]), &res); err != nil {
			t.Fatal(err)
		}
		if res.Query != q.Query {
			t.Fatalf("line %d: query %q, want %q", i+1, res.Query, q.Query)
		}
		for r, s := range res.Services {
			if slices.Contains(q.Expected, s.SourceID) {
				if r == 0 {
					s1++
				}
				if r < 5 {
					s5++
				}
				break
			}
		}
	}
	n := float64(len(want))
	t.Logf("ask --batch on %d dev keywords: S@1 %.3f S@5 %.3f", len(want), float64(s1)/n, float64(s5)/n)
	if float64(s1)/n < 0.95 || float64(s5)/n < 0.99 {
		t.Errorf("S@1 %.3f (floor 0.95), S@5 %.3f (floor 0.99)", float64(s1)/n, float64(s5)/n)
	}
}
