// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/audit"
	"rathaus/catalog"
	"rathaus/identity"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
)

// forEachDialect runs fn as a subtest on a fresh store of every dialect.
func forEachDialect(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			fn(t, sqltest.Open(t, d))
		})
	}
}

// Fixture tree: Bund → Hessen → RB Darmstadt → Kreis Darmstadt (kreisfrei) → Gemeinde.
const (
	arsHessen    = "060000000000"
	arsRBDa      = "064000000000"
	arsGemA      = "064320001001" // Gemeinde A (Kreis Darmstadt-Dieburg)
	arsKreisDaDi = "064320000000"
	arsGemB      = "064320001002" // Gemeinde B, same Kreis
	arsBayern    = "090000000000"
)

func fixtureTenants() []tenant.Tenant {
	return []tenant.Tenant{
		{ARS: tenant.Bund, Level: tenant.LevelBund, Name: "Bundesrepublik Deutschland", Inhabited: true},
		{ARS: arsHessen, Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Hessen", Inhabited: true},
		{ARS: arsRBDa, Parent: arsHessen, Level: tenant.LevelRegierungsbezirk, Name: "Darmstadt", Inhabited: true},
		{ARS: arsKreisDaDi, Parent: arsRBDa, Level: tenant.LevelKreis, Name: "Darmstadt-Dieburg", Inhabited: true},
		{ARS: arsGemA, Parent: arsKreisDaDi, Level: tenant.LevelGemeinde, Name: "Groß-Umstadt, Stadt", AGS: "06432010", PLZ: "64823", Population: 21000, Inhabited: true},
		{ARS: arsGemB, Parent: arsKreisDaDi, Level: tenant.LevelGemeinde, Name: "Babenhausen, Stadt", AGS: "06432002", PLZ: "64832", Population: 17000, Inhabited: true},
		{ARS: "064320003003", Parent: arsKreisDaDi, Level: tenant.LevelGemeinde, Name: "Umstadt-Süd", PLZ: "64823", Population: 100, Inhabited: true},
		{ARS: arsBayern, Parent: tenant.Bund, Level: tenant.LevelLand, Name: "Bayern", Inhabited: true},
		{ARS: "091620000000", Parent: arsBayern, Level: tenant.LevelGemeinde, Name: "München, Landeshauptstadt", AGS: "09162000", PLZ: "80331", Population: 1500000, Area: 310.7, Lat: 48.137, Lon: 11.575, Inhabited: true},
		{ARS: "091890000000", Parent: arsBayern, Level: tenant.LevelGemeinde, Name: "Münchsmünster", PLZ: "85126", Population: 3000, Inhabited: true},
		{ARS: "095750000000", Parent: arsBayern, Level: tenant.LevelGemeinde, Name: "Gemeindefreies Gebiet Forst", Population: 0, Inhabited: false},
	}
}

func names(ts []tenant.Tenant) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestTenants(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		ts := db.Tenants()
		if err := ts.UpsertTenants(ctx, fixtureTenants()); err != nil {
			t.Fatal(err)
		}
		t.Run("UpsertIdempotent", func(t *testing.T) {
			if err := ts.UpsertTenants(ctx, fixtureTenants()); err != nil {
				t.Fatal(err)
			}
			got, err := ts.CountTenants(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[tenant.Level]int{tenant.LevelBund: 1, tenant.LevelLand: 2, tenant.LevelRegierungsbezirk: 1, tenant.LevelKreis: 1, tenant.LevelGemeinde: 6}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CountTenants (-want +got):\n%s", diff)
			}
		})
		t.Run("RoundTrip", func(t *testing.T) {
			got, err := ts.Tenant(ctx, "091620000000")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fixtureTenants()[8], *got); diff != "" {
				t.Errorf("Tenant (-want +got):\n%s", diff)
			}
			f, err := ts.Tenant(ctx, "095750000000")
			if err != nil || f.Inhabited {
				t.Errorf("uninhabited: got %+v, %v", f, err)
			}
		})
		t.Run("UpdateChangesName", func(t *testing.T) {
			u := fixtureTenants()[5]
			u.Name = "Babenhausen"
			if err := ts.UpsertTenants(ctx, []tenant.Tenant{u}); err != nil {
				t.Fatal(err)
			}
			got, _ := ts.Tenant(ctx, arsGemB)
			if got.Name != "Babenhausen" {
				t.Errorf("name = %q", got.Name)
			}
			ts.UpsertTenants(ctx, fixtureTenants()[5:6])
		})
		t.Run("DuplicateInOneCallLastWins", func(t *testing.T) {
			a, b := fixtureTenants()[6], fixtureTenants()[6]
			a.Name, b.Name = "Erster", "Umstadt-Süd"
			if err := ts.UpsertTenants(ctx, []tenant.Tenant{a, fixtureTenants()[5], b}); err != nil {
				t.Fatal(err)
			}
			got, _ := ts.Tenant(ctx, b.ARS)
			if got.Name != "Umstadt-Süd" {
				t.Errorf("name = %q, want the last one", got.Name)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := ts.Tenant(ctx, "010010000000")
			if rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("err = %v, want not_found", err)
			}
		})
		t.Run("ErrInvalidARS", func(t *testing.T) {
			err := ts.UpsertTenants(ctx, []tenant.Tenant{{ARS: "06411", Name: "x"}})
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("err = %v, want invalid", err)
			}
		})
		t.Run("Children", func(t *testing.T) {
			got, err := ts.Children(ctx, arsKreisDaDi)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"Babenhausen, Stadt", "Groß-Umstadt, Stadt", "Umstadt-Süd"}
			if diff := cmp.Diff(want, names(got)); diff != "" {
				t.Errorf("Children (-want +got):\n%s", diff)
			}
		})
		t.Run("Lineage", func(t *testing.T) {
			// Every existing ancestor of Gemeinde A is found via tenant.Lineage.
			var found []string
			for _, a := range tenant.Lineage(arsGemA) {
				if x, err := ts.Tenant(ctx, a); err == nil {
					found = append(found, x.Name)
				}
			}
			want := []string{"Groß-Umstadt, Stadt", "Darmstadt-Dieburg", "Darmstadt", "Hessen", "Bundesrepublik Deutschland"}
			if diff := cmp.Diff(want, found); diff != "" {
				t.Errorf("lineage (-want +got):\n%s", diff)
			}
		})
		for _, tc := range []struct {
			name, q string
			want    []string
		}{
			{"NameExactBeforeSubstring", "münchen", []string{"München, Landeshauptstadt"}},
			{"UmlautAsAE", "Muenchen", []string{"München, Landeshauptstadt"}},
			{"UmlautDropped", "munchen", []string{"München, Landeshauptstadt"}},
			{"SharpS", "gross-umstadt", []string{"Groß-Umstadt, Stadt"}},
			{"SubstringAfterPrefix", "umstadt", []string{"Umstadt-Süd", "Groß-Umstadt, Stadt"}},
			{"PrefixByPopulation", "mün", []string{"München, Landeshauptstadt", "Münchsmünster"}},
			{"PLZExact", "64823", []string{"Groß-Umstadt, Stadt", "Umstadt-Süd"}},
			{"PLZPrefix", "648", []string{"Groß-Umstadt, Stadt", "Babenhausen, Stadt", "Umstadt-Süd"}},
			{"OnlyGemeinden", "darmstadt", nil},
			{"NoMatch", "xyzzy", nil},
			{"LikeWildcardIsLiteral", "%", nil},
		} {
			t.Run("FindGemeinden/"+tc.name, func(t *testing.T) {
				got, err := ts.FindGemeinden(ctx, tc.q, 10)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, names(got)); diff != "" {
					t.Errorf("FindGemeinden(%q) (-want +got):\n%s", tc.q, diff)
				}
			})
		}
	})
}

