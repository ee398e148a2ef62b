// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/process"
)

// ProcessStore is the durable process.Store on both dialects. Every write
// method commits in one transaction: the instance state, its open tasks and
// timers, the new effects in the outbox, the effect marked done, an audit
// entry "process.step" and — through OnCommit — the jobs that carry the
// effects on (process.effect, timers at their due time).
type ProcessStore struct {
	db *DB
	// OnCommit, if set, runs inside the transaction of CreateInstance and
	// UpdateInstance with the new state and effects, e.g. to enqueue
	// jobs (jobs.Queue.Enqueue with tx) or update a case row (store write
	// methods called with the ctx given join tx). An error rolls the step
	// back.
	OnCommit func(ctx context.Context, tx *sql.Tx, inst *process.Instance, effects []process.Effect) error
	// DoneKinds are effect kinds that the step's own transaction carries
	// out (e.g. through OnCommit: the case row reflects a created task, a
	// job is enqueued for a timer); they are not written to the outbox at
	// all (OnCommit still sees them), so no job has to run them and no
	// extra commit marks them.
	DoneKinds map[process.EffectKind]bool
	// NoAudit skips the per-step audit entry (benchmarks of the bare store).
	NoAudit bool

	stmts  map[string]*sql.Stmt // prepared hot statements on the writer (see Prepare)
	rstmts map[string]*sql.Stmt // the reads of them on the reader pool
	// decoded remembers the last decoding of instances: a step reads the
	// state its caller has just read (an inbox, the desk, runEffect).
	decoded decodeCache
	bound   boundStmts // see txStmt
}

