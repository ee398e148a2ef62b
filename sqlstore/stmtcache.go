// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"reflect"
	"strings"

	"modernc.org/sqlite"

	"rathaus"
)

// stmtCacheSize is the number of prepared statements kept per connection.
const stmtCacheSize = 256

// stmtCacheMaxSQL bounds the length of a cached SQL string: longer texts
// (generated multi-row statements) are rare and would only pin memory.
const stmtCacheMaxSQL = 16 << 10

// stmtCacheOn reads Config.StmtCache: "" and "on" enable the cache, "off"
// disables it.
func stmtCacheOn(mode string) (bool, error) {
	switch mode {
	case "", "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, rathaus.Errorf(rathaus.EINVALID, "invalid statement cache mode %q (want on or off)", mode)
}

// openSQLitePool opens a database/sql pool on a modernc.org/sqlite DSN,
// with a per-connection statement cache when cache is true. For the writer
// pool (writer true) statements inside a transaction run to the end even
// when their ctx is cancelled (see cachedConn.ctxFor).
func openSQLitePool(dsn string, cache, writer bool) (*sql.DB, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	if !cache && !writer {
		return sql.OpenDB(base), nil
	}
	size := 0
	if cache {
		size = stmtCacheSize
	}
	return sql.OpenDB(&stmtCacheConnector{base: base, size: size, detach: writer}), nil
}

// stmtCacheConnector wraps modernc's connector: every connection it opens
// keeps an LRU of prepared statements (see cachedConn) when size > 0, and
// lets statements in a transaction finish when detach is set.
type stmtCacheConnector struct {
	base   driver.Connector
	size   int
	detach bool
}

// Connect opens a modernc connection and wraps it.
func (c *stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return newCachedConn(dc, c.size, c.detach), nil
}

// Driver returns modernc's driver.
func (c *stmtCacheConnector) Driver() driver.Driver { return c.base.Driver() }

// sqliteConn is what every connection of modernc.org/sqlite implements
// (checked by TestStmtCacheForwardsInterfaces).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachedConn is a modernc connection with a cache of prepared statements,
// keyed by the SQL text, for ExecContext and QueryContext (the calls that
// database/sql makes for db.Exec/Query and tx.Exec/Query with a string):
// SQLite parses and plans a statement once per connection instead of on
// every call. A driver.Conn is used by one goroutine at a time (database/sql
// serialises every call, Rows.Close included, under the connection's lock),
// so the cache has no lock.
//
// Rules:
//   - only single statements are cached: SQL with a ';' (outside string
//     literals, quoted identifiers and comments) anywhere but at the end
//     goes the uncached way (migration scripts, trigger bodies);
//   - a cached statement whose rows are open is not used again until they
//     are closed: a nested query with the same SQL gets an uncached
//     statement;
//   - modernc resets a statement after every exec, after a failed step and
//     when its rows are closed (also after a ctx interruption), so a cached
//     statement is clean for the next call; SQLite re-prepares it by itself
//     after a schema change (sqlite3_prepare_v2);
//   - the least recently used statement is finalized when the cache is full,
//     and Close finalizes all of them.
//
// With detach (the writer pool), a statement inside a transaction runs
// without its ctx's cancellation: SQLite rolls back the whole transaction
// when a write is interrupted, and under group commit (group.go) that
// transaction carries other callers' committed savepoints — one client
// going away mid-request must not undo them. A cancelled caller's next
// statement is refused by database/sql before it starts, so a loop of
// statements still stops; only the running one finishes.
type cachedConn struct {
	c      sqliteConn
	size   int // 0: no caching (detach only)
	detach bool
	inTx   bool // between BeginTx and Commit/Rollback
	m      map[string]*cachedStmt
	head   cachedStmt // sentinel of the LRU list: head.next is the most recent
	stats  stmtCacheStats
}

// ctxFor returns the ctx a statement runs with: without cancellation
// inside a transaction of a detaching connection.
func (cc *cachedConn) ctxFor(ctx context.Context) context.Context {
	if cc.inTx && ctx.Done() != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// stmtCacheStats counts what the cache did (for tests).
type stmtCacheStats struct {
	hits, misses, uncached, busy, evicted, open int
}

// cachedStmt is one prepared statement in the cache.
type cachedStmt struct {
	query      string
	s          driver.Stmt
	busy       bool // rows open
	gone       bool // evicted or conn closed while busy: finalize on rows Close
	prev, next *cachedStmt
}

func newCachedConn(dc driver.Conn, size int, detach bool) driver.Conn {
	c, ok := dc.(sqliteConn)
	if !ok || size <= 0 && !detach {
		return dc
	}
	cc := &cachedConn{c: c, size: max(size, 0), detach: detach, m: make(map[string]*cachedStmt, max(size, 0))}
	cc.head.next, cc.head.prev = &cc.head, &cc.head
	return cc
}

// cacheable reports whether q is one statement that may be cached: it
// scans q, skipping string literals, quoted identifiers and comments, and
// refuses a ';' followed by anything but whitespace (a script, or a trigger
// body) and anything it cannot scan to the end (unterminated quote or
// comment). Refusing is always safe: the SQL then runs uncached.
func cacheable(q string) bool {
	if len(q) > stmtCacheMaxSQL || strings.TrimSpace(q) == "" {
		return false
	}
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case '\'', '"', '`', '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(q[i+1:], end)
			if j < 0 {
				return false
			}
			i += j + 1 // a doubled quote ('it''s') reopens at the next byte
		case '-':
			if i+1 < len(q) && q[i+1] == '-' {
				j := strings.IndexByte(q[i:], '\n')
				if j < 0 {
					return true
				}
				i += j
			}
		case '/':
			if i+1 < len(q) && q[i+1] == '*' {
				j := strings.Index(q[i+2:], "*/")
				if j < 0 {
					return false
				}
				i += j + 3
			}
		case ';':
			return strings.TrimSpace(q[i+1:]) == "" && strings.TrimSpace(q[:i]) != ""
		}
	}
	return true
}

