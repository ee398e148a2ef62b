// SPDX-License-Identifier: EUPL-1.2

// Package sqlstore implements every domain Store of rathaus (tenant, catalog,
// identity, audit) on database/sql, for two dialects:
//
//   - "sqlite": the embedded default, modernc.org/sqlite (pure Go) in
//     DataDir/rathaus.db, WAL journal, synchronous=FULL, foreign keys on;
//   - "postgres": PostgreSQL through pgx v5's database/sql driver, selected by
//     a postgres:// URL.
//
// Both share *sql.Tx, so a business step (domain write + job enqueue + audit
// entry) commits in one transaction through DB.InTx. Embedded migrations per
// dialect run at Open. Queries are written once with "?" placeholders and
// rebound for PostgreSQL (DB.Rebind).
//
// # SQLite connection pools
//
// SQLite allows one writer at a time. Instead of retrying SQLITE_BUSY, every
// write goes through a writer pool with exactly one connection (DB.SQL, and
// DB.InTx which begins IMMEDIATE transactions): writers queue in Go, never in
// SQLite. Reads use a separate reader pool (DB.Reader, query_only) that sees
// the last committed state thanks to WAL and never blocks the writer.
// Consequence for callers: inside InTx, do not call anything that needs the
// writer pool again (another InTx, a Store write method) — it would wait for
// the connection that the running transaction holds. Use the *sql.Tx you were
// given (see DB.AppendAudit for the audit entry of a business step).
//
// synchronous=FULL: an acknowledged (committed) submission survives power
// loss, not only a process crash; WAL+NORMAL could lose the last commits.
//
// # Group commit
//
// With synchronous=FULL every commit is an fsync, which bounds a SQLite
// store at a few hundred transactions per second. With Config.GroupCommit
// on (the default for SQLite; RATHAUS_DB_GROUP_COMMIT=on|off|auto in
// cmd/rathaus) InTx and Atomic hand fn to a committer goroutine owned by
// the DB. It takes the waiting calls (up to 128), opens one transaction and
// lets each caller, in turn and in its own goroutine, run fn inside a
// SAVEPOINT; a failing or panicking fn is rolled back to its savepoint
// alone (its caller gets its error or panic again), the others are
// released, and one COMMIT makes them all durable before any of them
// returns. Semantics are those of serial transactions: each fn sees the
// writes of the fns before it in the group through its tx, readers (the
// reader pool) see nothing before the commit. Two consequences: inside fn,
// read through tx (or the ctx of Atomic) — the reader pool does not see the
// group's earlier, not yet committed writes; and, as before, fn must not
// use the writer pool (DB.SQL, another InTx with a fresh ctx) — it would
// wait for the committer that waits for fn. A caller whose ctx ends before
// its turn gets ctx.Err() and runs nothing. If SQLite rolls back the whole
// transaction (e.g. a write interrupted by a cancelled ctx), the callers
// whose fn already ran in that group get an EUNAVAILABLE error (retryable)
// and those whose turn had not come move on to the next group. fn must
// close every Rows it opens before it returns: SQLite cannot release or
// open a savepoint while a statement is still in progress, so a leaked
// cursor makes its whole group fail (EUNAVAILABLE) — without group
// commit Tx.Commit would have closed it. DB.Stats and DB.Collectors
// (rathaus_db_group_commits_total, rathaus_db_group_size) count the groups.
//
// # Statement cache (SQLite)
//
// modernc.org/sqlite parses and plans the SQL of every db.Exec/Query anew,
// and database/sql caches nothing per connection. Every connection of the
// SQLite writer and reader pools therefore keeps an LRU of 256 prepared
// statements keyed by the SQL text (stmtcache.go), which serves
// ExecContext and QueryContext — ours and River's alike. Only single
// statements are cached (SQL with a ';' before its end outside literals and
// comments, e.g. a migration script, runs uncached); a statement whose rows are still open is not
// used again until they are closed (a nested query with the same SQL gets
// a fresh, uncached statement); failed, interrupted (ctx) and finished
// statements are reset by modernc, SQLite re-prepares a cached statement
// after a schema change, and closing a connection finalizes its cache.
// Explicitly prepared statements (db.Prepare) are not cached. Config.StmtCache
// "off" (RATHAUS_SQLITE_STMT_CACHE=off in cmd/rathaus) turns it off.
//
// # Time values
//
// Times are stored as BIGINT microseconds since the Unix epoch (UTC) in both
// dialects, so that round trips are exact and comparisons are portable.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"rathaus"
)