// SQL of the process store, written with "?".
const (
	instanceDataSQL   = `SELECT data FROM process_instances WHERE tenant = ? AND id = ?`
	instanceRevSQL    = `SELECT rev FROM process_instances WHERE tenant = ? AND id = ?`
	instanceLockSQL   = `SELECT rev FROM process_instances WHERE tenant = ? AND id = ? FOR UPDATE`
	instanceInsertSQL = `INSERT INTO process_instances (tenant, id, def_key, def_version, status, rev, data, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	instanceUpdateSQL = `UPDATE process_instances SET status = ?, rev = ?, data = ?, ended_at = ? WHERE tenant = ? AND id = ? AND rev = ?`
	tasksDeleteSQL    = `DELETE FROM process_tasks WHERE tenant = ? AND instance_id = ?`
	timersDeleteSQL   = `DELETE FROM process_timers WHERE tenant = ? AND instance_id = ?`
	taskDeleteSQL     = `DELETE FROM process_tasks WHERE tenant = ? AND instance_id = ? AND task_id = ?`
	timerDeleteSQL    = `DELETE FROM process_timers WHERE tenant = ? AND instance_id = ? AND timer_id = ?`
	taskInsertSQL     = `INSERT INTO process_tasks (tenant, instance_id, task_id, role, created, data) VALUES (?, ?, ?, ?, ?, ?)`
	timerInsertSQL    = `INSERT INTO process_timers (tenant, instance_id, timer_id, due) VALUES (?, ?, ?, ?)`
	effectDoneSQL     = `UPDATE process_outbox SET done = 1 WHERE tenant = ? AND id = ?`
	effectErrorSQL    = `UPDATE process_outbox SET attempts = attempts + 1, last_error = ? WHERE tenant = ? AND id = ?`
	effectSQL         = `SELECT data, done, attempts, last_error FROM process_outbox WHERE tenant = ? AND id = ?`
	pendingSQL        = `SELECT data, attempts, last_error FROM process_outbox WHERE done = 0 ORDER BY ord LIMIT ?`
	definitionSQL     = `SELECT tenant, key, version, process_id, name, source, actions, created_at FROM process_definitions WHERE tenant = ? AND key = ? AND version = ?`
	latestDefSQL      = `SELECT tenant, key, version, process_id, name, source, actions, created_at FROM process_definitions WHERE tenant = ? AND key = ? ORDER BY version DESC LIMIT 1`
	latestVersionSQL  = `SELECT COALESCE(MAX(version), 0) FROM process_definitions WHERE tenant = ? AND key = ?`

	outboxInsertSQLite   = `INSERT INTO process_outbox (tenant, id, ord, instance_id, data, done) VALUES (?, ?, (SELECT COALESCE(MAX(ord), 0) + 1 FROM process_outbox), ?, ?, ?)`
	outboxInsertPostgres = `INSERT INTO process_outbox (tenant, id, instance_id, data, done) VALUES (?, ?, ?, ?, ?)`
)

// hotProcessStatements are the statements of every step, prepared by
// Prepare, with the dialect they are for ("" both).
var hotProcessStatements = []struct{ q, dialect string }{
	{instanceDataSQL, ""}, {instanceRevSQL, ""}, {instanceLockSQL, Postgres}, {instanceInsertSQL, ""},
	{instanceUpdateSQL, ""}, {tasksDeleteSQL, ""}, {timersDeleteSQL, ""}, {taskDeleteSQL, ""}, {timerDeleteSQL, ""}, {taskInsertSQL, ""}, {timerInsertSQL, ""},
	{effectDoneSQL, ""}, {effectErrorSQL, ""}, {effectSQL, ""}, {pendingSQL, ""}, {definitionSQL, ""}, {latestDefSQL, ""},
	{latestVersionSQL, ""}, {outboxInsertSQLite, SQLite}, {outboxInsertPostgres, Postgres},
	{auditHeadSQL, SQLite}, {auditHeadLockSQL, Postgres}, {auditInsertSQL, ""}, {auditHeadUpdateSQL, ""},
}

// Prepare prepares the statements every step runs, so that steps do not
// parse SQL again (a third of a step's CPU on SQLite), including those of
// the step's audit entry. Call it once, outside any transaction (on SQLite
// it needs the writer connection), before the store is used concurrently.
// Without it the store works the same, only slower.
func (s *ProcessStore) Prepare(ctx context.Context) error {
	w, r := map[string]*sql.Stmt{}, map[string]*sql.Stmt{}
	for _, h := range hotProcessStatements {
		if h.dialect != "" && h.dialect != s.db.dialect {
			continue
		}
		st, err := s.db.w.PrepareContext(ctx, s.db.Rebind(h.q))
		if err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot prepare process statements")
		}
		w[h.q] = st
		if s.db.r == s.db.w || !strings.HasPrefix(h.q, "SELECT") {
			r[h.q] = st
			continue
		}
		if st, err = s.db.r.PrepareContext(ctx, s.db.Rebind(h.q)); err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot prepare process statements")
		}
		r[h.q] = st
	}
	s.stmts, s.rstmts = w, r
	return nil
}

// txStmt returns q prepared and bound to tx, or nil if Prepare did not run.
// The statements bound to the latest transaction are kept, so the many
// steps of one (batched or group-committed) transaction bind each only once.
func (s *ProcessStore) txStmt(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	st := s.stmts[q]
	if st == nil {
		return nil
	}
	b := &s.bound
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tx != tx {
		b.tx, b.m = tx, make(map[string]*sql.Stmt, 16)
	}
	if bst := b.m[q]; bst != nil {
		return bst
	}
	bst := tx.StmtContext(ctx, st)
	b.m[q] = bst
	return bst
}

// boundStmts are the prepared statements bound to one transaction.
type boundStmts struct {
	mu sync.Mutex
	tx *sql.Tx
	m  map[string]*sql.Stmt
}

// exec runs q (written with "?") in tx, prepared if Prepare ran.
func (s *ProcessStore) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := s.txStmt(ctx, tx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, s.db.Rebind(q), args...)
}

// queryRow runs q on r (a transaction or the reader pool), prepared if
// Prepare ran.
func (s *ProcessStore) queryRow(ctx context.Context, r queryer, q string, args ...any) *sql.Row {
	if tx, ok := r.(*sql.Tx); ok {
		if st := s.txStmt(ctx, tx, q); st != nil {
			return st.QueryRowContext(ctx, args...)
		}
	} else if st := s.rstmts[q]; st != nil && r == queryer(s.db.r) {
		return st.QueryRowContext(ctx, args...)
	}
	return r.QueryRowContext(ctx, s.db.Rebind(q), args...)
}

// query is queryRow for several rows.
func (s *ProcessStore) query(ctx context.Context, r queryer, q string, args ...any) (*sql.Rows, error) {
	if tx, ok := r.(*sql.Tx); ok {
		if st := s.txStmt(ctx, tx, q); st != nil {
			return st.QueryContext(ctx, args...)
		}
	} else if st := s.rstmts[q]; st != nil && r == queryer(s.db.r) {
		return st.QueryContext(ctx, args...)
	}
	return r.QueryContext(ctx, s.db.Rebind(q), args...)
}

var _ process.Store = (*ProcessStore)(nil)

// Process returns the process store of db.
func (db *DB) Process() *ProcessStore { return &ProcessStore{db: db} }

// DB returns the database of the store.
func (s *ProcessStore) DB() *DB { return s.db }

// SaveDefinition implements process.Store.
func (s *ProcessStore) SaveDefinition(ctx context.Context, rec process.DefinitionRecord) (process.DefinitionRecord, error) {
	if rec.Tenant == "" || rec.Key == "" {
		return rec, rathaus.Errorf(rathaus.EINVALID, "definition needs tenant and key")
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = time.Now().UTC()
	}
	rec.CreatedAt = rec.CreatedAt.Truncate(time.Microsecond)
	actions, err := json.Marshal(rec.Actions)
	if err != nil {
		return rec, rathaus.Wrap(rathaus.EINVALID, err, "action map is not JSON")
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if s.db.dialect == Postgres {
			// Serialise version numbering per (tenant, key).
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, rec.Tenant+"/"+rec.Key); err != nil {
				return err
			}
		}
		var v int
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT COALESCE(MAX(version), 0) FROM process_definitions WHERE tenant = ? AND key = ?`), rec.Tenant, rec.Key).Scan(&v); err != nil {
			return err
		}
		rec.Version = v + 1
		_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO process_definitions (tenant, key, version, process_id, name, source, actions, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), rec.Tenant, rec.Key, rec.Version, rec.ProcessID, rec.Name, rec.Source, string(actions), micros(rec.CreatedAt))
		if err != nil {
			return err
		}
		if s.NoAudit {
			return nil
		}
		_, err = s.db.AppendAudit(ctx, tx, audit.Entry{Tenant: rec.Tenant, Actor: "system", Action: "process.deploy",
			Object: fmt.Sprintf("process/%s/v%d", rec.Key, rec.Version), Details: map[string]string{"process_id": rec.ProcessID}})
		return err
	})
	if err != nil {
		return rec, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot save process definition %s", rec.Key)
	}
	return rec, nil
}

