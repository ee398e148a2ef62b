// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"rathaus"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationLockID is the PostgreSQL advisory lock key that serialises
// migrations of several nodes starting at once ("rathaus" in ASCII).
const migrationLockID = 0x72617468617573

// Migrations are the schema files of one package beyond the core schema
// (e.g. the process engine's tables). Each FS holds *.sql files at its root,
// applied in lexical order, each in its own transaction; they are recorded
// in schema_migrations as "<Name>/<file>".
type Migrations struct {
	Name     string // package name, e.g. "process"; unique
	SQLite   fs.FS  // files for the "sqlite" dialect
	Postgres fs.FS  // files for the "postgres" dialect
}

var (
	extraMu         sync.Mutex
	extraMigrations = map[string]Migrations{}
)

// RegisterMigrations adds the migrations of a package; Open applies them
// after the core schema, packages in name order. Call it from init:
//
//	//go:embed migrations
//	var migrations embed.FS
//
//	func init() {
//		sqlite, _ := fs.Sub(migrations, "migrations/sqlite")
//		postgres, _ := fs.Sub(migrations, "migrations/postgres")
//		sqlstore.RegisterMigrations(sqlstore.Migrations{Name: "process", SQLite: sqlite, Postgres: postgres})
//	}
//
// It panics on an empty or duplicate name (a programming error).
func RegisterMigrations(m Migrations) {
	extraMu.Lock()
	defer extraMu.Unlock()
	if m.Name == "" || strings.ContainsAny(m.Name, "/ ") {
		panic("sqlstore: RegisterMigrations needs a simple name")
	}
	if _, dup := extraMigrations[m.Name]; dup {
		panic("sqlstore: migrations " + m.Name + " registered twice")
	}
	extraMigrations[m.Name] = m
}

// migration is one file to apply.
type migration struct {
	version string // recorded name
	fsys    fs.FS
	file    string
}

// migrations returns every migration of the dialect: the core schema first,
// then registered packages in name order, each in lexical file order.
func (db *DB) migrations() ([]migration, error) {
	core, err := fs.Sub(migrationFS, path.Join("migrations", db.dialect))
	if err != nil {
		return nil, err
	}
	out, err := listMigrations("", core)
	if err != nil {
		return nil, err
	}
	extraMu.Lock()
	names := make([]string, 0, len(extraMigrations))
	for n := range extraMigrations {
		names = append(names, n)
	}
	sort.Strings(names)
	sets := make([]Migrations, len(names))
	for i, n := range names {
		sets[i] = extraMigrations[n]
	}
	extraMu.Unlock()
	for _, m := range sets {
		fsys := m.SQLite
		if db.dialect == Postgres {
			fsys = m.Postgres
		}
		if fsys == nil {
			return nil, fmt.Errorf("migrations %s have no files for dialect %s", m.Name, db.dialect)
		}
		ms, err := listMigrations(m.Name+"/", fsys)
		if err != nil {
			return nil, fmt.Errorf("migrations %s: %w", m.Name, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

func listMigrations(prefix string, fsys fs.FS) ([]migration, error) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			out = append(out, migration{version: prefix + e.Name(), fsys: fsys, file: e.Name()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].file < out[j].file })
	return out, nil
}

// migrate applies every migration that is not yet recorded in
// schema_migrations, each in its own transaction, in order.
func (db *DB) migrate(ctx context.Context) error {
	// Under the advisory lock on PostgreSQL: two nodes running CREATE TABLE
	// IF NOT EXISTS at once on an empty database collide in the catalog.
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if db.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY,
		applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot create schema_migrations")
	}
	ms, err := db.migrations()
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot read migrations")
	}
	for _, m := range ms {
		body, err := fs.ReadFile(m.fsys, m.file)
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot read migration %s", m.version)
		}
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if db.dialect == Postgres {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), m.version, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "migration %s (%s) failed", m.version, db.dialect)
		}
	}
	return nil
}

// MigrationsApplied reports whether every migration of the dialect (core and
// registered) has been applied (for /readyz).
func (db *DB) MigrationsApplied(ctx context.Context) (bool, error) {
	ms, err := db.migrations()
	if err != nil {
		return false, err
	}
	applied := map[string]bool{}
	rows, err := db.r.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return false, err
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, m := range ms {
		if !applied[m.version] {
			return false, nil
		}
	}
	return true, nil
}

// AppliedMigrations lists the recorded migrations in order (for `rathaus migrate`).
func (db *DB) AppliedMigrations(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
