// SPDX-License-Identifier: EUPL-1.2

package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"rathaus"
	"rathaus/sqlstore"
	"rathaus/sqlstore/sqltest"
)

// openGroup opens a fresh store of the dialect with group commit forced on
// and a table gc(id, v); with, if given, changes the rest of the config.
func openGroup(t *testing.T, d string, with ...func(*sqlstore.Config)) *sqlstore.DB {
	t.Helper()
	cfg := sqltest.NewConfig(t, d)
	cfg.GroupCommit = sqlstore.GroupCommitOn
	for _, f := range with {
		f(&cfg)
	}
	db, err := sqlstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.SQL().Exec(`CREATE TABLE gc (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func insert(ctx context.Context, db *sqlstore.DB, tx *sql.Tx, id int) error {
	_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO gc (id, v) VALUES (?, ?)`), id, fmt.Sprint("v", id))
	return err
}

// ids returns the committed ids of gc, as a reader sees them.
func ids(t *testing.T, db *sqlstore.DB) []int {
	t.Helper()
	rows, err := db.Reader().Query(`SELECT id FROM gc ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// hold starts a transaction that blocks the committer until release is
// called, so that the callers started meanwhile queue up and form one
// group. wait returns the error of the holding transaction.
func hold(t *testing.T, db *sqlstore.DB) (release func(), wait func() error) {
	t.Helper()
	started, rel, errc := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		errc <- db.InTx(context.Background(), func(tx *sql.Tx) error {
			close(started)
			<-rel
			return nil
		})
	}()
	<-started
	var once sync.Once
	release = func() { once.Do(func() { close(rel) }) }
	t.Cleanup(release)
	return release, func() error { return <-errc }
}

// group runs fns concurrently as InTx callers queued behind a held group,
// so that they share one group, and returns their errors and recovered
// panics by index.
func group(t *testing.T, db *sqlstore.DB, ctxs []context.Context, fns []func(tx *sql.Tx) error) (errs []error, panics []any) {
	t.Helper()
	calls := make([]func() error, len(fns))
	for i, fn := range fns {
		ctx := context.Background()
		if ctxs != nil {
			ctx = ctxs[i]
		}
		calls[i] = func() error { return db.InTx(ctx, fn) }
	}
	return groupCalls(t, db, calls)
}

// groupCalls is group for any calls that open a transaction.
func groupCalls(t *testing.T, db *sqlstore.DB, calls []func() error) (errs []error, panics []any) {
	t.Helper()
	release, wait := hold(t, db)
	errs, panics = make([]error, len(calls)), make([]any, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			errs[i] = call()
		})
		// Start the next caller only when this one waits in the queue,
		// so that the group runs them in the order given.
		waitFor(t, func() bool { return queued() >= i+1 })
	}
	release()
	if err := wait(); err != nil {
		t.Fatalf("holding transaction: %v", err)
	}
	wg.Wait()
	return errs, panics
}

func TestGroupCommitConcurrent(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := openGroup(t, d)
			ctx := context.Background()
			before := db.Stats()
			const n = 64
			seen := make([]int, n) // rows each fn saw in its tx before its own insert
			fns := make([]func(tx *sql.Tx) error, n)
			for i := range n {
				fns[i] = func(tx *sql.Tx) error {
					if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM gc`).Scan(&seen[i]); err != nil {
						return err
					}
					return insert(ctx, db, tx, i)
				}
			}
			errs, _ := group(t, db, nil, fns)
			for i, err := range errs {
				if err != nil {
					t.Errorf("caller %d: %v", i, err)
				}
			}
			if got := ids(t, db); len(got) != n {
				t.Fatalf("%d rows committed, want %d", len(got), n)
			}
			// Serial semantics: each fn saw the writes of those before it.
			slices.Sort(seen)
			for i, s := range seen {
				if s != i {
					t.Fatalf("fns saw %v rows, want 0..%d each once", seen, n-1)
				}
			}
			st := db.Stats()
			txs, commits := st.Transactions-before.Transactions, st.Commits-before.Commits
			t.Logf("%d transactions in %d commits, largest group %d", txs, commits, st.Largest)
			if !st.Enabled || txs != n+1 || commits >= txs/4 || st.Largest < 2 {
				t.Errorf("stats %+v (before %+v): want %d transactions in far fewer commits", st, before, n+1)
			}
		})
	}
}

// TestGroupCommitMany runs many unsynchronised callers, as job workers do.
func TestGroupCommitMany(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := openGroup(t, d)
			ctx := context.Background()
			const workers, each = 16, 25
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for k := range each {
						id := w*each + k
						var err error
						if k%2 == 0 {
							err = db.InTx(ctx, func(tx *sql.Tx) error { return insert(ctx, db, tx, id) })
						} else {
							err = db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error { return insert(ctx, db, tx, id) })
						}
						if err != nil {
							t.Errorf("worker %d: %v", w, err)
							return
						}
					}
				})
			}
			wg.Wait()
			if got := ids(t, db); len(got) != workers*each {
				t.Errorf("%d rows, want %d", len(got), workers*each)
			}
			t.Logf("stats %+v", db.Stats())
		})
	}
}

