// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"rathaus"
	"rathaus/audit"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
	"rathaus/tenant"
)

func TestRebind(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Config{URL: "sqlite::memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.Rebind("SELECT ? FROM x"); got != "SELECT ? FROM x" {
		t.Errorf("sqlite Rebind changed the query: %q", got)
	}
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"x LIKE '?%' AND y = ?", "x LIKE '?%' AND y = $1"},
		{`"we?rd" = ? -- why?` + "\n" + "AND z = ?", `"we?rd" = $1 -- why?` + "\n" + "AND z = $2"},
		{"it''s = ?", "it''s = $1"},
		{"unterminated '?", "unterminated '?"},
	} {
		if got := sqlstore.RebindDollar(tc.in); got != tc.want {
			t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzRebind(f *testing.F) {
	for _, s := range []string{"", "?", "a = ? AND 'x?' = ?", "--?\n?", `"?"?`, "'", "-", "??"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := sqlstore.RebindDollar(q)
		if strings.Count(got, "?") > strings.Count(q, "?") {
			t.Fatalf("Rebind(%q) = %q added question marks", q, got)
		}
		if !strings.Contains(q, "?") && got != q {
			t.Fatalf("Rebind(%q) = %q changed a query without placeholders", q, got)
		}
	})
}

func TestFold(t *testing.T) {
	for _, tc := range []struct{ in, ae, a string }{
		{"München, Landeshauptstadt", "muenchen, landeshauptstadt", "munchen, landeshauptstadt"},
		{"Groß-Umstadt", "gross-umstadt", "gross-umstadt"},
		{"  Frankfurt (Oder) ", "frankfurt oder", "frankfurt oder"},
		{"ÖSTERREICH Ärger ÜBEL", "oesterreich aerger uebel", "osterreich arger ubel"},
		{"Café René", "cafe rene", "cafe rene"},
		{"", "", ""},
	} {
		if got := sqlstore.Fold(tc.in); got != tc.ae {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.ae)
		}
		if got := sqlstore.FoldPlain(tc.in); got != tc.a {
			t.Errorf("FoldPlain(%q) = %q, want %q", tc.in, got, tc.a)
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"München", "ß", "  a  b ", "Ä%_\\", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := sqlstore.Fold(s)
		if got != sqlstore.Fold(got) {
			t.Fatalf("Fold not idempotent: %q → %q → %q", s, got, sqlstore.Fold(got))
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("Fold(%q) = %q has stray spaces", s, got)
		}
	})
}

