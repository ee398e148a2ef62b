// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"rathaus"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationLockID is the PostgreSQL advisory lock key that serialises
// migrations of several nodes starting at once ("rathaus" in ASCII).
const migrationLockID = 0x72617468617573

// migrations returns the embedded migration file names of the dialect in
// lexical order.
func (db *DB) migrations() ([]string, error) {
	dir := path.Join("migrations", db.dialect)
	ents, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// migrate applies every embedded migration that is not yet recorded in
// schema_migrations, each in its own transaction, in lexical order.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY,
		applied_at BIGINT NOT NULL)`); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot create schema_migrations")
	}
	names, err := db.migrations()
	if err != nil {
		return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot read embedded migrations")
	}
	for _, name := range names {
		body, err := migrationFS.ReadFile(path.Join("migrations", db.dialect, name))
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "cannot read migration %s", name)
		}
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if db.dialect == Postgres {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, db.Rebind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), name, time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return rathaus.Wrap(rathaus.EINTERNAL, err, "migration %s/%s failed", db.dialect, name)
		}
	}
	return nil
}

// MigrationsApplied reports whether every embedded migration of the dialect
// has been applied (for /readyz).
func (db *DB) MigrationsApplied(ctx context.Context) (bool, error) {
	names, err := db.migrations()
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
	for _, n := range names {
		if !applied[n] {
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
