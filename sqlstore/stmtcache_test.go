// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"
)

// openCachePool opens a one-connection pool on a fresh SQLite file whose
// connection caches size statements.
func openCachePool(t *testing.T, size int) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "c.db") + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate"
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(&stmtCacheConnector{base: base, size: size})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// cacheStats returns the counters of the (only) connection of db.
func cacheStats(t *testing.T, db *sql.DB) stmtCacheStats {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var st stmtCacheStats
	err = c.Raw(func(dc any) error {
		cc, ok := dc.(*cachedConn)
		if !ok {
			return fmt.Errorf("driver conn is %T, want *cachedConn", dc)
		}
		st = cc.stats
		if len(cc.m) != st.open-cc.gone() {
			return fmt.Errorf("map holds %d statements, counter %d", len(cc.m), st.open)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// gone counts evicted statements still waiting for their rows to close.
func (cc *cachedConn) gone() int {
	n := cc.stats.open
	for e := cc.head.next; e != &cc.head; e = e.next {
		n--
	}
	return n
}

func mustExec(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestStmtCacheCacheable(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{"SELECT 1", true},
		{"SELECT 1;", true},
		{"SELECT 1 ;  \n\t", true},
		{"INSERT INTO t(a) VALUES (?)", true},
		{"", false},
		{"   ", false},
		{";", false},
		{"CREATE TABLE a(x); CREATE TABLE b(y)", false},
		{"CREATE TABLE a(x); CREATE TABLE b(y);", false},
		{"SELECT ';'", true},
		{"SELECT 'it''s;'", true},
		{`SELECT "a;b" FROM t`, true},
		{"SELECT [a;b] FROM t", true},
		{"SELECT `a;b` FROM t", true},
		{"-- name: X :one\n-- a; b (it's)\nUPDATE t SET a = 1 /* c; 'd */ WHERE b = ?", true},
		{"SELECT 1 -- trailing; comment", true},
		{"SELECT 1 -- trailing comment\n;\n", true},
		{"SELECT 1; -- comment", false},
		{"SELECT 1; /* c */", false},
		{"SELECT 'unterminated;", false},
		{"SELECT 1 /* unterminated; ", false},
		{"SELECT [x", false},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; END", false},
		{strings.Repeat("x", stmtCacheMaxSQL+1), false},
	} {
		t.Run(fmt.Sprintf("%.30q", tc.q), func(t *testing.T) {
			if got := cacheable(tc.q); got != tc.want {
				t.Errorf("cacheable(%q) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// TestStmtCacheForwardsInterfaces: every exported method of modernc's
// connection (and so every optional driver interface and modernc extension
// it implements) exists on the wrapper with the same signature.
func TestStmtCacheForwardsInterfaces(t *testing.T) {
	base, err := sqlite.NewConnector("file::memory:")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wrapped := newCachedConn(raw, 4, false)
	defer wrapped.Close()
	if _, ok := wrapped.(*cachedConn); !ok {
		t.Fatalf("modernc conn %T not wrapped: it lacks one of the sqliteConn interfaces", raw)
	}
	rt, wt := reflect.TypeOf(raw), reflect.TypeOf(wrapped)
	for i := range rt.NumMethod() {
		m := rt.Method(i)
		switch m.Name {
		case "Lock", "TryLock", "Unlock": // modernc's embedded sync.Mutex, not an API
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			wm, ok := wt.MethodByName(m.Name)
			if !ok {
				t.Fatalf("wrapper lacks %s%s", m.Name, m.Type)
			}
			// compare without the receiver
			if got, want := methodSig(wm.Type), methodSig(m.Type); got != want {
				t.Errorf("%s: wrapper %s, modernc %s", m.Name, got, want)
			}
		})
	}
	for _, iface := range []reflect.Type{
		reflect.TypeFor[driver.SessionResetter](),
		reflect.TypeFor[driver.Validator](),
		reflect.TypeFor[driver.NamedValueChecker](),
		reflect.TypeFor[driver.Pinger](),
		reflect.TypeFor[driver.ConnBeginTx](),
		reflect.TypeFor[driver.ConnPrepareContext](),
		reflect.TypeFor[driver.ExecerContext](),
		reflect.TypeFor[driver.QueryerContext](),
		reflect.TypeFor[driver.Execer](),  //nolint:staticcheck
		reflect.TypeFor[driver.Queryer](), //nolint:staticcheck
		reflect.TypeFor[sqlite.AuthorizerRegisterer](),
		reflect.TypeFor[sqlite.DBStatus](),
		reflect.TypeFor[sqlite.FileControl](),
		reflect.TypeFor[sqlite.HookRegisterer](),
		reflect.TypeFor[sqlite.ExecQuerierContext](),
	} {
		if rt.Implements(iface) != wt.Implements(iface) {
			t.Errorf("%v: modernc %v, wrapper %v", iface, rt.Implements(iface), wt.Implements(iface))
		}
	}
	// sqlite.Limit unwraps the connection.
	db := openCachePool(t, 4)
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := sqlite.Limit(c, 0 /* SQLITE_LIMIT_LENGTH */, -1); err != nil {
		t.Errorf("sqlite.Limit through the wrapper: %v", err)
	}
}

func methodSig(ft reflect.Type) string {
	var b strings.Builder
	b.WriteString("(")
	for i := 1; i < ft.NumIn(); i++ {
		fmt.Fprintf(&b, "%v,", ft.In(i))
	}
	b.WriteString(")(")
	for i := range ft.NumOut() {
		fmt.Fprintf(&b, "%v,", ft.Out(i))
	}
	b.WriteString(")")
	return b.String()
}

// TestStmtCacheRowsColumnTypes: the rows of a cached statement report the
// same column types as modernc's.
func TestStmtCacheRowsColumnTypes(t *testing.T) {
	db := openCachePool(t, 8)
	mustExec(t, db, "CREATE TABLE t(a INTEGER NOT NULL, b TEXT, c REAL, d BLOB)")
	mustExec(t, db, "INSERT INTO t VALUES (1, 'x', 1.5, x'00')")
	const q = "SELECT a, b, c, d FROM t"
	get := func(db *sql.DB) []string {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cts, err := rows.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ct := range cts {
			n, nok := ct.Nullable()
			l, lok := ct.Length()
			out = append(out, fmt.Sprintf("%s %s %v/%v %v/%v %v", ct.Name(), ct.DatabaseTypeName(), n, nok, l, lok, ct.ScanType()))
		}
		return out
	}
	got := get(db)
	plain, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	mustExec(t, plain, "CREATE TABLE t(a INTEGER NOT NULL, b TEXT, c REAL, d BLOB)")
	mustExec(t, plain, "INSERT INTO t VALUES (1, 'x', 1.5, x'00')")
	if want := get(plain); !reflect.DeepEqual(got, want) {
		t.Errorf("column types\n got %q\nwant %q", got, want)
	}
}

func TestStmtCacheReuse(t *testing.T) {
	db := openCachePool(t, 8)
	mustExec(t, db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL, at TIMESTAMP)")
	before := cacheStats(t, db)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for i := range 50 {
		mustExec(t, db, "INSERT INTO t(id, v, at) VALUES (?, ?, ?)", i, fmt.Sprint("v", i), now)
	}
	for i := range 50 {
		var v string
		var at time.Time
		if err := db.QueryRow("SELECT v, at FROM t WHERE id = ?", i).Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		if v != fmt.Sprint("v", i) || !at.Equal(now) {
			t.Fatalf("row %d: %q %v", i, v, at)
		}
	}
	st := cacheStats(t, db)
	if got := st.misses - before.misses; got != 2 {
		t.Errorf("misses = %d, want 2 (one per SQL text)", got)
	}
	if got := st.hits - before.hits; got != 98 {
		t.Errorf("hits = %d, want 98", got)
	}
}

// TestStmtCacheNested: the same SQL run while its rows are open gets its own
// statement; both result sets are complete and the cached statement serves
// the next call.
func TestStmtCacheNested(t *testing.T) {
	db := openCachePool(t, 8)
	mustExec(t, db, "CREATE TABLE t(id INTEGER PRIMARY KEY)")
	for i := range 5 {
		mustExec(t, db, "INSERT INTO t(id) VALUES (?)", i)
	}
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const q = "SELECT id FROM t WHERE id >= ? ORDER BY id"
	scan := func(rows *sql.Rows) []int {
		var ids []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	outer, err := c.QueryContext(ctx, q, 3)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for outer.Next() {
		var id int
		if err := outer.Scan(&id); err != nil {
			t.Fatal(err)
		}
		inner, err := c.QueryContext(ctx, q, id)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, fmt.Sprint(id, scan(inner)))
		inner.Close()
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if want := []string{"3 [3 4]", "4 [4]"}; !reflect.DeepEqual(pairs, want) {
		t.Errorf("nested = %q, want %q", pairs, want)
	}
	c.Close()
	st := cacheStats(t, db)
	if st.busy != 2 {
		t.Errorf("busy = %d, want 2 (the inner queries)", st.busy)
	}
	rows, err := db.Query(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := scan(rows); !reflect.DeepEqual(got, []int{0, 1, 2, 3, 4}) {
		t.Errorf("after nesting: %v", got)
	}
	rows.Close()
	if st2 := cacheStats(t, db); st2.hits != st.hits+1 || st2.busy != st.busy {
		t.Errorf("after nesting: hits %d→%d busy %d→%d, want a hit", st.hits, st2.hits, st.busy, st2.busy)
	}
}

// TestStmtCacheErrorsReset: a statement whose step failed is reset and
// serves the next call with other arguments.
func TestStmtCacheErrorsReset(t *testing.T) {
	db := openCachePool(t, 8)
	mustExec(t, db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)")
	ins := "INSERT INTO t(id, v) VALUES (?, ?)"
	ret := "INSERT INTO t(id, v) VALUES (?, ?) RETURNING id"
	t.Run("exec", func(t *testing.T) {
		mustExec(t, db, ins, 1, "a")
		if _, err := db.Exec(ins, 2, "a"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
			t.Fatalf("duplicate: err = %v, want UNIQUE constraint", err)
		}
		if _, err := db.Exec(ins, 2, nil); err == nil || !strings.Contains(err.Error(), "NOT NULL") {
			t.Fatalf("null: err = %v, want NOT NULL constraint", err)
		}
		mustExec(t, db, ins, 2, "b")
	})
	t.Run("query", func(t *testing.T) {
		var id int
		if err := db.QueryRow(ret, 3, "a").Scan(&id); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
			t.Fatalf("duplicate: err = %v, want UNIQUE constraint", err)
		}
		if err := db.QueryRow(ret, 3, "c").Scan(&id); err != nil || id != 3 {
			t.Fatalf("after error: id %d, err %v", id, err)
		}
	})
	t.Run("in tx, rolled back", func(t *testing.T) {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, ins, 4, "d")
		if _, err := tx.Exec(ins, 5, "d"); err == nil {
			t.Fatal("duplicate in tx accepted")
		}
		tx.Rollback()
		mustExec(t, db, ins, 4, "d")
	})
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 4 {
		t.Fatalf("rows = %d, %v; want 4", n, err)
	}
	if st := cacheStats(t, db); st.hits == 0 {
		t.Errorf("no cache hits: %+v", st)
	}
}

// TestStmtCacheSchemaChange: cached statements see ALTER TABLE and
// DROP+CREATE (SQLite re-prepares them).
func TestStmtCacheSchemaChange(t *testing.T) {
	db := openCachePool(t, 8)
	mustExec(t, db, "CREATE TABLE t(a INTEGER)")
	mustExec(t, db, "INSERT INTO t(a) VALUES (1)")
	cols := func() []string {
		t.Helper()
		rows, err := db.Query("SELECT * FROM t")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		return c
	}
	if got := cols(); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("columns %v", got)
	}
	mustExec(t, db, "ALTER TABLE t ADD COLUMN b TEXT")
	if got := cols(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("after ALTER: columns %v, want [a b]", got)
	}
	mustExec(t, db, "DROP TABLE t")
	if _, err := db.Query("SELECT * FROM t"); err == nil {
		t.Error("query on dropped table succeeded")
	}
	if _, err := db.Exec("INSERT INTO t(a) VALUES (?)", 2); err == nil {
		t.Error("insert into dropped table succeeded")
	}
	mustExec(t, db, "CREATE TABLE t(x TEXT, y TEXT, a INTEGER)")
	mustExec(t, db, "INSERT INTO t(a) VALUES (?)", 3)
	if got := cols(); !reflect.DeepEqual(got, []string{"x", "y", "a"}) {
		t.Errorf("after DROP+CREATE: columns %v, want [x y a]", got)
	}
	var a int
	if err := db.QueryRow("SELECT a FROM t").Scan(&a); err != nil || a != 3 {
		t.Errorf("a = %d, %v", a, err)
	}
}

// TestStmtCacheBounded: many distinct SQL texts keep at most size statements
// open; closing the pool finalizes all of them.
func TestStmtCacheBounded(t *testing.T) {
	const size = 16
	db := openCachePool(t, size)
	mustExec(t, db, "CREATE TABLE t(a INTEGER)")
	for i := range 500 {
		var n int
		if err := db.QueryRow(fmt.Sprintf("SELECT count(*) + %d FROM t", i)).Scan(&n); err != nil || n != 2*i {
			t.Fatalf("query %d: %d, %v", i, n, err)
		}
		mustExec(t, db, fmt.Sprintf("INSERT INTO t(a) VALUES (%d)", i))
	}
	st := cacheStats(t, db)
	if st.open > size || st.open < size-1 {
		t.Errorf("open statements = %d, want about %d", st.open, size)
	}
	if st.evicted < 1000-size-2 {
		t.Errorf("evicted = %d", st.evicted)
	}
	// An evicted statement whose rows are open is finalized when they close.
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := c.QueryContext(context.Background(), "SELECT a FROM t ORDER BY a")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 * size {
		if _, err := c.ExecContext(context.Background(), fmt.Sprintf("UPDATE t SET a = a WHERE a = %d", -i)); err != nil {
			t.Fatal(err)
		}
	}
	var cc *cachedConn
	if err := c.Raw(func(dc any) error { cc = dc.(*cachedConn); return nil }); err != nil {
		t.Fatal(err)
	}
	if cc.gone() != 1 {
		t.Errorf("busy evicted statements = %d, want 1", cc.gone())
	}
	n := 0
	for rows.Next() { // the last Next closes the rows
		n++
	}
	if n != 500 || rows.Err() != nil {
		t.Errorf("rows of the evicted statement: %d, %v", n, rows.Err())
	}
	if cc.gone() != 0 || cc.stats.open != size {
		t.Errorf("after rows Close: busy evicted %d, open %d", cc.gone(), cc.stats.open)
	}
	c.Close()
	db.Close()
	if cc.stats.open != 0 || len(cc.m) != 0 {
		t.Errorf("after Close: %d statements open, %d cached", cc.stats.open, len(cc.m))
	}
}

// TestStmtCacheScripts: multi-statement SQL runs uncached, entirely.
func TestStmtCacheScripts(t *testing.T) {
	db := openCachePool(t, 8)
	for range 2 {
		mustExec(t, db, "CREATE TABLE IF NOT EXISTS a(x); CREATE TABLE IF NOT EXISTS b(y); INSERT INTO b(y) VALUES (1);")
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM b").Scan(&n); err != nil || n != 2 {
		t.Fatalf("script rows = %d, %v; want 2", n, err)
	}
	if st := cacheStats(t, db); st.uncached != 2 {
		t.Errorf("uncached = %d, want 2", st.uncached)
	}
}

// TestStmtCacheCancel: a cached statement interrupted by its ctx is reset
// and serves the next call on the same connection; through the pool the
// next call succeeds too (modernc may discard an interrupted file
// connection, which finalizes its cache).
func TestStmtCacheCancel(t *testing.T) {
	db := openCachePool(t, 8)
	mustExec(t, db, "CREATE TABLE s(n INTEGER)")
	const (
		slow     = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT sum(i) FROM c"
		slowExec = "INSERT INTO s(n) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT sum(i) FROM c"
		slowRows = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) SELECT i FROM c"
	)
	type querier interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}
	for _, tc := range []struct {
		name string
		run  func(q querier, ctx context.Context, n int) error
	}{
		{"query", func(q querier, ctx context.Context, n int) error {
			var s int64
			if err := q.QueryRowContext(ctx, slow, n).Scan(&s); err != nil {
				return err
			}
			if s != int64(n)*int64(n+1)/2 {
				return fmt.Errorf("sum = %d", s)
			}
			return nil
		}},
		{"exec", func(q querier, ctx context.Context, n int) error {
			_, err := q.ExecContext(ctx, slowExec, n)
			return err
		}},
		{"rows", func(q querier, ctx context.Context, n int) error {
			rows, err := q.QueryContext(ctx, slowRows, n)
			if err != nil {
				return err
			}
			defer rows.Close()
			k := 0
			for rows.Next() {
				k++
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if k != n {
				return fmt.Errorf("%d rows, want %d", k, n)
			}
			return nil
		}},
	} {
		interrupt := func(t *testing.T, q querier) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			err := tc.run(q, ctx, 1<<40)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(fmt.Sprint(err), "interrupt") {
				t.Fatalf("interrupted run: err = %v, want deadline exceeded", err)
			}
		}
		t.Run(tc.name+"/same conn", func(t *testing.T) {
			ctx := context.Background()
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var cc *cachedConn
			c.Raw(func(dc any) error { cc = dc.(*cachedConn); return nil })
			if err := tc.run(c, ctx, 10); err != nil {
				t.Fatal(err)
			}
			interrupt(t, c)
			hits := cc.stats.hits
			for n := range 3 {
				if err := tc.run(c, ctx, 10+n); err != nil {
					t.Fatalf("after interruption: %v", err)
				}
			}
			if cc.stats.hits != hits+3 {
				t.Errorf("after interruption: hits %d→%d, want 3 cache hits", hits, cc.stats.hits)
			}
		})
		t.Run(tc.name+"/pool", func(t *testing.T) {
			interrupt(t, db)
			if err := tc.run(db, context.Background(), 10); err != nil {
				t.Fatalf("after interruption: %v", err)
			}
		})
	}
}

// TestStmtCacheStore: Open wraps the writer and reader pools unless
// StmtCache is "off"; group commit (savepoints, IMMEDIATE BEGIN) with
// concurrent writers and readers keeps working (run with -race).
func TestStmtCacheStore(t *testing.T) {
	for _, mode := range []string{"", "on", "off"} {
		t.Run("mode="+mode, func(t *testing.T) {
			ctx := context.Background()
			db, err := Open(ctx, Config{DataDir: t.TempDir(), StmtCache: mode})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for i, p := range []*sql.DB{db.SQL(), db.Reader()} {
				c, err := p.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var cc *cachedConn
				c.Raw(func(dc any) error { cc, _ = dc.(*cachedConn); return nil })
				c.Close()
				caching := cc != nil && cc.size > 0
				if caching != (mode != "off") {
					t.Errorf("pool %d caches statements = %v with StmtCache %q", i, caching, mode)
				}
				// The writer always lets statements in a transaction finish
				// (TestGroupCommitInterruptedMember); readers never write.
				if detach := cc != nil && cc.detach; detach != (i == 0) {
					t.Errorf("pool %d detaches = %v with StmtCache %q, want only the writer", i, detach, mode)
				}
			}
			if err := db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "CREATE TABLE sc(id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 25 {
						id := w*100 + i
						err := db.InTx(ctx, func(tx *sql.Tx) error {
							if _, err := tx.ExecContext(ctx, "INSERT INTO sc(id, v) VALUES (?, ?)", id, "x"); err != nil {
								return err
							}
							if i%5 == 0 { // a failing member rolls back to its savepoint alone
								_, err := tx.ExecContext(ctx, "INSERT INTO sc(id, v) VALUES (?, ?)", id, "dup")
								if err == nil {
									return errors.New("duplicate accepted")
								}
								return errSkip
							}
							var n int
							return tx.QueryRowContext(ctx, "SELECT count(*) FROM sc WHERE id = ?", id).Scan(&n)
						})
						if err != nil && !errors.Is(err, errSkip) {
							errs <- err
							return
						}
						var n int
						if err := db.Reader().QueryRowContext(ctx, "SELECT count(*) FROM sc WHERE id <= ?", id).Scan(&n); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			var n int
			if err := db.Reader().QueryRowContext(ctx, "SELECT count(*) FROM sc").Scan(&n); err != nil || n != 8*20 {
				t.Errorf("rows = %d, %v; want %d", n, err, 8*20)
			}
		})
	}
	t.Run("bad mode", func(t *testing.T) {
		if _, err := Open(context.Background(), Config{DataDir: t.TempDir(), StmtCache: "yes"}); err == nil {
			t.Error("StmtCache \"yes\" accepted")
		}
	})
}

var errSkip = errors.New("skip this member")

// FuzzStmtCacheSameEffects: any SQL text run twice through a cached
// connection has the same errors and the same effects (changes, schema,
// rows) as through a plain modernc connection — whether cacheable says it
// is one statement or not.
func FuzzStmtCacheSameEffects(f *testing.F) {
	for _, s := range []string{
		"SELECT 1",
		"INSERT INTO t(a, b) VALUES (1, 'x')",
		"INSERT INTO t(a, b) VALUES (1, 'x'); INSERT INTO t(a) VALUES (2)",
		"INSERT INTO t(a) VALUES (1); -- done",
		"INSERT INTO t(a, b) VALUES (1, ';'); INSERT INTO t(a) VALUES ('x;y')",
		"-- c; d\nINSERT INTO t(a) VALUES (3)",
		"/* ; */ UPDATE t SET b = 'it''s'",
		"CREATE TABLE u(x); INSERT INTO u VALUES (1)",
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET b = 'tr'; END",
		"DELETE FROM t WHERE a = 1 RETURNING a",
		"INSERT INTO t(a) VALUES (1) ON CONFLICT DO NOTHING",
		"SELECT * FROM nope",
		"SELECT [a;b] FROM t",
		";;",
		"",
		"-- only a comment",
	} {
		f.Add(s)
	}
	open := func(t *testing.T, cache bool) (driver.Conn, driver.ExecerContext) {
		base, err := sqlite.NewConnector("file::memory:")
		if err != nil {
			t.Fatal(err)
		}
		c, err := base.Connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if cache {
			c = newCachedConn(c, 4, false)
		}
		ex := c.(driver.ExecerContext)
		if _, err := ex.ExecContext(context.Background(), "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", nil); err != nil {
			t.Fatal(err)
		}
		return c, ex
	}
	state := func(t *testing.T, c driver.Conn) string {
		rows, err := c.(driver.QueryerContext).QueryContext(context.Background(),
			"SELECT total_changes(), (SELECT count(*) FROM sqlite_schema), (SELECT count(*) FROM t), (SELECT group_concat(coalesce(b, '-')) FROM t)", nil)
		if err != nil {
			return "state: " + err.Error()
		}
		defer rows.Close()
		v := make([]driver.Value, 4)
		if err := rows.Next(v); err != nil {
			return "state: " + err.Error()
		}
		return fmt.Sprint(v)
	}
	f.Fuzz(func(t *testing.T, q string) {
		lq := strings.ToLower(q)
		if len(q) > 1024 || strings.Contains(lq, "attach") || strings.Contains(lq, "vacuum") || strings.Contains(lq, "pragma") {
			t.Skip("files, pragmas and long texts are out of scope")
		}
		plain, pex := open(t, false)
		defer plain.Close()
		cached, cex := open(t, true)
		defer cached.Close()
		for run := range 2 {
			_, perr := pex.ExecContext(context.Background(), q, nil)
			_, cerr := cex.ExecContext(context.Background(), q, nil)
			if fmt.Sprint(perr) != fmt.Sprint(cerr) {
				t.Fatalf("run %d of %q: plain err %v, cached err %v", run, q, perr, cerr)
			}
			if ps, cs := state(t, plain), state(t, cached); ps != cs {
				t.Fatalf("run %d of %q: plain state %s, cached %s", run, q, ps, cs)
			}
		}
	})
}