func (cc *cachedConn) unlink(e *cachedStmt) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (cc *cachedConn) pushFront(e *cachedStmt) {
	e.prev, e.next = &cc.head, cc.head.next
	cc.head.next.prev = e
	cc.head.next = e
}

// get returns the cached statement for q, preparing it on a miss. It
// returns nil (no error) when q must go the uncached way.
func (cc *cachedConn) get(ctx context.Context, q string) (*cachedStmt, error) {
	if cc.size == 0 || !cacheable(q) {
		cc.stats.uncached++
		return nil, nil
	}
	if e := cc.m[q]; e != nil {
		if e.busy {
			cc.stats.busy++
			return nil, nil
		}
		cc.stats.hits++
		if cc.head.next != e {
			cc.unlink(e)
			cc.pushFront(e)
		}
		return e, nil
	}
	s, err := cc.c.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	cc.stats.misses++
	e := &cachedStmt{query: q, s: s}
	cc.m[q] = e
	cc.pushFront(e)
	cc.stats.open++
	for len(cc.m) > cc.size {
		cc.evict(cc.head.prev)
	}
	return e, nil
}

// evict removes e from the cache and finalizes it (at once, or when its
// open rows are closed).
func (cc *cachedConn) evict(e *cachedStmt) {
	cc.unlink(e)
	delete(cc.m, e.query)
	cc.stats.evicted++
	if e.busy {
		e.gone = true
		return
	}
	cc.stats.open--
	e.s.Close()
}

// ExecContext runs q on its cached statement.
func (cc *cachedConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	ctx = cc.ctxFor(ctx)
	e, err := cc.get(ctx, q)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return cc.c.ExecContext(ctx, q, args)
	}
	return e.s.(driver.StmtExecContext).ExecContext(ctx, args)
}

// QueryContext runs q on its cached statement; the statement stays busy
// until the rows are closed.
func (cc *cachedConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	ctx = cc.ctxFor(ctx)
	e, err := cc.get(ctx, q)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return cc.c.QueryContext(ctx, q, args)
	}
	r, err := e.s.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	e.busy = true
	return &cachedRows{Rows: r, cc: cc, e: e}, nil
}

