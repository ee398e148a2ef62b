// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"rathaus"
)

// Group commit settings (Config.GroupCommit).
const (
	// GroupCommitAuto is the default: on for SQLite, off for PostgreSQL.
	GroupCommitAuto = "auto"
	// GroupCommitOn makes concurrent InTx/Atomic calls share commits.
	GroupCommitOn = "on"
	// GroupCommitOff gives every InTx/Atomic call its own transaction.
	GroupCommitOff = "off"
)

// maxGroup bounds the number of transactions that share one commit.
const maxGroup = 128

// savepoint is the name of the savepoint around each member of a group
// (released before the next one starts, so one name suffices).
const savepoint = "rathaus_group"

// GroupStats counts the work of the group committer (DB.Stats).
type GroupStats struct {
	// Enabled tells whether group commit is on for this store.
	Enabled bool
	// Commits is the number of group transactions in which at least one
	// fn ran (committed, or rolled back when all failed or it broke).
	Commits uint64
	// Transactions is the number of InTx/Atomic calls that ran their fn
	// in a group (committed, failed or rolled back).
	Transactions uint64
	// Largest is the largest group so far.
	Largest uint64
}

// groupTurn is what the committer hands a caller when it is the caller's turn:
// the shared transaction, or an error (ctx done before the turn).
type groupTurn struct {
	tx  *sql.Tx
	err error
}

// groupDone is what a caller hands back after running fn.
type groupDone struct {
	err      error
	panicked bool // fn panicked (value kept by the caller) or called runtime.Goexit
}

// groupReq is one InTx call waiting for a group.
type groupReq struct {
	ctx    context.Context
	state  atomic.Int32 // reqQueued → reqTaken (committer) or reqAbandoned (caller)
	turn   chan groupTurn
	done   chan groupDone
	result chan error
}

const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

// groupCommitter runs the groups of one DB in one goroutine.
type groupCommitter struct {
	db      *DB
	queue   chan *groupReq // unbuffered: a waiting request is a blocked sender
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once

	commits, txs, largest atomic.Uint64
	commitsC              prometheus.Counter
	sizeH                 prometheus.Histogram
}

// groupMode resolves Config.GroupCommit for a dialect.
func groupMode(setting, dialect string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(setting)) {
	case "", GroupCommitAuto:
		return dialect == SQLite, nil
	case GroupCommitOn, "true", "1":
		return true, nil
	case GroupCommitOff, "false", "0":
		return false, nil
	}
	return false, rathaus.Errorf(rathaus.EINVALID, "group commit: unknown setting %q (want auto, on or off)", setting)
}

func newGroupCommitter(db *DB) *groupCommitter {
	g := &groupCommitter{
		db:      db,
		queue:   make(chan *groupReq),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		commitsC: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rathaus_db_group_commits_total",
			Help: "Commits of write transaction groups (group commit).",
		}),
		sizeH: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rathaus_db_group_size",
			Help:    "Transactions (InTx/Atomic calls) per group commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
		}),
	}
	go g.run()
	return g
}

// stop ends the committer after its current group; callers still queued get
// an error.
func (g *groupCommitter) stop() {
	g.once.Do(func() { close(g.quit) })
	<-g.stopped
}

var errClosed = rathaus.Errorf(rathaus.EUNAVAILABLE, "Datenbank geschlossen / database closed")

// inTx runs fn as one member of a group (see DB.InTx).
func (g *groupCommitter) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	r := &groupReq{
		ctx:    ctx,
		turn:   make(chan groupTurn, 1),
		done:   make(chan groupDone, 1),
		result: make(chan error, 1),
	}
	select {
	case g.queue <- r:
	case <-g.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	var t groupTurn
	select {
	case t = <-r.turn:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		t = <-r.turn // the committer took it first: it will hand over
	}
	if t.err != nil {
		return t.err
	}
	var (
		err      error
		p        any
		finished bool
	)
	func() {
		defer func() {
			if !finished {
				p = recover()
				// finished is also false after runtime.Goexit: the
				// deferred handshake below still runs.
			}
		}()
		defer func() {
			if !finished {
				r.done <- groupDone{panicked: true}
			}
		}()
		err = fn(t.tx)
		finished = true
		r.done <- groupDone{err: err}
	}()
	res := <-r.result
	if !finished {
		panic(p)
	}
	return res
}