// Definition implements process.Store.
func (s *ProcessStore) Definition(ctx context.Context, tenant, key string, version int) (process.DefinitionRecord, error) {
	q, args := latestDefSQL, []any{tenant, key}
	if version != 0 {
		q, args = definitionSQL, append(args, version)
	}
	var rec process.DefinitionRecord
	var actions string
	var created int64
	err := s.queryRow(ctx, s.db.rd(ctx), q, args...).Scan(&rec.Tenant, &rec.Key, &rec.Version, &rec.ProcessID, &rec.Name, &rec.Source, &actions, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, rathaus.Errorf(rathaus.ENOTFOUND, "no process definition %s version %d", key, version)
	}
	if err != nil {
		return rec, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read process definition %s", key)
	}
	if err := json.Unmarshal([]byte(actions), &rec.Actions); err != nil {
		return rec, rathaus.Wrap(rathaus.EINTERNAL, err, "process definition %s: action map unreadable", key)
	}
	rec.CreatedAt = fromMicros(created)
	return rec, nil
}

// AppendAudit is DB.AppendAudit with the statements prepared by Prepare,
// for steps that add their own audit entry to the transaction.
func (s *ProcessStore) AppendAudit(ctx context.Context, tx *sql.Tx, e audit.Entry) (*audit.Entry, error) {
	return s.db.appendAudit(ctx, tx, e, func(q string) *sql.Stmt { return s.txStmt(ctx, tx, q) })
}

// LatestDefinitionVersion implements process.DefinitionVersioner: the
// latest version of key for tenant, 0 if there is none.
func (s *ProcessStore) LatestDefinitionVersion(ctx context.Context, tenant, key string) (int, error) {
	var v int
	if err := s.queryRow(ctx, s.db.rd(ctx), latestVersionSQL, tenant, key).Scan(&v); err != nil {
		return 0, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read process definition %s", key)
	}
	return v, nil
}