func TestTenantsBulkUpsert(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		var ts []tenant.Tenant
		for i := range 16000 {
			ts = append(ts, tenant.Tenant{ARS: fmt.Sprintf("06%010d", i+1), Parent: arsHessen, Level: tenant.LevelGemeinde,
				Name: fmt.Sprintf("Gemeinde Nr. %d", i), PLZ: fmt.Sprintf("%05d", i), Population: i, Inhabited: true})
		}
		for _, run := range []string{"insert", "re-import"} {
			start := time.Now()
			if err := db.Tenants().UpsertTenants(ctx, ts); err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			t.Logf("%s of 16,000 tenants: %v", run, el)
			if db.Dialect() == sqlstore.SQLite && el > 5*time.Second {
				t.Errorf("%s of 16,000 tenants took %v, want well under 5 s", run, el)
			}
		}
		n, _ := db.Tenants().CountTenants(ctx)
		if n[tenant.LevelGemeinde] != 16000 {
			t.Errorf("count = %v", n)
		}
	})
}

func TestCatalog(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		if err := db.Tenants().UpsertTenants(ctx, fixtureTenants()); err != nil {
			t.Fatal(err)
		}
		cs := db.Catalog()
		const pass = "99102013000000" // Personalausweis beantragen
		bund := catalog.Service{Tenant: tenant.Bund, Key: pass, LeiKa: pass, Source: "leika", SourceID: pass,
			Name: "Personalausweis beantragen", Summary: "Sie brauchen einen neuen Ausweis.",
			Documents: []string{"Lichtbild", "alter Ausweis"}, Keywords: []string{"Perso", "Ausweis"},
			Lebenslagen: []string{"Umzug & Wohnen"}, Themenfeld: "Familie & Kind",
			UpdatedAt: time.Date(2024, 5, 1, 12, 0, 0, 123000, time.UTC)}
		land := bund
		land.Tenant, land.Summary, land.Name = arsHessen, "Hessischer Text.", "Personalausweis beantragen (Hessen)"
		gemA := bund
		gemA.Tenant, gemA.Source, gemA.SourceID, gemA.Summary = arsGemA, "dldb", "1063423", "Text der Stadt Groß-Umstadt."
		onlyA := catalog.Service{Tenant: arsGemA, Key: "dldb-777", Source: "dldb", SourceID: "777",
			Name: "Hundesteuer anmelden", Summary: "Hunde in Groß-Umstadt.", Keywords: []string{"Hund"}}
		fish := catalog.Service{Tenant: tenant.Bund, Key: "99001001000000", LeiKa: "99001001000000", Source: "leika",
			Name: "Fischereischein beantragen", Keywords: []string{"Angelschein", "Prüfung"}, Summary: "Angeln ohne Schein ist verboten. Ausweis mitbringen."}
		if err := cs.UpsertServices(ctx, []catalog.Service{bund, land, gemA, onlyA, fish}); err != nil {
			t.Fatal(err)
		}
		if err := cs.UpsertServices(ctx, []catalog.Service{bund, land, gemA, onlyA, fish}); err != nil {
			t.Fatal("idempotent upsert:", err)
		}
		offices := []catalog.Office{
			{Tenant: arsKreisDaDi, ID: "dldb-1", Name: "Kreisverwaltung Darmstadt-Dieburg", City: "Darmstadt"},
			{Tenant: arsGemA, ID: "dldb-2", Name: "Bürgerbüro Groß-Umstadt", City: "Groß-Umstadt", Lat: 49.87, Lon: 8.93},
			{Tenant: arsGemA, ID: "dldb-3", Name: "Bürgerbüro Außenstelle", City: "Groß-Umstadt"},
		}
		if err := cs.UpsertOffices(ctx, offices); err != nil {
			t.Fatal(err)
		}
		offers := []catalog.Offer{
			{Tenant: arsKreisDaDi, ServiceKey: pass, OfficeID: "dldb-1"},
			{Tenant: arsGemA, ServiceKey: pass, OfficeID: "dldb-2"},
			{Tenant: arsGemA, ServiceKey: pass, OfficeID: "dldb-3"},
			{Tenant: arsGemA, ServiceKey: "dldb-777", OfficeID: "dldb-1"}, // office of the Kreis, offered by the Gemeinde
		}
		if err := cs.UpsertOffers(ctx, offers); err != nil {
			t.Fatal(err)
		}
		if err := cs.UpsertOffers(ctx, offers); err != nil {
			t.Fatal(err)
		}

		t.Run("ServiceRoundTrip", func(t *testing.T) {
			got, err := cs.Service(ctx, tenant.Bund, pass)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(bund, *got); diff != "" {
				t.Errorf("Service (-want +got):\n%s", diff)
			}
			if _, err := cs.Service(ctx, arsGemB, pass); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("Service at tenant without own text: err = %v", err)
			}
		})

		for _, tc := range []struct {
			name, ars, key string
			definedAt      string
			summary        string
			offices        []string
		}{
			{"GemeindeOverrides", arsGemA, pass, arsGemA, "Text der Stadt Groß-Umstadt.", []string{"dldb-2", "dldb-3"}},
			{"LandOverridesBund", arsGemB, pass, arsHessen, "Hessischer Text.", []string{"dldb-1"}},
			{"BundOnly", "091620000000", pass, tenant.Bund, "Sie brauchen einen neuen Ausweis.", nil},
			{"OfficeOfAncestor", arsGemA, "dldb-777", arsGemA, "Hunde in Groß-Umstadt.", []string{"dldb-1"}},
		} {
			t.Run("Resolve/"+tc.name, func(t *testing.T) {
				r, err := cs.Resolve(ctx, tc.ars, tc.key)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, o := range r.Offices {
					ids = append(ids, o.ID)
				}
				if r.DefinedAt != tc.definedAt || r.Service.Summary != tc.summary || !cmp.Equal(ids, tc.offices) {
					t.Errorf("Resolve(%s, %s) = definedAt %s, summary %q, offices %v; want %s, %q, %v",
						tc.ars, tc.key, r.DefinedAt, r.Service.Summary, ids, tc.definedAt, tc.summary, tc.offices)
				}
			})
		}
		t.Run("Resolve/OfficeFields", func(t *testing.T) {
			r, err := cs.Resolve(ctx, arsGemA, pass)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(offices[1], r.Offices[0]); diff != "" {
				t.Errorf("office (-want +got):\n%s", diff)
			}
		})
		t.Run("Resolve/ErrNotFoundElsewhere", func(t *testing.T) {
			_, err := cs.Resolve(ctx, arsGemB, "dldb-777")
			if rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("err = %v, want not_found", err)
			}
		})

		keysOf := func(ss []catalog.Service) []string {
			var out []string
			for _, s := range ss {
				out = append(out, s.Tenant+"/"+s.Key)
			}
			return out
		}
		for _, tc := range []struct {
			name  string
			q     catalog.Query
			want  []string
			total int
		}{
			{"AllFromA", catalog.Query{Municipality: arsGemA},
				[]string{tenant.Bund + "/99001001000000", arsGemA + "/dldb-777", arsGemA + "/" + pass}, 3},
			{"NearestOnlyFromB", catalog.Query{Municipality: arsGemB},
				[]string{tenant.Bund + "/99001001000000", arsHessen + "/" + pass}, 2},
			{"OnlyNearestDescriptionMatches", catalog.Query{Municipality: arsGemA, Text: "hessen"}, nil, 0},
			{"InheritedDescriptionMatches", catalog.Query{Municipality: arsGemB, Text: "hessen"}, []string{arsHessen + "/" + pass}, 1},
			{"OnlyADefinesHund", catalog.Query{Municipality: arsGemB, Text: "Hund"}, nil, 0},
			{"HundInA", catalog.Query{Municipality: arsGemA, Text: "hunde"}, []string{arsGemA + "/dldb-777"}, 1},
			{"NameMatchFirst", catalog.Query{Municipality: "091620000000", Text: "ausweis"},
				[]string{tenant.Bund + "/" + pass, tenant.Bund + "/99001001000000"}, 2},
			{"NameMatchFirstDespitePunctuation", catalog.Query{Municipality: "091620000000", Text: "ausweis, -"},
				[]string{tenant.Bund + "/" + pass, tenant.Bund + "/99001001000000"}, 2},
			{"AllWordsMustMatch", catalog.Query{Municipality: "091620000000", Text: "ausweis angeln"},
				[]string{tenant.Bund + "/99001001000000"}, 1},
			{"UmlautFolding", catalog.Query{Municipality: arsGemA, Text: "Groß-Umstadt"}, []string{arsGemA + "/dldb-777", arsGemA + "/" + pass}, 2},
			{"UmlautTypedWithE", catalog.Query{Municipality: arsGemA, Text: "pruefung"}, []string{tenant.Bund + "/99001001000000"}, 1},
			{"UmlautTypedWithout", catalog.Query{Municipality: arsGemA, Text: "Prufung"}, []string{tenant.Bund + "/99001001000000"}, 1},
			{"Keyword", catalog.Query{Municipality: arsGemB, Text: "perso"}, []string{arsHessen + "/" + pass}, 1},
			{"Paging", catalog.Query{Municipality: arsGemA, Limit: 1, Offset: 1}, []string{arsGemA + "/dldb-777"}, 3},
			{"Lebenslage", catalog.Query{Municipality: arsGemA, Lebenslage: "Umzug & Wohnen"}, []string{arsGemA + "/" + pass}, 1},
			{"Themenfeld", catalog.Query{Themenfeld: "Familie & Kind"}, []string{tenant.Bund + "/" + pass}, 1},
			{"LebenslageIsExact", catalog.Query{Municipality: arsGemA, Lebenslage: "umzug & wohnen"}, nil, 0},
			{"LebenslageIsWhole", catalog.Query{Municipality: arsGemA, Lebenslage: "Umzug"}, nil, 0},
		} {
			t.Run("Search/"+tc.name, func(t *testing.T) {
				got, total, err := cs.Search(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, keysOf(got)); diff != "" || total != tc.total {
					t.Errorf("Search(%+v) total %d want %d (-want +got):\n%s", tc.q, total, tc.total, diff)
				}
			})
		}
		t.Run("Lebenslagen", func(t *testing.T) {
			ls := []catalog.Lebenslage{{ID: "2", Name: "Umzug", Themenfeld: "Bauen & Wohnen"}, {ID: "1", Name: "Geburt", Themenfeld: "Familie & Kind"}, {ID: "3", Name: "Bauen", Themenfeld: "Bauen & Wohnen"}}
			if err := cs.UpsertLebenslagen(ctx, ls); err != nil {
				t.Fatal(err)
			}
			got, err := cs.Lebenslagen(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []catalog.Lebenslage{ls[2], ls[0], ls[1]}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Lebenslagen (-want +got):\n%s", diff)
			}
		})
		t.Run("AllServices", func(t *testing.T) {
			n := 0
			if err := cs.AllServices(ctx, func(catalog.Service) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n != 5 {
				t.Errorf("AllServices saw %d, want 5", n)
			}
		})
	})
}