// run is the committer goroutine.
func (g *groupCommitter) run() {
	defer close(g.stopped)
	batch := make([]*groupReq, 0, maxGroup)
	for {
		if len(batch) == 0 {
			select {
			case r := <-g.queue:
				batch = append(batch, r)
			case <-g.quit:
				return
			}
		}
	drain:
		for len(batch) < maxGroup {
			select {
			case r := <-g.queue:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		left := g.runGroup(batch)
		n := copy(batch, left) // callers whose fn did not run go first next time
		clear(batch[n:])
		batch = batch[:n]
	}
}

// runGroup runs the requests of batch in one transaction and commits once.
// It returns the requests that it did not get to run because the
// transaction broke before their turn: they join the next group.
func (g *groupCommitter) runGroup(batch []*groupReq) (left []*groupReq) {
	live := make([]*groupReq, 0, len(batch))
	for _, r := range batch {
		if r.state.Load() == reqQueued { // else abandoned: the caller returned ctx.Err()
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return nil
	}
	// The group's transaction does not belong to any caller's ctx: one
	// caller giving up must not roll back the others.
	ctx := context.Background()
	tx, err := g.db.w.BeginTx(ctx, nil)
	if err != nil {
		err = rathaus.Wrap(rathaus.EUNAVAILABLE, err, "Datenbank nicht verfügbar / database unavailable")
		for _, r := range live {
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				r.turn <- groupTurn{err: err}
			}
		}
		return nil
	}
	single := len(live) == 1 // no savepoint needed: the transaction is the caller's
	var (
		kept  []*groupReq
		ran   int
		fatal error // the transaction is broken: every kept caller fails
	)
	for i, r := range live {
		if fatal != nil {
			left = live[i:]
			break
		}
		if !r.state.CompareAndSwap(reqQueued, reqTaken) {
			continue // abandoned while waiting for its turn
		}
		if err := r.ctx.Err(); err != nil {
			r.turn <- groupTurn{err: err} // done before its turn: skipped
			continue
		}
		if !single {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT "+savepoint); err != nil {
				fatal = rathaus.Wrap(rathaus.EUNAVAILABLE, err, "group commit: savepoint failed")
				r.turn <- groupTurn{err: fatal}
				continue
			}
		}
		ran++
		r.turn <- groupTurn{tx: tx}
		d := <-r.done
		if d.err != nil || d.panicked {
			if !single {
				_, err1 := tx.ExecContext(ctx, "ROLLBACK TO "+savepoint)
				_, err2 := tx.ExecContext(ctx, "RELEASE "+savepoint)
				if err := errors.Join(err1, err2); err != nil {
					// SQLite rolls the whole transaction back on some
					// errors (e.g. an interrupted write): the savepoint
					// is gone and so are the writes of the kept members.
					fatal = rathaus.Wrap(rathaus.EUNAVAILABLE, err, "group commit: rollback to savepoint failed")
				}
			}
			r.result <- d.err // single: rolled back below
			continue
		}
		if !single {
			if _, err := tx.ExecContext(ctx, "RELEASE "+savepoint); err != nil {
				fatal = rathaus.Wrap(rathaus.EUNAVAILABLE, err, "group commit: release savepoint failed")
				r.result <- fatal
				continue
			}
		}
		kept = append(kept, r)
	}
	if ran > 0 {
		g.commitsC.Inc()
		g.commits.Add(1)
		g.txs.Add(uint64(ran))
		g.sizeH.Observe(float64(ran))
		for n := uint64(ran); ; {
			l := g.largest.Load()
			if n <= l || g.largest.CompareAndSwap(l, n) {
				break
			}
		}
	}
	if fatal == nil && len(kept) > 0 {
		if err := tx.Commit(); err != nil {
			fatal = rathaus.Wrap(rathaus.EUNAVAILABLE, err, "commit failed")
		}
	} else {
		tx.Rollback()
	}
	for _, r := range kept {
		r.result <- fatal
	}
	return left
}

// Stats returns the counters of the group committer.
func (db *DB) Stats() GroupStats {
	g := db.group
	if g == nil {
		return GroupStats{}
	}
	return GroupStats{Enabled: true, Commits: g.commits.Load(), Transactions: g.txs.Load(), Largest: g.largest.Load()}
}

// Collectors returns the Prometheus collectors of the store
// (rathaus_db_group_commits_total, rathaus_db_group_size), for the /metrics
// registry; none when group commit is off.
func (db *DB) Collectors() []prometheus.Collector {
	if db.group == nil {
		return nil
	}
	return []prometheus.Collector{db.group.commitsC, db.group.sizeH}
}
