// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"testing/fstest"

	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

func TestRegisterMigrations(t *testing.T) {
	files := func(typ string) fstest.MapFS {
		return fstest.MapFS{
			"0001_items.sql": {Data: []byte(`CREATE TABLE zz_items (tenant TEXT NOT NULL, id TEXT NOT NULL, n ` + typ + ` NOT NULL, PRIMARY KEY (tenant, id));`)},
			"0002_more.sql":  {Data: []byte(`ALTER TABLE zz_items ADD COLUMN note TEXT NOT NULL DEFAULT '';`)},
			"README.md":      {Data: []byte("not a migration")},
		}
	}
	sqlstore.RegisterMigrations(sqlstore.Migrations{Name: "zztest", SQLite: files("INTEGER"), Postgres: files("BIGINT")})
	t.Run("DuplicatePanics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("second registration did not panic")
			}
		}()
		sqlstore.RegisterMigrations(sqlstore.Migrations{Name: "zztest"})
	})
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			cfg := sqltest.NewConfig(t, d)
			ctx := context.Background()
			for range 2 { // the second Open applies nothing new
				db, err := sqlstore.Open(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.SQL().ExecContext(ctx, db.Rebind(`INSERT INTO zz_items (tenant, id, n, note) VALUES (?, ?, ?, ?)
					ON CONFLICT (tenant, id) DO NOTHING`), "000000000000", "a", 1, "x"); err != nil {
					t.Fatal(err)
				}
				applied, err := db.AppliedMigrations(ctx)
				if err != nil {
					t.Fatal(err)
				}
				// The core schema first (other packages add core files),
				// then the registered package's files in order.
				want := []string{"0001_init.sql", "zztest/0001_items.sql", "zztest/0002_more.sql"}
				if len(applied) >= 3 {
					applied = append(applied[:1:1], applied[len(applied)-2:]...)
				}
				if !slices.Equal(applied, want) {
					t.Errorf("applied = %v, want %v", applied, want)
				}
				if ok, err := db.MigrationsApplied(ctx); !ok || err != nil {
					t.Errorf("MigrationsApplied = %v, %v", ok, err)
				}
				db.Close()
			}
		})
	}
}