// CreateInstance implements process.Store.
func (s *ProcessStore) CreateInstance(ctx context.Context, inst *process.Instance, effects []process.Effect) error {
	data, err := process.EncodeInstance(inst)
	if err != nil {
		return rathaus.Wrap(rathaus.EINVALID, err, "instance variables must be JSON")
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, instanceInsertSQL, inst.Tenant, inst.ID, inst.DefinitionKey, inst.DefinitionVersion, string(inst.Status), inst.Rev, string(data),
			micros(inst.StartedAt), micros(inst.EndedAt))
		if err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot store process instance")
		}
		if n, _ := res.RowsAffected(); n == 0 { // started before
			return rathaus.Errorf(rathaus.ECONFLICT, "instance %s exists", inst.ID)
		}
		return s.commitStep(ctx, tx, nil, inst, effects, "", false)
	})
	s.wrote(inst, data, err)
	return err
}

// wrote remembers the instance just written as the decoding of its JSON
// data if decoding would give the same (then the next read, typically the
// caller's next step, does not decode). Keyed by the data, it cannot go
// stale, not even if the transaction rolls back.
func (s *ProcessStore) wrote(inst *process.Instance, data []byte, err error) {
	if err != nil {
		return
	}
	if d := inst.AsDecoded(); d != nil {
		s.decoded.own(inst.Tenant, inst.ID, string(data), d)
	}
}

// commitStep writes the derived rows, the effects, the done mark, the audit
// entry and runs OnCommit, all inside tx. With replace, the open tasks and
// timers of the instance replace the stored ones: only those that differ
// from prev (the instance as stored before, whose rows are in the tables)
// if prev is not nil, else all of them.
func (s *ProcessStore) commitStep(ctx context.Context, tx *sql.Tx, prev, inst *process.Instance, effects []process.Effect, done string, replace bool) error {
	if replace && prev == nil {
		for _, q := range []string{tasksDeleteSQL, timersDeleteSQL} {
			if _, err := s.exec(ctx, tx, q, inst.Tenant, inst.ID); err != nil {
				return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot update process tasks")
			}
		}
	}
	var oldTasks, newTasks []*process.Task
	var oldTimers, newTimers []*process.Timer
	if replace && prev != nil && prev.Status == process.StatusRunning {
		oldTasks, oldTimers = prev.OpenTasks(), prev.OpenTimers()
	}
	if inst.Status == process.StatusRunning {
		newTasks, newTimers = inst.OpenTasks(), inst.OpenTimers()
	}
	for _, t := range oldTasks {
		if !holds(newTasks, t, func(t *process.Task) string { return t.ID }) {
			if _, err := s.exec(ctx, tx, taskDeleteSQL, inst.Tenant, inst.ID, t.ID); err != nil {
				return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot update process tasks")
			}
		}
	}
	for _, t := range oldTimers {
		if !holds(newTimers, t, func(t *process.Timer) string { return t.ID }) {
			if _, err := s.exec(ctx, tx, timerDeleteSQL, inst.Tenant, inst.ID, t.ID); err != nil {
				return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot update process timers")
			}
		}
	}
	for _, t := range newTasks {
		if holds(oldTasks, t, func(t *process.Task) string { return t.ID }) {
			continue // stored as it is
		}
		data, _ := json.Marshal(t)
		if _, err := s.exec(ctx, tx, taskInsertSQL,
			inst.Tenant, inst.ID, t.ID, t.Role, micros(t.Created), string(data)); err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot store process task")
		}
	}
	for _, t := range newTimers {
		if holds(oldTimers, t, func(t *process.Timer) string { return t.ID }) {
			continue
		}
		if _, err := s.exec(ctx, tx, timerInsertSQL,
			inst.Tenant, inst.ID, t.ID, micros(t.Due)); err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot store process timer")
		}
	}
	ins := outboxInsertSQLite
	if s.db.dialect == Postgres {
		ins = outboxInsertPostgres
	}
	for _, e := range effects {
		if s.DoneKinds[e.Kind] {
			continue // carried out by this transaction: nothing left to do
		}
		data, err := json.Marshal(e)
		if err != nil {
			return rathaus.Wrap(rathaus.EINVALID, err, "effect %s is not JSON", e.ID)
		}
		if _, err := s.exec(ctx, tx, ins, e.Tenant, e.ID, e.Instance, string(data), 0); err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot store effect %s", e.ID)
		}
	}
	if done != "" {
		if _, err := s.exec(ctx, tx, effectDoneSQL, inst.Tenant, done); err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot mark effect done")
		}
	}
	if !s.NoAudit {
		what := ""
		if n := len(inst.History); n > 0 {
			what = inst.History[n-1].What
		}
		if _, err := s.db.appendAudit(ctx, tx, audit.Entry{Tenant: inst.Tenant, Actor: "system", Action: "process.step",
			Object: "process/" + inst.ID, Details: map[string]string{"rev": strconv.Itoa(inst.Rev), "status": string(inst.Status), "step": what}},
			func(q string) *sql.Stmt { return s.txStmt(ctx, tx, q) }); err != nil {
			return err
		}
	}
	if s.OnCommit != nil {
		// Store writes called by OnCommit with this ctx join tx (see Atomic).
		return s.OnCommit(context.WithValue(ctx, txKey{}, tx), tx, inst, effects)
	}
	return nil
}