func TestOpenConfig(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrNoDatabase", func(t *testing.T) {
		_, err := sqlstore.Open(ctx, sqlstore.Config{})
		if rathaus.ErrorCode(err) != rathaus.EINVALID {
			t.Errorf("err = %v, want invalid", err)
		}
	})
	t.Run("ErrUnsupportedURL", func(t *testing.T) {
		_, err := sqlstore.Open(ctx, sqlstore.Config{URL: "mysql://u:secret@h/db"})
		if rathaus.ErrorCode(err) != rathaus.EINVALID || strings.Contains(err.Error(), "secret") {
			t.Errorf("err = %v, want invalid without the password", err)
		}
	})
	t.Run("Memory", func(t *testing.T) {
		db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: ":memory:"})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{{ARS: tenant.Bund, Name: "Bund"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Tenants().Tenant(ctx, tenant.Bund); err != nil {
			t.Error(err)
		}
	})
	t.Run("OddPath", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "Daten mit Leerzeichen #1 ?x=ü")
		db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := os.Stat(filepath.Join(dir, "rathaus.db")); err != nil {
			t.Errorf("database not at the expected path: %v", err)
		}
	})
	t.Run("ReopenKeepsDataAndMigrations", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nested", "data")
		db, err := sqlstore.Open(ctx, sqlstore.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if db.Dialect() != sqlstore.SQLite || db.Path() != filepath.Join(dir, "rathaus.db") {
			t.Errorf("dialect %s path %s", db.Dialect(), db.Path())
		}
		var mode string
		db.SQL().QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		var sync int
		db.SQL().QueryRow(`PRAGMA synchronous`).Scan(&sync)
		var temp int
		db.SQL().QueryRow(`PRAGMA temp_store`).Scan(&temp)
		if mode != "wal" || sync != 2 || temp != 2 {
			t.Errorf("journal_mode %q synchronous %d temp_store %d, want wal, 2 (FULL) and 2 (MEMORY)", mode, sync, temp)
		}
		db.Tenants().UpsertTenants(ctx, []tenant.Tenant{{ARS: tenant.Bund, Name: "Bund"}})
		db.Close()
		db, err = sqlstore.Open(ctx, sqlstore.Config{URL: "sqlite:" + filepath.Join(dir, "rathaus.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Tenants().Tenant(ctx, tenant.Bund); err != nil {
			t.Error(err)
		}
		applied, _ := db.AppliedMigrations(ctx)
		if len(applied) == 0 || applied[0] != "0001_init.sql" {
			t.Errorf("applied = %v", applied)
		}
	})
}

func TestDB(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		t.Run("Ready", func(t *testing.T) {
			if err := db.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			ok, err := db.MigrationsApplied(ctx)
			if err != nil || !ok {
				t.Errorf("MigrationsApplied = %v, %v", ok, err)
			}
		})
		t.Run("InTxRollsBackOnPanic", func(t *testing.T) {
			func() {
				defer func() { recover() }()
				db.InTx(ctx, func(tx *sql.Tx) error {
					tx.ExecContext(ctx, db.Rebind(`INSERT INTO lebenslagen (id, name) VALUES (?, ?)`), "p", "panic")
					panic("boom")
				})
			}()
			ls, _ := db.Catalog().Lebenslagen(ctx)
			if len(ls) != 0 {
				t.Errorf("panicking tx committed: %v", ls)
			}
		})
		t.Run("AtomicReadsOwnWrites", func(t *testing.T) {
			err := db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if err := db.Tenants().UpsertTenants(ctx, []tenant.Tenant{{ARS: "010000000000", Name: "Schleswig-Holstein", Level: tenant.LevelLand}}); err != nil {
					return err
				}
				got, err := db.Tenants().Tenant(ctx, "010000000000")
				if err != nil {
					return err
				}
				if got.Name != "Schleswig-Holstein" {
					t.Errorf("read in Atomic = %+v", got)
				}
				return errors.New("roll back")
			})
			if err == nil || err.Error() != "roll back" {
				t.Fatalf("Atomic = %v", err)
			}
			if _, err := db.Tenants().Tenant(ctx, "010000000000"); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("rolled back tenant visible: %v", err)
			}
		})
		t.Run("ReaderIsReadOnly", func(t *testing.T) {
			if db.Dialect() != sqlstore.SQLite {
				t.Skip("separate reader pool only on SQLite")
			}
			if _, err := db.Reader().ExecContext(ctx, `INSERT INTO lebenslagen (id, name) VALUES ('r', 'r')`); err == nil {
				t.Error("write through the reader pool succeeded")
			}
		})
		t.Run("ConcurrentAuditAppends", func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 40)
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 10; i++ {
						if _, err := db.Audit().Append(ctx, audit.Entry{Actor: "w", Action: "concurrent"}); err != nil {
							errs <- err
						}
					}
				}()
			}
			// Verifying while others append never reports a broken chain.
			stop := make(chan struct{})
			verified := make(chan error, 1)
			go func() {
				for {
					select {
					case <-stop:
						verified <- nil
						return
					default:
					}
					if seq, reason, err := audit.Verify(ctx, db.Audit()); err != nil || seq != 0 {
						verified <- fmt.Errorf("Verify during appends = %d %s %v", seq, reason, err)
						return
					}
				}
			}()
			wg.Wait()
			close(stop)
			if err := <-verified; err != nil {
				t.Error(err)
			}
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			seq, reason, err := audit.Verify(ctx, db.Audit())
			if err != nil || seq != 0 {
				t.Errorf("Verify after concurrent appends = %d %s %v", seq, reason, err)
			}
			if h, _, _ := db.Audit().(audit.Header).Head(ctx); h != 40 {
				t.Errorf("head = %d, want 40", h)
			}
		})
	})
}

// TestSQLTestIsolation shows that two stores from sqltest do not share data.
func TestSQLTestIsolation(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			a, b := sqltest.Open(t, d), sqltest.Open(t, d)
			ctx := context.Background()
			if err := a.Tenants().UpsertTenants(ctx, []tenant.Tenant{{ARS: tenant.Bund, Name: "Bund"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Tenants().Tenant(ctx, tenant.Bund); rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				t.Errorf("second store sees the first one's data: %v", err)
			}
		})
	}
}