func TestGroupCommitFailingMember(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := openGroup(t, d)
			ctx := context.Background()
			boom := errors.New("boom")
			fns := []func(tx *sql.Tx) error{
				func(tx *sql.Tx) error { return insert(ctx, db, tx, 1) },
				func(tx *sql.Tx) error {
					if err := insert(ctx, db, tx, 2); err != nil {
						return err
					}
					return boom // its write is rolled back, no SQL error
				},
				func(tx *sql.Tx) error {
					if err := insert(ctx, db, tx, 3); err != nil {
						return err
					}
					return insert(ctx, db, tx, 3) // a real SQL error (PostgreSQL: aborts the transaction)
				},
				func(tx *sql.Tx) error { return insert(ctx, db, tx, 4) },
			}
			errs, _ := group(t, db, nil, fns)
			if errs[0] != nil || errs[3] != nil {
				t.Errorf("neighbours failed: %v, %v", errs[0], errs[3])
			}
			if !errors.Is(errs[1], boom) {
				t.Errorf("failing fn: %v, want boom", errs[1])
			}
			if errs[2] == nil {
				t.Errorf("duplicate key: no error")
			}
			if got, want := ids(t, db), []int{1, 4}; !slices.Equal(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
		})
	}
}

func TestGroupCommitPanic(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := openGroup(t, d)
			ctx := context.Background()
			fns := []func(tx *sql.Tx) error{
				func(tx *sql.Tx) error { return insert(ctx, db, tx, 1) },
				func(tx *sql.Tx) error {
					if err := insert(ctx, db, tx, 2); err != nil {
						return err
					}
					panic("kaputt")
				},
				func(tx *sql.Tx) error { return insert(ctx, db, tx, 3) },
			}
			errs, panics := group(t, db, nil, fns)
			if panics[1] != "kaputt" {
				t.Errorf("panic in caller = %v, want kaputt", panics[1])
			}
			if errs[0] != nil || errs[2] != nil || panics[0] != nil || panics[2] != nil {
				t.Errorf("neighbours: errs %v, panics %v", errs, panics)
			}
			if got, want := ids(t, db), []int{1, 3}; !slices.Equal(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
			// A panic in a transaction of its own (no savepoint).
			func() {
				defer func() {
					if p := recover(); p != "allein" {
						t.Errorf("panic = %v, want allein", p)
					}
				}()
				db.InTx(ctx, func(tx *sql.Tx) error {
					insert(ctx, db, tx, 5)
					panic("allein")
				})
			}()
			if err := db.InTx(ctx, func(tx *sql.Tx) error { return insert(ctx, db, tx, 6) }); err != nil {
				t.Fatal(err)
			}
			if got, want := ids(t, db), []int{1, 3, 6}; !slices.Equal(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
		})
	}
}

func TestGroupCommitCancelledWhileWaiting(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := openGroup(t, d)
			ctx := context.Background()
			release, wait := hold(t, db)
			cctx, cancel := context.WithCancel(ctx)
			ran := make(chan struct{}, 1)
			errc := make(chan error, 1)
			go func() {
				errc <- db.InTx(cctx, func(tx *sql.Tx) error {
					ran <- struct{}{}
					return insert(ctx, db, tx, 1)
				})
			}()
			time.Sleep(50 * time.Millisecond)
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("cancelled caller still waits behind the held group")
			}
			release()
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			if len(ran) != 0 {
				t.Error("fn of a cancelled caller ran")
			}
			// Done before the call: nothing runs either.
			if err := db.InTx(cctx, func(tx *sql.Tx) error { return insert(ctx, db, tx, 2) }); !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			// Cancelled while queued in a group that then runs.
			c3, cancel3 := context.WithCancel(ctx)
			errs, _ := group(t, db, []context.Context{ctx, c3, ctx}, []func(tx *sql.Tx) error{
				func(tx *sql.Tx) error { cancel3(); return insert(ctx, db, tx, 3) },
				func(tx *sql.Tx) error { return insert(ctx, db, tx, 4) },
				func(tx *sql.Tx) error { return insert(ctx, db, tx, 5) },
			})
			if errs[0] != nil || !errors.Is(errs[1], context.Canceled) || errs[2] != nil {
				t.Errorf("errs %v, want nil, context.Canceled, nil", errs)
			}
			if got, want := ids(t, db), []int{3, 5}; !slices.Equal(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
		})
	}
}