// Dialect names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Config says where the store lives.
type Config struct {
	// DataDir holds rathaus.db for SQLite. ":memory:" gives a private
	// in-memory database (one connection; for tests and demos).
	DataDir string
	// URL selects the database: "postgres://…" or "postgresql://…" selects
	// PostgreSQL; "sqlite::memory:" an in-memory SQLite database;
	// "sqlite:PATH" or "file:PATH" a SQLite file. Empty uses DataDir.
	URL string
	// MaxOpenConns bounds the reader pool (SQLite) or the pool (PostgreSQL).
	// 0 means a default (4 for SQLite readers, 10 for PostgreSQL).
	MaxOpenConns int
	// GroupCommit lets concurrent write transactions (InTx, Atomic) share
	// one commit: "auto" (or "") is on for SQLite and off for PostgreSQL,
	// "on" and "off" force it (see the package doc). cmd/rathaus sets it
	// from RATHAUS_DB_GROUP_COMMIT.
	GroupCommit string
	// StmtCache is the per-connection prepared-statement cache of the
	// SQLite pools (see the package doc): "" or "on" (the default) keeps
	// it on, "off" turns it off. cmd/rathaus sets it from
	// RATHAUS_SQLITE_STMT_CACHE. Ignored for PostgreSQL.
	StmtCache string
}

// DB is an open store. It is safe for concurrent use.
type DB struct {
	dialect string
	w       *sql.DB         // writer pool (SQLite: 1 connection); the only pool on PostgreSQL
	r       *sql.DB         // reader pool (SQLite); == w on PostgreSQL and in-memory SQLite
	path    string          // SQLite file, "" otherwise
	group   *groupCommitter // nil: group commit off
}

// Open opens the store described by cfg, pings it and applies the embedded
// migrations of its dialect.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	db, err := open(cfg)
	if err != nil {
		return nil, err
	}
	on, err := groupMode(cfg.GroupCommit, db.dialect)
	if err != nil {
		db.Close()
		return nil, err
	}
	if on {
		db.group = newGroupCommitter(db)
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Datenbank nicht erreichbar / database unreachable")
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func open(cfg Config) (*DB, error) {
	u := cfg.URL
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		p, err := sql.Open("pgx", u)
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EINVALID, err, "invalid database URL")
		}
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = 10
		}
		p.SetMaxOpenConns(n)
		p.SetMaxIdleConns(n)
		p.SetConnMaxIdleTime(5 * time.Minute)
		return &DB{dialect: Postgres, w: p, r: p}, nil
	case u == "sqlite::memory:", u == "" && cfg.DataDir == ":memory:":
		return openSQLite("", cfg)
	case strings.HasPrefix(u, "sqlite:"):
		return openSQLite(strings.TrimPrefix(u, "sqlite:"), cfg)
	case strings.HasPrefix(u, "file:"):
		return openSQLite(strings.TrimPrefix(u, "file:"), cfg)
	case u != "":
		return nil, rathaus.Errorf(rathaus.EINVALID, "unsupported database URL %q (want postgres://… or sqlite:PATH)", redact(u))
	case cfg.DataDir == "":
		return nil, rathaus.Errorf(rathaus.EINVALID, "no database: set a data directory (--data) or a database URL (--db)")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot create data directory %s", cfg.DataDir)
	}
	return openSQLite(filepath.Join(cfg.DataDir, "rathaus.db"), cfg)
}