func TestIdentity(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		is := db.Identity()
		u, err := is.UpsertUser(ctx, identity.User{Kind: identity.KindStaff, Issuer: "https://idp.example", Subject: "s1",
			Name: "Erika Mustermann", Profile: identity.Profile{GivenName: "Erika", City: "Köln"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Run("UserRoundTrip", func(t *testing.T) {
			if len(u.ID) != 36 || u.CreatedAt.IsZero() {
				t.Fatalf("user = %+v", u)
			}
			got, err := is.User(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(*u, *got); diff != "" {
				t.Errorf("User (-want +got):\n%s", diff)
			}
		})
		t.Run("UpsertSameSubjectKeepsID", func(t *testing.T) {
			u2, err := is.UpsertUser(ctx, identity.User{Kind: identity.KindCitizen, Issuer: "https://idp.example", Subject: "s1", Name: "Erika M."})
			if err != nil {
				t.Fatal(err)
			}
			if u2.ID != u.ID || u2.Name != "Erika M." || u2.Kind != identity.KindStaff || !u2.CreatedAt.Equal(u.CreatedAt) {
				t.Errorf("re-upsert = %+v, want id %s kept, kind staff kept", u2, u.ID)
			}
			u3, _ := is.UpsertUser(ctx, identity.User{Issuer: "https://other.example", Subject: "s1"})
			if u3.ID == u.ID {
				t.Error("different issuer must give a different user")
			}
		})
		t.Run("ErrUserNotFound", func(t *testing.T) {
			if _, err := is.User(ctx, "nope"); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("err = %v", err)
			}
		})
		t.Run("Grants", func(t *testing.T) {
			gs := []identity.Grant{{UserID: u.ID, Tenant: arsKreisDaDi, Role: identity.RoleCaseworker}, {UserID: u.ID, Tenant: arsGemA, Role: identity.RoleServiceDesigner}}
			if err := is.SetGrants(ctx, u.ID, gs); err != nil {
				t.Fatal(err)
			}
			if err := is.SetGrants(ctx, u.ID, gs[:1]); err != nil {
				t.Fatal(err)
			}
			got, err := is.Grants(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(gs[:1], got); diff != "" {
				t.Errorf("Grants (-want +got):\n%s", diff)
			}
			if !identity.Allowed(got, identity.RoleCaseworker, arsGemB) || identity.Allowed(got, identity.RoleCaseworker, "091620000000") {
				t.Error("Allowed over stored grants is wrong")
			}
			if err := is.SetGrants(ctx, "missing", gs); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("grants for missing user: %v", err)
			}
			if err := is.SetGrants(ctx, u.ID, []identity.Grant{{Tenant: "x", Role: identity.RoleOperator}}); rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("bad tenant: %v", err)
			}
		})
		t.Run("Sessions", func(t *testing.T) {
			now := time.Now().UTC().Truncate(time.Microsecond)
			live := identity.Session{ID: "live-session-0123456789", UserID: u.ID, LoA: identity.LoASubstantial, IdP: "https://idp.example",
				AuthTime: now, ExpiresAt: now.Add(time.Hour), Tenant: arsGemA, Lang: "de"}
			dead := live
			dead.ID, dead.ExpiresAt = "dead-session-0123456789", now.Add(-time.Second)
			for _, s := range []identity.Session{live, dead} {
				if err := is.CreateSession(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			t.Run("IDNotStoredInClear", func(t *testing.T) {
				var n int
				if err := db.SQL().QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM sessions WHERE id = ? OR id = ?`), live.ID, dead.ID).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("%d session rows hold the cookie value in clear", n)
				}
				if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 2 {
					t.Errorf("sessions rows = %d, %v; want 2", n, err)
				}
			})
			if err := is.CreateSession(ctx, live); rathaus.ErrorCode(err) != rathaus.ECONFLICT {
				t.Errorf("duplicate session: %v", err)
			}
			got, err := is.Session(ctx, live.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(live, *got); diff != "" {
				t.Errorf("Session (-want +got):\n%s", diff)
			}
			if _, err := is.Session(ctx, dead.ID); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("expired session returned: %v", err)
			}
			live.Tenant, live.Lang, live.LoA = arsGemB, "en", identity.LoAHigh
			if err := is.UpdateSession(ctx, live); err != nil {
				t.Fatal(err)
			}
			got, _ = is.Session(ctx, live.ID)
			if got.Tenant != arsGemB || got.Lang != "en" || got.LoA != identity.LoASubstantial {
				t.Errorf("after update: %+v (only tenant and lang change)", got)
			}
			if err := is.UpdateSession(ctx, dead); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("update expired: %v", err)
			}
			t.Run("Touch", func(t *testing.T) {
				ts := is.(interface {
					TouchSession(context.Context, string, time.Time) error
				})
				later := now.Add(2 * time.Hour)
				if err := ts.TouchSession(ctx, live.ID, later); err != nil {
					t.Fatal(err)
				}
				if got, _ := is.Session(ctx, live.ID); got == nil || !got.ExpiresAt.Equal(later) {
					t.Errorf("after touch: %+v, want expiry %v", got, later)
				}
				if err := ts.TouchSession(ctx, live.ID, now.Add(time.Minute)); err != nil {
					t.Errorf("touch with an earlier time: %v", err)
				}
				if got, _ := is.Session(ctx, live.ID); got == nil || !got.ExpiresAt.Equal(later) {
					t.Errorf("touch shortened the session: %+v, want expiry %v", got, later)
				}
				for _, id := range []string{dead.ID, "missing-session-0123456789"} {
					if err := ts.TouchSession(ctx, id, later); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
						t.Errorf("touch %s: %v, want ENOTFOUND", id, err)
					}
				}
				if _, err := is.Session(ctx, dead.ID); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
					t.Errorf("touch revived an expired session: %v", err)
				}
			})
			n, err := db.DeleteExpiredSessions(ctx, time.Now())
			if err != nil || n != 1 {
				t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
			}
			if err := is.DeleteSession(ctx, live.ID); err != nil {
				t.Fatal(err)
			}
			if err := is.DeleteSession(ctx, live.ID); err != nil {
				t.Errorf("delete missing: %v", err)
			}
			if _, err := is.Session(ctx, live.ID); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("deleted session returned: %v", err)
			}
		})
	})
}

func TestAudit(t *testing.T) {
	type tamper struct {
		name    string
		sql     string
		wantSeq int64
	}
	for _, tc := range []tamper{
		{"Intact", "", 0},
		{"Altered", `UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`, 3},
		{"AlteredDetails", `UPDATE audit_log SET details = '{"n":"9"}' WHERE seq = 2`, 2},
		{"DeletedMiddle", `DELETE FROM audit_log WHERE seq = 2`, 2},
		{"DeletedTail", `DELETE FROM audit_log WHERE seq >= 4`, 4},
		{"DeletedAll", `DELETE FROM audit_log`, 1},
		{"Inserted", `INSERT INTO audit_log (seq, time, tenant, actor, action, object, details, prev, hash) VALUES (6, 1, '', 'x', 'forged', '', '{}', 'x', 'x')`, 6},
		{"HeadAltered", `UPDATE audit_head SET hash = 'forged' WHERE id = 1`, 5},
		{"Reordered", `UPDATE audit_log SET seq = CASE seq WHEN 2 THEN 102 WHEN 3 THEN 2 ELSE seq END WHERE seq IN (2, 3)`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
				ctx := context.Background()
				var last *audit.Entry
				for i := 1; i <= 5; i++ {
					e, err := db.Audit().Append(ctx, audit.Entry{Tenant: arsGemA, Actor: "cli", Action: "test", Object: fmt.Sprint("obj/", i),
						Details: map[string]string{"n": fmt.Sprint(i)}})
					if err != nil {
						t.Fatal(err)
					}
					if e.Seq != int64(i) || (last != nil && e.Prev != last.Hash) || e.Hash != audit.ComputeHash(*e) {
						t.Fatalf("append %d = %+v", i, e)
					}
					last = e
				}
				if tc.sql != "" {
					if _, err := db.SQL().ExecContext(ctx, tc.sql); err != nil {
						t.Fatal(err)
					}
				}
				seq, reason, err := audit.Verify(ctx, db.Audit())
				if err != nil {
					t.Fatal(err)
				}
				if seq != tc.wantSeq {
					t.Errorf("Verify = %d (%s), want %d", seq, reason, tc.wantSeq)
				}
			})
		})
	}
	t.Run("AppendInBusinessTx", func(t *testing.T) {
		forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
			ctx := context.Background()
			wantErr := fmt.Errorf("business step failed")
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				if _, err := db.AppendAudit(ctx, tx, audit.Entry{Action: "rolled.back"}); err != nil {
					return err
				}
				return wantErr
			})
			if err != wantErr {
				t.Fatalf("InTx = %v", err)
			}
			e, err := db.Audit().Append(ctx, audit.Entry{Action: "kept", Details: nil})
			if err != nil {
				t.Fatal(err)
			}
			if e.Seq != 1 {
				t.Errorf("seq after rolled back append = %d, want 1", e.Seq)
			}
			var got []audit.Entry
			db.Audit().Walk(ctx, func(e audit.Entry) error { got = append(got, e); return nil })
			if diff := cmp.Diff([]audit.Entry{*e}, got); diff != "" {
				t.Errorf("Walk (-want +got):\n%s", diff)
			}
			if seq, reason, _ := audit.Verify(ctx, db.Audit()); seq != 0 {
				t.Errorf("Verify = %d %s", seq, reason)
			}
		})
	})
}