// Close finalizes every cached statement and closes the connection.
func (cc *cachedConn) Close() error {
	for e := cc.head.next; e != &cc.head; {
		next := e.next
		cc.evict(e)
		e = next
	}
	return cc.c.Close()
}

// Unwrap returns modernc's connection (sqlite.Limit and other helpers that
// work on the raw connection see through the wrapper with it).
func (cc *cachedConn) Unwrap() driver.Conn { return cc.c }

// Prepare delegates (explicitly prepared statements are not cached).
func (cc *cachedConn) Prepare(q string) (driver.Stmt, error) { return cc.c.Prepare(q) }

// PrepareContext delegates (explicitly prepared statements are not
// cached); on a detaching connection the statement runs without
// cancellation inside a transaction too.
func (cc *cachedConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := cc.c.PrepareContext(ctx, q)
	if err != nil || !cc.detach {
		return s, err
	}
	return &detachStmt{Stmt: s, cc: cc}, nil
}

// Begin delegates (database/sql calls BeginTx).
func (cc *cachedConn) Begin() (driver.Tx, error) { return cc.c.Begin() }

// BeginTx delegates; on a detaching connection it marks the transaction.
func (cc *cachedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t, err := cc.c.BeginTx(ctx, opts)
	if err != nil || !cc.detach {
		return t, err
	}
	cc.inTx = true
	return &detachTx{Tx: t, cc: cc}, nil
}

// detachTx ends the detaching of its connection with the transaction.
type detachTx struct {
	driver.Tx
	cc *cachedConn
}

func (t *detachTx) Commit() error {
	defer func() { t.cc.inTx = false }()
	return t.Tx.Commit()
}

func (t *detachTx) Rollback() error {
	defer func() { t.cc.inTx = false }()
	return t.Tx.Rollback()
}

// detachStmt is a prepared statement of a detaching connection.
type detachStmt struct {
	driver.Stmt
	cc *cachedConn
}

func (s *detachStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(s.cc.ctxFor(ctx), args)
}

func (s *detachStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(s.cc.ctxFor(ctx), args)
}

// Ping delegates.
func (cc *cachedConn) Ping(ctx context.Context) error { return cc.c.Ping(ctx) }

// ResetSession delegates.
func (cc *cachedConn) ResetSession(ctx context.Context) error { return cc.c.ResetSession(ctx) }

// IsValid delegates.
func (cc *cachedConn) IsValid() bool { return cc.c.IsValid() }

// The modernc-specific extensions of its connection, forwarded so that a
// Raw(func(any)) caller type-asserting them keeps working.

// RegisterAuthorizer forwards sqlite.AuthorizerRegisterer.
func (cc *cachedConn) RegisterAuthorizer(fn sqlite.AuthorizerFn) error {
	return cc.c.(sqlite.AuthorizerRegisterer).RegisterAuthorizer(fn)
}

// Status forwards sqlite.DBStatus.
func (cc *cachedConn) Status(op sqlite.DBStatusOp, reset bool) (current, high int, err error) {
	return cc.c.(sqlite.DBStatus).Status(op, reset)
}

// FileControlPersistWAL forwards sqlite.FileControl.
func (cc *cachedConn) FileControlPersistWAL(dbName string, mode int) (int, error) {
	return cc.c.(sqlite.FileControl).FileControlPersistWAL(dbName, mode)
}

// FileControlDataVersion forwards sqlite.FileControl.
func (cc *cachedConn) FileControlDataVersion(dbName string) (uint32, error) {
	return cc.c.(sqlite.FileControl).FileControlDataVersion(dbName)
}

// RegisterPreUpdateHook forwards sqlite.HookRegisterer.
func (cc *cachedConn) RegisterPreUpdateHook(fn sqlite.PreUpdateHookFn) {
	cc.c.(sqlite.HookRegisterer).RegisterPreUpdateHook(fn)
}