// openSQLite opens the writer and reader pools on path ("" = in memory),
// with the statement cache of stmtcache.go unless cfg.StmtCache is "off".
func openSQLite(path string, cfg Config) (*DB, error) {
	readers := cfg.MaxOpenConns
	cache, err := stmtCacheOn(cfg.StmtCache)
	if err != nil {
		return nil, err
	}
	// temp_store=MEMORY: statement and savepoint journals (every member of
	// a group commit runs under a SAVEPOINT) stay in memory instead of
	// temporary files; they hold at most one transaction's undo pages.
	const pragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)"
	if path == "" {
		w, err := openSQLitePool("file::memory:?"+pragmas+"&_txlock=immediate", cache, true)
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		return &DB{dialect: SQLite, w: w, r: w}, nil
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas + "&_pragma=journal_mode(WAL)"
	w, err := openSQLitePool(dsn+"&_txlock=immediate", cache, true)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Make sure the file exists and is in WAL mode before readers open it.
	// Switching a fresh file to WAL takes an exclusive lock, and SQLite
	// answers SQLITE_BUSY at once (without its busy handler) when another
	// process does the same at that moment, e.g. `serve` and an import
	// starting together: retry for a while before giving up.
	if err := pingSQLite(w); err != nil {
		w.Close()
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot open database %s", path)
	}
	r, err := openSQLitePool(dsn+"&_pragma=query_only(1)", cache, false)
	if err != nil {
		w.Close()
		return nil, err
	}
	if readers <= 0 {
		readers = 4
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	return &DB{dialect: SQLite, w: w, r: r, path: path}, nil
}

// redact removes a password from a URL for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Close stops the group committer (after its current group; callers still
// waiting get an EUNAVAILABLE error) and closes all pools.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.stop()
	}
	var errs []error
	if db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	return errors.Join(errs...)
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Path returns the SQLite database file, or "" (PostgreSQL, in memory).
func (db *DB) Path() string { return db.path }

// SQL returns the pool for writes and for anything that must see its own
// writes (on SQLite the single-connection writer pool; see the package doc).
func (db *DB) SQL() *sql.DB { return db.w }

// Reader returns the pool for read-only queries. On SQLite it is a separate
// query_only pool; on PostgreSQL it is the same pool as SQL.
func (db *DB) Reader() *sql.DB { return db.r }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return err
	}
	if db.r != db.w {
		return db.r.PingContext(ctx)
	}
	return nil
}

// InTx runs fn in one transaction on the writer pool: it commits when fn
// returns nil and rolls back otherwise (also on panic). On SQLite the
// transaction is BEGIN IMMEDIATE, so it never fails half-way with
// SQLITE_BUSY. With a ctx from Atomic it runs fn in that transaction.
//
// With group commit on, fn runs (in the caller's goroutine) inside a
// savepoint of a transaction shared with other concurrent callers; InTx
// returns nil only after that transaction committed, fn's error (its writes
// rolled back, the others' kept) when fn fails, and an EUNAVAILABLE error
// (retryable) when the shared commit fails.
//
// On SQLite a statement inside the transaction runs to its end even when
// its ctx is cancelled meanwhile: SQLite rolls back the whole transaction
// on an interrupted write, which under group commit would undo the other
// callers' savepoints. database/sql refuses a cancelled caller's next
// statement, so fn still stops there.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	if tx := txFrom(ctx); tx != nil {
		return fn(tx) // joined: the outer Atomic commits or rolls back
	}
	if db.group != nil {
		return db.group.inTx(ctx, fn)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Datenbank nicht verfügbar / database unavailable")
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "commit failed")
	}
	return nil
}

// Rebind rewrites "?" placeholders to "$1, $2, …" for PostgreSQL and returns
// q unchanged for SQLite. Question marks inside single-quoted string
// literals, double-quoted identifiers and comments are left alone.
func (db *DB) Rebind(q string) string {
	if db.dialect != Postgres {
		return q
	}
	return rebindDollar(q)
}

func rebindDollar(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				j++
			}
			if j >= len(q) {
				j = len(q) - 1
			}
			b.WriteString(q[i : j+1])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i - 1
			}
			b.WriteString(q[i : i+j+1])
			i += j
		case c == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// micros converts t to stored microseconds; the zero time is stored as 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts stored microseconds back to UTC; 0 is the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// queryer is what *sql.DB and *sql.Tx share for reading.
type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// rd returns where a read should go: the transaction joined by ctx (see
// Atomic), so a step reads its own writes, or else the reader pool.
func (db *DB) rd(ctx context.Context) queryer {
	if tx := txFrom(ctx); tx != nil {
		return tx
	}
	return db.r
}

// pingSQLite opens the first connection, retrying while the file is locked
// by another opener (up to about ten seconds).
func pingSQLite(w *sql.DB) error {
	var err error
	for wait := 5 * time.Millisecond; ; wait *= 2 {
		if err = w.Ping(); err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") || wait > 5*time.Second {
			return err
		}
		time.Sleep(wait)
	}
}