// Instance implements process.Store.
func (s *ProcessStore) Instance(ctx context.Context, tenant, id string) (*process.Instance, error) {
	return s.instance(ctx, s.db.rd(ctx), tenant, id)
}

func (s *ProcessStore) instance(ctx context.Context, q queryer, tenant, id string) (*process.Instance, error) {
	var data string
	err := s.queryRow(ctx, q, instanceDataSQL, tenant, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "no process instance %s", id)
	}
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read process instance %s", id)
	}
	if inst := s.decoded.get(tenant, id, data); inst != nil {
		return inst, nil
	}
	var inst process.Instance
	if err := json.Unmarshal([]byte(data), &inst); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "instance %s unreadable", id)
	}
	s.decoded.put(tenant, id, data, &inst)
	return &inst, nil
}

// decodeCache maps the stored JSON of an instance to its decoding. An
// entry is used only for exactly the same JSON, so it is never stale; it
// hands out deep copies, so callers cannot change it.
type decodeCache struct {
	mu sync.Mutex
	m  map[[2]string]decodedInstance
}

type decodedInstance struct {
	data string
	inst *process.Instance
}

// maxDecoded bounds the cache; when full it starts over.
const maxDecoded = 1024

func (c *decodeCache) get(tenant, id, data string) *process.Instance {
	c.mu.Lock()
	d, ok := c.m[[2]string{tenant, id}]
	c.mu.Unlock()
	if !ok || d.data != data {
		return nil
	}
	return d.inst.DeepClone()
}

func (c *decodeCache) put(tenant, id, data string, inst *process.Instance) {
	c.own(tenant, id, data, inst.DeepClone())
}

// own is put of an instance nobody else has.
func (c *decodeCache) own(tenant, id, data string, own *process.Instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxDecoded {
		c.m = make(map[[2]string]decodedInstance)
	}
	c.m[[2]string{tenant, id}] = decodedInstance{data, own}
}

// UpdateInstance implements process.Store.
func (s *ProcessStore) UpdateInstance(ctx context.Context, inst *process.Instance, effects []process.Effect, done string) error {
	return s.UpdateInstanceFrom(ctx, nil, inst, effects, done)
}

// UpdateInstanceFrom implements process.StepWriter: UpdateInstance that
// rewrites only the task and timer rows that differ between prev (as read
// from the store) and inst. The version check makes sure the stored rows
// are prev's; a prev of another revision or instance is ignored.
func (s *ProcessStore) UpdateInstanceFrom(ctx context.Context, prev, inst *process.Instance, effects []process.Effect, done string) error {
	if prev != nil && (prev.Rev != inst.Rev-1 || prev.Tenant != inst.Tenant || prev.ID != inst.ID) {
		prev = nil
	}
	data, err := process.EncodeInstance(inst)
	if err != nil {
		return rathaus.Wrap(rathaus.EINVALID, err, "instance variables must be JSON")
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, instanceUpdateSQL, string(inst.Status), inst.Rev, string(data), micros(inst.EndedAt), inst.Tenant, inst.ID, inst.Rev-1)
		if err != nil {
			return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot update process instance %s", inst.ID)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var rev int
			err := s.queryRow(ctx, tx, instanceRevSQL, inst.Tenant, inst.ID).Scan(&rev)
			if errors.Is(err, sql.ErrNoRows) {
				return rathaus.Errorf(rathaus.ENOTFOUND, "no process instance %s", inst.ID)
			}
			return rathaus.Errorf(rathaus.ECONFLICT, "instance %s was changed concurrently (rev %d, update from %d)", inst.ID, rev, inst.Rev-1)
		}
		return s.commitStep(ctx, tx, prev, inst, effects, done, true)
	})
	s.wrote(inst, data, err)
	return err
}

