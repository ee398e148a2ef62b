// SPDX-License-Identifier: EUPL-1.2

// Package sqltest gives tests a fresh, migrated, isolated store on each
// dialect:
//
//	for _, d := range sqltest.Dialects(t) {
//		t.Run(d, func(t *testing.T) {
//			db := sqltest.Open(t, d)
//			…
//		})
//	}
//
// SQLite lives in t.TempDir(). PostgreSQL uses the server at
// RATHAUS_TEST_POSTGRES_URL (the test skips without it) and a fresh schema
// per test, dropped in t.Cleanup.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"rathaus/internal/testenv"
	"rathaus/sqlstore"
)

// Dialects returns the dialects every store test runs on: "sqlite" and
// "postgres". Open skips the postgres subtest with a message when no server
// is configured.
func Dialects(tb testing.TB) []string {
	tb.Helper()
	return []string{sqlstore.SQLite, sqlstore.Postgres}
}

// Open returns a fresh, migrated store of the dialect that is closed (and,
// on PostgreSQL, dropped) when the test ends.
func Open(tb testing.TB, dialect string) *sqlstore.DB {
	tb.Helper()
	cfg := NewConfig(tb, dialect)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("sqltest: open %s: %v", dialect, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// NewConfig returns the configuration of a fresh, empty database of the
// dialect without opening it (for tests that start commands with --data or
// --db, or open it several times): SQLite in a new t.TempDir(), PostgreSQL
// as a new schema (dropped in t.Cleanup, after stores opened later in the
// test have been closed).
func NewConfig(tb testing.TB, dialect string) sqlstore.Config {
	tb.Helper()
	switch dialect {
	case sqlstore.SQLite:
		return sqlstore.Config{DataDir: tb.TempDir()}
	case sqlstore.Postgres:
		base := testenv.PostgresURL(tb)
		u, drop := freshSchema(tb, base)
		tb.Cleanup(drop)
		return sqlstore.Config{URL: u, MaxOpenConns: 4}
	}
	tb.Fatalf("sqltest: unknown dialect %q", dialect)
	return sqlstore.Config{}
}

// freshSchema creates a new schema on the server at base and returns a URL
// whose search_path points to it, and a function that drops it.
func freshSchema(tb testing.TB, base string) (string, func()) {
	tb.Helper()
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "rathaus_test_" + hex.EncodeToString(rnd[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("sqltest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		tb.Fatalf("sqltest: create schema on %s: %v", redact(base), err)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("sqltest: bad RATHAUS_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
			tb.Logf("sqltest: drop schema %s: %v", schema, err)
		}
		admin.Close()
	}
	return u.String(), drop
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