// RegisterCommitHook forwards sqlite.HookRegisterer.
func (cc *cachedConn) RegisterCommitHook(fn sqlite.CommitHookFn) {
	cc.c.(sqlite.HookRegisterer).RegisterCommitHook(fn)
}

// RegisterRollbackHook forwards sqlite.HookRegisterer.
func (cc *cachedConn) RegisterRollbackHook(fn sqlite.RollbackHookFn) {
	cc.c.(sqlite.HookRegisterer).RegisterRollbackHook(fn)
}

// Serialize forwards modernc's Serialize.
func (cc *cachedConn) Serialize() ([]byte, error) {
	return cc.c.(interface{ Serialize() ([]byte, error) }).Serialize()
}

// Deserialize forwards modernc's Deserialize.
func (cc *cachedConn) Deserialize(buf []byte) error {
	return cc.c.(interface{ Deserialize([]byte) error }).Deserialize(buf)
}

// NewBackup forwards modernc's NewBackup.
func (cc *cachedConn) NewBackup(dstURI string) (*sqlite.Backup, error) {
	return cc.c.(interface {
		NewBackup(string) (*sqlite.Backup, error)
	}).NewBackup(dstURI)
}

// NewRestore forwards modernc's NewRestore.
func (cc *cachedConn) NewRestore(srcURI string) (*sqlite.Backup, error) {
	return cc.c.(interface {
		NewRestore(string) (*sqlite.Backup, error)
	}).NewRestore(srcURI)
}

// IsReadOnly forwards modernc's IsReadOnly.
func (cc *cachedConn) IsReadOnly(schema string) (bool, error) {
	return cc.c.(interface{ IsReadOnly(string) (bool, error) }).IsReadOnly(schema)
}

// ColumnInfo forwards modernc's ColumnInfo.
func (cc *cachedConn) ColumnInfo(q string) ([]sqlite.ColumnInfo, error) {
	return cc.c.(interface {
		ColumnInfo(string) ([]sqlite.ColumnInfo, error)
	}).ColumnInfo(q)
}

// Exec is the context-free driver.Execer (database/sql uses ExecContext).
func (cc *cachedConn) Exec(q string, args []driver.Value) (driver.Result, error) {
	return cc.ExecContext(context.Background(), q, namedValues(args))
}

// Query is the context-free driver.Queryer (database/sql uses QueryContext).
func (cc *cachedConn) Query(q string, args []driver.Value) (driver.Rows, error) {
	return cc.QueryContext(context.Background(), q, namedValues(args))
}

func namedValues(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, v := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}

// cachedRows hands its statement back to the cache on Close.
type cachedRows struct {
	driver.Rows
	cc     *cachedConn
	e      *cachedStmt
	closed bool
}

// Close closes the rows (modernc resets the statement) and releases the
// statement for the next call, or finalizes it if it was evicted meanwhile.
func (r *cachedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close()
	r.e.busy = false
	if r.e.gone {
		r.cc.stats.open--
		r.e.s.Close()
	}
	return err
}

// ColumnTypeDatabaseTypeName forwards driver.RowsColumnTypeDatabaseTypeName.
func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

// ColumnTypeLength forwards driver.RowsColumnTypeLength.
func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

// ColumnTypeNullable forwards driver.RowsColumnTypeNullable.
func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

// ColumnTypePrecisionScale forwards driver.RowsColumnTypePrecisionScale.
func (r *cachedRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

// ColumnTypeScanType forwards driver.RowsColumnTypeScanType.
func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

// Compile-time checks of the forwarded interfaces.
var (
	_ sqliteConn                            = (*cachedConn)(nil)
	_ sqlite.AuthorizerRegisterer           = (*cachedConn)(nil)
	_ sqlite.DBStatus                       = (*cachedConn)(nil)
	_ sqlite.FileControl                    = (*cachedConn)(nil)
	_ sqlite.HookRegisterer                 = (*cachedConn)(nil)
	_ driver.RowsColumnTypeScanType         = (*cachedRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*cachedRows)(nil)
)
