// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"rathaus/catalog"
	"rathaus/internal/testenv"
	"rathaus/sqlstore"
	"rathaus/tenant"
)

// readCSV reads a shared CSV file as maps from header to value.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			if i < len(r) {
				m[h] = r[i]
			}
		}
		out = append(out, m)
	}
	return out
}

// TestRealData loads the real municipalities and the real LeiKa catalog and
// checks lookups and speed on both dialects.
func TestRealData(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 16,000 real rows")
	}
	gem := readCSV(t, testenv.SharedData(t, "gemeinden/gemeinden.csv"))
	leika := readCSV(t, testenv.SharedData(t, "leika/leika-leistungen.csv"))
	var ts []tenant.Tenant
	for _, r := range gem {
		pop, _ := strconv.Atoi(r["bevoelkerung"])
		area, _ := strconv.ParseFloat(r["flaeche_km2"], 64)
		ts = append(ts, tenant.Tenant{ARS: r["ars"], Parent: r["ars"][:2] + "0000000000", Level: tenant.LevelGemeinde,
			Name: r["name"], AGS: r["ags"], PLZ: r["plz"], Population: pop, Area: area, Inhabited: pop > 0})
	}
	var ss []catalog.Service
	for _, r := range leika {
		key := r["leika_schluessel"]
		if len(key) != 14 {
			key = "leika-" + r["db_id"]
		}
		ss = append(ss, catalog.Service{Tenant: tenant.Bund, Key: key, LeiKa: key, Source: "leika", SourceID: r["db_id"],
			Name: r["leistungsbezeichnung"], Summary: r["beschreibung"], LegalBasis: r["rechtsgrundlage"],
			Typisierung: r["typisierung"], OZGID: r["ozg_id"], OZGName: r["ozg_leistung"]})
	}
	// ~1,000 municipal descriptions spread over 100 municipalities.
	for i := 0; i < 1000; i++ {
		s := ss[(i*5)%len(ss)]
		s.Tenant = ts[(i%100)*100].ARS
		s.Source, s.Summary = "dldb", fmt.Sprintf("Kommunaler Text %d.", i)
		ss = append(ss, s)
	}
	forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		start := time.Now()
		if err := db.Tenants().UpsertTenants(ctx, ts); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d Gemeinden upserted in %v", len(ts), time.Since(start))
		start = time.Now()
		if err := db.Catalog().UpsertServices(ctx, ss); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d services upserted in %v", len(ss), time.Since(start))

		for _, tc := range []struct{ q, first string }{
			{"münchen", "München, Landeshauptstadt"},
			{"Muenchen", "München, Landeshauptstadt"},
			{"darmstadt", "Darmstadt, Wissenschaftsstadt"},
			{"frankfurt", "Frankfurt am Main, Stadt"},
			{"80313", "München, Landeshauptstadt"},
			{"803", "München, Landeshauptstadt"},
			{"Köln", "Köln, Stadt"},
		} {
			got, err := db.Tenants().FindGemeinden(ctx, tc.q, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || got[0].Name != tc.first {
				t.Errorf("FindGemeinden(%q) = %v, want %q first", tc.q, names(got), tc.first)
			}
		}

		muc := "091620000000"
		for _, q := range []string{"Personalausweis", "Hund steuer", "gewerbe anmeldung", "führerschein"} {
			start := time.Now()
			got, total, err := db.Catalog().Search(ctx, catalog.Query{Municipality: muc, Text: q, Limit: 10})
			el := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("Search(%q): %d hits in %v", q, total, el)
			if total == 0 || len(got) == 0 {
				t.Errorf("Search(%q) found nothing", q)
			}
			if el > 500*time.Millisecond {
				t.Errorf("Search(%q) took %v, want < 500 ms", q, el)
			}
			for _, s := range got {
				if !strings.Contains(strings.ToLower(s.Name+s.Summary), strings.ToLower(strings.Fields(q)[0][:4])) {
					t.Errorf("Search(%q) hit %q does not match", q, s.Name)
				}
			}
		}
		// A municipality with its own text sees it instead of the Bund text.
		own := ss[len(ss)-1]
		r, err := db.Catalog().Resolve(ctx, own.Tenant, own.Key)
		if err != nil {
			t.Fatal(err)
		}
		if r.DefinedAt != own.Tenant {
			t.Errorf("Resolve(%s, %s).DefinedAt = %s", own.Tenant, own.Key, r.DefinedAt)
		}
	})
}