// holds reports whether list has an element equal to x (same id, same
// fields: a stored row that is still right).
func holds[T comparable](list []*T, x *T, id func(*T) string) bool {
	for _, y := range list {
		if id(y) == id(x) {
			return *y == *x
		}
	}
	return false
}

// PendingEffects implements process.Store.
func (s *ProcessStore) PendingEffects(ctx context.Context, limit int) ([]process.PendingEffect, error) {
	rows, err := s.query(ctx, s.db.rd(ctx), pendingSQL, limit)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read outbox")
	}
	defer rows.Close()
	var out []process.PendingEffect
	for rows.Next() {
		var data string
		var pe process.PendingEffect
		if err := rows.Scan(&data, &pe.Attempts, &pe.LastError); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &pe.Effect); err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "outbox entry unreadable")
		}
		out = append(out, pe)
	}
	return out, rows.Err()
}

// Effect returns one effect of the outbox and whether it is done;
// ENOTFOUND if unknown.
func (s *ProcessStore) Effect(ctx context.Context, tenant, id string) (process.PendingEffect, bool, error) {
	var data string
	var done int
	var pe process.PendingEffect
	err := s.queryRow(ctx, s.db.rd(ctx), effectSQL, tenant, id).
		Scan(&data, &done, &pe.Attempts, &pe.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return pe, false, rathaus.Errorf(rathaus.ENOTFOUND, "no effect %s", id)
	}
	if err != nil {
		return pe, false, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read effect %s", id)
	}
	if err := json.Unmarshal([]byte(data), &pe.Effect); err != nil {
		return pe, false, rathaus.Wrap(rathaus.EINTERNAL, err, "effect %s unreadable", id)
	}
	return pe, done != 0, nil
}

// MarkEffectDone implements process.Store.
func (s *ProcessStore) MarkEffectDone(ctx context.Context, tenant, id string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, effectDoneSQL, tenant, id)
		return err
	})
}

// RecordEffectError implements process.Store.
func (s *ProcessStore) RecordEffectError(ctx context.Context, tenant, id, msg string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, effectErrorSQL, msg, tenant, id)
		return err
	})
}

// DueTimers implements process.Store.
func (s *ProcessStore) DueTimers(ctx context.Context, now time.Time, limit int) ([]process.TimerRef, error) {
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(`SELECT tenant, instance_id, timer_id, due FROM process_timers WHERE due <= ? ORDER BY due LIMIT ?`), micros(now), limit)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read timers")
	}
	defer rows.Close()
	var out []process.TimerRef
	for rows.Next() {
		var r process.TimerRef
		var due int64
		if err := rows.Scan(&r.Tenant, &r.Instance, &r.Timer, &due); err != nil {
			return nil, err
		}
		r.Due = fromMicros(due)
		out = append(out, r)
	}
	return out, rows.Err()
}

// OpenTasks implements process.Store.
func (s *ProcessStore) OpenTasks(ctx context.Context, tenant, role string) ([]process.TaskRef, error) {
	q := `SELECT instance_id, data FROM process_tasks WHERE tenant = ?`
	args := []any{tenant}
	if role != "" {
		q += ` AND role = ?`
		args = append(args, role)
	}
	rows, err := s.db.rd(ctx).QueryContext(ctx, s.db.Rebind(q+` ORDER BY created, instance_id, task_id`), args...)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot read tasks")
	}
	defer rows.Close()
	var out []process.TaskRef
	for rows.Next() {
		var r process.TaskRef
		var data string
		if err := rows.Scan(&r.Instance, &data); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(data), &r.Task); err != nil {
			return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "task unreadable")
		}
		r.Tenant = tenant
		out = append(out, r)
	}
	return out, rows.Err()
}

// LockInstance locks the instance row until the transaction joined by ctx
// (see DB.Atomic) ends, so that an effect's side effect and its step are
// never done twice by concurrent workers. On SQLite the single writer
// serialises transactions already; there it only checks that the instance
// exists.
func (s *ProcessStore) LockInstance(ctx context.Context, tenant, id string) error {
	tx := txFrom(ctx)
	if tx == nil {
		return rathaus.Errorf(rathaus.EINTERNAL, "LockInstance needs a transaction (DB.Atomic)")
	}
	q := instanceRevSQL
	if s.db.dialect == Postgres {
		q = instanceLockSQL
	}
	var rev int
	err := s.queryRow(ctx, tx, q, tenant, id).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return rathaus.Errorf(rathaus.ENOTFOUND, "no process instance %s", id)
	}
	return err
}
