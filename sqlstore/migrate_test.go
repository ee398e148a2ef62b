// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/fstest"

	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

var registerOnce sync.Once

func TestRegisterMigrations(t *testing.T) {
	files := func(typ string) fstest.MapFS {
		return fstest.MapFS{
			"0001_items.sql": {Data: []byte(`CREATE TABLE zz_items (tenant TEXT NOT NULL, id TEXT NOT NULL, n ` + typ + ` NOT NULL, PRIMARY KEY (tenant, id));`)},
			"0002_more.sql":  {Data: []byte(`ALTER TABLE zz_items ADD COLUMN note TEXT NOT NULL DEFAULT '';`)},
			"README.md":      {Data: []byte("not a migration")},
		}
	}
	registerOnce.Do(func() { // registration is global: -count=N runs this test N times
		sqlstore.RegisterMigrations(sqlstore.Migrations{Name: "zztest", SQLite: files("INTEGER"), Postgres: files("BIGINT")})
	})
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

// TestConcurrentOpenFresh starts several nodes on one empty database at once
// (TestConcurrentOpen migrates first):
// every Open succeeds and each migration is recorded once.
func TestConcurrentOpenFresh(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			cfg := sqltest.NewConfig(t, d)
			ctx := context.Background()
			const nodes = 4
			dbs := make([]*sqlstore.DB, nodes)
			errs := make([]error, nodes)
			var wg sync.WaitGroup
			for i := range nodes {
				wg.Go(func() { dbs[i], errs[i] = sqlstore.Open(ctx, cfg) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("node %d: %v", i, err)
				} else {
					defer dbs[i].Close()
				}
			}
			if t.Failed() {
				return
			}
			var n, distinct int
			if err := dbs[0].SQL().QueryRowContext(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
				t.Fatal(err)
			}
			if n == 0 || n != distinct {
				t.Errorf("schema_migrations has %d rows for %d versions", n, distinct)
			}
		})
	}
}