func TestGroupCommitNestedAtomic(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := openGroup(t, d)
			ctx := context.Background()
			boom := errors.New("boom")
			nested := func(base int, fail bool) func() error {
				return func() error {
					// InTx called with the ctx of Atomic joins its
					// transaction instead of queueing (deadlock).
					return db.Atomic(ctx, func(ctx context.Context, tx *sql.Tx) error {
						for k := range 2 {
							if err := db.InTx(ctx, func(tx *sql.Tx) error { return insert(ctx, db, tx, base+k) }); err != nil {
								return err
							}
						}
						if fail {
							return boom
						}
						return nil
					})
				}
			}
			done := make(chan struct{})
			var errs []error
			go func() {
				defer close(done)
				errs, _ = groupCalls(t, db, []func() error{nested(10, false), nested(20, true), nested(30, false)})
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("nested InTx inside Atomic deadlocked")
			}
			if errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] != nil {
				t.Errorf("errs %v, want nil, boom, nil", errs)
			}
			if got, want := ids(t, db), []int{10, 11, 30, 31}; !slices.Equal(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
		})
	}
}

// TestGroupCommitBrokenTransaction: a member ends the shared transaction
// behind the committer's back (as SQLite does on some errors): the members
// that ran in it get EUNAVAILABLE and their writes are gone, the members
// whose turn had not come run in the next group, later groups work.
func TestGroupCommitBrokenTransaction(t *testing.T) {
	db := openGroup(t, sqlstore.SQLite)
	ctx := context.Background()
	errs, _ := group(t, db, nil, []func(tx *sql.Tx) error{
		func(tx *sql.Tx) error { return insert(ctx, db, tx, 1) },
		func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `ROLLBACK`)
			return err
		},
		func(tx *sql.Tx) error { return insert(ctx, db, tx, 3) },
		func(tx *sql.Tx) error { return insert(ctx, db, tx, 4) },
	})
	for i := range 2 {
		if rathaus.ErrorCode(errs[i]) != rathaus.EUNAVAILABLE {
			t.Errorf("caller %d: %v, want EUNAVAILABLE", i, errs[i])
		}
	}
	for i := 2; i < 4; i++ {
		if errs[i] != nil {
			t.Errorf("caller %d (after the break): %v, want committed in the next group", i, errs[i])
		}
	}
	if got, want := ids(t, db), []int{3, 4}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return insert(ctx, db, tx, 7) }); err != nil {
		t.Fatalf("after a broken group: %v", err)
	}
	if got, want := ids(t, db), []int{3, 4, 7}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

// TestGroupCommitInvisibleBeforeCommit: readers see a group's writes only
// after its commit.
func TestGroupCommitInvisibleBeforeCommit(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			db := openGroup(t, d)
			ctx := context.Background()
			var inReader []int
			_, _ = group(t, db, nil, []func(tx *sql.Tx) error{
				func(tx *sql.Tx) error { return insert(ctx, db, tx, 1) },
				func(tx *sql.Tx) error {
					inReader = ids(t, db)
					return insert(ctx, db, tx, 2)
				},
			})
			if len(inReader) != 0 {
				t.Errorf("reader saw %v before the commit", inReader)
			}
			if got, want := ids(t, db), []int{1, 2}; !slices.Equal(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
		})
	}
}

func TestGroupCommitClose(t *testing.T) {
	before := committerGoroutines()
	cfg := sqltest.NewConfig(t, sqlstore.SQLite)
	db, err := sqlstore.Open(context.Background(), cfg) // auto: on for SQLite
	if err != nil {
		t.Fatal(err)
	}
	if !db.Stats().Enabled {
		t.Fatal("group commit is not on by default for SQLite")
	}
	if _, err := db.SQL().Exec(`CREATE TABLE gc (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	release, wait := hold(t, db)
	queued := make(chan error, 1)
	go func() {
		queued <- db.InTx(ctx, func(tx *sql.Tx) error { return insert(ctx, db, tx, 1) })
	}()
	time.Sleep(50 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	select {
	case err := <-queued:
		if rathaus.ErrorCode(err) != rathaus.EUNAVAILABLE {
			t.Errorf("queued caller at Close: %v, want EUNAVAILABLE", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("queued caller still waits after Close")
	}
	release()
	if err := wait(); err != nil {
		t.Errorf("running group at Close: %v, want committed", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return nil }); rathaus.ErrorCode(err) != rathaus.EUNAVAILABLE {
		t.Errorf("InTx after Close: %v, want EUNAVAILABLE", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for committerGoroutines() > before {
		if time.Now().After(deadline) {
			t.Fatalf("committer goroutines left after Close: %d, before %d", committerGoroutines(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The holding transaction committed before Close returned.
	db2, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got := ids(t, db2); len(got) != 0 {
		t.Errorf("rows %v: the queued caller's write must not be there", got)
	}
}

// queued counts the goroutines blocked in DB.InTx with group commit,
// waiting for the committer.
func queued() int {
	n := 0
	for _, g := range strings.Split(stacks(), "\n\n") {
		if strings.Contains(g, " [select") && strings.Contains(g, "sqlstore.(*groupCommitter).inTx(") {
			n++
		}
	}
	return n
}

func stacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 30 s")
		}
	}
}

// committerGoroutines counts the goroutines of group committers.
func committerGoroutines() int {
	return strings.Count(stacks(), "sqlstore.(*groupCommitter).run(")
}

func TestGroupCommitConfig(t *testing.T) {
	tests := []struct {
		dialect, setting string
		want             bool
		wantErr          bool
	}{
		{sqlstore.SQLite, "", true, false},
		{sqlstore.SQLite, "auto", true, false},
		{sqlstore.SQLite, "off", false, false},
		{sqlstore.SQLite, "ON", true, false},
		{sqlstore.SQLite, "sometimes", false, true},
		{sqlstore.Postgres, "", false, false},
		{sqlstore.Postgres, "on", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.dialect+"/"+tt.setting, func(t *testing.T) {
			cfg := sqltest.NewConfig(t, tt.dialect)
			cfg.GroupCommit = tt.setting
			db, err := sqlstore.Open(context.Background(), cfg)
			if tt.wantErr {
				if rathaus.ErrorCode(err) != rathaus.EINVALID {
					t.Fatalf("err = %v, want EINVALID", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.Stats().Enabled; got != tt.want {
				t.Errorf("group commit on = %v, want %v", got, tt.want)
			}
			if got := len(db.Collectors()) > 0; got != tt.want {
				t.Errorf("collectors = %v, want %v", got, tt.want)
			}
			// Works either way.
			if err := db.InTx(context.Background(), func(tx *sql.Tx) error { return nil }); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestGroupCommitInterruptedMember: a member's ctx is cancelled while its
// write runs (a client gone mid-request). SQLite would roll back the whole
// shared transaction on an interrupted write, undoing the members before
// it; on the writer pool a statement inside a transaction therefore runs
// to its end. So every member commits — the cancelled one too, since its
// statement finished — and a cancelled member's next statement is refused,
// failing only that member. With and without the statement cache.
func TestGroupCommitInterruptedMember(t *testing.T) {
	for _, cache := range []string{"on", "off"} {
		t.Run("cache="+cache, func(t *testing.T) {
			db := openGroup(t, sqlstore.SQLite, func(c *sqlstore.Config) { c.StmtCache = cache })
			ctx := context.Background()
			const n = 300000 // rows of the slow statement: well over the 5 ms until its cancel
			slow, cancel := context.WithCancel(ctx)
			defer cancel()
			gone, cancelGone := context.WithCancel(ctx)
			defer cancelGone()
			var took time.Duration
			errs, _ := group(t, db, nil, []func(tx *sql.Tx) error{
				func(tx *sql.Tx) error { return insert(ctx, db, tx, 1) },
				func(tx *sql.Tx) error {
					time.AfterFunc(5*time.Millisecond, cancel)
					start := time.Now()
					_, err := tx.ExecContext(slow, fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
						INSERT INTO gc (id, v) SELECT i, 'x' FROM n`, 100+n-1))
					took = time.Since(start)
					return err
				},
				func(tx *sql.Tx) error {
					cancelGone() // gone before its second statement
					if err := insert(ctx, db, tx, 3); err != nil {
						return err
					}
					return insert(gone, db, tx, 4)
				},
				func(tx *sql.Tx) error { return insert(ctx, db, tx, 5) },
			})
			if took < 5*time.Millisecond {
				t.Fatalf("the slow statement took only %v: the cancel came after it, the test shows nothing", took)
			}
			got := ids(t, db)
			if errs[0] != nil || !slices.Contains(got, 1) {
				t.Errorf("member before the cancelled one: %v, rows %v…", errs[0], got[:min(len(got), 3)])
			}
			if errs[1] != nil {
				t.Errorf("cancelled member whose statement finished: %v, want it committed", errs[1])
			}
			if c := len(slices.DeleteFunc(slices.Clone(got), func(id int) bool { return id < 100 })); c != n {
				t.Errorf("%d rows of the cancelled member's statement, want all %d", c, n)
			}
			if errs[2] == nil || slices.Contains(got, 3) || slices.Contains(got, 4) {
				t.Errorf("member cancelled before its second statement: %v, want its error and none of its rows", errs[2])
			}
			if errs[3] != nil || !slices.Contains(got, 5) {
				t.Errorf("member after: %v", errs[3])
			}
		})
	}
}
